"""The conformance kit's 3PL part: every connector that ships orders from its own warehouse and owns
the on-hand there (ORDERS_OUT, SHIPMENTS_IN, INVENTORY_IN), against its own fake, with the orders
sold on a Shopify store selling that warehouse's stock. (A 3PL runs the shipping part too.)

An order goes to the 3PL once, whatever answer is lost: a retry that the tool refuses as a duplicate
reference is linked to the tool's one order, and what follows the order reaches that one. What the
3PL ships comes back as one shipment here (the stock leaves once, and the 3PL's next count agrees)
and reaches the store with its tracking. The 3PL's count is the on-hand here, through the ledger,
and is never pushed back to it, while the store gets the new availability. A delivery that is not
the 3PL's, or is too old to be its latest word, is refused and stores nothing.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from integrations import outbound, polling
from integrations.contract import Capability
from integrations.models import Delivery, DeliveryStatus, InboundEvent, InboundStatus
from inventory.models import MoveKind, StockMove
from sales.models import OrderStatus, Shipment
from sales.services import order_hold, order_release
from tests.integrations.conformance.conftest import HUB_STOCK

PART = frozenset({Capability.ORDERS_OUT, Capability.SHIPMENTS_IN, Capability.INVENTORY_IN})
TRACKING = "1Z999AA10123456784"


def _retry(kit, delivery: Delivery) -> Delivery:
    """The failed delivery's backoff runs out and it is attempted again."""
    Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
    with kit.capture(execute=True):
        outbound.delivery_attempt(delivery.pk)
    delivery.refresh_from_db()
    return delivery


def _confirmation(kit) -> Delivery:
    [delivery] = [d for d in kit.deliveries() if d.topic == "sales.order_confirmed"]
    return delivery


def _count_moves(kit) -> list[StockMove]:
    return list(StockMove.objects.filter(product=kit.product, kind=MoveKind.COUNT).order_by("pk"))


# --- orders out -------------------------------------------------------------------------------------


def test_an_order_goes_out_once_when_the_answer_is_lost_and_the_retry_is_linked(threepl_kit):
    kit = threepl_kit
    kit.harness.lose_next_answer()

    order = kit.sell(quantity=2)

    delivery = _confirmation(kit)
    assert delivery.status == DeliveryStatus.FAILED  # the 3PL has it; the hub does not know yet
    assert kit.harness.order(order.number) is not None
    delivery = _retry(kit, delivery)
    # the retry carried the same reference: the 3PL answered "already exists", naming its order
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.SUCCEEDED, 2)
    assert (kit.harness.order_count(), kit.harness.creates(order.number)) == (1, 2)
    there = kit.harness.order(order.number)
    assert there is not None
    assert (there["status"], there["lines"]) == ("open", {kit.product.sku: 2})
    ref = kit.connection.refs.get(object_type="order", object_id=order.pk)
    assert ref.external_id == there["id"]  # ours is linked to the 3PL's one order

    # ... so what follows the order reaches that one order, and makes no other
    with kit.capture(execute=True):
        order_hold(order=order, reason="address check")
    assert (kit.harness.order(order.number) or {}).get("status") == "held"
    assert (kit.harness.order_count(), kit.harness.creates(order.number)) == (1, 2)


def test_a_hold_before_the_hub_learned_the_3pls_id_still_reaches_the_3pl(threepl_kit):
    kit = threepl_kit
    kit.harness.lose_next_answer()
    order = kit.sell()
    confirmation = _confirmation(kit)
    assert confirmation.status == DeliveryStatus.FAILED

    # held here before the confirmation is retried: the hold goes out as a create of the order,
    # which the 3PL refuses as a duplicate; linked, the 3PL's order must be held all the same
    with kit.capture(execute=True):
        order_hold(order=order, reason="fraud check")
    [hold] = [d for d in kit.deliveries() if d.topic == "sales.order_held"]
    assert hold.status == DeliveryStatus.SUCCEEDED
    assert (kit.harness.order(order.number) or {}).get("status") == "held"

    confirmation = _retry(kit, confirmation)  # the held order is what the 3PL has: nothing to undo
    assert confirmation.status in (DeliveryStatus.SUCCEEDED, DeliveryStatus.SKIPPED)
    assert (kit.harness.order(order.number) or {}).get("status") == "held"
    with kit.capture(execute=True):
        order_release(order=order)
    assert (kit.harness.order(order.number) or {}).get("status") == "open"
    assert kit.harness.order_count() == 1


# --- shipments in -----------------------------------------------------------------------------------


def test_what_the_3pl_ships_is_shipped_here_once_and_reaches_the_shopify_store(threepl_kit):
    kit = threepl_kit
    kit.harness.set_on_hand(kit.product.sku, HUB_STOCK)  # the 3PL's shelves and the hub agree
    order = kit.sell(quantity=2)
    notice = kit.harness.ship(order.number, tracking=TRACKING)

    first = kit.post(kit.connection, *notice)
    again = kit.post(kit.connection, *notice)  # delivered twice

    assert (first.status_code, again.status_code) == (200, 200)
    assert again.json()["status"] == "duplicate"
    order.refresh_from_db()
    assert order.status == OrderStatus.SHIPPED
    shipment = Shipment.objects.get(order=order)
    assert shipment.tracking_number == TRACKING
    stock = kit.stock()
    assert (stock.on_hand, stock.reserved) == (HUB_STOCK - 2, 0)  # left once, through the reservation
    # the store the order was sold on has the fulfilment with its tracking; nothing went back to the 3PL
    ref = kit.shop_connection.refs.get(object_type="order", object_id=order.pk)
    [fulfilment] = kit.shop.fake.order(int(ref.external_id))["fulfillments"]
    assert fulfilment["tracking_number"] == TRACKING
    assert not Delivery.objects.filter(connection=kit.connection, topic="sales.shipment_shipped").exists()

    # the 3PL's next count says what the shipment left: the hub agrees, and moves nothing more
    counted = kit.harness.on_hand(kit.product.sku)
    assert counted == HUB_STOCK - 2
    kit.count_arrives(kit.product.sku, counted)

    assert kit.stock().on_hand == HUB_STOCK - 2
    assert _count_moves(kit) == []


# --- counts in --------------------------------------------------------------------------------------


def test_a_count_from_the_3pl_is_the_on_hand_here_and_reaches_the_store_never_the_3pl(threepl_kit):
    kit = threepl_kit
    kit.count_arrives(kit.product.sku, 7)
    asked = kit.harness.requests()

    if getattr(kit.harness, "counts_by_webhook", True):
        event = InboundEvent.objects.filter(connection=kit.connection).latest("pk")
        assert event.status == InboundStatus.PROCESSED, event.last_error
    assert kit.stock().on_hand == 7
    # through the ledger: one count move of the difference, naming the connection
    [move] = _count_moves(kit)
    assert move.quantity == Decimal(HUB_STOCK - 7)
    assert (move.document_type, move.document_id) == ("integrations.connection", str(kit.connection.pk))
    assert move.reason == f"Counted by {kit.connection.name}"
    # never pushed back to the 3PL, which owns that stock...
    assert not Delivery.objects.filter(connection=kit.connection, topic="inventory.level_changed").exists()
    assert kit.harness.requests() == asked
    # ... while the store selling WH1's stock gets the new availability
    [push] = kit.run_shop_deliveries()
    assert push.status == DeliveryStatus.SUCCEEDED, push.last_error
    assert kit.shop.available(kit.shop.sku) == 7


def test_a_count_older_than_the_one_applied_changes_nothing(threepl_kit):
    kit = threepl_kit
    now = timezone.now()
    late = kit.harness.count(kit.product.sku, 4, counted_at=now - datetime.timedelta(minutes=2))
    latest = kit.harness.count(kit.product.sku, 6, counted_at=now)

    kit.post(kit.connection, *latest)
    kit.post(kit.connection, *late)  # the earlier count arrives last

    assert kit.stock().on_hand == 6
    assert len(_count_moves(kit)) == 1


def test_counts_no_webhook_told_of_are_pulled(threepl_kit):
    kit = threepl_kit
    if "inventory_level" not in kit.harness.connector.poll_object_types:
        pytest.skip(f"{kit.harness.connector.name} does not pull its counts (pull is optional for a 3PL).")
    kit.harness.set_on_hand(kit.product.sku, 5)

    with kit.capture(execute=True):
        run = polling.poll(connection=kit.connection, object_type="inventory_level")

    assert run.failed == 0, run.errors
    assert kit.stock().on_hand == 5
    with kit.capture(execute=True):
        polling.poll(connection=kit.connection, object_type="inventory_level")  # nothing new
    assert len(_count_moves(kit)) == 1


# --- what is not the 3PL's ------------------------------------------------------------------------


def _old() -> datetime.datetime:
    return timezone.now() - datetime.timedelta(minutes=10)


NOT_THE_3PLS = {
    "count sent ten minutes ago": lambda kit, order: kit.harness.count(kit.product.sku, 3, sent_at=_old()),
    "count with another secret": lambda kit, order: kit.harness.forged_count(kit.product.sku, 3),
    "shipment sent ten minutes ago": lambda kit, order: kit.harness.ship(
        order.number, tracking="1ZLATE", sent_at=_old()
    ),
    "shipment with another secret": lambda kit, order: kit.harness.forged(order.number),
}


@pytest.mark.parametrize("delivery", list(NOT_THE_3PLS))
def test_a_stale_or_forged_delivery_is_refused_and_stores_nothing(threepl_kit, delivery):
    kit = threepl_kit
    order = kit.sell()

    response = kit.post(kit.connection, *NOT_THE_3PLS[delivery](kit, order))

    assert response.status_code == 401
    assert not InboundEvent.objects.filter(connection=kit.connection).exists()
    order.refresh_from_db()
    assert order.status == OrderStatus.CONFIRMED
    assert not Shipment.objects.filter(order=order).exists()
    stock = kit.stock()
    assert (stock.on_hand, stock.reserved) == (HUB_STOCK, 1)
    assert _count_moves(kit) == []
