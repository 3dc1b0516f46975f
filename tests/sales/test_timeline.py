"""The sales order's timeline: every event of the order and of its invoices, shipments, returns,
payments and refunds, with who did it, in sentences; its cost does not grow with its length."""

from __future__ import annotations

import pytest
from django.db import transaction
from django.test import Client

from erp import actor, events
from erp.models import OutboxEvent
from sales.models import SalesReturn
from sales.services import refund_record
from tests.erp.factories import UserFactory
from tests.queries import count_queries
from tests.sales.factories import order_for, stocked_product
from tests.sales.test_views import full_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def sam() -> Client:
    client = Client()
    client.force_login(UserFactory(username="sam", first_name="Sam", last_name="Seller", roles=["Sales"]))
    return client


def test_the_order_page_shows_the_refund_recorded_on_its_credit_note_with_who_did_it(sam: Client):
    # given: a full order (shipped, invoiced, paid, returned), then a refund by Ada on its credit note
    order = full_order()
    ada = UserFactory(username="ada", first_name="Ada", last_name="Admin")
    with actor.acting_for(ada):
        refund_record(sales_return=SalesReturn.objects.get(order=order), amount="12.00", method="card")

    # when
    page = sam.get(f"/sales/orders/{order.pk}/").content.decode()

    # then: the refund, its credit note, and the person; the shipment in words; the system's own events
    assert "Refund of $12.00 recorded" in page
    assert "credit note CN-" in page
    assert "Ada Admin" in page
    assert "Shipped 2 units with UPS 1Z999" in page
    assert "Payment of $10.00 received" in page
    assert "Return RMA-" in page
    assert 'title="Scheduled or automatic: no person">System<' in page  # the setup ran with no person


def test_events_of_the_orders_own_records_are_included_and_other_orders_are_not(sam: Client):
    # given: an event recorded on the order's shipment's aggregate, one on another order
    order = full_order()
    other = order_for((stocked_product(5, sku="OTHER"), 1))
    shipment = order.shipments.get()
    with transaction.atomic(), actor.acting_as("ShipStation · Main"):
        events.emit("sales.shipment_delivered", aggregate=shipment, payload={})
        events.emit("sales.order_flagged", aggregate=other, payload={})

    # when
    page = sam.get(f"/sales/orders/{order.pk}/").content.decode()

    # then: an unknown topic in words; a connector marked as a tool
    assert "Shipment delivered" in page
    assert "Order flagged" not in page
    assert "ShipStation · Main" in page
    assert 'title="A connected tool">Tool<' in page


def test_the_order_page_costs_the_same_with_1_or_10_more_events(sam: Client):
    # given
    order = full_order()
    url = f"/sales/orders/{order.pk}/"
    sam.get(url)

    def more(n: int) -> None:
        with transaction.atomic():
            for i in range(n):
                events.emit("sales.order_updated", aggregate=order, payload={"reason": f"r{i}", "total": "1"})

    # when
    more(1)
    few = count_queries(lambda: sam.get(url))
    more(10)
    many = count_queries(lambda: sam.get(url))

    # then
    assert few == many
    assert OutboxEvent.objects.filter(aggregate_id=str(order.pk), topic="sales.order_updated").count() == 11


def test_an_invoices_timeline_has_its_own_events_only():
    # given: the full order's invoice (issued, paid 10.00), for the invoice page H3 builds
    from django.template import Context, Template
    from django.test import RequestFactory

    from sales.models import Invoice

    order = full_order()
    invoice = Invoice.objects.get(order=order, kind="invoice")
    request = RequestFactory().get("/")
    request.user = UserFactory(username="sal", roles=["Sales"])

    # when
    html = Template("{% load erp_timeline %}{% document_timeline invoice %}").render(
        Context({"invoice": invoice, "request": request})
    )

    # then
    assert f"Invoice {invoice.number} issued" in html
    assert "Payment of $10.00 received" in html
    assert "Shipped" not in html
    assert "Credit note" not in html
    assert f'action="/comments/sales.invoice:{invoice.pk}/"' in html
