"""ShipStation in the simulated business day: Shopify's orders routed to it, BigCommerce's shipped
here; its staff ship whole, in part, and relabel a misprint; the day ends with every label a
shipment here with its tracking, told to Shopify. And the day sees it when the hub drops labels."""

from __future__ import annotations

import pytest

from integrations.appliers import shipments as shipment_applier
from integrations.models import FulfilmentRule
from integrations.shipstation.day import Shipper
from integrations.simulate import Faults, simulate_day
from integrations.simulate.shippers import available
from sales.models import SalesOrder, Shipment

pytestmark = pytest.mark.django_db(transaction=True)  # tasks run as each request commits


def test_the_day_finds_shipstations_part():
    assert available()["shipstation"] is Shipper


def test_a_day_with_shipstation_shipping_shopifys_orders_ends_without_drift():
    report = simulate_day(
        orders=25, seed=11, faults=Faults.named("default"), tools=("shopify", "bigcommerce", "shipstation")
    )

    assert report.problems == [], report.to_json()
    rule = FulfilmentRule.objects.select_related("channel", "connection").get()
    assert rule.channel.code.startswith("sim-shopify-")
    assert rule.connection.connector == "shipstation"
    shipped_there = report.actions.get("shipped_there", 0) + report.actions.get("relabelled_there", 0)
    assert shipped_there > 0
    by_shipstation = Shipment.objects.filter(order__channel=rule.channel)
    assert by_shipstation.count() >= shipped_there
    assert all(s.tracking_number.startswith("9400SIM") for s in by_shipstation)
    # ShipStation shipped none of the other channel's orders (the warehouse here, or its merchant in
    # the channel's own admin, shipped those)
    here = Shipment.objects.exclude(order__channel=rule.channel)
    assert not any(s.tracking_number.startswith("9400SIM") for s in here)
    assert SalesOrder.objects.filter(channel=rule.channel).exists()


def test_labels_the_hub_never_records_are_reported_as_drift(monkeypatch):
    monkeypatch.setattr(
        shipment_applier, "_record", lambda connection, order, external_id, shipments: (0, ["lost"])
    )

    report = simulate_day(orders=25, seed=11, faults=Faults.named("none"), tools=("shopify", "shipstation"))

    assert not report.ok
    assert report.drifts.get("shipstation shipment missing_here", 0) > 0
