"""ShipBob through the whole hub, with the Shopify sample order.

The order sold on the Shopify fake (#1042) is imported and confirmed here; WH1's fulfilment rule
sends it to the ShipBob fake, once, whatever is lost on the way; ShipBob's warehouse ships it
(first without tracking); ShipBob's signed order.shipped (subscribed by the hub's health check,
with the connection's secret) reaches the hub, which records the shipment once ShipBob has the
tracking and tells Shopify. A cancellation here cancels it there, and ShipBob's counts, polled, are
the on-hand at the mapped warehouse (through the ledger).
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal as D
from typing import Any
from unittest import mock
from urllib.parse import urlsplit

import httpx
import pytest

from integrations import health, inbound, outbound, polling, pushing, routing
from integrations.connections import connection_create
from integrations.http import mounted
from integrations.mappings import mapping_set
from integrations.models import Connection, Delivery, DeliveryStatus, ExternalRef, InboundEvent, InboundStatus
from integrations.shipbob.fake import ACCESS_TOKEN, BASE_URL, CHANNEL_ID, FakeShipBob
from integrations.shipbob.fake_data import sample_secret
from integrations.shopify.fake import FakeShopify, sample_webhook
from inventory import availability
from inventory.models import MoveKind, StockMove
from sales.models import OrderStatus, SalesOrder, Shipment
from sales.services import order_cancel
from tests.integrations.outbound_support import run_due_deliveries
from tests.integrations.shopify.conftest import SHOP_URL
from tests.integrations.shopify.scenario import post_webhook, shopify_connection, stocked_store

pytestmark = pytest.mark.django_db

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
def shipbob() -> Iterator[FakeShipBob]:
    fake = FakeShipBob(limits=False)
    with mounted(BASE_URL, httpx.MockTransport(fake.handle)):
        yield fake


@pytest.fixture
def shop_connection(store, shop) -> Connection:
    return shopify_connection(store)


@pytest.fixture
def connection(store, shipbob, shop_connection, django_capture_on_commit_callbacks) -> Connection:
    made = connection_create(
        connector="shipbob",
        name="ShipBob",
        settings={"channel_id": CHANNEL_ID},
        secrets={"token": ACCESS_TOKEN, "webhook_secret": sample_secret()},
        warehouse=store["warehouse"],
    )
    health.health_check(connection=made)  # subscribes order.shipped at the fake, with the secret
    with django_capture_on_commit_callbacks(execute=True):
        routing.route_set(warehouse=store["warehouse"], connection=made)
    return made


def run_due(capture) -> None:
    run_due_deliveries(capture)


def sell(client, shop_connection, capture) -> SalesOrder:
    with capture(execute=True):
        response = post_webhook(client, shop_connection, *sample_webhook())
    assert response.status_code == 200, response.content
    run_due(capture)
    order = SalesOrder.objects.get()
    assert order.status == OrderStatus.CONFIRMED
    return order


def deliver(client, fake: FakeShipBob, capture) -> list[int]:
    """ShipBob sends what it has queued to the hub; the hub's answers."""

    def send(url: str, headers: dict[str, str], body: bytes) -> int:
        parts = urlsplit(url)
        with capture(execute=True):
            response = client.post(parts.path, data=body, content_type="application/json", headers=headers)
        return response.status_code

    return [d.attempts[-1].status or 0 for d in fake.deliver_webhooks(send)]


def test_the_shopify_sample_order_is_shipped_by_shipbob_and_tracked_in_shopify(
    client, store, shop, shipbob, shop_connection, connection, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    assert {t for s in shipbob.subscriptions.values() for t in s["topics"]} == {
        "order.shipped",
        "order.shipment.cancelled",
    }
    order = sell(client, shop_connection, capture)

    [there] = shipbob.orders.values()
    assert (there["reference_id"], there["order_number"], there["status"]) == (
        order.number,
        order.number,
        "Processing",
    )
    assert {p["sku"]: p["quantity"] for p in there["products"]} == {
        "TENT-2P-GRN": 1,
        "SLBAG-20F-REG": 2,
        "STOVE-TI-01": 1,
    }
    assert there["recipient"]["address"]["city"] == order.shipping_address["city"]
    assert there["shipping_method"] == "Standard"
    assert {str(p["external_line_id"]) for p in there["products"]} == {str(ln.pk) for ln in order.lines.all()}

    # ShipBob ships it and tells the hub before it has the tracking: the hub waits for it
    shipment = shipbob.ship(there["id"], tracking=False)
    assert deliver(client, shipbob, capture) == [200]
    [event] = InboundEvent.objects.filter(connection=connection)
    assert event.status == InboundStatus.FAILED, event.last_error
    assert "no tracking" in event.last_error
    assert not Shipment.objects.filter(order=order).exists()

    shipbob.add_tracking(shipment["id"])
    with capture(execute=True):
        inbound.inbound_process(event.pk)  # the retry, once its backoff ran out
    run_due(capture)

    order.refresh_from_db()
    assert order.status == OrderStatus.SHIPPED
    tracking = shipbob.order(there["id"])["shipments"][0]["tracking"]
    [recorded] = Shipment.objects.filter(order=order)
    assert (recorded.tracking_number, recorded.carrier) == (tracking["tracking_number"], "USPS")
    link = ExternalRef.objects.get(connection=connection, object_type="fulfilment")
    assert link.external_id == str(shipment["id"])
    [fulfilment] = shop.order(SHOPIFY_ORDER_ID)["fulfillments"]
    assert fulfilment["tracking_number"] == tracking["tracking_number"]
    assert shop.order(SHOPIFY_ORDER_ID)["fulfillment_status"] == "fulfilled"
    assert not Delivery.objects.filter(connection=connection, topic="sales.shipment_shipped").exists()


def test_a_worker_killed_after_shipbob_answered_makes_no_second_order(
    client, shipbob, shop_connection, connection, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    with capture(execute=True):
        post_webhook(client, shop_connection, *sample_webhook())
    with mock.patch.object(outbound, "_finish", side_effect=WorkerKilled), pytest.raises(WorkerKilled):
        run_due(capture)  # ShipBob made the order; the worker died before the hub noted it
    assert len(shipbob.orders) == 1

    Delivery.objects.update(claimed_until=None)  # the claim's lease ran out
    run_due(capture)

    order = SalesOrder.objects.get()
    [delivery] = Delivery.objects.filter(connection=connection, topic="sales.order_confirmed")
    assert delivery.status == DeliveryStatus.SUCCEEDED
    assert [o["reference_id"] for o in shipbob.orders.values()] == [order.number]
    ref = ExternalRef.objects.get(connection=connection, object_type="order")
    assert ref.external_id == str(shipbob.order_by_reference(order.number)["id"])


def test_a_cancellation_here_cancels_it_at_shipbob(
    client, shipbob, shop_connection, connection, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    order = sell(client, shop_connection, capture)
    assert shipbob.fulfillable("TENT-2P-GRN", 10) == 39

    with capture(execute=True):
        order_cancel(order=SalesOrder.objects.get(pk=order.pk), reason="customer changed their mind")
    run_due(capture)

    assert shipbob.order_by_reference(order.number)["status"] == "Cancelled"
    assert shipbob.fulfillable("TENT-2P-GRN", 10) == 40  # released there
    [delivery] = Delivery.objects.filter(connection=connection, topic="sales.order_cancelled")
    assert delivery.status == DeliveryStatus.SUCCEEDED
    assert len(shipbob.orders) == 1


def test_a_cancellation_while_the_order_is_on_its_way_to_shipbob_waits_for_it_and_cancels_it_there(
    client, shipbob, shop_connection, connection, django_capture_on_commit_callbacks
):
    """Two workers, one order: the cancel's delivery is taken up while the creation's is in flight
    (ShipBob has made the order, its answer not recorded here yet). Resolved then, the cancel found
    nothing sent and skipped, and ShipBob shipped a cancelled order (the workers day in CI)."""
    capture = django_capture_on_commit_callbacks
    real_push = pushing.push
    cancel_attempts: list[Delivery | None] = []

    def creation_in_flight(delivery: Delivery) -> Any:
        outcome = real_push(delivery)
        if delivery.topic == "sales.order_confirmed" and not cancel_attempts:
            order = SalesOrder.objects.get()
            assert shipbob.order_by_reference(order.number)["status"] == "Processing"
            with capture(execute=True):  # staff cancel it here meanwhile; another worker takes it up
                order_cancel(order=SalesOrder.objects.get(pk=order.pk), reason="customer changed their mind")
            [cancel] = Delivery.objects.filter(connection=connection, topic="sales.order_cancelled")
            cancel_attempts.append(outbound.delivery_attempt(cancel.pk))
        return outcome

    with mock.patch.object(pushing, "push", side_effect=creation_in_flight), capture(execute=True):
        post_webhook(client, shop_connection, *sample_webhook())
    order = SalesOrder.objects.get()

    # the cancel waited for the creation, not deciding on what it could not know yet, and went as
    # soon as the creation had landed
    assert cancel_attempts == [None]
    created = Delivery.objects.get(connection=connection, topic="sales.order_confirmed")
    assert created.status == DeliveryStatus.SUCCEEDED
    [cancel] = Delivery.objects.filter(connection=connection, topic="sales.order_cancelled")
    assert cancel.status == DeliveryStatus.SUCCEEDED, cancel.last_error
    assert shipbob.order_by_reference(order.number)["status"] == "Cancelled"


def test_counts_polled_from_shipbob_set_the_on_hand_at_the_mapped_warehouse(
    store, shipbob, connection, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    wh = store["warehouse"]
    tent, stove = store["products"]["TENT-2P-GRN"], store["products"]["STOVE-TI-01"]
    mapping_set(connection=connection, kind="fulfillment_center", our_value=wh.code, tool_value="10")
    shipbob.count("TENT-2P-GRN", 10, 30)  # a cycle count at Cicero; ShipBob tells nobody

    with capture(execute=True):
        polling.poll(connection=connection, object_type="inventory_level")

    assert availability.of(tent.pk, wh.pk).on_hand == 30
    assert availability.of(stove.pk, wh.pk).on_hand == 25  # Cicero's; Moreno Valley's 10 are not WH1's
    [move] = StockMove.objects.filter(product=tent, kind=MoveKind.COUNT)
    assert move.quantity == D(20)
    assert (move.document_type, move.document_id) == ("integrations.connection", str(connection.pk))
    assert move.reason == f"Counted by {connection.name}"

    with capture(execute=True):
        polling.poll(connection=connection, object_type="inventory_level")  # nothing new
    assert StockMove.objects.filter(product=tent, kind=MoveKind.COUNT).count() == 1


def test_each_mapped_fulfilment_centre_sets_the_on_hand_of_its_own_warehouse(
    store, shipbob, connection, django_capture_on_commit_callbacks
):
    """Cicero is WH1 (the connection's own), Moreno Valley a second warehouse: ShipBob owns the
    stock at both, and each count lands at its own warehouse."""
    from tests.inventory.factories import warehouse

    capture = django_capture_on_commit_callbacks
    wh1, west = store["warehouse"], warehouse("SBWEST")
    stove = store["products"]["STOVE-TI-01"]
    mapping_set(connection=connection, kind="fulfillment_center", our_value=wh1.code, tool_value="10")
    mapping_set(connection=connection, kind="fulfillment_center", our_value=west.code, tool_value="24")

    with capture(execute=True):
        polling.poll(connection=connection, object_type="inventory_level")

    assert availability.of(stove.pk, wh1.pk).on_hand == 25  # Cicero's
    assert availability.of(stove.pk, west.pk).on_hand == 10  # Moreno Valley's


def test_a_shipment_whose_webhook_never_came_is_caught_by_polling(
    client, store, shop, shipbob, shop_connection, connection, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    order = sell(client, shop_connection, capture)
    with capture(execute=True):
        polling.poll(connection=connection, object_type="shipment")  # the cursor starts now
    shipbob.drop_next(5)  # ShipBob's order.shipped never arrives
    [there] = [o for o in shipbob.orders.values() if o["reference_id"] == order.number]
    shipbob.ship(there["id"])
    assert deliver(client, shipbob, capture) == []

    with capture(execute=True):
        run = polling.poll(connection=connection, object_type="shipment")
    run_due(capture)

    assert run.failed == 0, run.errors
    order.refresh_from_db()
    assert order.status == OrderStatus.SHIPPED
    [shipment] = Shipment.objects.filter(order=order)
    assert (
        shipment.tracking_number == shipbob.order(there["id"])["shipments"][0]["tracking"]["tracking_number"]
    )
    [fulfilment] = shop.order(5834021535987)["fulfillments"]
    assert fulfilment["tracking_number"] == shipment.tracking_number
    with capture(execute=True):
        again = polling.poll(connection=connection, object_type="shipment")  # nothing new
    assert Shipment.objects.filter(order=order).count() == 1
    assert again.failed == 0
