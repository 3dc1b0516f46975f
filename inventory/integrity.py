"""The ledger explains every unit: recompute every level from the moves and report drift."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from erp.money import ZERO
from inventory.models import Location, Reservation, ReservationStatus, StockCheckRun, StockLevel, StockMove

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


def ledger_balances() -> tuple[dict[Key, Decimal], dict[Key, Decimal]]:
    """(on hand, reserved) per key, from the moves and the active reservations."""
    on_hand: dict[Key, Decimal] = defaultdict(lambda: ZERO)
    for r in StockMove.objects.values("product_id", "to_location_id", "lot_id").annotate(q=Sum("quantity")):
        on_hand[(r["product_id"], r["to_location_id"], r["lot_id"])] += r["q"]
    for r in StockMove.objects.values("product_id", "from_location_id", "lot_id").annotate(q=Sum("quantity")):
        on_hand[(r["product_id"], r["from_location_id"], r["lot_id"])] -= r["q"]
    reserved: dict[Key, Decimal] = defaultdict(lambda: ZERO)
    for r in (
        Reservation.objects.filter(status=ReservationStatus.ACTIVE)
        .values("product_id", "location_id", "lot_id")
        .annotate(q=Sum("quantity"))
    ):
        reserved[(r["product_id"], r["location_id"], r["lot_id"])] += r["q"]
    return on_hand, reserved


def find_drift() -> tuple[int, list[Drift]]:
    on_hand, reserved = ledger_balances()
    cached = {
        (lv.product_id, lv.location_id, lv.lot_id): lv
        for lv in StockLevel.objects.only("product_id", "location_id", "lot_id", "on_hand", "reserved")
    }
    drifts = []
    for key in sorted(set(cached) | set(on_hand) | set(reserved), key=lambda k: (k[0], k[1], k[2] or 0)):
        level = cached.get(key)
        for field, ledger in (("on_hand", on_hand.get(key, ZERO)), ("reserved", reserved.get(key, ZERO))):
            value = getattr(level, field) if level else ZERO
            if value != ledger:
                drifts.append(Drift(key[0], key[1], key[2], field, value, ledger))
    return len(cached), drifts


@transaction.atomic
def repair(drifts: list[Drift]) -> int:
    """Set drifting levels to what the ledger says. Returns the number of levels written."""
    by_key: dict[Key, dict[str, Decimal]] = defaultdict(dict)
    for d in drifts:
        by_key[(d.product_id, d.location_id, d.lot_id)][d.field] = d.ledger
    warehouse_of = dict(
        Location.objects.filter(pk__in={k[1] for k in by_key}).values_list("pk", "warehouse_id")
    )
    for (product_id, location_id, lot_id), values in by_key.items():
        level, _ = StockLevel.objects.select_for_update().get_or_create(
            product_id=product_id,
            location_id=location_id,
            lot_id=lot_id,
            defaults={"warehouse_id": warehouse_of.get(location_id)},
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
