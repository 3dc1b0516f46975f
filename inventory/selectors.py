"""Reads of inventory: querysets with what their callers need, at a constant number of queries."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from django.db.models import (
    DecimalField,
    Exists,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce

from erp.money import ZERO
from inventory.models import (
    Barcode,
    CountSheet,
    Location,
    LocationKind,
    Product,
    ReorderRule,
    Reservation,
    ReservationStatus,
    StockCheckRun,
    StockLevel,
    StockMove,
    Transfer,
    Warehouse,
)

QTY: DecimalField[object, object] = DecimalField(max_digits=18, decimal_places=4)


def _active_for_outer_demand(demand_type: str) -> QuerySet[Reservation]:
    """Active reservations for the demand line that is the outer query's row (``OuterRef("pk")``)."""
    return Reservation.objects.filter(
        demand_type=demand_type,
        status=ReservationStatus.ACTIVE,
        demand_pk=OuterRef("pk"),
    )


def reserved_for_demand(demand_type: str) -> Coalesce:
    """An annotation: what is still reserved for each demand line of the outer query (a sales order
    line, a manufacturing component line), 0 when nothing; one subquery, whatever the page size.

    ``OrderLine.objects.annotate(reserved=reserved_for_demand("sales.orderline"))``
    """
    total = (
        _active_for_outer_demand(demand_type)
        .order_by()
        .values("demand_pk")
        .annotate(total=Sum("quantity"))
        .values("total")
    )
    return Coalesce(Subquery(total, output_field=QTY), Value(ZERO), output_field=QTY)


def has_reservation_for_demand(demand_type: str) -> Exists:
    """A filter: the outer query's demand line has stock held for it."""
    return Exists(_active_for_outer_demand(demand_type))


def reserved_by_demand(demand_type: str, demand_pks: Iterable[int]) -> dict[int, Decimal]:
    """What is still reserved for each of these demand lines (absent: nothing), in one query."""
    pks = list(demand_pks)
    if not pks:
        return {}
    rows = (
        Reservation.objects.filter(
            demand_type=demand_type, demand_pk__in=pks, status=ReservationStatus.ACTIVE
        )
        .order_by()
        .values("demand_pk")
        .annotate(total=Sum("quantity"))
        .values_list("demand_pk", "total")
    )
    return {pk: total for pk, total in rows if pk is not None}


def active_reservations_by_demand(
    demand_type: str, demand_pks: Iterable[int]
) -> dict[int, list[Reservation]]:
    """The active reservations of each of these demand lines, oldest first (to consume or release)."""
    held: dict[int, list[Reservation]] = {}
    rows = Reservation.objects.filter(
        demand_type=demand_type, demand_pk__in=list(demand_pks), status=ReservationStatus.ACTIVE
    ).order_by("pk")
    for reservation in rows:
        assert reservation.demand_pk is not None
        held.setdefault(reservation.demand_pk, []).append(reservation)
    return held


def _level_sum(field: str, warehouse_id: int | None = None) -> Coalesce:
    levels = StockLevel.objects.filter(product=OuterRef("pk"), location__kind=LocationKind.INTERNAL)
    if warehouse_id is not None:
        levels = levels.filter(warehouse_id=warehouse_id)
    total = levels.order_by().values("product").annotate(total=Sum(field)).values("total")
    return Coalesce(Subquery(total, output_field=QTY), Value(ZERO), output_field=QTY)


def product_list(*, warehouse_id: int | None = None) -> QuerySet[Product]:
    """Products with on_hand and reserved (in stock locations), unit, category and barcodes."""
    return (
        Product.objects.select_related("stock_unit", "category", "template")
        .prefetch_related(Prefetch("barcodes", queryset=Barcode.objects.order_by("code")))
        .annotate(on_hand=_level_sum("on_hand", warehouse_id), reserved=_level_sum("reserved", warehouse_id))
    )


def product_find(query: str) -> QuerySet[Product]:
    """By SKU (exact or prefix, any case), barcode, or name."""
    query = query.strip()
    return Product.objects.filter(
        Q(sku__iexact=query) | Q(sku__istartswith=query) | Q(barcodes__code=query) | Q(name__icontains=query)
    ).distinct()


def product_by_code(code: str) -> tuple[Product, Barcode | None] | None:
    """What a scanner sent: a barcode (maybe of a box) or a SKU. Exact matches only."""
    code = code.strip()
    barcode = Barcode.objects.select_related("product__stock_unit", "unit__unit").filter(code=code).first()
    if barcode is not None:
        return barcode.product, barcode
    product = Product.objects.select_related("stock_unit").filter(sku__iexact=code).first()
    return (product, None) if product else None


def product_detail(pk: int) -> Product:
    return (
        Product.objects.select_related("stock_unit", "category", "template", "created_by", "updated_by")
        .prefetch_related(
            "barcodes__unit__unit", "units__unit", "attribute_values__attribute", "reorder_rules__warehouse"
        )
        .get(pk=pk)
    )


def warehouse_list() -> QuerySet[Warehouse]:
    return Warehouse.objects.order_by("code")


def location_list(*, warehouse_id: int | None = None, include_virtual: bool = False) -> QuerySet[Location]:
    qs = Location.objects.select_related("warehouse", "parent")
    if warehouse_id is not None:
        qs = qs.filter(warehouse_id=warehouse_id)
    elif not include_virtual:
        qs = qs.filter(warehouse__isnull=False)
    return qs.order_by("path")


def level_list() -> QuerySet[StockLevel]:
    return StockLevel.objects.select_related("product__stock_unit", "location", "warehouse", "lot").order_by(
        "product__sku", "location__path"
    )


def move_list() -> QuerySet[StockMove]:
    return StockMove.objects.select_related(
        "product__stock_unit", "from_location", "to_location", "lot", "user"
    ).order_by("-created_at", "-id")


def reservation_list(*, active_only: bool = True) -> QuerySet[Reservation]:
    qs = Reservation.objects.select_related("product__stock_unit", "location", "lot")
    if active_only:
        qs = qs.filter(status=ReservationStatus.ACTIVE)
    return qs.order_by("created_at", "id")


def reorder_rule_list() -> QuerySet[ReorderRule]:
    return ReorderRule.objects.select_related("product__stock_unit", "warehouse").order_by(
        "product__sku", "warehouse__code"
    )


def transfer_list() -> QuerySet[Transfer]:
    return (
        Transfer.objects.select_related("from_location", "to_location")
        .prefetch_related("lines__product", "lines__lot")
        .order_by("-created_at")
    )


def stock_check_run_list() -> QuerySet[StockCheckRun]:
    return StockCheckRun.objects.select_related("triggered_by").order_by("-started_at")


def count_sheet_list() -> QuerySet[CountSheet]:
    return CountSheet.objects.select_related("location__warehouse", "created_by").order_by("-created_at")


def count_sheet_detail(pk: int) -> CountSheet:
    return (
        CountSheet.objects.select_related("location__warehouse")
        .prefetch_related("lines__product__stock_unit", "lines__lot")
        .get(pk=pk)
    )
