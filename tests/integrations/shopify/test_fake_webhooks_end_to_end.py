"""Shopify's own webhooks, delivered at least once, through the whole hub.

The hub subscribes to the fake shop (its health check registers the topics it wants, at its hook
address); the merchant places an order, fulfils it with a UPS tracking number and refunds one
sleeping bag with restock, all in Shopify's admin; the fake's sender delivers what Shopify would
through the Django test client to the hub's webhook endpoint: one delivery twice (the same
X-Shopify-Webhook-Id), two out of order, and one lost, which the hub's polling catches. The hub
ends with one shipped order with the tracking number, one credit note, the bag back in stock, and
no shipment recorded twice.
"""

from __future__ import annotations

import datetime
from decimal import Decimal as D
from urllib.parse import urlsplit

import pytest

from integrations import health, polling
from integrations.models import ExternalRef, InboundEvent, InboundStatus
from integrations.shopify.connector import ShopifyConnector
from integrations.shopify.fake import FakeShopify
from inventory.models import MoveKind, StockMove
from sales.models import (
    Invoice,
    InvoiceKind,
    OrderStatus,
    Refund,
    ReturnStatus,
    SalesOrder,
    SalesReturn,
    Shipment,
)
from tests.integrations.shopify.scenario import on_hand, shopify_connection, stocked_store

TRACKING = "1Z999AA10123456784"


class Clock:
    def __init__(self) -> None:
        self.now = datetime.datetime.now(datetime.UTC).replace(microsecond=0)

    def __call__(self) -> datetime.datetime:
        return self.now

    def tick(self, **delta: float) -> None:
        self.now += datetime.timedelta(**delta)


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def fake(clock):  # the shop the conftest's ``shop`` mounts, on a clock the test moves
    return FakeShopify(clock=clock)


@pytest.fixture
def connection(db, shop):
    return shopify_connection(stocked_store())


@pytest.fixture
def hub(client, django_capture_on_commit_callbacks):
    """The hub's webhook endpoint as ``deliver_webhooks`` calls it; ``hub.answers`` keeps what it said."""

    class Endpoint:
        def __init__(self) -> None:
            self.answers: list[tuple[str, str]] = []

        def __call__(self, url: str, headers: dict[str, str], body: bytes) -> int:
            with django_capture_on_commit_callbacks(execute=True):
                response = client.post(
                    urlsplit(url).path,
                    data=body,
                    content_type=headers["Content-Type"],
                    headers={k: v for k, v in headers.items() if k != "Content-Type"},
                )
            self.answers.append((headers["X-Shopify-Topic"], response.json().get("status", "")))
            return response.status_code

    return Endpoint()


def test_an_order_shipped_and_refunded_in_shopify_arrives_once_through_at_least_once_webhooks(
    connection, shop, clock, hub, django_capture_on_commit_callbacks
):
    # given: the hub subscribed to the shop's webhooks itself
    health.health_check(connection=connection)
    assert sorted(w["topic"] for w in shop.webhooks.values()) == sorted(ShopifyConnector.webhook_topics)
    assert {w["address"] for w in shop.webhooks.values()} == {health.hook_url(connection)}

    # when: a shopper places an order; Shopify delivers its orders/create twice
    shop.duplicate_next(1)
    placed = shop.create_order([("TENT-2P-GRN", 1), ("SLBAG-20F-REG", 2), ("STOVE-TI-01", 1)])
    lines = {li["sku"]: li["id"] for li in placed["line_items"]}
    shop.deliver_webhooks(hub)

    # then: one confirmed order; the second copy was a duplicate
    assert hub.answers == [
        ("orders/create", "received"),
        ("orders/create", "duplicate"),
        ("orders/updated", "received"),
    ]
    order = SalesOrder.objects.get()
    assert order.status == OrderStatus.CONFIRMED
    assert InboundEvent.objects.filter(topic="orders/create").count() == 1

    # when: the merchant fulfils it with tracking, then adds a note; the two updates arrive newest first
    clock.tick(minutes=10)
    shop.fulfil_order(placed["id"], tracking_number=TRACKING, tracking_company="UPS")
    clock.tick(minutes=1)
    shop.update_order(placed["id"], note="Left at the door")
    sent = shop.deliver_webhooks(hub, reorder=True)

    # then: shipped once, with the tracking; the older update is stale
    assert [d.payload["note"] for d in sent] == ["Left at the door", None]
    order.refresh_from_db()
    assert order.status == OrderStatus.SHIPPED
    assert order.notes == "Left at the door"
    shipment = Shipment.objects.get()
    assert (shipment.carrier, shipment.tracking_number) == ("UPS", TRACKING)
    older = InboundEvent.objects.filter(topic="orders/updated").latest("pk")
    assert older.status == InboundStatus.SKIPPED
    assert "stale" in older.result["items"][0]["reason"]
    assert shop.requests_to("fulfillments.json", "POST") == []  # not echoed back to Shopify

    # when: one sleeping bag comes back, refunded with restock; Shopify's orders/updated is lost
    clock.tick(minutes=5)
    shop.drop_next(1)
    refund = shop.refund_order(
        placed["id"], {lines["SLBAG-20F-REG"]: 1}, restock_type="return", note="Arrived damaged"
    )
    assert shop.deliver_webhooks(hub) == []
    assert not Invoice.objects.filter(kind=InvoiceKind.CREDIT_NOTE).exists()

    # and the hub polls its orders
    with django_capture_on_commit_callbacks(execute=True):
        run = polling.poll(connection=connection, object_type="order")

    # then: the refund is caught: a received return, its credit note, the money, the bag back
    assert run.errors == [], run.errors
    sales_return = SalesReturn.objects.get()
    note = Invoice.objects.get(kind=InvoiceKind.CREDIT_NOTE)
    assert (sales_return.status, sales_return.credit_note) == (ReturnStatus.RECEIVED, note)
    assert note.total == D("189.74")  # 179.00 and its 6 % tax, as Shopify paid back
    assert list(Refund.objects.values_list("amount", "reference")) == [(D("189.74"), str(refund["id"]))]
    assert ExternalRef.objects.get(connection=connection, object_type="refund").external_id == str(
        refund["id"]
    )
    assert (on_hand("TENT-2P-GRN"), on_hand("SLBAG-20F-REG"), on_hand("STOVE-TI-01")) == (D(9), D(9), D(9))
    # and nothing was shipped twice
    assert Shipment.objects.count() == 1
    assert StockMove.objects.filter(kind=MoveKind.ISSUE).count() == 3
    assert SalesOrder.objects.count() == 1
    assert [d.state for d in shop.outbox if d.state != "delivered"] == ["dropped"]


def test_a_hub_that_was_down_is_unsubscribed_then_subscribes_again_and_polls_what_it_missed(
    connection, shop, clock, hub, django_capture_on_commit_callbacks
):
    # given: the hub subscribed, then went down while an order was placed
    health.health_check(connection=connection)
    placed = shop.create_order([("TENT-2P-GRN", 1), ("STOVE-TI-01", 1)])

    def down(url: str, headers: dict[str, str], body: bytes) -> int:
        raise ConnectionRefusedError("the hub is down")

    shop.deliver_webhooks(down)
    for wait in shop.retry_schedule:  # Shopify retries for four hours, then gives up
        clock.tick(seconds=wait.total_seconds())
        shop.deliver_webhooks(down)

    # then: Shopify deleted the subscriptions whose deliveries kept failing
    assert sorted(w["topic"] for w in shop.webhooks.values()) == ["orders/cancelled", "products/update"]
    assert {d.topic: d.state for d in shop.outbox} == {"orders/create": "failed", "orders/updated": "failed"}
    assert not SalesOrder.objects.exists()

    # when: the hub is back; its health check and its poll run
    run = health.health_check(connection=connection)
    with django_capture_on_commit_callbacks(execute=True):
        polling.poll(connection=connection, object_type="order")

    # then: subscribed again, and the order is in
    assert run.created == 2
    assert sorted(w["topic"] for w in shop.webhooks.values()) == sorted(ShopifyConnector.webhook_topics)
    order = SalesOrder.objects.get()
    assert order.status == OrderStatus.CONFIRMED

    # and what happens next arrives by webhook again
    clock.tick(minutes=1)
    shop.fulfil_order(placed["id"], tracking_number=TRACKING, tracking_company="UPS")
    shop.deliver_webhooks(hub)
    assert hub.answers == [("orders/updated", "received")]
    order.refresh_from_db()
    assert order.status == OrderStatus.SHIPPED
    assert Shipment.objects.get().tracking_number == TRACKING
