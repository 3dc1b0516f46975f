"""ShipStation through the whole hub: the issue's "Done when", with the Shopify sample order.

The order sold on the Shopify fake (#1042) is imported and confirmed here; WH1's fulfilment rule
sends it to the ShipStation fake, once, whatever is lost on the way; the fake's warehouse staff
print a label; ShipStation's SHIP_NOTIFY (registered by the hub's health check, carrying the
connection's token) reaches the hub, which reads the batch's shipments on ShipStation's host,
records the shipment here and tells Shopify: the tracking reaches the Shopify fake as a fulfilment.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal as D
from typing import Any
from unittest import mock
from urllib.parse import urlsplit

import httpx
import pytest

from integrations import health, inbound, outbound, polling, routing
from integrations.connections import connection_create
from integrations.http import mounted
from integrations.models import (
    Connection,
    Delivery,
    DeliveryStatus,
    ExternalRef,
    InboundEvent,
    InboundStatus,
)
from integrations.shipstation.fake import API_KEY, API_SECRET, BASE_URL, STORE_ID, FakeShipStation
from integrations.shopify.fake import FakeShopify, sample_webhook
from inventory.services import stock_receive
from sales.models import OrderStatus, SalesOrder, Shipment
from sales.selectors import reserved_by_line
from sales.services import order_cancel, order_hold, order_release
from tests.integrations.outbound_support import run_due_deliveries
from tests.integrations.shopify.conftest import SHOP_URL
from tests.integrations.shopify.scenario import post_webhook, shopify_connection, stocked_store
from tests.inventory.factories import bin_of

pytestmark = pytest.mark.django_db

TOKEN = "ss-e2e-token"
SHOPIFY_ORDER_ID = 5834021535987


class WorkerKilled(BaseException):
    """The worker process dies: nothing after this point of the attempt runs."""


@pytest.fixture
def store() -> dict[str, Any]:
    return stocked_store()


@pytest.fixture
def shop() -> Iterator[FakeShopify]:
    fake = FakeShopify()
    with mounted(SHOP_URL, httpx.MockTransport(fake.handle)):
        yield fake


@pytest.fixture
def shipstation() -> Iterator[FakeShipStation]:
    fake = FakeShipStation()
    with mounted(BASE_URL, httpx.MockTransport(fake.handle)):
        yield fake


@pytest.fixture
def shop_connection(store, shop) -> Connection:
    return shopify_connection(store)


@pytest.fixture
def connection(store, shipstation, shop_connection, django_capture_on_commit_callbacks) -> Connection:
    made = connection_create(
        connector="shipstation",
        name="Shipping",
        settings={"store_id": STORE_ID},
        secrets={"api_key": API_KEY, "api_secret": API_SECRET, "webhook_token": TOKEN},
    )
    health.health_check(connection=made)  # subscribes SHIP_NOTIFY at the fake, with the token
    with django_capture_on_commit_callbacks(execute=True):
        routing.route_set(warehouse=store["warehouse"], connection=made)
    return made


def run_due(capture) -> None:
    run_due_deliveries(capture)


def sell(client, shop_connection, capture) -> SalesOrder:
    """The Shopify sample order arrives (its real signature) and is confirmed here."""
    with capture(execute=True):
        response = post_webhook(client, shop_connection, *sample_webhook())
    assert response.status_code == 200, response.content
    run_due(capture)
    order = SalesOrder.objects.get()
    assert order.status == OrderStatus.CONFIRMED
    return order


def notify(client, fake: FakeShipStation, capture) -> list[int]:
    """ShipStation sends what it has queued (SHIP_NOTIFY) to the hub; the hub's answers."""

    def send(url: str, headers: dict[str, str], body: bytes) -> int:
        parts = urlsplit(url)
        with capture(execute=True):
            response = client.post(
                f"{parts.path}?{parts.query}", data=body, content_type="application/json", headers=headers
            )
        return response.status_code

    answers = [d.attempts[-1].status or 0 for d in fake.deliver_webhooks(send)]
    run_due(capture)
    return answers


def test_the_shopify_sample_order_is_shipped_by_shipstation_and_tracked_in_shopify(
    client, store, shop, shipstation, shop_connection, connection, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    order = sell(client, shop_connection, capture)

    [there] = shipstation.orders_awaiting()
    assert (there["orderKey"], there["orderNumber"], there["orderStatus"]) == (
        order.number,
        order.number,
        "awaiting_shipment",
    )
    assert {i["sku"]: i["quantity"] for i in there["items"]} == {
        "TENT-2P-GRN": 1,
        "SLBAG-20F-REG": 2,
        "STOVE-TI-01": 1,
    }
    assert there["shipTo"]["city"] == order.shipping_address["city"]
    assert there["advancedOptions"]["storeId"] == STORE_ID
    assert there["requestedShippingService"] == order.shipping_method != ""

    label = shipstation.ship(order.number, tracking="9400111899223197428490")
    assert notify(client, shipstation, capture) == [200]

    order.refresh_from_db()
    assert order.status == OrderStatus.SHIPPED
    [shipment] = Shipment.objects.filter(order=order)
    assert (shipment.tracking_number, shipment.carrier, shipment.service) == (
        "9400111899223197428490",
        "stamps_com",
        "usps_priority_mail",
    )
    assert sum(reserved_by_line([ln.pk for ln in order.lines.all()]).values(), D(0)) == 0
    link = ExternalRef.objects.get(connection=connection, object_type="fulfilment")
    assert link.external_id == str(label["shipmentId"])
    # ... and Shopify hears it from the hub, never from ShipStation
    [fulfilment] = shop.order(SHOPIFY_ORDER_ID)["fulfillments"]
    assert fulfilment["tracking_number"] == "9400111899223197428490"
    assert shop.order(SHOPIFY_ORDER_ID)["fulfillment_status"] == "fulfilled"
    # a SHIP_NOTIFY sent again (ShipStation sends at least once) records nothing twice
    shipstation.duplicate_next(1)
    assert Shipment.objects.filter(order=order).count() == 1


def test_a_worker_killed_after_shipstation_answered_makes_no_second_order(
    client, shipstation, shop_connection, connection, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    with capture(execute=True):
        post_webhook(client, shop_connection, *sample_webhook())
    with mock.patch.object(outbound, "_finish", side_effect=WorkerKilled), pytest.raises(WorkerKilled):
        run_due(capture)  # ShipStation made the order; the worker died before the hub noted it
    assert len(shipstation.orders) == 1

    Delivery.objects.update(claimed_until=None)  # the claim's lease ran out
    run_due(capture)

    order = SalesOrder.objects.get()
    [delivery] = Delivery.objects.filter(connection=connection, topic="sales.order_confirmed")
    assert delivery.status == DeliveryStatus.SUCCEEDED
    assert [o["view"]["orderKey"] for o in shipstation.orders.values()] == [order.number]
    ref = ExternalRef.objects.get(connection=connection, object_type="order")
    assert ref.external_id == str(shipstation.order(order.number)["orderId"])


def test_a_missed_notification_is_caught_by_polling_and_a_voided_label_is_not_recorded(
    client, shipstation, shop_connection, connection, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    order = sell(client, shop_connection, capture)
    polling.poll(connection=connection, object_type="shipment")  # the cursor starts now

    shipstation.drop_next(2)  # ShipStation's notifications of both labels never arrive
    voided = shipstation.ship(order.number, tracking="9400000000000000000001")
    shipstation.void(voided["shipmentId"])
    shipstation.ship(order.number, tracking="9400000000000000000002")
    assert notify(client, shipstation, capture) == []

    with capture(execute=True):
        polling.poll(connection=connection, object_type="shipment")
    run_due(capture)

    [shipment] = Shipment.objects.filter(order=order)
    assert shipment.tracking_number == "9400000000000000000002"
    order.refresh_from_db()
    assert order.status == OrderStatus.SHIPPED


def test_a_hold_and_a_cancellation_here_reach_shipstation(
    client, shipstation, shop_connection, connection, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    order = sell(client, shop_connection, capture)

    with capture(execute=True):
        order_hold(order=order, reason="address check")
    run_due(capture)
    assert shipstation.order(order.number)["orderStatus"] == "on_hold"

    with capture(execute=True):
        order_release(order=SalesOrder.objects.get(pk=order.pk))
    run_due(capture)
    assert shipstation.order(order.number)["orderStatus"] == "awaiting_shipment"

    with capture(execute=True):
        order_cancel(order=SalesOrder.objects.get(pk=order.pk), reason="customer changed their mind")
    run_due(capture)
    assert shipstation.order(order.number)["orderStatus"] == "cancelled"
    assert len(shipstation.orders) == 1


def test_an_order_waits_for_its_stock_then_goes_whole(
    client, store, shipstation, shop_connection, connection, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    from inventory.services import stock_adjust

    stove = store["products"]["STOVE-TI-01"]
    stock_adjust(product=stove, location=bin_of(store["warehouse"]), quantity=0, reason="damaged")
    order = sell(client, shop_connection, capture)

    assert shipstation.orders == {}  # the stove is not reserved: the order waits here
    [waiting] = Delivery.objects.filter(connection=connection, topic="sales.order_confirmed")
    assert waiting.status == DeliveryStatus.SKIPPED
    assert "waits for its stock" in waiting.last_error

    with capture(execute=True):
        stock_receive(product=stove, location=bin_of(store["warehouse"]), quantity=5, unit_cost=20)
    run_due(capture)

    there = shipstation.order(order.number)
    assert {i["sku"]: i["quantity"] for i in there["items"]}["STOVE-TI-01"] == 1


def test_a_label_voided_after_it_was_recorded_and_printed_again_moves_the_tracking_to_shopify(
    client, shop, shipstation, shop_connection, connection, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    order = sell(client, shop_connection, capture)
    polling.poll(connection=connection, object_type="shipment")  # the cursor starts now
    misprint = shipstation.ship(order.number, tracking="9400000000000000000011")
    assert notify(client, shipstation, capture) == [200]
    [shipment] = Shipment.objects.filter(order=order)
    assert shipment.tracking_number == "9400000000000000000011"

    # the label is voided there and printed again; its SHIP_NOTIFY comes, the void only by polling
    shipstation.void(misprint["shipmentId"])
    shipstation.ship(order.number, tracking="9400000000000000000012")
    assert notify(client, shipstation, capture) == [200]  # stored; it waits to hear of the void
    with capture(execute=True):
        polling.poll(connection=connection, object_type="shipment")
    for event in InboundEvent.objects.filter(connection=connection, status=InboundStatus.FAILED):
        with capture(execute=True):
            inbound.inbound_process(event.pk)  # the retry, once the void was heard
    run_due(capture)

    [shipment] = Shipment.objects.filter(order=order)  # the goods left once: one shipment
    assert shipment.tracking_number == "9400000000000000000012"
    assert not InboundEvent.objects.filter(connection=connection, status=InboundStatus.FAILED).exists()
    # Shopify's one fulfilment travels under the new number
    [fulfilment] = shop.order(SHOPIFY_ORDER_ID)["fulfillments"]
    assert fulfilment["tracking_number"] == "9400000000000000000012"
