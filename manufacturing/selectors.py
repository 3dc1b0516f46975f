"""Reads of manufacturing, at a constant number of queries."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from decimal import Decimal
from typing import TypedDict

from django.db.models import Count, Exists, F, OuterRef, Prefetch, Q, QuerySet

from inventory.models import Product
from inventory.selectors import reserved_by_demand, reserved_for_demand
from manufacturing import lifecycle
from manufacturing.models import (
    BillOfMaterials,
    BomComponent,
    ManufacturingOrder,
    MOComponent,
    MOStatus,
    MrpRun,
    MrpSuggestion,
    WorkCentre,
)
from manufacturing.services.orders import DEMAND_TYPE
from procurement.models import PurchaseOrder

OPEN = "open"  # the key of the open orders (lifecycle.OPEN_STATUSES) in order_status_counts


# --- work centres ----------------------------------------------------------------------------------


def work_centre_list(q: str = "") -> QuerySet[WorkCentre]:
    """Work centres by code; with ``q``, those whose code starts with it or whose name contains it
    (any case)."""
    centres = WorkCentre.objects.order_by("code")
    q = q.strip()
    if q:
        centres = centres.filter(Q(code__istartswith=q) | Q(name__icontains=q))
    return centres


def work_centres_with_operation_count() -> QuerySet[WorkCentre]:
    """Work centres by code, each with ``operation_count``: the BOM operations run on it. One query."""
    return WorkCentre.objects.annotate(operation_count=Count("operations")).order_by("code")


# --- bills of materials ----------------------------------------------------------------------------


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


def bom_versions(product: Product) -> list[BillOfMaterials]:
    """Every version of the product's BOM, newest first. One query."""
    return list(BillOfMaterials.objects.filter(product=product).order_by("-version"))


def has_active_bom(product: Product) -> bool:
    """Whether the product has an active BOM (the one new orders use). One query."""
    return BillOfMaterials.objects.filter(product=product, is_active=True).exists()


def active_boms_by_product(product_ids: Iterable[int]) -> dict[int, BillOfMaterials]:
    """The active BOM of each of these products that has one (product id -> BOM): the products made
    here, sub-assemblies when they are components. One query."""
    boms = BillOfMaterials.objects.filter(product_id__in=list(product_ids), is_active=True)
    return {bom.product_id: bom for bom in boms}


class BomFigures(TypedDict):
    active: int
    all: int


def bom_figures() -> BomFigures:
    """How many BOMs there are, and how many of them are active. One query."""
    counts = BillOfMaterials.objects.aggregate(active=Count("pk", filter=Q(is_active=True)), all=Count("pk"))
    return BomFigures(active=counts["active"], all=counts["all"])


# --- manufacturing orders --------------------------------------------------------------------------


def mo_list() -> QuerySet[ManufacturingOrder]:
    return ManufacturingOrder.objects.select_related("product__stock_unit", "warehouse", "bom").order_by(
        "-planned_start", "-id"
    )


def mo_component_lines() -> QuerySet[MOComponent]:
    """Component lines with product and unit, each with ``reserved``: what is still held for it (one
    subquery, whatever the number of lines)."""
    return MOComponent.objects.select_related("product__stock_unit").annotate(
        reserved=reserved_for_demand(DEMAND_TYPE)
    )


def mo_detail(pk: int) -> ManufacturingOrder:
    """An order with its product, warehouse, BOM and author, and its component lines as
    ``mo_component_lines`` reads them (with ``reserved``). Two queries."""
    return (
        ManufacturingOrder.objects.select_related("product__stock_unit", "warehouse", "bom", "created_by")
        .prefetch_related(Prefetch("components", queryset=mo_component_lines()))
        .get(pk=pk)
    )


def short_component_lines() -> QuerySet[MOComponent]:
    """Component lines whose unconsumed quantity is not all reserved: what an order still needs that is
    not held for it (one subquery per line)."""
    return MOComponent.objects.annotate(held=reserved_for_demand(DEMAND_TYPE)).filter(
        quantity_required__gt=F("quantity_consumed") + F("held")
    )


def with_shortage(orders: QuerySet[ManufacturingOrder]) -> QuerySet[ManufacturingOrder]:
    """These orders, each with ``short``: whether one of its component lines is short (one subquery)."""
    return orders.annotate(short=Exists(short_component_lines().filter(order=OuterRef("pk"))))


def order_status_counts(orders: QuerySet[ManufacturingOrder]) -> dict[str, int]:
    """How many of these orders are in each status, how many are open (``lifecycle.OPEN_STATUSES``,
    under the key ``OPEN``) and how many there are (``"all"``): the order list's tabs. One query."""
    aggregates = {"all": Count("pk"), OPEN: Count("pk", filter=Q(status__in=lifecycle.OPEN_STATUSES))}
    for status in MOStatus:
        aggregates[status.value] = Count("pk", filter=Q(status=status))
    counts: dict[str, int] = orders.order_by().aggregate(**aggregates)
    return counts


class OrderFigures(TypedDict):
    in_progress: int
    confirmed: int
    confirmed_short: int  # confirmed, with a component line short (``short_component_lines``)
    drafts: int


def order_figures() -> OrderFigures:
    """The orders to act on: in progress, confirmed (and of them short of a component), drafts. One
    query."""
    counts = with_shortage(ManufacturingOrder.objects.all()).aggregate(
        in_progress=Count("pk", filter=Q(status=MOStatus.IN_PROGRESS)),
        confirmed=Count("pk", filter=Q(status=MOStatus.CONFIRMED)),
        confirmed_short=Count("pk", filter=Q(status=MOStatus.CONFIRMED, short=True)),
        drafts=Count("pk", filter=Q(status=MOStatus.DRAFT)),
    )
    return OrderFigures(
        in_progress=counts["in_progress"],
        confirmed=counts["confirmed"],
        confirmed_short=counts["confirmed_short"],
        drafts=counts["drafts"],
    )


def reserved_by_component(line_ids: list[int]) -> dict[int, Decimal]:
    """Stock still held for each component line, in one query."""
    return reserved_by_demand(DEMAND_TYPE, line_ids)


# --- MRP -----------------------------------------------------------------------------------------


def latest_run() -> MrpRun | None:
    return MrpRun.objects.order_by("-started_at").first()


def suggestion_list(run: MrpRun | None = None) -> QuerySet[MrpSuggestion]:
    qs = MrpSuggestion.objects.select_related("product__stock_unit", "warehouse", "supplier_item__supplier")
    if run is not None:
        qs = qs.filter(run=run)
    return qs.order_by("level", "release_date", "id")


class SuggestionStats(TypedDict):
    total: int
    open: int  # not converted to an order yet
    late: int  # open, to release before today


def suggestion_stats(run: MrpRun, today: datetime.date) -> SuggestionStats:
    """How many suggestions the run made, how many are still open and how many of those are late. One
    query."""
    counts = MrpSuggestion.objects.filter(run=run).aggregate(
        total=Count("pk"),
        open=Count("pk", filter=Q(converted_to="")),
        late=Count("pk", filter=Q(converted_to="", release_date__lt=today)),
    )
    return SuggestionStats(total=counts["total"], open=counts["open"], late=counts["late"])


def converted_documents(numbers: Iterable[str]) -> dict[str, int]:
    """The ids of the orders suggestions were converted to, by number (``MO-...`` manufacturing orders,
    ``PO-...`` purchase orders): at most two queries, whatever their number."""
    numbers = set(numbers)
    mos = [n for n in numbers if n.startswith("MO-")]
    pos = [n for n in numbers if n.startswith("PO-")]
    found: dict[str, int] = {}
    if mos:
        found.update(ManufacturingOrder.objects.filter(number__in=mos).values_list("number", "pk"))
    if pos:
        found.update(PurchaseOrder.objects.filter(number__in=pos).values_list("number", "pk"))
    return found
