"""Inventory's figures on the role homes, checked against the database, and the lists they link to."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from erp import clock
from inventory import valuation, workspace
from inventory.services import (
    Line,
    count_sheet_create,
    reorder_rule_set,
    stock_issue,
    stock_receive,
    stock_scrap,
    stock_transfer,
)
from tests.erp.home_data import role_user
from tests.inventory.factories import ProductFactory, bin_of, warehouse

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(client: Client) -> Client:
    client.force_login(role_user("keeper", "Warehouse"))
    return client


def test_stock_outs_are_active_stocked_products_with_nothing_on_a_shelf(staff: Client) -> None:
    shelf = bin_of(warehouse("WH1"))
    stocked = ProductFactory(sku="HAS")
    stock_receive(product=stocked, location=shelf, quantity=3, unit_cost="2.00")
    ProductFactory(sku="NONE-1")
    ProductFactory(sku="NONE-2")
    ProductFactory(sku="OLD", is_active=False)
    ProductFactory(sku="SERVICE", kind="service")

    assert workspace.stock_outs() == 2
    response = staff.get("/inventory/products/?stock=out")
    assert sorted(p.sku for p in response.context["page"].object_list) == ["NONE-1", "NONE-2"]


def test_below_reorder_point_counts_the_replenishment_pages_suggestions(staff: Client) -> None:
    wh = warehouse("WH1")
    low = ProductFactory(sku="LOW")
    stock_receive(product=low, location=bin_of(wh), quantity=1, unit_cost="1.00")
    reorder_rule_set(product=low, warehouse=wh, min_quantity=5, max_quantity=10)
    fine = ProductFactory(sku="FINE")
    stock_receive(product=fine, location=bin_of(wh), quantity=50, unit_cost="1.00")
    reorder_rule_set(product=fine, warehouse=wh, min_quantity=5, max_quantity=10)

    assert workspace.below_reorder_point() == 1
    assert [s.rule.product.sku for s in staff.get("/inventory/replenishment/").context["suggestions"]] == [
        "LOW"
    ]


def test_open_counts_and_transfers_in_transit() -> None:
    count_sheet_create(location=bin_of(warehouse("WH1")))

    work = workspace.stock_work()

    assert work["counts"] == 1
    assert work["in_transit"] == 0
    assert work["oldest_count"] is not None


def test_the_stock_value_line_matches_the_ledger_on_each_past_day() -> None:
    # given: 10 units at 2.00 received 5 days ago, 4 more at 2.00 two days ago, today's value 28.00
    # (written through the service at those past moments: the ledger is append-only)
    shelf = bin_of(warehouse("WH1"))
    product = ProductFactory(sku="VAL")
    now = timezone.now()
    with clock.effective(now - datetime.timedelta(days=5)):
        stock_receive(product=product, location=shelf, quantity=10, unit_cost="2.00")
    with clock.effective(now - datetime.timedelta(days=2)):
        stock_receive(product=product, location=shelf, quantity=4, unit_cost="2.00")

    chart = workspace.value_over_time(days=10)

    values = chart.series[0].values
    assert values[-1] == workspace.stock_value() == Decimal("28.00")
    for back in (0, 1, 3, 6):
        day = timezone.localdate() - datetime.timedelta(days=back)
        end = timezone.make_aware(datetime.datetime.combine(day, datetime.time.max))
        expected = sum((v.value for v in valuation.as_of(end)), Decimal(0))
        assert values[-1 - back] == expected, back
    assert values[0] == 0  # 10 days ago: nothing yet
    assert (values[-7], values[-4]) == (Decimal(0), Decimal("20.00"))  # before, between the receipts


def test_the_stock_value_line_counts_what_leaves_and_not_what_moves_between_our_bins() -> None:
    # given: 10 units at 3.00 received 4 days ago, 3 moved to another bin 3 days ago (no value moves),
    # 2 issued to a customer 2 days ago and 1 scrapped yesterday
    wh = warehouse("WH1")
    shelf, other = bin_of(wh), bin_of(wh, "B2")
    product = ProductFactory(sku="VAL2")
    now = timezone.now()
    with clock.effective(now - datetime.timedelta(days=4)):
        stock_receive(product=product, location=shelf, quantity=10, unit_cost="3.00")
    with clock.effective(now - datetime.timedelta(days=3)):
        stock_transfer(from_location=shelf, to_location=other, lines=[Line(product, Decimal(3))])
    with clock.effective(now - datetime.timedelta(days=2)):
        stock_issue(product=product, location=other, quantity=2)
    with clock.effective(now - datetime.timedelta(days=1)):
        stock_scrap(product=product, location=shelf, quantity=1, reason="broken")

    chart = workspace.value_over_time(days=6)

    # then: each day's end is the valuation as of then, through every kind of move
    values = chart.series[0].values
    for back in range(6):
        day = timezone.localdate() - datetime.timedelta(days=back)
        end = timezone.make_aware(datetime.datetime.combine(day, datetime.time.max))
        assert values[-1 - back] == sum((v.value for v in valuation.as_of(end)), Decimal(0)), back
    assert values[-5:] == [
        Decimal("30.00"),
        Decimal("30.00"),
        Decimal("24.00"),
        Decimal("21.00"),
        Decimal("21.00"),
    ]
