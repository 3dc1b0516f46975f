"""The ledger explains every unit: recompute every level from the moves and report drift.

The database does the comparing (one GROUP BY over levels, moves and reservations that returns
only the keys that differ), so a check over a million moves holds the drifts, not the balances.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Context, Decimal
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from erp.money import QUANTITY_PLACES, ZERO
from inventory.models import (
    Location,
    Product,
    Reservation,
    ReservationStatus,
    StockCheckRun,
    StockLevel,
    StockMove,
)

Key = tuple[int, int, int | None]


@dataclass(frozen=True)
class Drift:
    product_id: int
    location_id: int
    lot_id: int | None
    field: str
    cached: Decimal
    ledger: Decimal

    def as_dict(self) -> dict[str, Any]:
        return {
            "product_id": self.product_id,
            "location_id": self.location_id,
            "lot_id": self.lot_id,
            "field": self.field,
            "cached": str(self.cached),
            "ledger": str(self.ledger),
        }


# Every level, every move (once into its destination, once out of its source) and every active
# reservation as rows of one set, summed per (product, location, lot): only the keys whose cached
# figures differ from the ledger's come back. GROUP BY puts the NULL lots together, as a level's
# key does. ROUND to the stored precision: exact on PostgreSQL, and it keeps SQLite's float sums
# from calling 0.30000000000000004 a drift.
_DRIFT_SQL = """
SELECT product_id, location_id, lot_id,
       SUM(cached_on_hand), SUM(cached_reserved), SUM(ledger_on_hand), SUM(ledger_reserved), SUM(is_level)
FROM (
    SELECT product_id, location_id, lot_id, on_hand AS cached_on_hand, reserved AS cached_reserved,
           0 AS ledger_on_hand, 0 AS ledger_reserved, 1 AS is_level
    FROM {level}
    UNION ALL
    SELECT product_id, to_location_id, lot_id, 0, 0, quantity, 0, 0 FROM {move}
    UNION ALL
    SELECT product_id, from_location_id, lot_id, 0, 0, -quantity, 0, 0 FROM {move}
    UNION ALL
    SELECT product_id, location_id, lot_id, 0, 0, 0, quantity, 0 FROM {reservation} WHERE status = %s
) AS balances
GROUP BY product_id, location_id, lot_id
HAVING ROUND(SUM(cached_on_hand) - SUM(ledger_on_hand), {places}) <> 0
    OR ROUND(SUM(cached_reserved) - SUM(ledger_reserved), {places}) <> 0
ORDER BY product_id, location_id, COALESCE(lot_id, 0)
"""
FETCH = 2_000
_FLOAT = Context(prec=15)  # how Django reads an aggregate SQLite answers as a float
_PLACES = Decimal(1).scaleb(-QUANTITY_PLACES)


def _ledger(value: Any) -> Decimal:
    if isinstance(value, Decimal):
        return value
    if isinstance(value, float):
        return _FLOAT.create_decimal_from_float(value)
    return Decimal(value or 0)


def _cached(value: Any, is_level: Any) -> Decimal:
    """A level's stored figure as the ORM reads it (at the stored precision), or zero without one."""
    if not is_level:
        return ZERO
    return _ledger(value).quantize(_PLACES)


def drifts() -> Iterator[Drift]:
    """Every drift, in (product, location, lot) order, from ONE query read through a server-side
    cursor on PostgreSQL: the database compares, this process holds only what differs."""
    sql = _DRIFT_SQL.format(
        level=StockLevel._meta.db_table,
        move=StockMove._meta.db_table,
        reservation=Reservation._meta.db_table,
        places=QUANTITY_PLACES,
    )
    with transaction.atomic(), connection.chunked_cursor() as cursor:
        cursor.execute(sql, [ReservationStatus.ACTIVE.value])
        while rows := cursor.fetchmany(FETCH):
            for product_id, location_id, lot_id, on_hand, reserved, l_on_hand, l_reserved, is_level in rows:
                for field, cached, ledger in (
                    ("on_hand", _cached(on_hand, is_level), _ledger(l_on_hand)),
                    ("reserved", _cached(reserved, is_level), _ledger(l_reserved)),
                ):
                    if cached != ledger:
                        yield Drift(product_id, location_id, lot_id, field, cached, ledger)


def find_drift() -> tuple[int, list[Drift]]:
    """(levels checked, drifts): memory grows with the drifts found, not with the levels."""
    return StockLevel.objects.count(), list(drifts())


@transaction.atomic
def repair(drifts: list[Drift]) -> int:
    """Set drifting levels to what the ledger says. Returns the number of levels written."""
    by_key: dict[Key, dict[str, Decimal]] = defaultdict(dict)
    for d in drifts:
        by_key[(d.product_id, d.location_id, d.lot_id)][d.field] = d.ledger
    places = {
        pk: (warehouse_id, path)
        for pk, warehouse_id, path in Location.objects.filter(pk__in={k[1] for k in by_key}).values_list(
            "pk", "warehouse_id", "path"
        )
    }
    sku_of = dict(Product.objects.filter(pk__in={k[0] for k in by_key}).values_list("pk", "sku"))
    for (product_id, location_id, lot_id), values in by_key.items():
        warehouse_id, path = places[location_id]
        level, _ = StockLevel.objects.select_for_update().get_or_create(
            product_id=product_id,
            location_id=location_id,
            lot_id=lot_id,
            defaults={"warehouse_id": warehouse_id, "product_sku": sku_of[product_id], "location_path": path},
        )
        for field, value in values.items():
            setattr(level, field, value)
        level.save()
    return len(by_key)


def run_check(*, repair_drift: bool = False, user: Any = None) -> StockCheckRun:
    started = timezone.now()
    checked, drifts = find_drift()
    if repair_drift and drifts:
        repair(drifts)
    return StockCheckRun.objects.create(
        started_at=started,
        finished_at=timezone.now(),
        levels_checked=checked,
        drift_count=len(drifts),
        repaired=repair_drift and bool(drifts),
        drifts=[d.as_dict() for d in drifts[:500]],
        triggered_by=user if getattr(user, "is_authenticated", False) else None,
    )
