"""The demo: a Shopify connection to the fake shop this app serves, seeded idempotently, and the
"simulate an order" button that makes an order arrive through the real hook endpoint."""

from __future__ import annotations

import random

import httpx
import pytest
from django.test import Client
from django.urls import reverse

from integrations import demo
from integrations.http import mounted
from integrations.models import Connection, ExternalRef, InboundStatus
from integrations.shopify.fake import ACCESS_TOKEN, shared_fake
from sales.models import SalesOrder
from tests.integrations.ui_support import (
    admin_fixture,  # noqa: F401  (a fixture)
    connection_fixture,  # noqa: F401  (a fixture)
)
from tests.inventory.factories import unit, warehouse
from tests.sales.factories import ChannelFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def fakes_on(settings):
    settings.ERP_DEMO_FAKES = True
    shared_fake().reset()
    with mounted(demo.demo_base_url(), httpx.WSGITransport(app=shared_fake())):
        yield shared_fake()


@pytest.fixture
def seeded(db) -> Connection:
    unit("pcs")  # migrations create it; a transactional test elsewhere may have flushed it
    warehouse("MAIN")
    ChannelFactory(code="shopify", name="Shopify web store")  # the sales demo's, with its own #10xx orders
    demo.seed_integrations()
    return Connection.objects.get(name=demo.DEMO_NAME)


def test_the_seeder_is_idempotent(seeded: Connection) -> None:
    # given: seeded once
    refs = ExternalRef.objects.filter(connection=seeded).count()
    # when: again
    report = demo.seed_integrations()
    # then: nothing new
    assert Connection.objects.filter(name=demo.DEMO_NAME).count() == 1
    assert ExternalRef.objects.filter(connection=seeded).count() == refs == 6  # 3 SKUs and their variants
    assert "STOVE-TI-01 left for the quarantine" in report[0]
    assert seeded.warehouse.code == "MAIN"
    assert seeded.sales_channel.code == "shopify-demo"
    assert seeded.settings["base_url"] == demo.demo_base_url()
    assert demo.is_demo(seeded)


def test_the_simulate_button_is_on_the_demo_connection_only(
    admin: Client, seeded: Connection, connection: Connection, fakes_on
) -> None:
    assert (
        b"Simulate a Shopify order" in admin.get(reverse("integrations:connection", args=[seeded.pk])).content
    )
    assert (
        b"Simulate a Shopify order"
        not in admin.get(reverse("integrations:connection", args=[connection.pk])).content
    )
    assert admin.post(reverse("integrations:simulate-order", args=[connection.pk])).status_code == 404


def test_a_simulated_order_arrives_through_the_hook(
    admin: Client, seeded: Connection, fakes_on, django_capture_on_commit_callbacks
) -> None:
    # when
    with django_capture_on_commit_callbacks(execute=True):
        response = admin.post(reverse("integrations:simulate-order", args=[seeded.pk]))
    # then: the fake took an order, the hook stored its webhook, and the order is here
    assert response["Location"] == reverse("integrations:connection-events", args=[seeded.pk])
    event = seeded.inbound_events.get()
    assert event.topic == "orders/create"
    assert event.status == InboundStatus.PROCESSED, event.last_error
    order = SalesOrder.objects.get(channel__code="shopify-demo")
    newest = max(fakes_on.orders.values(), key=lambda o: o["order_number"])
    assert order.external_reference == newest["name"]
    assert order.status == "confirmed"


def test_an_order_with_the_unmapped_sku_waits_in_the_quarantine(
    seeded: Connection, fakes_on, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        result = demo.simulate_order(connection=seeded, unknown_sku=True, rng=random.Random(1))
    assert result.status_code == 200
    assert result.event is not None
    result.event.refresh_from_db()
    assert result.event.status == InboundStatus.QUARANTINED
    assert result.event.missing == {"kind": "sku", "value": "STOVE-TI-01"}


def test_a_bad_signature_is_refused_by_the_hook(seeded: Connection, fakes_on) -> None:
    # given: the connection's app secret no longer matches the shop's
    seeded.set_secrets({**seeded.get_secrets(), "client_secret": "rotated"})
    seeded.save()
    # when
    result = demo.simulate_order(connection=seeded, rng=random.Random(2))
    # then
    assert result.status_code == 401
    assert result.event is None
    assert not seeded.inbound_events.exists()


def test_the_fake_shop_is_served_only_with_fakes_on(admin: Client, seeded: Connection, settings) -> None:
    settings.ERP_DEMO_FAKES = False
    assert admin.get(reverse("integrations:fake-shopify")).status_code == 404
    settings.ERP_DEMO_FAKES = True
    content = admin.get(reverse("integrations:fake-shopify")).content.decode()
    assert "TENT-2P-GRN" in content
    assert "Acme Outdoors" in content


def test_the_fake_serves_the_admin_api_with_its_token(db, settings) -> None:
    settings.ERP_DEMO_FAKES = True
    url = "/integrations/fake-shopify/admin/api/2025-07/shop.json"
    client = Client()
    assert client.get(url).status_code == 401
    response = client.get(url, HTTP_X_SHOPIFY_ACCESS_TOKEN=ACCESS_TOKEN)
    assert response.status_code == 200
    assert response.json()["shop"]["myshopify_domain"]
    assert "x-shopify-shop-api-call-limit" in {k.lower() for k in response.headers}
