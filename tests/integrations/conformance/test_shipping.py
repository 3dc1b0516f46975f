"""The conformance kit's shipping part: every connector that ships orders for a warehouse (a
shipping tool, a 3PL), against its own fake, with the order sold on a Shopify store.

An order sold anywhere and shipped from the tool's warehouse goes to the tool once, whatever is
lost on the way (an answer, a worker); a hold and a cancellation here follow it there; what the tool
ships comes back as one shipment here (the stock leaves once) and reaches the channel the order was
sold on, never the tool it came from.
"""

from __future__ import annotations

from unittest import mock

import pytest
from django.utils import timezone

from integrations import outbound
from integrations.contract import Capability
from integrations.models import Delivery, DeliveryStatus, InboundEvent, InboundStatus
from inventory import availability
from sales.models import OrderStatus, SalesOrder, Shipment
from sales.services import order_cancel, order_hold, order_release
from tests.integrations.conformance.conftest import HUB_STOCK

PART = frozenset({Capability.ORDERS_OUT, Capability.SHIPMENTS_IN})


class WorkerKilled(BaseException):
    """The worker process dies: nothing after this point of the attempt runs."""


def test_a_confirmed_order_goes_to_the_tool_once_with_its_lines_and_address(shipping_kit):
    kit = shipping_kit

    order = kit.sell(quantity=2)

    assert order.status == OrderStatus.CONFIRMED
    there = kit.harness.order(order.number)
    assert there is not None
    assert (there["status"], there["lines"]) == ("open", {kit.product.sku: 2})
    assert there["city"] == order.shipping_address["city"]
    [delivery] = [d for d in kit.deliveries() if d.topic == "sales.order_confirmed"]
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.SUCCEEDED, 1)
    assert (kit.harness.order_count(), kit.harness.creates(order.number)) == (1, 1)


def test_a_lost_answer_is_retried_and_makes_no_second_order(shipping_kit):
    kit = shipping_kit
    kit.harness.lose_next_answer()

    order = kit.sell()

    [delivery] = [d for d in kit.deliveries() if d.topic == "sales.order_confirmed"]
    assert delivery.status == DeliveryStatus.FAILED  # the tool has it; the hub does not know yet
    Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
    with kit.capture(execute=True):
        outbound.delivery_attempt(delivery.pk)

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.SUCCEEDED, 2)
    assert (kit.harness.order_count(), kit.harness.creates(order.number)) == (1, 2)


def test_a_cancellation_after_a_lost_answer_still_reaches_the_tool(shipping_kit):
    kit = shipping_kit
    kit.harness.lose_next_answer()
    order = kit.sell()  # the tool has it; the hub never learned its id

    with kit.capture(execute=True):
        order_cancel(order=order, reason="customer changed their mind")

    assert (kit.harness.order(order.number) or {}).get("status") == "cancelled"
    assert kit.harness.order_count() == 1


def test_a_worker_killed_after_the_tool_answered_makes_no_second_order(shipping_kit):
    kit = shipping_kit
    with mock.patch.object(outbound, "_finish", side_effect=WorkerKilled), pytest.raises(WorkerKilled):
        kit.sell()
    order = SalesOrder.objects.get()
    assert kit.harness.order(order.number) is not None  # the tool took it; the hub never recorded it
    delivery = Delivery.objects.get(connection=kit.connection, topic="sales.order_confirmed")
    assert delivery.status == DeliveryStatus.PENDING
    assert delivery.claimed_until is not None

    # the dead worker's lease runs out; the periodic sweep picks the delivery up again
    Delivery.objects.filter(pk=delivery.pk).update(claimed_until=timezone.now())
    with kit.capture(execute=True):
        outbound.deliveries_enqueue_due()

    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SUCCEEDED
    assert (kit.harness.order_count(), kit.harness.creates(order.number)) == (1, 2)


def test_a_hold_and_a_cancellation_here_reach_the_tool(shipping_kit):
    kit = shipping_kit
    order = kit.sell()

    with kit.capture(execute=True):
        order_hold(order=order, reason="address check")
    held = kit.harness.order(order.number)
    with kit.capture(execute=True):
        order_release(order=order)
    released = kit.harness.order(order.number)
    with kit.capture(execute=True):
        order_cancel(order=order, reason="customer changed their mind")
    cancelled = kit.harness.order(order.number)

    assert [(held or {}).get("status"), (released or {}).get("status"), (cancelled or {}).get("status")] == [
        "held",
        "open",
        "cancelled",
    ]
    assert kit.harness.order_count() == 1
    outcomes = {d.topic: d.status for d in kit.deliveries()}
    assert {outcomes[t] for t in ("sales.order_held", "sales.order_released", "sales.order_cancelled")} == {
        DeliveryStatus.SUCCEEDED
    }


def test_what_the_tool_ships_is_shipped_here_once_and_reaches_the_channel_it_was_sold_on(shipping_kit):
    kit = shipping_kit
    order = kit.sell(quantity=2)
    before = availability.of(kit.product.pk, kit.warehouse.pk)
    notice = kit.harness.ship(order.number, tracking="1Z999AA10123456784")

    first = kit.post(kit.connection, *notice)
    again = kit.post(kit.connection, *notice)  # the tool sends it twice

    assert (first.status_code, again.status_code) == (200, 200)
    assert again.json()["status"] == "duplicate"
    order.refresh_from_db()
    assert order.status == OrderStatus.SHIPPED
    shipment = Shipment.objects.get(order=order)
    assert shipment.tracking_number == "1Z999AA10123456784"
    after = availability.of(kit.product.pk, kit.warehouse.pk)
    assert (before.on_hand, before.reserved) == (HUB_STOCK, 2)
    assert (after.on_hand, after.reserved) == (HUB_STOCK - 2, 0)  # the stock left once, reserved no more
    # the channel the order was sold on has the fulfilment, with the tracking number
    sold = kit.shop.fake.order(_shop_id(kit, order))
    [fulfilment] = sold["fulfillments"]
    assert fulfilment["tracking_number"] == "1Z999AA10123456784"
    # ... and nothing went back to the tool it came from
    assert not Delivery.objects.filter(connection=kit.connection, topic="sales.shipment_shipped").exists()
    assert kit.harness.order_count() == 1


def test_a_shipment_notice_without_the_tools_secret_is_refused_and_stores_nothing(shipping_kit):
    kit = shipping_kit
    order = kit.sell()

    response = kit.post(kit.connection, *kit.harness.forged(order.number))

    assert response.status_code == 401
    assert not InboundEvent.objects.filter(connection=kit.connection).exists()
    order.refresh_from_db()
    assert order.status == OrderStatus.CONFIRMED


def test_a_shipment_of_an_order_the_tool_did_not_get_from_the_hub_waits_for_a_person(shipping_kit):
    kit = shipping_kit
    order = kit.sell()
    notice = kit.harness.ship(order.number, tracking="1ZLOST")
    kit.connection.refs.filter(object_type="order").delete()  # as if the order never went out

    kit.post(kit.connection, *notice)

    event = InboundEvent.objects.get(connection=kit.connection)
    assert event.status == InboundStatus.QUARANTINED
    assert event.missing["kind"] == "order"
    order.refresh_from_db()
    assert order.status == OrderStatus.CONFIRMED


def _shop_id(kit, order) -> int:
    ref = kit.shop_connection.refs.get(object_type="order", object_id=order.pk)
    return int(ref.external_id)
