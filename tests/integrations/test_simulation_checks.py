"""The simulated day's own checks: the oracle (a tool's snapshot against our database) finds each
kind of drift, and the consistency watcher times agreement and keeps what never agrees."""

from __future__ import annotations

import copy
import datetime

import pytest

from integrations.simulate import Faults
from integrations.simulate.consistency import Change, Watcher, percentile
from integrations.simulate.day import Day
from integrations.simulate.oracle import order_differences, stock_differences
from integrations.simulate.runner import run_embedded

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def day():
    day = Day(orders=6, seed=4, faults=Faults())
    report = run_embedded(day)
    assert report.ok, report.to_json()
    return day


def kinds(found):
    return sorted(d.kind for differences in found.values() for d in differences)


def test_the_oracle_agrees_after_a_clean_day_and_sees_every_kind_of_order_drift(day):
    tool = day.tools["shopify"]
    # the orders placed during the day (the shop's seed order is older than the hub's first look back)
    orders = {k: v for k, v in tool.snapshot()["orders"].items() if k in tool.placed_orders()}
    assert len(orders) == 6
    assert kinds(order_differences("shopify", tool.connection, orders)) == []

    open_id = next(k for k, o in orders.items() if not o["cancelled"] and not o["refunds"])
    order = orders[open_id]
    sku = next(iter(order["lines"]))
    changed = {
        "1": {**copy.deepcopy(order), "cancelled": True},
        "2": {**copy.deepcopy(order), "tracking_numbers": [*order["tracking_numbers"], "1ZNEVERSHIPPED"]},
        "3": copy.deepcopy(order),
        "4": {
            **copy.deepcopy(order),
            "refunds": [{"id": "999", "amount": "1.00", "lines": {}, "restocked": {}}],
        },
        "5": {**copy.deepcopy(order), "current_total_price": "0.01"},
    }
    changed["3"]["lines"][sku]["current_quantity"] += 1
    changed["3"]["lines"][sku]["quantity"] += 1
    # the same order under other ids would be "missing here": give each its real id back, one at a time
    expectations = [("1", "status"), ("2", "tracking"), ("3", "lines"), ("4", "refund"), ("5", "total")]
    for key, expected in expectations:
        found = order_differences("shopify", tool.connection, {open_id: changed[key]})
        assert expected in kinds(found), (key, kinds(found))
    missing = order_differences("shopify", tool.connection, {"424242": order})
    assert kinds(missing) == ["missing_here"]


def test_the_oracle_sees_stock_that_differs(day):
    tool = day.tools["shopify"]
    stock = copy.deepcopy(tool.snapshot()["stock"])
    assert kinds(stock_differences("shopify", tool.connection, stock, tool.location)) == []
    sku = tool.skus()[0]
    stock[sku][tool.location] += 3

    found = stock_differences("shopify", tool.connection, stock, tool.location)

    assert kinds(found) == ["stock"]
    (difference,) = found[sku]
    assert int(difference.there) == int(difference.hub) + 3


def test_the_watcher_times_agreement_and_keeps_what_never_agrees(day):
    tool = day.tools["shopify"]
    agreed_id = sorted(tool.placed_orders())[0]
    start = datetime.datetime(2026, 12, 5, 9, 0, tzinfo=datetime.UTC)
    now = [start + datetime.timedelta(seconds=90)]
    watcher = Watcher(now=lambda: now[0])
    watcher.watch(Change("shopify", "ordered", start, orders=(agreed_id,), skus=tuple(tool.skus()[:1])))
    watcher.watch(Change("shopify", "ordered", start, orders=("424242",)))  # we never heard of it

    watcher.check({"shopify": tool})

    summary = watcher.summary()
    assert summary["all"] == {"changes": 1, "p50_seconds": 90.0, "p95_seconds": 90.0, "max_seconds": 90.0}
    assert summary["never_agreed"] == 1
    assert summary["never_agreed_kinds"] == {"ordered": 1}


def test_percentiles_are_nearest_rank():
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 0.5) == 50.0
    assert percentile(values, 0.95) == 95.0
    assert percentile([], 0.5) == 0.0
    assert percentile([7.0], 0.95) == 7.0


def test_a_unit_sold_and_not_reserved_is_oversold_unless_a_purchase_order_brings_it(day):
    from decimal import Decimal

    from inventory.models import Product
    from procurement.services import POLineSpec, po_approve, po_create, po_send
    from sales.models import SalesOrder
    from sales.services import LineSpec, order_confirm, order_create

    tool = day.tools["shopify"]
    channel = tool.connection.sales_channel
    sku = tool.skus()[0]
    product = Product.objects.get(sku=sku)
    customer = SalesOrder.objects.filter(channel=channel).first().customer
    # more than the warehouse has: the rest is backordered, reserved by nothing
    order_confirm(order=order_create(channel=channel, customer=customer, lines=[LineSpec(product, 10_000)]))
    short = day._oversold()[sku]
    assert short > 0

    po = po_create(
        supplier=day._supplier,
        warehouse=day._warehouse,
        lines=[POLineSpec(product=product, quantity=short, unit_cost=Decimal("10.00"))],
    )
    po_send(po=po_approve(po=po, user=day._buyer), user=day._buyer)
    assert sku not in day._oversold()  # a backorder the supplier delivers, not an oversell
