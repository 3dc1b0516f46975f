"""Orders shipped in Shopify's own admin: the shipment is recorded here, once, with its tracking.

Hub v2's first "done when": the sample order, played as created and then "fulfilled in Shopify
with tracking" (an orders/updated delivery carrying the fulfilment), ends as one shipped order
here with the tracking number, nothing reserved, and the stock issued once; the shipment is not
pushed back to Shopify, and a shipment the hub pushed there is not recorded twice when Shopify
reports it back.
"""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from integrations.models import ExternalRef, InboundEvent, InboundStatus
from integrations.shopify.fake import sample_webhook
from inventory.models import MoveKind, Reservation, ReservationStatus, StockMove
from sales.models import OrderStatus, SalesOrder, Shipment
from sales.services import shipment_create
from tests.integrations.shopify.scenario import (
    deliver,
    fulfilment,
    on_hand,
    shopify_connection,
    stocked_store,
    updated,
)


@pytest.fixture
def store(db):
    return stocked_store()


@pytest.fixture
def connection(store, shop):
    return shopify_connection(store)


def test_an_order_fulfilled_in_shopify_is_shipped_here_once_with_its_tracking(
    client, connection, shop, django_capture_on_commit_callbacks
):
    # given: the sample order came in and holds its stock
    capture = django_capture_on_commit_callbacks
    deliver(client, connection, sample_webhook(), capture)
    order = SalesOrder.objects.get()
    assert order.status == OrderStatus.CONFIRMED
    assert Reservation.objects.filter(status=ReservationStatus.ACTIVE).count() == 3

    # when: the merchant fulfils it in Shopify's admin with a UPS tracking number
    body = updated(fulfilment(4001, {"TENT-2P-GRN": 1, "SLBAG-20F-REG": 2, "STOVE-TI-01": 1}))
    deliver(client, connection, shop.webhook("orders/updated", body), capture)

    # then: one shipment with the tracking, the order shipped, nothing reserved, stock issued once
    order.refresh_from_db()
    shipment = Shipment.objects.get()
    assert order.status == OrderStatus.SHIPPED
    assert (shipment.carrier, shipment.tracking_number) == ("UPS", "1Z999AA10123456784")
    assert sorted(shipment.lines.values_list("order_line__product__sku", "quantity")) == [
        ("SLBAG-20F-REG", D(2)),
        ("STOVE-TI-01", D(1)),
        ("TENT-2P-GRN", D(1)),
    ]
    assert not Reservation.objects.filter(status=ReservationStatus.ACTIVE).exists()
    assert (on_hand("TENT-2P-GRN"), on_hand("SLBAG-20F-REG"), on_hand("STOVE-TI-01")) == (D(9), D(8), D(9))
    assert StockMove.objects.filter(kind=MoveKind.ISSUE).count() == 3
    ref = ExternalRef.objects.get(connection=connection, object_type="fulfilment")
    assert (ref.external_id, ref.object_id, ref.extra["tracking_url"]) == (
        "4001",
        shipment.pk,
        "https://www.ups.com/track?tracknum=1Z999AA10123456784",
    )
    event = InboundEvent.objects.get(topic="orders/updated")
    assert event.status == InboundStatus.PROCESSED
    assert event.result["items"][0]["reason"] == "1 shipment(s) recorded from the tool"
    # and it is not echoed back to Shopify as a fulfilment of its own
    assert shop.requests_to("fulfillments.json", "POST") == []

    # when: Shopify delivers the update again (a retry, a new delivery id) and a later one
    deliver(client, connection, shop.webhook("orders/updated", body), capture)
    later = updated(fulfilment(4001, {"TENT-2P-GRN": 1, "SLBAG-20F-REG": 2, "STOVE-TI-01": 1}), minute=5)
    later["note"] = "Left at the door"
    deliver(client, connection, shop.webhook("orders/updated", later), capture)

    # then: still one shipment, stock issued once
    assert Shipment.objects.count() == 1
    assert StockMove.objects.filter(kind=MoveKind.ISSUE).count() == 3
    assert on_hand("SLBAG-20F-REG") == D(8)


def test_partial_fulfilments_ship_line_by_line(client, connection, shop, django_capture_on_commit_callbacks):
    capture = django_capture_on_commit_callbacks
    deliver(client, connection, sample_webhook(), capture)
    first = fulfilment(4001, {"TENT-2P-GRN": 1, "SLBAG-20F-REG": 1}, tracking="1ZFIRST")

    deliver(client, connection, shop.webhook("orders/updated", updated(first)), capture)

    order = SalesOrder.objects.get()
    assert order.status == OrderStatus.PARTIALLY_SHIPPED
    held = dict(
        Reservation.objects.filter(status=ReservationStatus.ACTIVE).values_list("product__sku", "quantity")
    )
    assert held == {"SLBAG-20F-REG": D(1), "STOVE-TI-01": D(1)}

    second = fulfilment(4002, {"SLBAG-20F-REG": 1, "STOVE-TI-01": 1}, tracking="1ZSECOND")
    deliver(client, connection, shop.webhook("orders/updated", updated(first, second, minute=2)), capture)

    order.refresh_from_db()
    assert order.status == OrderStatus.SHIPPED
    assert sorted(Shipment.objects.values_list("tracking_number", flat=True)) == ["1ZFIRST", "1ZSECOND"]
    assert not Reservation.objects.filter(status=ReservationStatus.ACTIVE).exists()


def test_an_update_that_arrives_before_its_create_creates_the_order_already_shipped(
    client, connection, shop, django_capture_on_commit_callbacks
):
    body = updated(fulfilment(4001, {"TENT-2P-GRN": 1, "SLBAG-20F-REG": 2, "STOVE-TI-01": 1}))

    deliver(client, connection, shop.webhook("orders/updated", body), django_capture_on_commit_callbacks)

    order = SalesOrder.objects.get()
    assert order.status == OrderStatus.SHIPPED
    assert Shipment.objects.get().tracking_number == "1Z999AA10123456784"
    assert not Reservation.objects.filter(status=ReservationStatus.ACTIVE).exists()
    assert on_hand("SLBAG-20F-REG") == D(8)

    # the orders/create delivered late changes nothing
    deliver(client, connection, sample_webhook(), django_capture_on_commit_callbacks)
    assert (SalesOrder.objects.count(), Shipment.objects.count()) == (1, 1)


def test_a_shipment_made_here_and_reported_back_by_shopify_is_not_recorded_twice(
    client, connection, shop, django_capture_on_commit_callbacks
):
    # given: the order shipped here, and the hub pushed the fulfilment to Shopify
    capture = django_capture_on_commit_callbacks
    deliver(client, connection, sample_webhook(), capture)
    with capture(execute=True):
        ours = shipment_create(order=SalesOrder.objects.get(), carrier="UPS", tracking_number="1ZHERE")
    pushed = ExternalRef.objects.get(connection=connection, object_type="fulfilment")
    assert pushed.object_id == ours.pk

    # when: Shopify reports the order back with that fulfilment on it
    echoed = fulfilment(int(pushed.external_id), {"TENT-2P-GRN": 1, "SLBAG-20F-REG": 2, "STOVE-TI-01": 1})
    deliver(client, connection, shop.webhook("orders/updated", updated(echoed)), capture)

    # then
    assert Shipment.objects.count() == 1
    assert StockMove.objects.filter(kind=MoveKind.ISSUE).count() == 3


def test_stock_shipped_in_shopify_but_not_reserved_here_is_reserved_then_issued(
    client, connection, shop, store, django_capture_on_commit_callbacks
):
    # given: the order came in while the stoves were all held for another order (backordered)
    capture = django_capture_on_commit_callbacks
    stove = store["products"]["STOVE-TI-01"]
    from inventory.services import Demand, stock_reserve

    other = stock_reserve(product=stove, warehouse=store["warehouse"], quantity="10", demand=Demand("x.y", 1))
    deliver(client, connection, sample_webhook(), capture)
    assert not Reservation.objects.filter(product=stove, demand_type="sales.orderline").exists()
    from inventory.services import reservation_release

    reservation_release(reservation=other[0], quantity="1")  # one stove is free again

    # when: Shopify shipped everything
    body = updated(fulfilment(4001, {"TENT-2P-GRN": 1, "SLBAG-20F-REG": 2, "STOVE-TI-01": 1}))
    deliver(client, connection, shop.webhook("orders/updated", body), capture)

    # then: the stove was reserved for the line and issued
    assert SalesOrder.objects.get().status == OrderStatus.SHIPPED
    assert on_hand("STOVE-TI-01") == D(9)


def test_a_shipment_of_stock_the_warehouse_does_not_have_fails_visibly_and_changes_nothing(
    client, connection, shop, store, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    stove = store["products"]["STOVE-TI-01"]
    from inventory.services import Demand, stock_reserve

    stock_reserve(product=stove, warehouse=store["warehouse"], quantity="10", demand=Demand("x.y", 1))
    deliver(client, connection, sample_webhook(), capture)

    body = updated(fulfilment(4001, {"TENT-2P-GRN": 1, "SLBAG-20F-REG": 2, "STOVE-TI-01": 1}))
    deliver(client, connection, shop.webhook("orders/updated", body), capture)

    event = InboundEvent.objects.get(topic="orders/updated")
    assert event.status == InboundStatus.FAILED  # retried: the stock may be counted in later
    assert "Not enough STOVE-TI-01 at warehouse WH1" in event.last_error, event.last_error
    assert not Shipment.objects.exists()
    assert SalesOrder.objects.get().status == OrderStatus.CONFIRMED
