"""The `make run` demo's books: "Demo QuickBooks", seeded idempotently against the served fake with
the accounts, payment methods and taxes mapped; an invoice issued here reaches it; the accountant's
payment recorded there (the card's button) pays ours through the app's webhook endpoint; a void
there is a drift the next reconciliation names, linking both sides."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

from integrations import demo_fakes, http, reconcile
from integrations.models import Connection, Drift, ExternalRef, ValueMapping
from integrations.quickbooks import demo as quickbooks_demo
from integrations.quickbooks.fake import shared_fake
from sales.models import InvoiceStatus
from sales.services import invoice_create, invoice_issue, order_confirm
from tests.integrations.ui_support import admin_fixture  # noqa: F401  (a fixture)
from tests.inventory.factories import warehouse
from tests.sales.factories import ChannelFactory, CustomerFactory, order_for, stocked_product

pytestmark = pytest.mark.django_db


@pytest.fixture
def books(settings, django_capture_on_commit_callbacks) -> Iterator[Connection]:
    settings.ERP_DEMO_FAKES = True
    shared_fake().reset()
    with django_capture_on_commit_callbacks(execute=True):
        quickbooks_demo.seed_quickbooks()
    yield Connection.objects.get(name=quickbooks_demo.DEMO_NAME)
    http.unmount(demo_fakes.fake_url(quickbooks_demo.KEY))


def issued(capture: Any, customer_name: str = "Ada Lovelace Ltd") -> Any:
    wh = warehouse("MAIN")
    channel = ChannelFactory(warehouse=wh, invoice_policy="ordered")
    product = stocked_product(10, wh=wh, price="25.00", sku=f"DEMO-{customer_name[:3].upper()}")
    with capture(execute=True):
        order = order_confirm(
            order=order_for((product, 2), channel=channel, customer=CustomerFactory(name=customer_name))
        )
    with capture(execute=True):
        return invoice_issue(invoice=invoice_create(order=order))


def act(client: Client, connection: Connection, name: str, capture: Any) -> list[str]:
    with capture(execute=True):
        response = client.post(reverse("integrations:connection-demo", args=[connection.pk, name]))
    assert response.status_code == 302
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_seeding_twice_makes_the_connection_and_its_mappings_once(books: Connection) -> None:
    before = ValueMapping.objects.filter(connection=books).count()
    quickbooks_demo.seed_quickbooks()
    assert Connection.objects.filter(name=quickbooks_demo.DEMO_NAME).count() == 1
    assert ValueMapping.objects.filter(connection=books).count() == before
    assert quickbooks_demo.is_demo(books)
    assert ValueMapping.objects.get(connection=books, kind="account", our_value="bank").tool_value == "35"


def test_the_accountant_pays_and_voids_in_quickbooks(
    books: Connection, admin: Client, django_capture_on_commit_callbacks
) -> None:
    capture = django_capture_on_commit_callbacks
    paid, voided = issued(capture, "Ada Lovelace Ltd"), issued(capture, "Grace Hopper Inc")
    assert ExternalRef.objects.filter(connection=books, object_type="invoice").count() == 2
    page = admin.get(reverse("integrations:connection", args=[books.pk])).content.decode()
    assert "Open invoices in QuickBooks now: 2." in page

    said = act(admin, books, quickbooks_demo.PAY, capture)

    paid.refresh_from_db()
    assert paid.status == InvoiceStatus.PAID, said
    assert f"the payment is recorded against {paid.number} here" in said[0]

    said = act(admin, books, quickbooks_demo.VOID, capture)

    assert "voided invoice" in said[-1]
    reconcile.reconcile(connection=books, object_type="invoice")
    [drift] = Drift.objects.filter(connection=books, kind="voided_there")
    voided.refresh_from_db()
    assert voided.status == InvoiceStatus.ISSUED  # ours stands: a person decides
    assert (
        drift.external_id
        == ExternalRef.objects.get(connection=books, object_type="invoice", object_id=voided.pk).external_id
    )
