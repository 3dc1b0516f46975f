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
