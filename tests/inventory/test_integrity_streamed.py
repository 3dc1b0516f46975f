"""check_stock streamed: the database compares levels with the ledger and returns only what
differs, in (product, location, lot) order, whatever the number of levels."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from inventory.integrity import drifts, find_drift, repair
from inventory.models import StockLevel
from inventory.services import Demand, lot_get_or_create, stock_receive, stock_reserve
from tests.inventory.factories import ProductFactory, bin_of, warehouse

pytestmark = pytest.mark.django_db


def test_only_what_differs_comes_back_in_key_order_with_lots_apart_from_no_lot():
    # given: a product with stock with and without a lot, another reserved, all in agreement
    wh = warehouse("WH1")
    stock = bin_of(wh)
    tracked = ProductFactory(sku="LOTTED", tracking="lot")
    lot = lot_get_or_create(product=tracked, code="L-1")
    stock_receive(product=tracked, location=stock, quantity=4, unit_cost=1, lot=lot)
    plain = ProductFactory(sku="PLAIN")
    stock_receive(product=plain, location=stock, quantity=10, unit_cost=1)
    stock_reserve(product=plain, warehouse=wh, quantity=3, demand=Demand("x", 1))
    assert find_drift()[1] == []

    # when: the lot's level and the plain reservation drift, and a level is lost
    StockLevel.objects.filter(product=tracked, lot=lot, location=stock).update(on_hand=5)
    StockLevel.objects.filter(product=plain, location=stock).update(reserved=1)
    lost = StockLevel.objects.get(product=plain, location__kind="supplier")
    lost.delete()
    with CaptureQueriesContext(connection) as queries:
        found = list(drifts())

    # then: one statement (besides its savepoint); cached and ledger as the report shows them
    assert len([q for q in queries.captured_queries if "SAVEPOINT" not in q["sql"]]) == 1
    report = [(d.product_id, d.location_id, d.lot_id, d.field, d.cached, d.ledger) for d in found]
    assert report == sorted(report, key=lambda r: (r[0], r[1], r[2] or 0))
    assert (tracked.pk, stock.pk, lot.pk, "on_hand", D("5"), D("4")) in report
    assert (plain.pk, stock.pk, None, "reserved", D("1"), D("3")) in report
    assert (plain.pk, lost.location_id, None, "on_hand", D("0"), D("-10")) in report
    assert len(report) == 3

    # and the repair writes what the ledger says, after which nothing drifts
    repair(found)
    assert find_drift()[1] == []
    assert StockLevel.objects.get(product=plain, location=lost.location_id).on_hand == -10
