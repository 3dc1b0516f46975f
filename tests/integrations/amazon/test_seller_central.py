"""Merchant-fulfilled orders shipped by hand in Seller Central are read back, through the whole hub
against the fake SP-API: Amazon shows them Shipped (or PartiallyShipped) with the units shipped and
no tracking; the hub records a shipment of what is still open here, which issues our stock. What we
shipped and confirmed ourselves is never recorded a second time, and FBA orders stay Amazon's."""

from __future__ import annotations

import datetime

import pytest

from integrations.amazon.fake import FakeAmazon
from integrations.fakes.clock import SimClock
from integrations.models import Connection, DeliveryStatus, ExternalRef, SyncRun
from sales.models import OrderStatus, SalesOrder, Shipment
from sales.services import ShipLine, shipment_create
from tests.integrations.amazon.hub_support import available, deliver, on_hand, poll

pytestmark = pytest.mark.django_db


def imported(fake: FakeAmazon, clock: SimClock, amazon: Connection, capture, lines, **options) -> SalesOrder:
    placed = fake.place_order(lines, pending=False, **options)
    clock.tick(datetime.timedelta(minutes=3))  # Amazon shows a change two minutes after it
    poll(amazon, capture)
    return SalesOrder.objects.get(external_reference=placed["AmazonOrderId"])


def read_again(amazon: Connection, capture, clock: SimClock) -> SyncRun:
    clock.tick(datetime.timedelta(minutes=3))
    run = poll(amazon, capture)
    assert run.status != "failed", run.errors
    return run


def warnings(run: SyncRun) -> list[str]:
    return [e["message"] for e in run.errors if isinstance(e, dict)]


def test_an_order_shipped_by_hand_in_seller_central_is_recorded_here_and_issues_our_stock(
    amazon, fake, store, clock, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    order = imported(fake, clock, amazon, capture, [("TENT-2P-GRN", 2), ("STOVE-TI-01", 1)])
    assert order.status == OrderStatus.CONFIRMED
    assert (on_hand(store, "TENT-2P-GRN"), available(store, "TENT-2P-GRN")) == (10, 8)

    fake.ship_in_seller_central(order.external_reference, tracking="9400TRACK", carrier="USPS")
    run = read_again(amazon, capture, clock)

    order.refresh_from_db()
    assert order.status in (OrderStatus.SHIPPED, OrderStatus.CLOSED)
    shipment = order.shipments.get()
    assert shipment.service.startswith("Shipped in Seller Central")
    assert (shipment.carrier, shipment.tracking_number) == ("", "")  # the Orders API gives neither
    assert sorted((ln.order_line.product.sku, ln.quantity) for ln in shipment.lines.all()) == [
        ("STOVE-TI-01", 1),
        ("TENT-2P-GRN", 2),
    ]
    # shipped from our warehouse: the stock left, through the order's reservations
    assert (on_hand(store, "TENT-2P-GRN"), available(store, "TENT-2P-GRN")) == (8, 8)
    assert (on_hand(store, "STOVE-TI-01"), available(store, "STOVE-TI-01")) == (9, 9)
    assert not warnings(run)
    ref = ExternalRef.objects.get(connection=amazon, object_type="fulfilment")
    assert (ref.external_id, ref.object_id) == (f"{order.external_reference}-mfn-3", shipment.pk)

    deliveries = deliver(amazon, capture, clock)  # nothing of it goes back to Amazon: it knows
    assert not [
        d for d in deliveries if d.topic.startswith("sales.shipment") and d.status != DeliveryStatus.SKIPPED
    ]
    assert fake.requests_to("confirmShipment") == []
    read_again(amazon, capture, clock)
    assert order.shipments.count() == 1


def test_items_shipped_by_hand_come_back_item_by_item_once_each_is_shipped_in_full(
    amazon, fake, store, clock, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    order = imported(fake, clock, amazon, capture, [("TENT-2P-ORG", 3), ("SLBAG-20F-REG", 1)])

    fake.ship_in_seller_central(order.external_reference, lines={"SLBAG-20F-REG": 1, "TENT-2P-ORG": 1})
    read_again(amazon, capture, clock)
    order.refresh_from_db()
    assert fake.order(order.external_reference)["OrderStatus"] == "PartiallyShipped"
    assert order.status == OrderStatus.PARTIALLY_SHIPPED
    [first] = order.shipments.all()
    # the sleeping bag, shipped in full; the tents wait until all three are
    assert [(ln.order_line.product.sku, ln.quantity) for ln in first.lines.all()] == [("SLBAG-20F-REG", 1)]
    assert on_hand(store, "SLBAG-20F-REG") == 9

    fake.ship_in_seller_central(order.external_reference)
    read_again(amazon, capture, clock)

    order.refresh_from_db()
    assert order.status in (OrderStatus.SHIPPED, OrderStatus.CLOSED)
    second = order.shipments.order_by("pk").last()
    assert second is not None
    assert [(ln.order_line.product.sku, ln.quantity) for ln in second.lines.all()] == [("TENT-2P-ORG", 3)]
    assert (on_hand(store, "TENT-2P-ORG"), available(store, "TENT-2P-ORG")) == (7, 7)


def test_an_order_shipped_by_hand_before_the_hub_first_read_it_is_imported_shipped(
    amazon, fake, store, clock, django_capture_on_commit_callbacks
):
    placed = fake.place_order([("SLBAG-20F-REG", 2)], pending=False)
    fake.ship_in_seller_central(placed["AmazonOrderId"])
    clock.tick(datetime.timedelta(minutes=3))

    run = poll(amazon, django_capture_on_commit_callbacks)

    assert run.created == 1, run.errors
    order = SalesOrder.objects.get(external_reference=placed["AmazonOrderId"])
    assert order.status in (OrderStatus.SHIPPED, OrderStatus.CLOSED)
    assert order.shipments.get().service.startswith("Shipped in Seller Central")
    assert (on_hand(store, "SLBAG-20F-REG"), available(store, "SLBAG-20F-REG")) == (8, 8)


def test_what_we_shipped_and_confirmed_is_not_recorded_again_when_amazon_shows_it_shipped(
    amazon, fake, store, clock, django_capture_on_commit_callbacks
):
    """Never double-ship: our confirmation is linked under the id Amazon's count reaches with it,
    so the order's next read (PartiallyShipped, then Shipped) finds nothing new. A part shipped by
    hand in between is recorded, and only that part."""
    capture = django_capture_on_commit_callbacks
    order = imported(fake, clock, amazon, capture, [("TENT-2P-GRN", 2), ("STOVE-TI-01", 2)])
    tent, stove = order.lines.get(product__sku="TENT-2P-GRN"), order.lines.get(product__sku="STOVE-TI-01")

    with capture(execute=True):
        shipment_create(order=order, lines=[ShipLine(tent, 1)], carrier="UPS", tracking_number="1ZOURS1")
    deliver(amazon, capture, clock)
    assert fake.order(order.external_reference)["OrderStatus"] == "PartiallyShipped"
    run = read_again(amazon, capture, clock)
    assert order.shipments.count() == 1  # Amazon's one unit shipped is ours
    assert not warnings(run)

    fake.ship_in_seller_central(order.external_reference, lines={"STOVE-TI-01": 2})  # by hand
    read_again(amazon, capture, clock)
    assert order.shipments.count() == 2
    by_hand = order.shipments.order_by("pk").last()
    assert by_hand is not None
    assert by_hand.service.startswith("Shipped in Seller Central")
    assert [(ln.order_line_id, ln.quantity) for ln in by_hand.lines.all()] == [(stove.pk, 2)]

    with capture(execute=True):
        shipment_create(order=order, lines=[ShipLine(tent, 1)], carrier="UPS", tracking_number="1ZOURS2")
    deliveries = deliver(amazon, capture, clock)
    assert fake.order(order.external_reference)["OrderStatus"] == "Shipped"
    run = read_again(amazon, capture, clock)

    order.refresh_from_db()
    assert order.status in (OrderStatus.SHIPPED, OrderStatus.CLOSED)
    assert order.shipments.count() == 3
    assert not warnings(run)
    confirmed = [
        d for d in deliveries if d.topic == "sales.shipment_shipped" and d.status == DeliveryStatus.SUCCEEDED
    ]
    assert len(confirmed) == 2  # ours, each once; the one shipped by hand is not sent back
    assert len([r for r in fake.requests_to("confirmShipment") if r.status == 204]) == 2
    assert (on_hand(store, "TENT-2P-GRN"), on_hand(store, "STOVE-TI-01")) == (8, 8)
    assert Shipment.objects.filter(order=order).count() == 3


def test_an_fba_order_amazon_ships_is_not_taken_for_a_seller_central_shipment(
    amazon, fake, store, clock, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    order = imported(fake, clock, amazon, capture, [("MUG-ENAMEL-FBA", 2)], fulfillment_channel="AFN")

    fake.ship_fba(order.external_reference)
    read_again(amazon, capture, clock)

    shipment = order.shipments.get()
    assert shipment.carrier == "Amazon"
    assert not shipment.service.startswith("Shipped in Seller Central")
    assert on_hand(store, "MUG-ENAMEL-FBA") == 0  # Amazon's stock, not ours
    assert available(store, "TENT-2P-GRN") == 10


def test_a_confirmation_whose_answer_was_lost_is_known_for_ours_after_its_retry(
    amazon, fake, store, clock, django_capture_on_commit_callbacks
):
    """Amazon applied the confirmation but the answer never came: the retry's 400 finds the units
    shipped there, and the confirmation is linked under the id the order's read shows them with."""
    capture = django_capture_on_commit_callbacks
    order = imported(fake, clock, amazon, capture, [("TENT-2P-GRN", 2)])
    fake.timeout_next(match="confirmShipment", processed=True)

    with capture(execute=True):
        shipment_create(
            order=order, lines=[ShipLine(order.lines.get(), 2)], carrier="UPS", tracking_number="1Z1"
        )
    deliver(amazon, capture, clock)  # lost: retried later
    assert fake.order(order.external_reference)["OrderStatus"] == "Shipped"
    deliveries = deliver(amazon, capture, clock)
    run = read_again(amazon, capture, clock)

    shipped = [d for d in deliveries if d.topic == "sales.shipment_shipped"]
    assert [(d.status, d.last_error) for d in shipped] == [(DeliveryStatus.SUCCEEDED, "")]
    assert ExternalRef.objects.get(connection=amazon, object_type="fulfilment").external_id == (
        f"{order.external_reference}-mfn-2"
    )
    assert order.shipments.count() == 1
    assert not warnings(run)
    assert on_hand(store, "TENT-2P-GRN") == 8
