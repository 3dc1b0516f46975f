"""Reads of manufacturing, at a constant number of queries."""

from __future__ import annotations

from decimal import Decimal

from django.db.models import Count, Prefetch, QuerySet

from inventory.selectors import reserved_by_demand
from manufacturing.models import (
    BillOfMaterials,
    BomComponent,
    ManufacturingOrder,
    MOComponent,
    MrpRun,
    MrpSuggestion,
)
from manufacturing.services.orders import DEMAND_TYPE


def bom_list() -> QuerySet[BillOfMaterials]:
    return (
        BillOfMaterials.objects.select_related("product__stock_unit")
        .annotate(
            component_count=Count("components", distinct=True),
            operation_count=Count("operations", distinct=True),
        )
        .order_by("product__sku", "-version")
    )


def bom_detail(pk: int) -> BillOfMaterials:
    return (
        BillOfMaterials.objects.select_related("product__stock_unit", "created_by")
        .prefetch_related(
            Prefetch(
                "components",
                queryset=BomComponent.objects.select_related("product__stock_unit", "unit", "bom"),
            ),
            "operations__work_centre",
        )
        .get(pk=pk)
    )


def mo_list() -> QuerySet[ManufacturingOrder]:
    return ManufacturingOrder.objects.select_related("product__stock_unit", "warehouse", "bom").order_by(
        "-planned_start", "-id"
    )


def mo_detail(pk: int) -> ManufacturingOrder:
    return (
        ManufacturingOrder.objects.select_related("product__stock_unit", "warehouse", "bom", "created_by")
        .prefetch_related(
            Prefetch("components", queryset=MOComponent.objects.select_related("product__stock_unit"))
        )
        .get(pk=pk)
    )


def reserved_by_component(line_ids: list[int]) -> dict[int, Decimal]:
    """Stock still held for each component line, in one query."""
    return reserved_by_demand(DEMAND_TYPE, line_ids)


def latest_run() -> MrpRun | None:
    return MrpRun.objects.order_by("-started_at").first()


def suggestion_list(run: MrpRun | None = None) -> QuerySet[MrpSuggestion]:
    qs = MrpSuggestion.objects.select_related("product__stock_unit", "warehouse", "supplier_item__supplier")
    if run is not None:
        qs = qs.filter(run=run)
    return qs.order_by("level", "release_date", "id")
