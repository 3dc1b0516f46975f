"""ShipBob in the simulated business day: a 3PL keeping BigCommerce's stock in its own warehouse.

BigCommerce's store sells from ShipBob's warehouse here; ShipBob ships its orders (whole, in part,
some without tracking at first) and its stock moves on its own (broken units, cycle counts, the
merchant's own deliveries). The day ends with every shipment recorded here and told to BigCommerce,
and ShipBob's stock the hub's at that warehouse; the day sees it when the hub counts it wrong."""

from __future__ import annotations

import pytest

from erp.money import ZERO
from integrations.appliers import levels
from integrations.models import Connection, FulfilmentRule
from integrations.shipbob.day import Shipper
from integrations.simulate import Faults, simulate_day
from integrations.simulate.shippers import available
from inventory.models import StockMove
from sales.models import Shipment

pytestmark = pytest.mark.django_db(transaction=True)  # tasks run as each request commits


def test_the_day_finds_shipbobs_part():
    assert available()["shipbob"] is Shipper


def test_a_day_with_shipbob_keeping_bigcommerces_stock_ends_without_drift():
    report = simulate_day(
        orders=25, seed=7, faults=Faults.named("default"), tools=("shopify", "bigcommerce", "shipbob")
    )

    assert report.problems == [], report.to_json()
    rule = FulfilmentRule.objects.select_related("channel", "connection", "warehouse").get()
    assert rule.connection.connector == "shipbob"
    assert rule.channel.code.startswith("sim-bigcommerce-")
    # BigCommerce's store sells from ShipBob's warehouse, whose stock ShipBob's counts set
    assert rule.channel.warehouse_id == rule.warehouse_id
    store = Connection.objects.get(connector="bigcommerce")
    assert store.warehouse_id == rule.warehouse_id
    assert StockMove.objects.filter(reason=f"Counted by {rule.connection.name}").exists()
    shipped = report.actions.get("shipped_there", 0)
    assert shipped > 0
    assert Shipment.objects.filter(order__channel=rule.channel).count() >= shipped
    assert not Shipment.objects.filter(order__channel=rule.channel, tracking_number="").exists()


def test_a_count_that_takes_shipped_units_twice_is_drift(monkeypatch):
    # the hub forgets what it still holds for ShipBob's orders: each count takes the units of the
    # orders waiting there (and of those shipped before the hub heard of it) a second time
    monkeypatch.setattr(levels, "reserved_for_tool", lambda connection, product_id, warehouse_id: ZERO)

    report = simulate_day(orders=15, seed=7, faults=Faults.named("none"), tools=("bigcommerce", "shipbob"))

    assert not report.ok
    assert report.drifts.get("shipbob stock on_hand_available", 0) > 0


def test_an_order_whose_push_to_shipbob_waits_for_a_worker_is_in_the_warehouses_hands():
    """The day's merchant leaves an order alone from the moment a push of it to the 3PL is queued,
    not only once a worker has claimed it: with busy workers a push waits for seconds, and an edit
    made in the channel meanwhile raced ShipBob (a CI day under load: ShipBob shipped the order as
    it was, the hub refused its shipment of lines the merchant had changed)."""
    from erp.models import OutboxEvent
    from integrations.models import Delivery, DeliveryStatus
    from integrations.simulate.day import Day
    from integrations.simulate.runner import run_embedded
    from sales.models import SalesOrder

    day = Day(orders=4, seed=7, faults=Faults(), tools=("bigcommerce", "shipbob"))
    report = run_embedded(day)
    assert report.problems == [], report.to_json()
    store = day.tools["bigcommerce"]
    order = SalesOrder.objects.filter(channel__code__startswith="sim-bigcommerce-").order_by("pk").first()
    assert order is not None
    assert not store.handing(order.pk)
    event = OutboxEvent.objects.filter(aggregate_type="sales.salesorder", aggregate_id=str(order.pk)).first()
    assert event is not None

    # a push of it to ShipBob, queued and not yet claimed by a worker
    waiting = Delivery.objects.create(
        event=event, connection=Connection.objects.get(connector="shipbob"), topic=event.topic
    )
    assert waiting.status == DeliveryStatus.PENDING
    assert waiting.claimed_until is None
    assert store.handing(order.pk)

    # once it has been pushed (or skipped: the order is not ShipBob's), it no longer counts
    Delivery.objects.filter(pk=waiting.pk).update(status=DeliveryStatus.SUCCEEDED)
    assert not store.handing(order.pk)
