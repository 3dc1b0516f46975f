"""Stock under real concurrency: PostgreSQL, real threads, one transaction each."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from django.db import connection

from inventory.exceptions import InsufficientStock
from inventory.models import Reservation, StockLevel
from inventory.services import Demand, Line, stock_issue, stock_receive, stock_reserve, stock_transfer
from tests.inventory.factories import ProductFactory, bin_of, warehouse

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def race(fn, n: int) -> list:
    """Run fn(i) in n threads released at once; return each result or the exception it raised."""
    start = threading.Barrier(n)

    def worker(i: int):
        try:
            start.wait()
            return fn(i)
        except Exception as exc:
            return exc
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=n) as pool:
        return list(pool.map(worker, range(n)))


def test_twenty_concurrent_reservations_of_one_against_ten_available():
    # given
    product = ProductFactory(sku="HOT-ITEM")
    wh = warehouse()
    stock_receive(product=product, location=bin_of(wh), quantity=10, unit_cost=1)

    # when
    results = race(
        lambda i: stock_reserve(
            product=product, warehouse=wh, quantity=1, demand=Demand("sales.orderline", i)
        ),
        20,
    )

    # then: exactly 10 successes and 10 clear refusals, no oversell
    successes = [r for r in results if isinstance(r, list)]
    refusals = [r for r in results if isinstance(r, InsufficientStock)]
    assert len(successes) == 10
    assert len(refusals) == 10, [r for r in results if not isinstance(r, (list, InsufficientStock))]
    assert all("HOT-ITEM" in str(r) and "1 requested, 0 available" in str(r) for r in refusals)
    level = StockLevel.objects.get(product=product, location=bin_of(wh))
    assert (level.on_hand, level.reserved) == (10, 10)
    assert Reservation.objects.filter(status="active").count() == 10


def test_concurrent_issues_never_oversell():
    product = ProductFactory()
    stock = bin_of(warehouse())
    stock_receive(product=product, location=stock, quantity=7, unit_cost=1)

    results = race(lambda i: stock_issue(product=product, location=stock, quantity=2), 8)

    assert sum(not isinstance(r, Exception) for r in results) == 3
    assert all(isinstance(r, InsufficientStock) for r in results if isinstance(r, Exception))
    assert StockLevel.objects.get(product=product, location=stock).on_hand == 1


def test_transfers_crossing_the_same_locations_in_opposite_directions_do_not_deadlock():
    # given: two bins and two products with stock in both
    wh = warehouse()
    a, b = bin_of(wh, "A"), bin_of(wh, "B")
    products = [ProductFactory(), ProductFactory()]
    for product in products:
        stock_receive(product=product, location=a, quantity=100, unit_cost=1)
        stock_receive(product=product, location=b, quantity=100, unit_cost=1)

    # when: many transfers A→B and B→A, each moving both products, at the same time
    def transfer(i: int):
        src, dst = (a, b) if i % 2 else (b, a)
        lines = [Line(p, Decimal(1)) for p in (products if i % 4 < 2 else list(reversed(products)))]
        return stock_transfer(from_location=src, to_location=dst, lines=lines)

    results = race(transfer, 16)

    # then: every one finished (a deadlock would surface as an OperationalError), and nothing was lost
    assert [r for r in results if isinstance(r, Exception)] == []
    for product in products:
        on_hand = {
            lv.location_id: lv.on_hand
            for lv in StockLevel.objects.filter(product=product, location__in=[a, b])
        }
        assert on_hand == {a.pk: 100, b.pk: 100}
