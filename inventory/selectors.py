"""Reads of inventory: querysets with what their callers need, at a constant number of queries."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import (
    Count,
    DecimalField,
    Exists,
    F,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce, Lower

from erp.money import ZERO
from inventory import availability
from inventory.models import (
    Barcode,
    CountSheet,
    CountStatus,
    Location,
    LocationKind,
    Product,
    ProductKind,
    ProductUnit,
    ReorderRule,
    Reservation,
    ReservationStatus,
    StockCheckRun,
    StockLevel,
    StockMove,
    Transfer,
    TransferStatus,
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


def attach_barcodes(rows: list[dict[str, Any]]) -> None:
    """Each product row's barcodes, by code: one query for a list's page (its rows read as columns)."""
    codes: dict[int, list[str]] = {row["pk"]: [] for row in rows}
    found = Barcode.objects.filter(product_id__in=codes).order_by("code").values_list("product_id", "code")
    for product_id, code in found:
        codes[product_id].append(code)
    for row in rows:
        row["barcodes"] = codes[row["pk"]]


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


def active_products() -> QuerySet[Product]:
    """Products not archived: what the pickers offer and the inventory landing page counts."""
    return Product.objects.filter(is_active=True)


def stocked_product_find(query: str) -> QuerySet[Product]:
    """Active stocked products by SKU, barcode or name (``product_find``), by SKU, with their stock
    unit: what a purchase order line or a BOM component may be. One query (slice it)."""
    return (
        product_find(query)
        .filter(kind=ProductKind.STOCKED, is_active=True)
        .select_related("stock_unit")
        .order_by("sku")
    )


def skus_taken(skus: Iterable[str]) -> set[str]:
    """Which of these SKUs a product has already, lower-cased (SKUs are unique ignoring case). One query."""
    wanted = {sku.lower() for sku in skus}
    return set(
        Product.objects.annotate(sku_lower=Lower("sku"))
        .filter(sku_lower__in=wanted)
        .values_list("sku_lower", flat=True)
    )


def products_with_units(ids: Iterable[int]) -> dict[int, Product]:
    """Products by id with their stock unit and their other units (smallest factor first): the units a
    line editor offers. Two queries (none without ids)."""
    units = ProductUnit.objects.select_related("unit").order_by("factor")
    return (
        Product.objects.select_related("stock_unit")
        .prefetch_related(Prefetch("units", queryset=units))
        .in_bulk(set(ids))
    )


def product_detail(pk: int) -> Product:
    return (
        Product.objects.select_related("stock_unit", "category", "template", "created_by", "updated_by")
        .prefetch_related(
            "barcodes__unit__unit", "units__unit", "attribute_values__attribute", "reorder_rules__warehouse"
        )
        .get(pk=pk)
    )


@dataclass(frozen=True)
class ProductAvailability:
    """A product's availability in each warehouse where it has stock or flows (by warehouse code), and
    over all of them."""

    per_warehouse: list[tuple[Warehouse, availability.Availability]]
    total: availability.Availability


def product_availability(product_id: int) -> ProductAvailability:
    """What the product page and the API's product answer show per warehouse: the queries of
    ``availability.by_warehouse`` and one for the warehouses (none when there is nothing)."""
    flows = availability.by_warehouse([product_id])
    warehouses = Warehouse.objects.in_bulk({w for _, w in flows})
    per_warehouse = sorted(
        ((warehouses[w], a) for (_, w), a in flows.items() if w in warehouses), key=lambda row: row[0].code
    )
    total = availability.Availability(
        on_hand=sum((a.on_hand for _, a in per_warehouse), ZERO),
        reserved=sum((a.reserved for _, a in per_warehouse), ZERO),
        incoming=sum((a.incoming for _, a in per_warehouse), ZERO),
        outgoing=sum((a.outgoing for _, a in per_warehouse), ZERO),
    )
    return ProductAvailability(per_warehouse=per_warehouse, total=total)


def warehouse_list() -> QuerySet[Warehouse]:
    return Warehouse.objects.order_by("code")


def warehouse_choices() -> QuerySet[Warehouse]:
    """Every warehouse by code, with only what a filter's choices show (id, code, name). One query."""
    return warehouse_list().only("pk", "code", "name")


def sole_warehouse_id(*, active_only: bool = True) -> int | None:
    """The id of the only warehouse (of the active ones, unless ``active_only`` is false), or None when
    there are none or several: the warehouse a form preselects. One query."""
    warehouses = Warehouse.objects.filter(is_active=True) if active_only else Warehouse.objects.all()
    ids = list(warehouses.order_by("code").values_list("pk", flat=True)[:2])
    return ids[0] if len(ids) == 1 else None


def bin_counts() -> dict[int, int]:
    """How many stock bins (internal locations) each warehouse has, by warehouse id. One query."""
    return dict(
        Location.objects.filter(kind=LocationKind.INTERNAL, warehouse__isnull=False)
        .values("warehouse")
        .annotate(n=Count("pk"))
        .values_list("warehouse", "n")
    )


@dataclass(frozen=True)
class LocationStock:
    """What is on hand in one location in one stock unit, and how many products have stock there."""

    location_id: int
    unit: str  # the stock unit's code: kilograms are never added to pieces
    quantity: Decimal
    products: int  # products with a non-zero quantity on hand here, in this unit


def location_stock(warehouse: Warehouse) -> list[LocationStock]:
    """The stock of each location of the warehouse per stock unit, by location and unit. One query."""
    rows = (
        StockLevel.objects.filter(warehouse=warehouse)
        .values("location_id", "product__stock_unit__code")
        .annotate(
            quantity=Sum("on_hand"),
            products=Count("product_id", filter=~Q(on_hand=0), distinct=True),
        )
        .order_by("location_id", "product__stock_unit__code")
    )
    return [
        LocationStock(
            location_id=row["location_id"],
            unit=row["product__stock_unit__code"],
            quantity=row["quantity"] or ZERO,
            products=row["products"] or 0,
        )
        for row in rows
    ]


def location_list(*, warehouse_id: int | None = None, include_virtual: bool = False) -> QuerySet[Location]:
    qs = Location.objects.select_related("warehouse", "parent")
    if warehouse_id is not None:
        qs = qs.filter(warehouse_id=warehouse_id)
    elif not include_virtual:
        qs = qs.filter(warehouse__isnull=False)
    return qs.order_by("path")


def location_by_code(code: str) -> Location | None:
    """A warehouse's location by what a scanner read: its barcode, or its path in any case. One query."""
    return (
        Location.objects.select_related("warehouse")
        .filter(Q(barcode=code) | Q(path__iexact=code), warehouse__isnull=False)
        .first()
    )


AVAILABLE = F("on_hand") - F("reserved")  # a level's available, as a column (StockLevel.available)


def level_list(*, include_virtual: bool = True) -> QuerySet[StockLevel]:
    """Levels by SKU, then location path, then id: sorted by the level's own copies of the SKU and
    the path (``product_sku``, ``location_path``), the order a join to products and locations gave,
    read from an index instead of sorting every level. Without ``include_virtual``, only the levels
    in warehouses' bins, not their counterparts at the virtual supplier, customer... locations: the
    lists' default, which ``inv_level_sort_idx`` holds in this order. They are told apart by the
    level's own warehouse, not by a join to the location's kind (the join cost 4 times the page):
    a level in a warehouse is in a bin, the ledger refusing zones."""
    levels = StockLevel.objects.select_related("product__stock_unit", "location", "warehouse", "lot")
    if not include_virtual:
        levels = levels.filter(warehouse__isnull=False)
    return levels.order_by("product_sku", "location_path", "pk")


def move_list(*, with_reversed: bool = False) -> QuerySet[StockMove]:
    """The ledger, newest first; with ``with_reversed``, each move's ``is_reversed`` (one subquery)."""
    moves = StockMove.objects.select_related(
        "product__stock_unit", "from_location", "to_location", "lot", "user"
    ).order_by("-created_at", "-id")
    if with_reversed:
        moves = moves.annotate(is_reversed=Exists(StockMove.objects.filter(reversal_of=OuterRef("pk"))))
    return moves


def reversed_by(move: StockMove) -> int | None:
    """The id of the move that reversed this one (a move is reversed once at most), or None. One query."""
    return StockMove.objects.filter(reversal_of=move).values_list("pk", flat=True).first()


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


def transfers_in_transit() -> QuerySet[Transfer]:
    """Two-step transfers shipped and not received yet, newest first, with their lines."""
    return transfer_list().filter(status=TransferStatus.IN_TRANSIT)


def stock_check_run_list() -> QuerySet[StockCheckRun]:
    """Runs of the stock check (every level recomputed from the ledger), latest first."""
    return StockCheckRun.objects.select_related("triggered_by").order_by("-started_at", "-pk")


def last_stock_check() -> StockCheckRun | None:
    """The latest run of the stock check, or None. One query."""
    return stock_check_run_list().first()


def count_sheet_list() -> QuerySet[CountSheet]:
    return CountSheet.objects.select_related("location__warehouse", "created_by").order_by("-created_at")


def open_count_sheets() -> QuerySet[CountSheet]:
    """Count sheets still being counted (not applied or cancelled), newest first."""
    return count_sheet_list().filter(status=CountStatus.OPEN)


def count_sheet_detail(pk: int) -> CountSheet:
    return (
        CountSheet.objects.select_related("location__warehouse")
        .prefetch_related("lines__product__stock_unit", "lines__lot")
        .get(pk=pk)
    )
