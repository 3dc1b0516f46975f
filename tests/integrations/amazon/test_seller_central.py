"""Merchant-fulfilled orders shipped by hand in Seller Central are read back, through the whole hub
against the fake SP-API: Amazon shows them Shipped (or PartiallyShipped) with each item's units
shipped so far and no tracking (a cumulative record, ``mapping.mfn_shipment``); the hub records what
Amazon shows beyond what is shipped here, which issues our stock, item by item and unit by unit as
they ship. What we shipped and confirmed ourselves is never recorded a second time, whichever order
our confirmations, the merchant's shipments by hand and the hub's reads come in, and FBA orders stay
Amazon's."""

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


def test_items_shipped_by_hand_in_part_come_back_as_they_ship(
    amazon, fake, store, clock, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    order = imported(fake, clock, amazon, capture, [("TENT-2P-ORG", 3), ("SLBAG-20F-REG", 1)])

    fake.ship_in_seller_central(order.external_reference, lines={"SLBAG-20F-REG": 1, "TENT-2P-ORG": 1})
    run = read_again(amazon, capture, clock)
    order.refresh_from_db()
    assert fake.order(order.external_reference)["OrderStatus"] == "PartiallyShipped"
    assert order.status == OrderStatus.PARTIALLY_SHIPPED
    [first] = order.shipments.all()
    # the sleeping bag and one tent of three: what Amazon shows shipped, as it shows it
    assert sorted((ln.order_line.product.sku, ln.quantity) for ln in first.lines.all()) == [
        ("SLBAG-20F-REG", 1),
        ("TENT-2P-ORG", 1),
    ]
    assert (on_hand(store, "SLBAG-20F-REG"), on_hand(store, "TENT-2P-ORG")) == (9, 9)
    assert not warnings(run)

    fake.ship_in_seller_central(order.external_reference)
    read_again(amazon, capture, clock)

    order.refresh_from_db()
    assert order.status in (OrderStatus.SHIPPED, OrderStatus.CLOSED)
    second = order.shipments.order_by("pk").last()
    assert second is not None
    assert [(ln.order_line.product.sku, ln.quantity) for ln in second.lines.all()] == [("TENT-2P-ORG", 2)]
    assert (on_hand(store, "TENT-2P-ORG"), available(store, "TENT-2P-ORG")) == (7, 7)
    refs = ExternalRef.objects.filter(connection=amazon, object_type="fulfilment").order_by("pk")
    assert [r.external_id for r in refs] == [
        f"{order.external_reference}-mfn-2",
        f"{order.external_reference}-mfn-4",
    ]


def test_a_line_of_three_we_ship_one_of_and_the_merchant_the_rest_by_hand_ships_each_unit_once(
    amazon, fake, store, clock, django_capture_on_commit_callbacks
):
    """We ship 1 here and confirm it; the merchant ships 1 by hand: Amazon shows 2 shipped, and the
    next read records exactly 1 more (not 2: one of Amazon's two is ours). The merchant ships the last
    one: the next read records exactly 1 more."""
    capture = django_capture_on_commit_callbacks
    order = imported(fake, clock, amazon, capture, [("TENT-2P-GRN", 3)])
    tent = order.lines.get()

    with capture(execute=True):
        shipment_create(order=order, lines=[ShipLine(tent, 1)], carrier="UPS", tracking_number="1ZOURS1")
    deliver(amazon, capture, clock)
    assert [r.status for r in fake.requests_to("confirmShipment")] == [204]
    run = read_again(amazon, capture, clock)
    assert order.shipments.count() == 1  # Amazon's one unit shipped is ours
    assert not warnings(run)

    fake.ship_in_seller_central(order.external_reference, lines={"TENT-2P-GRN": 1})
    run = read_again(amazon, capture, clock)

    tent.refresh_from_db()
    assert tent.quantity_shipped == 2
    by_hand = order.shipments.order_by("pk").last()
    assert by_hand is not None
    assert by_hand.service.startswith("Shipped in Seller Central")
    assert [ln.quantity for ln in by_hand.lines.all()] == [1]
    assert on_hand(store, "TENT-2P-GRN") == 8
    assert not warnings(run)

    fake.ship_in_seller_central(order.external_reference, lines={"TENT-2P-GRN": 1})
    run = read_again(amazon, capture, clock)

    tent.refresh_from_db()
    order.refresh_from_db()
    assert tent.quantity_shipped == 3
    assert order.shipments.count() == 3
    last = order.shipments.order_by("pk").last()
    assert last is not None
    assert [ln.quantity for ln in last.lines.all()] == [1]
    assert order.status in (OrderStatus.SHIPPED, OrderStatus.CLOSED)
    assert (on_hand(store, "TENT-2P-GRN"), available(store, "TENT-2P-GRN")) == (7, 7)
    assert not warnings(run)
    deliveries = deliver(amazon, capture, clock)  # the two by hand are not sent back to Amazon
    assert [
        d.status
        for d in deliveries
        if d.topic == "sales.shipment_shipped" and d.status != DeliveryStatus.SKIPPED
    ] == [DeliveryStatus.SUCCEEDED]
    assert len(fake.requests_to("confirmShipment")) == 1


def test_a_unit_shipped_by_hand_before_our_confirmation_is_recorded_when_amazon_shows_both(
    amazon, fake, store, clock, django_capture_on_commit_callbacks
):
    """The merchant ships 1 of 3 by hand, and we ship and confirm 1 before the hub reads the order
    again: Amazon's next count (2) holds both, and the hub records the merchant's one. Our
    confirmation is not linked under that count's id, which would hide it."""
    capture = django_capture_on_commit_callbacks
    order = imported(fake, clock, amazon, capture, [("TENT-2P-GRN", 3)])
    tent = order.lines.get()

    fake.ship_in_seller_central(order.external_reference, lines={"TENT-2P-GRN": 1})
    with capture(execute=True):
        shipment_create(order=order, lines=[ShipLine(tent, 1)], carrier="UPS", tracking_number="1ZOURS1")
    deliver(amazon, capture, clock)
    run = read_again(amazon, capture, clock)

    tent.refresh_from_db()
    assert tent.quantity_shipped == 2
    assert order.shipments.count() == 2
    assert on_hand(store, "TENT-2P-GRN") == 8
    assert not warnings(run)


def test_a_count_read_before_our_confirmation_reached_amazon_records_the_rest_once_it_has(
    amazon, fake, store, clock, django_capture_on_commit_callbacks
):
    """We ship 1 of 3 here; before its confirmation reaches Amazon the merchant ships 1 by hand.
    The read in between sees 1 shipped (the merchant's, or ours: it cannot tell) and records
    nothing; once our confirmation is in, Amazon shows 2 and the hub records the merchant's one."""
    capture = django_capture_on_commit_callbacks
    order = imported(fake, clock, amazon, capture, [("TENT-2P-GRN", 3)])
    tent = order.lines.get()

    fake.fail_next(1, status=503, match="confirmShipment")  # ours waits for its retry
    with capture(execute=True):
        shipment_create(order=order, lines=[ShipLine(tent, 1)], carrier="UPS", tracking_number="1ZOURS1")
    fake.ship_in_seller_central(order.external_reference, lines={"TENT-2P-GRN": 1})
    run = read_again(amazon, capture, clock)
    assert [r.status for r in fake.requests_to("confirmShipment")] == [503]
    assert order.shipments.count() == 1
    assert not warnings(run)

    deliver(amazon, capture, clock)
    assert [r.status for r in fake.requests_to("confirmShipment")] == [503, 204]
    run = read_again(amazon, capture, clock)

    tent.refresh_from_db()
    assert tent.quantity_shipped == 2
    assert order.shipments.count() == 2
    assert on_hand(store, "TENT-2P-GRN") == 8
    assert not warnings(run)


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
    """Never double-ship: Amazon's count of what we confirmed is no more than what is shipped here,
    so the order's next read (PartiallyShipped, then Shipped) records nothing and says nothing. A
    part shipped by hand in between is recorded, and only that part."""
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
    shipped there, the delivery succeeds, and the order's next read (Amazon's count of our two)
    records nothing."""
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
    ours = order.shipments.get()
    ref = ExternalRef.objects.get(connection=amazon, object_type="fulfilment")
    assert (ref.external_id, ref.object_id) == (f"{order.external_reference}/{ours.number}", ours.pk)
    assert len(fake.requests_to("confirmShipment")) == 2  # the lost one, and its retry
    assert not warnings(run)
    assert on_hand(store, "TENT-2P-GRN") == 8


def test_the_package_reference_is_a_positive_number_and_a_retry_is_that_package_again(
    amazon, fake, store, clock, django_capture_on_commit_callbacks
):
    """confirmShipment takes "only positive numeric values" as packageReferenceId (Amazon refuses
    "SH-00011" with 400 InvalidInput): we send our shipment number's digits. A part of a line
    confirmed, its answer lost and sent again is the same package: Amazon ships it once."""
    import json

    capture = django_capture_on_commit_callbacks
    order = imported(fake, clock, amazon, capture, [("TENT-2P-GRN", 3)])
    fake.timeout_next(match="confirmShipment", processed=True)

    with capture(execute=True):
        shipment_create(
            order=order, lines=[ShipLine(order.lines.get(), 1)], carrier="UPS", tracking_number="1Z1"
        )
    deliver(amazon, capture, clock)  # lost: retried later
    deliveries = deliver(amazon, capture, clock)

    ours = order.shipments.get()
    sent = [
        json.loads(r.body)["packageDetail"]["packageReferenceId"] for r in fake.requests_to("confirmShipment")
    ]
    assert sent == [ours.number.split("-")[-1].lstrip("0")] * 2  # e.g. "SH-00011" -> "11", both tries
    shipped = [d for d in deliveries if d.topic == "sales.shipment_shipped"]
    assert [d.status for d in shipped] == [DeliveryStatus.SUCCEEDED]
    assert [i["QuantityShipped"] for i in fake.order_items(order.external_reference)] == [1]  # not 2
    run = read_again(amazon, capture, clock)
    assert not warnings(run)
    assert order.shipments.count() == 1


@pytest.mark.parametrize("reference", ["SH-00011", "0", "-3", "1.5"])
def test_the_fake_refuses_a_package_reference_that_is_not_a_positive_number(fake, reference):
    from integrations.amazon.fake_data import MARKETPLACE_ID, Problem

    order_id = fake.place_order([("TENT-2P-GRN", 1)], pending=False)["AmazonOrderId"]
    body = {
        "marketplaceId": MARKETPLACE_ID,
        "packageDetail": {
            "packageReferenceId": reference,
            "carrierCode": "UPS",
            "trackingNumber": "1Z1",
            "shipDate": "2026-12-06T10:00:00Z",
            "orderItems": [{"orderItemId": fake.order_items(order_id)[0]["OrderItemId"], "quantity": 1}],
        },
    }
    with pytest.raises(Problem) as refused:
        fake.confirm_shipment(order_id, body)
    assert refused.value.status == 400
    assert "must be a positive numeric value" in str(refused.value.body)
    assert fake.order_items(order_id)[0]["QuantityShipped"] == 0
