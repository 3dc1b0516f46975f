"""What the stock is worth: now (levels x moving-average cost) and as of any past date (the ledger)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db.models import DecimalField, ExpressionWrapper, F, QuerySet, Sum

from erp.money import ZERO
from inventory.models import LocationKind, StockLevel, StockMove, Warehouse

VALUE = ExpressionWrapper(
    F("quantity") * F("unit_cost"), output_field=DecimalField(max_digits=30, decimal_places=8)
)


@dataclass(frozen=True)
class WarehouseValue:
    warehouse: Warehouse
    quantity: Decimal
    value: Decimal


def current_by_warehouse() -> list[WarehouseValue]:
    """On hand x current moving-average cost, per warehouse, in one query."""
    rows = (
        StockLevel.objects.filter(location__kind=LocationKind.INTERNAL)
        .values("warehouse_id")
        .annotate(
            quantity=Sum("on_hand"),
            value=Sum(
                ExpressionWrapper(
                    F("on_hand") * F("product__average_cost"),
                    output_field=DecimalField(max_digits=30, decimal_places=8),
                )
            ),
        )
    )
    found = {r["warehouse_id"]: r for r in rows}
    return [
        WarehouseValue(
            warehouse=w,
            quantity=found.get(w.pk, {}).get("quantity") or ZERO,
            value=(found.get(w.pk, {}).get("value") or ZERO).quantize(Decimal("0.01")),
        )
        for w in Warehouse.objects.order_by("code")
    ]


def as_of(moment: datetime) -> list[WarehouseValue]:
    """Quantity and value per warehouse at ``moment``, from the ledger: value in minus value out.

    Each move carries the cost it moved at, so the past is read as it was.
    Two grouped queries over the indexed (location, created_at) columns.
    """
    base = StockMove.objects.filter(created_at__lte=moment)
    inbound = {
        r["to_location__warehouse_id"]: r
        for r in base.filter(to_location__kind=LocationKind.INTERNAL)
        .values("to_location__warehouse_id")
        .annotate(value=Sum(VALUE), quantity=Sum("quantity"))  # value first: it reads the field
    }
    outbound = {
        r["from_location__warehouse_id"]: r
        for r in base.filter(from_location__kind=LocationKind.INTERNAL)
        .values("from_location__warehouse_id")
        .annotate(value=Sum(VALUE), quantity=Sum("quantity"))  # value first: it reads the field
    }
    result = []
    for warehouse in Warehouse.objects.order_by("code"):
        i, o = inbound.get(warehouse.pk, {}), outbound.get(warehouse.pk, {})
        quantity = (i.get("quantity") or ZERO) - (o.get("quantity") or ZERO)
        value = (i.get("value") or ZERO) - (o.get("value") or ZERO)
        result.append(
            WarehouseValue(warehouse=warehouse, quantity=quantity, value=value.quantize(Decimal("0.01")))
        )
    return result


def by_product(warehouse_id: int | None = None) -> QuerySet[StockLevel, dict[str, Any]]:
    """Current value per product (for the report's detail), largest first."""
    levels = StockLevel.objects.filter(location__kind=LocationKind.INTERNAL)
    if warehouse_id is not None:
        levels = levels.filter(warehouse_id=warehouse_id)
    return (
        levels.values("product_id", "product__sku", "product__name", "product__average_cost")
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
