"""Reserve-and-issue throughput: what shipping an order line costs the stock ledger.

Setup: one warehouse through the services, and in SQL (bench/scenarios/_fixtures.py) 1,000
products with 1,000 units each received into its Stock bin. Each operation: ``stock_reserve``
of 1 unit for a demand, then
``reservation_consume`` of that reservation. Two transactions (each service is
atomic and runs in autocommit), timed together as one operation; each commit
dispatches its ``inventory.level_changed`` events in process, as the outbox
scenarios do. Products are taken round-robin, so consecutive operations touch
different rows.

Teardown checks that every reservation was consumed, that one issue move exists
per operation and that the levels match the ledger, then removes what it made.
Stock moves are append-only (a trigger refuses DELETE), so the ledger tables are
emptied with TRUNCATE: setup refuses to start unless they are empty, so that
removes nothing but this scenario's rows.
"""

from __future__ import annotations

import sys
import time

from django.db import connection

from bench.scenario import Scenario
from bench.scenarios import _fixtures
from erp.models import AggregateSequence, OutboxEvent
from inventory.integrity import find_drift
from inventory.models import MoveKind, Product, Reservation, ReservationStatus, StockMove, Warehouse
from inventory.services import (
    Demand,
    reservation_consume,
    stock_reserve,
    warehouse_create,
    warehouse_default_location,
)

PRODUCTS = 1000
STOCK_EACH = 1000
WAREHOUSE = "BENCHRI"
SKU_PREFIX = "BENCH-RI-"
DEMAND_TYPE = "bench.orderline"
WARMUP = 20

_products: list[Product] = []
_warehouse: Warehouse | None = None
_expected = 0


def _reserve_and_issue(i: int) -> None:
    assert _warehouse is not None
    product = _products[i % len(_products)]
    [held] = stock_reserve(
        product=product, warehouse=_warehouse, quantity=1, demand=Demand(DEMAND_TYPE, i, f"SO-{i:06d}")
    )
    reservation_consume(reservation=held)


def setup(n: int) -> int:
    global _warehouse, _expected
    if StockMove.objects.exists() or Reservation.objects.exists():
        raise RuntimeError("inventory_reserve_issue needs an empty ledger (a fresh bench database)")
    if (WARMUP + n) > PRODUCTS * STOCK_EACH:
        raise ValueError(f"at most {PRODUCTS * STOCK_EACH - WARMUP} operations")
    started = time.perf_counter()
    _warehouse = warehouse_create(code=WAREHOUSE, name="Bench reserve-issue")
    stock = warehouse_default_location(_warehouse)
    _products.clear()
    # Products and their opening stock in SQL (through the services: over three minutes for 1,000).
    _fixtures.stocked_products(SKU_PREFIX, PRODUCTS, location_id=stock.pk, quantity=STOCK_EACH, cost="4.00")
    _products.extend(
        Product.objects.select_related("stock_unit").filter(sku__startswith=SKU_PREFIX).order_by("sku")
    )
    for i in range(WARMUP):  # first connection, imports, prepared plans: not timed
        _reserve_and_issue(n + i)
    _expected = WARMUP + n
    print(
        f"  setup: {PRODUCTS} products with stock in {time.perf_counter() - started:.1f} s", file=sys.stderr
    )
    return n


def operation(i: int) -> None:
    _reserve_and_issue(i)


def _check() -> None:
    reservations = Reservation.objects.filter(demand_type=DEMAND_TYPE)
    consumed = reservations.filter(status=ReservationStatus.CONSUMED).count()
    issues = StockMove.objects.filter(kind=MoveKind.ISSUE, product__sku__startswith=SKU_PREFIX).count()
    if consumed != _expected or reservations.count() != _expected or issues != _expected:
        raise AssertionError(
            f"expected {_expected} consumed reservations and issue moves; found {reservations.count()} "
            f"reservations ({consumed} consumed) and {issues} issues"
        )
    _, drifts = find_drift()
    if drifts:
        raise AssertionError(f"levels drifted from the ledger: {drifts[:5]}")


def _cleanup() -> None:
    with connection.cursor() as cursor:
        # Append-only moves cannot be deleted; TRUNCATE skips row triggers. Setup checked these were empty.
        cursor.execute("TRUNCATE inventory_stockmove, inventory_stocklevel, inventory_reservation")
        cursor.execute(
            "DELETE FROM inventory_barcode WHERE product_id IN "
            "(SELECT id FROM inventory_product WHERE sku LIKE %s)",
            [f"{SKU_PREFIX}%"],
        )
        cursor.execute("DELETE FROM inventory_product WHERE sku LIKE %s", [f"{SKU_PREFIX}%"])
        cursor.execute("DELETE FROM inventory_historicalproduct WHERE sku LIKE %s", [f"{SKU_PREFIX}%"])
        cursor.execute(
            "DELETE FROM inventory_location WHERE warehouse_id IN "
            "(SELECT id FROM inventory_warehouse WHERE code = %s)",
            [WAREHOUSE],
        )
        cursor.execute("DELETE FROM inventory_warehouse WHERE code = %s", [WAREHOUSE])
        cursor.execute("DELETE FROM inventory_historicalwarehouse WHERE code = %s", [WAREHOUSE])
    OutboxEvent.objects.filter(topic__startswith="inventory.").delete()
    AggregateSequence.objects.filter(aggregate_type__startswith="inventory.").delete()
    _products.clear()


def teardown() -> None:
    try:
        _check()
    finally:
        _cleanup()


SCENARIO = Scenario(
    name="inventory_reserve_issue",
    description=__doc__ or "",
    setup=setup,
    operation=operation,
    teardown=teardown,
    default_n=500,
)
