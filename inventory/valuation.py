"""What the stock is worth: now (levels x moving-average cost), as of any past date (the ledger), and
what value moved in and out of it over a period (``flows``: what the books post for a day)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db.models import DecimalField, ExpressionWrapper, F, QuerySet, Sum

from erp.money import ZERO
from inventory.models import LocationKind, StockLevel, StockMove, Warehouse

# Our stock for the books: what is on our shelves and what is between two of our warehouses.
OURS = frozenset({LocationKind.INTERNAL, LocationKind.TRANSIT})
CENT = Decimal("0.01")

VALUE = ExpressionWrapper(
    F("quantity") * F("unit_cost"), output_field=DecimalField(max_digits=30, decimal_places=8)
)


@dataclass(frozen=True)
class WarehouseValue:
    warehouse: Warehouse
    quantity: Decimal  # all units together: for the API's figure; people read ``by_unit``
    value: Decimal
    by_unit: tuple[tuple[Decimal, str], ...] = ()  # (quantity, stock unit code): never kg + pcs


def current_by_warehouse() -> list[WarehouseValue]:
    """On hand x current moving-average cost, per warehouse (and its quantity per stock unit), in one
    query."""
    rows = (
        StockLevel.objects.filter(location__kind=LocationKind.INTERNAL)
        .values("warehouse_id", "product__stock_unit__code")
        .annotate(
            quantity=Sum("on_hand"),
            value=Sum(
                ExpressionWrapper(
                    F("on_hand") * F("product__average_cost"),
                    output_field=DecimalField(max_digits=30, decimal_places=8),
                )
            ),
        )
        .order_by("warehouse_id", "product__stock_unit__code")
    )
    found: dict[int, list[dict[str, Any]]] = {}
    for row in rows:
        found.setdefault(row["warehouse_id"], []).append(row)
    values = []
    for w in Warehouse.objects.order_by("code"):
        mine = found.get(w.pk, [])
        values.append(
            WarehouseValue(
                warehouse=w,
                quantity=sum((r["quantity"] or ZERO for r in mine), ZERO),
                value=sum((r["value"] or ZERO for r in mine), ZERO).quantize(Decimal("0.01")),
                by_unit=tuple((r["quantity"], r["product__stock_unit__code"]) for r in mine if r["quantity"]),
            )
        )
    return values


def as_of(moment: datetime) -> list[WarehouseValue]:
    """Quantity and value per warehouse at ``moment``, from the ledger: value in minus value out.

    Each move carries the cost it moved at, so the past is read as it was.
    Two grouped queries over the indexed (location, created_at) columns.
    """
    base = StockMove.objects.filter(created_at__lte=moment)
    unit = "product__stock_unit__code"
    sums: dict[int, dict[str, list[Decimal]]] = {}  # warehouse -> unit -> [quantity, value]
    for side, sign in (("to_location", 1), ("from_location", -1)):
        rows = (
            base.filter(**{f"{side}__kind": LocationKind.INTERNAL})
            .values(f"{side}__warehouse_id", unit)
            .annotate(value=Sum(VALUE), quantity=Sum("quantity"))  # value first: it reads the field
        )
        for r in rows:
            held = sums.setdefault(r[f"{side}__warehouse_id"], {}).setdefault(r[unit], [ZERO, ZERO])
            held[0] += sign * (r["quantity"] or ZERO)
            held[1] += sign * (r["value"] or ZERO)
    result = []
    for warehouse in Warehouse.objects.order_by("code"):
        mine = sums.get(warehouse.pk, {})
        result.append(
            WarehouseValue(
                warehouse=warehouse,
                quantity=sum((q for q, _ in mine.values()), ZERO),
                value=sum((v for _, v in mine.values()), ZERO).quantize(Decimal("0.01")),
                by_unit=tuple((q, code) for code, (q, _) in sorted(mine.items()) if q),
            )
        )
    return result


def by_product(warehouse_id: int | None = None) -> QuerySet[StockLevel, dict[str, Any]]:
    """Current value per product (for the report's detail), largest first."""
    levels = StockLevel.objects.filter(location__kind=LocationKind.INTERNAL)
    if warehouse_id is not None:
        levels = levels.filter(warehouse_id=warehouse_id)
    return (
        levels.values(
            "product_id",
            "product__sku",
            "product__name",
            "product__average_cost",
            "product__stock_unit__code",
        )
        .annotate(
            quantity=Sum("on_hand"),
            value=Sum(
                ExpressionWrapper(
                    F("on_hand") * F("product__average_cost"),
                    output_field=DecimalField(max_digits=30, decimal_places=8),
                )
            ),
        )
        .exclude(quantity=0)
        .order_by("-value", "product__sku")
    )


@dataclass(frozen=True)
class ValueFlow:
    """The net value that came into our stock from one kind of outside place (positive: bought
    from a supplier, returned by a customer, made in production, found in a count) or left it to
    one (negative: shipped to a customer, consumed, scrapped, counted away), at the cost each move
    carried."""

    counterpart: str  # the outside place's LocationKind: supplier, customer, production, adjustment, scrap
    value: Decimal


def flows(start: datetime, end: datetime) -> list[ValueFlow]:
    """The value moved between our stock and each kind of outside place in [start, end), netted
    per kind, to the cent, zero flows left out; moves within our stock (transfers) move no value.
    One grouped query over the indexed ``created_at``: a move belongs to the period it was
    written in, so a closed period never changes."""
    rows = (
        StockMove.objects.filter(created_at__gte=start, created_at__lt=end)
        .values("from_location__kind", "to_location__kind")
        .annotate(value=Sum(VALUE))
        .order_by()
    )
    net: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for row in rows:
        source, destination = row["from_location__kind"], row["to_location__kind"]
        if (source in OURS) == (destination in OURS):
            continue  # within our stock, or between two outside places (never ours)
        if destination in OURS:
            net[source] += row["value"] or ZERO
        else:
            net[destination] -= row["value"] or ZERO
    rounded = ((kind, value.quantize(CENT)) for kind, value in sorted(net.items()))
    return [ValueFlow(kind, value) for kind, value in rounded if value]
