"""Availability lookup latency on a large ledger: 100,000 products, 1,000,000 stock moves.

Each operation looks up one random product twice, as a product page and an order
line do: ``inventory.availability.of(product_id)`` (totals over every warehouse)
and ``inventory.availability.by_warehouse([product_id])`` (per warehouse). Both
read the cached StockLevel rows (indexed sums), never the ledger; teardown prints
the latency of each call separately.

The fixture is generated in PostgreSQL, not committed and not written through
the services (1M moves through ``post()`` would take far too long):

* 3 warehouses with 5 bins each are made through the services;
* 100,000 products by ``INSERT ... SELECT generate_series``;
* 10 moves per product, in chunks of 10,000 products: five receipts from the
  supplier into five different bins, then five issues to customers, each taking
  half of one receipt's quantity from the same bin, so no bin goes negative;
* the StockLevel rows are then computed FROM those moves (on hand = moves in -
  moves out per product and location, virtual locations included, as the ledger
  keeps them), so levels equal the sums of the moves; nothing is reserved. Writing
  the ledger tables directly is allowed in a bench fixture, nowhere else.
* VACUUM (ANALYZE), so the planner sees the real sizes and autovacuum does not
  start on the fresh tables while lookups are timed.

Teardown checks 50 random products against sums computed from the moves, then
removes everything (TRUNCATE for the append-only moves; setup refuses to start
unless the ledger is empty, so that removes only this scenario's rows).
"""

from __future__ import annotations

import random
import statistics
import sys
import time
from decimal import Decimal
from typing import Any

from django.db import connection

from bench.scenario import Scenario
from inventory import availability
from inventory.models import Location, LocationKind, Reservation, StockMove, UnitOfMeasure, Warehouse
from inventory.services import location_create, virtual_location, warehouse_create, warehouse_root

PRODUCTS = 100_000
MOVES_PER_PRODUCT = 10  # 5 receipts + 5 issues: 1,000,000 moves
CHUNK = 10_000  # products per INSERT of moves (one transaction each)
WAREHOUSES = ("BENCHAV1", "BENCHAV2", "BENCHAV3")
BINS_PER_ZONE = 4  # plus the Stock bin: 5 bins per warehouse
SKU_PREFIX = "BENCH-AV-"
SEED = 7

_rng = random.Random(SEED)
_product_ids: tuple[int, int] = (0, 0)  # first and last id
_timings: dict[str, list[float]] = {"of": [], "by_warehouse": []}

PRODUCTS_SQL = """
INSERT INTO inventory_product (
    created_at, updated_at, sku, name, description, kind, weight, sale_price, currency,
    average_cost, tracking, is_active, stock_unit_id
)
SELECT now(), now(), %(prefix)s || lpad(g::text, 6, '0'), 'Bench product ' || g, '', 'stocked', NULL,
       19.90, 'USD', 5.00, 'none', true, %(unit)s
FROM generate_series(1, %(count)s) AS g
"""

# k = 0..4: receipt supplier -> bins[(p + k) % 15]; k = 5..9: issue of half of receipt k-5 from that bin.
MOVES_SQL = """
INSERT INTO inventory_stockmove (
    product_id, quantity, from_location_id, to_location_id, lot_id, unit_cost, kind, reference,
    document_type, document_id, reason, reversal_of_id, operation, user_id, created_at
)
SELECT p.id,
       CASE WHEN k < 5 THEN r.qty ELSE floor(r.qty / 2) END,
       CASE WHEN k < 5 THEN %(supplier)s ELSE (%(bins)s::bigint[])[1 + (p.id + k - 5) %% %(nbins)s] END,
       CASE WHEN k < 5 THEN (%(bins)s::bigint[])[1 + (p.id + k) %% %(nbins)s] ELSE %(customer)s END,
       NULL, 5.00, CASE WHEN k < 5 THEN 'receipt' ELSE 'issue' END, 'BENCH', '', '', '', NULL,
       gen_random_uuid(), NULL,
       now() - (9 - k) * interval '30 days' - (p.id %% 1440) * interval '1 minute'
FROM inventory_product AS p
CROSS JOIN generate_series(0, 9) AS k
CROSS JOIN LATERAL (SELECT (20 + (p.id * 7 + (k %% 5) * 13) %% 50)::numeric AS qty) AS r
WHERE p.id BETWEEN %(low)s AND %(high)s
"""

LEVELS_SQL = """
INSERT INTO inventory_stocklevel (
    product_id, location_id, lot_id, warehouse_id, on_hand, reserved, updated_at
)
SELECT s.product_id, s.location_id, NULL, l.warehouse_id, SUM(s.q), 0, now()
FROM (
    SELECT product_id, to_location_id AS location_id, quantity AS q
    FROM inventory_stockmove WHERE product_id BETWEEN %(low)s AND %(high)s
    UNION ALL
    SELECT product_id, from_location_id, -quantity
    FROM inventory_stockmove WHERE product_id BETWEEN %(low)s AND %(high)s
) AS s
JOIN inventory_location AS l ON l.id = s.location_id
GROUP BY s.product_id, s.location_id, l.warehouse_id
"""


def _log(message: str) -> None:
    print(f"  {message}", file=sys.stderr)


def _bins() -> list[int]:
    bins: list[int] = []
    for code in WAREHOUSES:
        warehouse = warehouse_create(code=code, name=f"Bench availability {code[-1]}")
        zone = location_create(parent=warehouse_root(warehouse), name="Z", kind=LocationKind.VIEW)
        for i in range(1, BINS_PER_ZONE + 1):
            location_create(parent=zone, name=f"Z-{i:02d}")
        bins += Location.objects.filter(warehouse=warehouse, kind=LocationKind.INTERNAL).values_list(
            "pk", flat=True
        )
    return sorted(bins)


def setup(n: int) -> int:
    global _product_ids
    if StockMove.objects.exists() or Reservation.objects.exists():
        raise RuntimeError("inventory_availability_lookup needs an empty ledger (a fresh bench database)")
    started = time.perf_counter()
    bins = _bins()
    params: dict[str, Any] = {
        "supplier": virtual_location(LocationKind.SUPPLIER).pk,
        "customer": virtual_location(LocationKind.CUSTOMER).pk,
        "bins": bins,
        "nbins": len(bins),
    }
    with connection.cursor() as cursor:
        unit = UnitOfMeasure.objects.get(code="pcs").pk
        cursor.execute(PRODUCTS_SQL, {"prefix": SKU_PREFIX, "unit": unit, "count": PRODUCTS})
        cursor.execute("SELECT min(id), max(id) FROM inventory_product WHERE sku LIKE %s", [f"{SKU_PREFIX}%"])
        low, high = cursor.fetchone()
        _product_ids = (low, high)
        _log(f"products: {PRODUCTS:,} in {time.perf_counter() - started:.1f} s")
        for first in range(low, high + 1, CHUNK):
            chunk = {"low": first, "high": min(first + CHUNK - 1, high)}
            cursor.execute(MOVES_SQL, {**params, **chunk})
            cursor.execute(LEVELS_SQL, chunk)
        _log(f"moves and levels: {time.perf_counter() - started:.1f} s")
        cursor.execute(
            "ANALYZE inventory_product, inventory_stockmove, inventory_stocklevel, inventory_location"
        )
        cursor.execute("SELECT count(*) FROM inventory_stockmove")
        moves = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM inventory_stocklevel")
        levels = cursor.fetchone()[0]
    _log(
        f"setup took {time.perf_counter() - started:.1f} s: {PRODUCTS:,} products, {moves:,} moves, "
        f"{levels:,} levels (vacuumed, analyzed)"
    )
    for _ in range(50):  # warm the plans and the caches a little: not timed
        product_id = _rng.randint(low, high)
        availability.of(product_id)
        availability.by_warehouse([product_id])
    for values in _timings.values():
        values.clear()
    return n


def operation(i: int) -> None:
    product_id = _rng.randint(*_product_ids)
    start = time.perf_counter()
    availability.of(product_id)
    middle = time.perf_counter()
    availability.by_warehouse([product_id])
    _timings["of"].append(middle - start)
    _timings["by_warehouse"].append(time.perf_counter() - middle)


def _from_ledger(product_id: int) -> dict[int, Decimal]:
    """On hand per warehouse, summed from the moves themselves."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT l.warehouse_id, SUM(CASE WHEN m.to_location_id = l.id THEN m.quantity ELSE -m.quantity END)
            FROM inventory_stockmove AS m
            JOIN inventory_location AS l ON l.id IN (m.to_location_id, m.from_location_id)
            WHERE m.product_id = %s AND l.kind = 'internal'
            GROUP BY l.warehouse_id
            """,
            [product_id],
        )
        return dict(cursor.fetchall())


def _check() -> None:
    rng = random.Random(SEED + 1)
    for _ in range(50):
        product_id = rng.randint(*_product_ids)
        expected = _from_ledger(product_id)
        per_warehouse = {w: a.on_hand for (_, w), a in availability.by_warehouse([product_id]).items()}
        total = availability.of(product_id).on_hand
        if per_warehouse != expected or total != sum(expected.values()):
            raise AssertionError(
                f"product {product_id}: availability {per_warehouse} / {total}, ledger {expected}"
            )


def _report() -> None:
    for name, values in _timings.items():
        if values:
            ordered = sorted(values)
            p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
            _log(
                f"availability.{name}: p50 {statistics.median(values) * 1000:.3f} ms, "
                f"p95 {p95 * 1000:.3f} ms over {len(values)} calls"
            )


def _cleanup() -> None:
    with connection.cursor() as cursor:
        # Append-only moves cannot be deleted; TRUNCATE skips row triggers. Setup checked these were empty.
        cursor.execute("TRUNCATE inventory_stockmove, inventory_stocklevel")
        cursor.execute("DELETE FROM inventory_product WHERE sku LIKE %s", [f"{SKU_PREFIX}%"])
        cursor.execute(
            "DELETE FROM inventory_location WHERE warehouse_id IN "
            "(SELECT id FROM inventory_warehouse WHERE code = ANY(%s))",
            [list(WAREHOUSES)],
        )
        cursor.execute("DELETE FROM inventory_warehouse WHERE code = ANY(%s)", [list(WAREHOUSES)])
        cursor.execute("DELETE FROM inventory_historicalwarehouse WHERE code = ANY(%s)", [list(WAREHOUSES)])
    if Warehouse.objects.filter(code__in=WAREHOUSES).exists():
        raise AssertionError("bench warehouses left behind")


def teardown() -> None:
    try:
        _report()
        _check()
    finally:
        _cleanup()


SCENARIO = Scenario(
    name="inventory_availability_lookup",
    description=__doc__ or "",
    setup=setup,
    operation=operation,
    teardown=teardown,
)
