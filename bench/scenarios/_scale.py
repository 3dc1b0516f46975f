"""The large fixture, made once per run and shared by the scenarios that read at scale (lists,
availability, check_stock, bulk): 100,000 products, 1,000,000 stock moves, ~110,000 levels in bins.

Made in PostgreSQL with ``INSERT ... SELECT generate_series`` (bench/scenarios/_fixtures.py), in
chunks of 10,000 products (one statement each), not through the services:

* 3 warehouses with 5 bins each (through the services);
* 100,000 products ``BENCH-SC-000001``.. named ``Bench product <n>``;
* 10 moves per product, alternately a receipt from the supplier into the product's bin and an
  issue to a customer of half of that receipt from the same bin (no bin goes negative); one
  product in ten moves its last four to a second bin: 110,000 levels in bins, plus the virtual
  supplier and customer levels the ledger keeps (200,000);
* the levels computed from the moves, so they agree with the ledger; then VACUUM (ANALYZE), as
  autovacuum would have done on a live database and so that it does not start while timing.

With --quick: 2,000 products (20,000 moves). Never removed: the scenarios using it run last
(order >= 80) and the database is dropped at the end; those that need an empty ledger run before.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from typing import Any

from django.db import connection

from bench.scenario import quick
from bench.scenarios import _fixtures
from inventory.models import Location, LocationKind
from inventory.services import location_create, virtual_location, warehouse_create, warehouse_root

SKU_PREFIX = "BENCH-SC-"
WAREHOUSES = ("BENCHSC1", "BENCHSC2", "BENCHSC3")
BINS_PER_ZONE = 4  # plus the Stock bin: 5 bins per warehouse
CHUNK = 10_000

MOVES_SQL = """
INSERT INTO inventory_stockmove (
    product_id, quantity, from_location_id, to_location_id, lot_id, unit_cost, kind, reference,
    document_type, document_id, reason, reversal_of_id, operation, user_id, created_at
)
SELECT p.id,
       CASE WHEN k %% 2 = 0 THEN r.qty ELSE floor(r.qty / 2) END,
       CASE WHEN k %% 2 = 0 THEN %(supplier)s ELSE b.bin END,
       CASE WHEN k %% 2 = 0 THEN b.bin ELSE %(customer)s END,
       NULL, 5.00, CASE WHEN k %% 2 = 0 THEN 'receipt' ELSE 'issue' END, 'BENCH', '', '', '', NULL,
       gen_random_uuid(), NULL,
       now() - (9 - k) * interval '20 days' - (p.id %% 1440) * interval '1 minute'
FROM inventory_product AS p
CROSS JOIN generate_series(0, 9) AS k
CROSS JOIN LATERAL (SELECT (20 + (p.id * 7 + (k - k %% 2) * 13) %% 50)::numeric AS qty) AS r
CROSS JOIN LATERAL (
    SELECT (%(bins)s::bigint[])[
        1 + (CASE WHEN (p.id - %(first)s) %% 10 = 0 AND k >= 6 THEN p.id + 7 ELSE p.id END) %% %(nbins)s
    ] AS bin
) AS b
WHERE p.id BETWEEN %(low)s AND %(high)s
"""


@dataclass(frozen=True)
class Scale:
    products: int
    first_id: int
    last_id: int
    bins: tuple[int, ...]
    warehouse_of_bin: dict[int, int]
    moves: int
    levels: int  # in bins
    seconds: float

    def bin_of(self, product_id: int) -> int:
        """The bin a product's first receipts went to (every product has stock there)."""
        return self.bins[product_id % len(self.bins)]

    def warehouse_of(self, product_id: int) -> int:
        return self.warehouse_of_bin[self.bin_of(product_id)]


_made: list[Scale] = []


def _log(message: str) -> None:
    print(f"  {message}", file=sys.stderr)


def _bins() -> dict[int, int]:
    found: dict[int, int] = {}
    for code in WAREHOUSES:
        warehouse = warehouse_create(code=code, name=f"Bench scale {code[-1]}")
        zone = location_create(parent=warehouse_root(warehouse), name="Z", kind=LocationKind.VIEW)
        for i in range(1, BINS_PER_ZONE + 1):
            location_create(parent=zone, name=f"Z-{i:02d}")
        for pk in Location.objects.filter(warehouse=warehouse, kind=LocationKind.INTERNAL).values_list(
            "pk", flat=True
        ):
            found[pk] = warehouse.pk
    return found


def scale() -> Scale:
    """The fixture, made on first use."""
    if _made:
        return _made[0]
    started = time.perf_counter()
    products = 2_000 if quick() else 100_000
    warehouse_of_bin = _bins()
    bins = tuple(sorted(warehouse_of_bin))
    tables = ("inventory_product", "inventory_stockmove", "inventory_stocklevel")
    with _fixtures.without_indexes(*tables), connection.cursor() as cursor:
        low, high = _fixtures.insert_products(SKU_PREFIX, products, first=1, digits=6, cost="5.00")
        _log(f"scale: {products:,} products in {time.perf_counter() - started:.1f} s")
        params: dict[str, Any] = {
            "supplier": virtual_location(LocationKind.SUPPLIER).pk,
            "customer": virtual_location(LocationKind.CUSTOMER).pk,
            "bins": list(bins),
            "nbins": len(bins),
            "first": low,
        }
        for first in range(low, high + 1, CHUNK):
            cursor.execute(MOVES_SQL, {**params, "low": first, "high": min(first + CHUNK - 1, high)})
        _log(f"scale: moves in {time.perf_counter() - started:.1f} s")
        _fixtures.levels_from_moves(low, high)
        _log(f"scale: levels in {time.perf_counter() - started:.1f} s")
    _log(f"scale: indexes built again in {time.perf_counter() - started:.1f} s")
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE)")  # every table: the 27 locations too, or plans misjudge them
        cursor.execute(
            "SELECT count(*) FROM inventory_stockmove WHERE product_id BETWEEN %s AND %s", [low, high]
        )
        moves = cursor.fetchone()[0]
        cursor.execute(
            "SELECT count(*) FROM inventory_stocklevel WHERE product_id BETWEEN %s AND %s "
            "AND location_id = ANY(%s)",
            [low, high, list(bins)],
        )
        levels = cursor.fetchone()[0]
    made = Scale(
        products=products,
        first_id=low,
        last_id=high,
        bins=bins,
        warehouse_of_bin=warehouse_of_bin,
        moves=moves,
        levels=levels,
        seconds=time.perf_counter() - started,
    )
    _log(
        f"scale: made in {made.seconds:.1f} s: {products:,} products, {moves:,} moves, {levels:,} levels in "
        "bins (vacuumed, analyzed)"
    )
    _made.append(made)
    return made
