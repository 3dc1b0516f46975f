"""Availability of one product in one warehouse at scale: 100,000 products, 1,000,000 moves.

On the large fixture (bench/scenarios/_scale.py), each operation looks up one random product in
the warehouse where it has stock, in process: ``inventory.availability.of(product_id,
warehouse_id)`` (on hand, reserved, available, incoming, outgoing: what an order line and the
product page need). Targets (#22): p95 under 2 ms and 1 query. After the timed operations the
other two lookups are timed too and printed (not targets): ``of(product_id)`` over every
warehouse and ``by_warehouse([product_id])``.

Teardown checks 50 random products against sums computed from the moves themselves; the fixture
stays for the scenarios after this one.
"""

from __future__ import annotations

import random
import statistics
import sys
import time
from decimal import Decimal

from django.db import connection

from bench.scenario import Scenario, Target, percentile
from bench.scenarios import _scale
from inventory import availability

SEED = 7
WARMUP = 50

_rng = random.Random(SEED)


def _pick() -> tuple[int, int]:
    scale = _scale.scale()
    product_id = _rng.randint(scale.first_id, scale.last_id)
    return product_id, scale.warehouse_of(product_id)


def setup(n: int) -> int:
    _scale.scale()
    for _ in range(WARMUP):  # plans and caches: not timed
        availability.of(*_pick())
    return n


def operation(i: int) -> None:
    availability.of(*_pick())


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


def _report_others() -> None:
    scale = _scale.scale()
    timings: dict[str, list[float]] = {"of(product)": [], "by_warehouse([product])": []}
    for _ in range(200):
        product_id = _rng.randint(scale.first_id, scale.last_id)
        start = time.perf_counter()
        availability.of(product_id)
        middle = time.perf_counter()
        availability.by_warehouse([product_id])
        timings["of(product)"].append(middle - start)
        timings["by_warehouse([product])"].append(time.perf_counter() - middle)
    for name, values in timings.items():
        print(
            f"  availability.{name}: p50 {statistics.median(values) * 1000:.3f} ms, "
            f"p95 {percentile(values, 95) * 1000:.3f} ms over {len(values)} calls",
            file=sys.stderr,
        )


def _check() -> None:
    scale = _scale.scale()
    rng = random.Random(SEED + 1)
    for _ in range(50):
        product_id = rng.randint(scale.first_id, scale.last_id)
        expected = _from_ledger(product_id)
        per_warehouse = {w: a.on_hand for (_, w), a in availability.by_warehouse([product_id]).items()}
        in_one = availability.of(product_id, scale.warehouse_of(product_id)).on_hand
        total = availability.of(product_id).on_hand
        if (
            {w: q for w, q in per_warehouse.items() if q} != {w: q for w, q in expected.items() if q}
            or total != sum(expected.values())
            or in_one != expected.get(scale.warehouse_of(product_id), 0)
        ):
            raise AssertionError(
                f"product {product_id}: availability {per_warehouse} / {in_one} / {total}, ledger {expected}"
            )


def teardown() -> None:
    _report_others()
    _check()


SCENARIO = Scenario(
    name="inventory_availability_lookup",
    description=__doc__ or "",
    setup=setup,
    operation=operation,
    teardown=teardown,
    default_n=2000,
    quick_n=100,
    targets=(Target("p95 ms", 2.0, unit="ms"), Target("queries/op", 1)),
    shown=("ops/s", "p50 ms"),
    order=81,
)
