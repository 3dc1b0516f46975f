"""The inventory JSON API, mounted at /api/v1/inventory/.

Thin handlers: parse the input, look up what it references (404 when an id is
unknown), call a service or selector, answer with a schema. Reads need
``inventory:read``, everything else ``inventory:write`` (ErpAuth). Lists are
paginated (``page``, ``page_size``: ``{"count", "items"}``) and filtered with the
FilterSets of inventory.filters, the same the pages use, and take ``ordering`` (an
allow-list per list), ``updated_since`` where the rows keep an ``updated_at`` (moves: when
made) -- see erp.api_helpers. Products and warehouses answer an ``ETag`` and their PATCH
takes ``If-Match`` (412 when stale; erp.concurrency). Stock moves are never changed or
deleted: there is no PUT, PATCH or DELETE for them (405). Bulk: products upserted by SKU and
counted stock levels set, many in one request, all or nothing.
"""

from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from ninja import Query, Router
from ninja.pagination import PageNumberPagination, paginate

from erp.api_helpers import Listing, base_currency, filtered, get_or_404, no_nulls, user_of
from erp.apiauth import ErpAuth
from erp.concurrency import if_match_param, locked_for_update, with_etag
from erp.exceptions import NotFound, ValidationFailed
from erp.money import ZERO, quantize_quantity
from inventory import availability, integrity, replenishment, selectors, services, valuation
from inventory.filters import (
    CountSheetFilter,
    LevelFilter,
    LocationFilter,
    MoveFilter,
    ProductFilter,
    ReorderRuleFilter,
    ReservationFilter,
    TransferFilter,
    WarehouseFilter,
)
from inventory.ledger import Document
from inventory.models import (
    Category,
    CountSheet,
    Location,
    LocationKind,
    Lot,
    Product,
    ReorderRule,
    Reservation,
    StockCheckRun,
    StockLevel,
    StockMove,
    Transfer,
    Warehouse,
)
from inventory.schemas import (
    COUNT_ORDERING,
    LEVEL_ORDERING,
    LOCATION_ORDERING,
    MOVE_ORDERING,
    PRODUCT_ORDERING,
    REORDER_RULE_ORDERING,
    RESERVATION_ORDERING,
    STOCK_CHECK_ORDERING,
    TRANSFER_ORDERING,
    WAREHOUSE_ORDERING,
    AdjustmentIn,
    AdjustmentOut,
    ConsumeIn,
    ConsumeOut,
    CountApplyIn,
    CountedLevelsIn,
    CountedLevelsOut,
    CountLineIn,
    CountLineOut,
    CountSheetDetailOut,
    CountSheetFilterIn,
    CountSheetIn,
    CountSheetOut,
    DirectTransferOut,
    IssueIn,
    LevelFilterIn,
    LevelOut,
    LocationFilterIn,
    LocationIn,
    LocationOut,
    LocationPatchIn,
    MoveDetailOut,
    MoveFilterIn,
    MoveOut,
    ProductBulkUpsertIn,
    ProductBulkUpsertOut,
    ProductDetailOut,
    ProductFilterIn,
    ProductIn,
    ProductLookupOut,
    ProductOut,
    ProductPatchIn,
    ProductTemplateIn,
    ProductTemplateOut,
    ProductUnitIn,
    ProductUnitOut,
    ReceiptIn,
    ReorderRuleFilterIn,
    ReorderRuleIn,
    ReorderRuleOut,
    ReplenishmentSuggestionOut,
    ReservationFilterIn,
    ReservationIn,
    ReservationOut,
    ReservationQuantityIn,
    ReserveOut,
    ReverseIn,
    ScrapIn,
    StockCheckDetailOut,
    StockCheckFilterIn,
    StockCheckOut,
    TransferFilterIn,
    TransferIn,
    TransferOut,
    ValuationOut,
    VariantFilterIn,
    VariantOut,
    WarehouseFilterIn,
    WarehouseIn,
    WarehouseOut,
    WarehousePatchIn,
)
from inventory.services.bulk import CountResult

router = Router(tags=["Inventory"], auth=ErpAuth("inventory"))

PAGE_SIZE = 50


# --- lists and input helpers ----------------------------------------------------------------------


PRODUCTS = Listing(ordering=PRODUCT_ORDERING)
WAREHOUSES = Listing(ordering=WAREHOUSE_ORDERING)
LOCATIONS = Listing(ordering=LOCATION_ORDERING, updated=None)
LEVELS = Listing(ordering=LEVEL_ORDERING, updated=None)
MOVES = Listing(ordering=MOVE_ORDERING, updated="created_at")
TRANSFERS = Listing(ordering=TRANSFER_ORDERING)
COUNT_SHEETS = Listing(ordering=COUNT_ORDERING)
RESERVATIONS = Listing(ordering=RESERVATION_ORDERING, updated=None)
REORDER_RULES = Listing(ordering=REORDER_RULE_ORDERING)
STOCK_CHECKS = Listing(ordering=STOCK_CHECK_ORDERING, updated=None)


def _product(pk: int, field: str | None = "product") -> Product:
    return get_or_404(Product.objects.select_related("stock_unit"), pk, "product", field=field)


def _location(pk: int, field: str | None = "location") -> Location:
    return get_or_404(Location.objects.select_related("warehouse"), pk, "location", field=field)


def _warehouse(pk: int, field: str | None = "warehouse") -> Warehouse:
    return get_or_404(Warehouse, pk, "warehouse", field=field)


def _lot(pk: int | None, field: str = "lot") -> Lot | None:
    return None if pk is None else get_or_404(Lot, pk, "lot", field=field)


def _warehouse_filter(pk: int | None) -> int | None:
    """A ``warehouse`` query parameter outside a FilterSet: unknown is an invalid filter (422)."""
    if pk is not None and not Warehouse.objects.filter(pk=pk).exists():
        raise ValidationFailed("Invalid filter.", field_errors={"warehouse": [f"No warehouse with id {pk}."]})
    return pk


def _aware(moment: datetime) -> datetime:
    return timezone.make_aware(moment) if timezone.is_naive(moment) else moment


# --- products -------------------------------------------------------------------------------------


def _product_detail(pk: int) -> Product:
    """A product as ProductDetailOut reads it: related rows prefetched, availability attached."""
    try:
        product = selectors.product_detail(pk)
    except Product.DoesNotExist:
        raise NotFound(f"No product with id {pk}.") from None
    flows = availability.by_warehouse([pk])
    codes = dict(Warehouse.objects.filter(pk__in={w for _, w in flows}).values_list("pk", "code"))
    rows = [
        {
            "warehouse": warehouse_id,
            "warehouse_code": codes.get(warehouse_id, ""),
            "on_hand": a.on_hand,
            "reserved": a.reserved,
            "available": a.available,
            "incoming": a.incoming,
            "outgoing": a.outgoing,
            "projected": a.projected,
        }
        for (_, warehouse_id), a in sorted(flows.items(), key=lambda item: codes.get(item[0][1], ""))
    ]
    product.availability = rows  # type: ignore[attr-defined]
    product.on_hand = sum((a.on_hand for a in flows.values()), ZERO)  # type: ignore[attr-defined]
    product.reserved = sum((a.reserved for a in flows.values()), ZERO)  # type: ignore[attr-defined]
    return product


@router.get("/products", response=list[ProductOut])
@paginate(PageNumberPagination, page_size=PAGE_SIZE)
def product_list(request: HttpRequest, filters: Query[ProductFilterIn]) -> QuerySet[Product]:
    """Products with on hand, reserved and available over the stock bins (of one warehouse with
    ``warehouse``). ``q`` matches a SKU prefix, an exact barcode or part of the name."""
    queryset = selectors.product_list(warehouse_id=_warehouse_filter(filters.warehouse))
    return filtered(ProductFilter, filters, queryset, listing=PRODUCTS, exclude={"warehouse"})


@router.post("/products", response={201: ProductDetailOut})
def product_create(request: HttpRequest, payload: ProductIn) -> Product:
    """A product (a SKU). SKUs are unique ignoring case."""
    data = payload.model_dump()
    category_id = data.pop("category")
    category = (
        get_or_404(Category, category_id, "category", field="category") if category_id is not None else None
    )
    product = services.product_create(**data, category=category, user=user_of(request))
    return _product_detail(product.pk)


# Before /products/{product_id}: the first matching path wins.
@router.post("/products/bulk-upsert", response=ProductBulkUpsertOut)
def product_bulk_upsert(request: HttpRequest, payload: ProductBulkUpsertIn) -> dict[str, Any]:
    """Create or update many products by SKU (any case) in one transaction, validated as a whole:
    when any item is refused the answer is 422 with errors per item (``items.3.sku``) and nothing
    is written. Fields left out of an item are left as they are; a new SKU needs a ``name``."""
    items = [
        services.ProductUpsert(
            sku=item.sku,
            values={
                name: value.strip() if isinstance(value, str) and name != "description" else value
                for name, value in item.model_dump(
                    exclude_unset=True, exclude={"sku", "barcodes", "is_active"}
                ).items()
            },
            barcodes=item.barcodes,
            is_active=item.is_active,
        )
        for item in payload.items
    ]
    nulls = {
        f"items.{index}.{name}": ["Cannot be null."]
        for index, item in enumerate(items)
        for name, value in item.values.items()
        if value is None and name not in ("category", "weight")
    }
    if nulls:
        raise ValidationFailed(f"Cannot be null: {', '.join(nulls)}.", field_errors=nulls)
    done = services.products_upsert(items=items, user=user_of(request))
    return {
        "created": [u.sku for u in done if u.action == "created"],
        "updated": [u.sku for u in done if u.action == "updated"],
        "unchanged": [u.sku for u in done if u.action == "unchanged"],
        "items": [{"index": u.index, "sku": u.sku, "id": u.product.pk, "action": u.action} for u in done],
    }


@router.post("/stock/counted-levels", response=CountedLevelsOut)
def stock_counted_levels(request: HttpRequest, payload: CountedLevelsIn) -> CountResult:
    """Set the on-hand quantity of many (SKU, bin[, lot]) to what was counted, in one transaction,
    validated as a whole (422 with errors per item, nothing written). Each difference is booked as a
    count move to or from the adjustment location, so the ledger explains every unit; the moves share
    the document ``inventory.stockcount`` / ``batch``."""
    return services.stock_levels_set_counted(
        items=[
            services.CountedLevel(
                sku=item.sku,
                counted=item.counted,
                location=item.location,
                location_path=item.location_path or "",
                lot=item.lot or "",
                expiry_date=item.expiry_date,
            )
            for item in payload.items
        ],
        reference=payload.reference,
        reason=payload.reason,
        user=user_of(request),
    )


@router.get("/products/lookup", response=ProductLookupOut)
def product_lookup(request: HttpRequest, code: str) -> dict[str, Any]:
    """What a scanner read: an exact barcode (maybe of a box: then the unit and its factor) or SKU."""
    found = selectors.product_by_code(code)
    if found is None:
        raise NotFound(f"No product has the barcode or SKU '{code.strip()}'.")
    product, barcode = found
    unit = barcode.unit if barcode is not None else None
    return {
        "code": code.strip(),
        "matched": "barcode" if barcode is not None else "sku",
        "product": selectors.product_list().get(pk=product.pk),
        "unit": unit.unit.code if unit is not None else product.stock_unit.code,
        "factor": unit.factor if unit is not None else Decimal(1),
    }


@router.get("/products/{product_id}", response=ProductDetailOut)
def product_detail(request: HttpRequest, product_id: int, response: HttpResponse) -> Product:
    """A product with its units, attribute values, reorder rules and availability per warehouse
    (on hand, reserved, available, incoming, outgoing, projected). The ``ETag`` header names its
    version, for ``If-Match`` on PATCH."""
    product = _product_detail(product_id)
    with_etag(response, product)
    return product


@router.patch("/products/{product_id}", response=ProductDetailOut)
def product_update(
    request: HttpRequest,
    product_id: int,
    payload: ProductPatchIn,
    response: HttpResponse,
    if_match: str | None = if_match_param(),
) -> Product:
    """Change the fields sent. ``barcodes`` replaces the product's own (not its units') barcodes.
    With ``If-Match``: 412 when the product changed since it was read."""
    changes = payload.model_dump(exclude_unset=True)
    no_nulls(changes, nullable={"category", "weight"})
    barcodes = changes.pop("barcodes", None)
    if changes.get("category") is not None:
        changes["category"] = get_or_404(Category, changes["category"], "category", field="category")
    with locked_for_update(Product, product_id, what="product", if_match=if_match) as product:
        services.product_update(product=product, user=user_of(request), barcodes=barcodes, **changes)
    product = _product_detail(product_id)
    with_etag(response, product)
    return product


@router.post("/products/{product_id}/archive", response=ProductDetailOut)
def product_archive(request: HttpRequest, product_id: int) -> Product:
    """Archive a product: hidden from pickers, its history kept."""
    services.product_archive(product=_product(product_id, field=None), user=user_of(request))
    return _product_detail(product_id)


@router.post("/products/{product_id}/restore", response=ProductDetailOut)
def product_restore(request: HttpRequest, product_id: int) -> Product:
    services.product_archive(product=_product(product_id, field=None), user=user_of(request), active=True)
    return _product_detail(product_id)


@router.post("/products/{product_id}/units", response={201: ProductUnitOut})
def product_unit_set(request: HttpRequest, product_id: int, payload: ProductUnitIn) -> Any:
    """Add (or change) an alternative unit: 1 ``unit`` = ``factor`` stock units, maybe with a barcode."""
    product = _product(product_id, field=None)
    return services.product_unit_set(
        product=product, unit=payload.unit, factor=payload.factor, barcode=payload.barcode
    )


@router.get("/products/{product_id}/variants", response=list[VariantOut])
@paginate(PageNumberPagination, page_size=PAGE_SIZE)
def product_variants(
    request: HttpRequest, product_id: int, filters: Query[VariantFilterIn]
) -> QuerySet[Product]:
    """The variants of the product's template (the product included); empty without a template."""
    product = _product(product_id, field=None)
    variants = selectors.product_list().prefetch_related("attribute_values__attribute")
    if product.template_id is None:
        return variants.none()
    return PRODUCTS.apply(variants.filter(template_id=product.template_id), filters)


@router.post("/product-templates", response={201: ProductTemplateOut})
def product_template_create(request: HttpRequest, payload: ProductTemplateIn) -> dict[str, Any]:
    """A template and one variant (a product with its own SKU) per combination of attribute values:
    ``{"Size": ["S", "M"], "Colour": ["Red"]}`` makes PREFIX-S-RED and PREFIX-M-RED."""
    data = payload.model_dump()
    category_id = data.pop("category")
    category = (
        get_or_404(Category, category_id, "category", field="category") if category_id is not None else None
    )
    template = services.product_template_create(**data, category=category, user=user_of(request))
    variants = (
        selectors.product_list()
        .prefetch_related("attribute_values__attribute")
        .filter(template=template)
        .order_by("pk")
    )
    return {
        "id": template.pk,
        "name": template.name,
        "description": template.description,
        "category_id": template.category_id,
        "attributes": [a.name for a in template.attributes.order_by("pk")],
        "variants": list(variants),
    }


# --- warehouses and locations ---------------------------------------------------------------------


@router.get("/warehouses", response=list[WarehouseOut])
@paginate(PageNumberPagination, page_size=PAGE_SIZE)
def warehouse_list(request: HttpRequest, filters: Query[WarehouseFilterIn]) -> QuerySet[Warehouse]:
    return filtered(WarehouseFilter, filters, selectors.warehouse_list(), listing=WAREHOUSES)


@router.post("/warehouses", response={201: WarehouseOut})
def warehouse_create(request: HttpRequest, payload: WarehouseIn) -> Warehouse:
    """A warehouse, with its root zone and a default ``Stock`` bin."""
    return services.warehouse_create(**payload.model_dump(), user=user_of(request))


@router.get("/warehouses/{warehouse_id}", response=WarehouseOut)
def warehouse_detail(request: HttpRequest, warehouse_id: int, response: HttpResponse) -> Warehouse:
    """A warehouse; the ``ETag`` header names its version, for ``If-Match`` on PATCH."""
    warehouse = _warehouse(warehouse_id, field=None)
    with_etag(response, warehouse)
    return warehouse


@router.patch("/warehouses/{warehouse_id}", response=WarehouseOut)
def warehouse_update(
    request: HttpRequest,
    warehouse_id: int,
    payload: WarehousePatchIn,
    response: HttpResponse,
    if_match: str | None = if_match_param(),
) -> Warehouse:
    """Change the fields sent. With ``If-Match``: 412 when the warehouse changed since it was read."""
    changes = payload.model_dump(exclude_unset=True)
    no_nulls(changes)
    with locked_for_update(Warehouse, warehouse_id, what="warehouse", if_match=if_match) as warehouse:
        services.warehouse_update(warehouse=warehouse, user=user_of(request), **changes)
    warehouse = _warehouse(warehouse_id, field=None)
    with_etag(response, warehouse)
    return warehouse


@router.get("/locations", response=list[LocationOut])
@paginate(PageNumberPagination, page_size=PAGE_SIZE)
def location_list(request: HttpRequest, filters: Query[LocationFilterIn]) -> QuerySet[Location]:
    """Zones and bins of the warehouses, and the virtual locations (supplier, customer, transit...)."""
    return filtered(LocationFilter, filters, selectors.location_list(include_virtual=True), listing=LOCATIONS)


@router.post("/locations", response={201: LocationOut})
def location_create(request: HttpRequest, payload: LocationIn) -> Location:
    """A zone (``view``) or a bin (``internal``) under a zone."""
    parent = _location(payload.parent, field="parent")
    return services.location_create(
        parent=parent, name=payload.name, kind=payload.kind, barcode=payload.barcode or None
    )


@router.get("/locations/{location_id}", response=LocationOut)
def location_detail(request: HttpRequest, location_id: int) -> Location:
    return _location(location_id, field=None)


@router.patch("/locations/{location_id}", response=LocationOut)
def location_update(request: HttpRequest, location_id: int, payload: LocationPatchIn) -> Location:
    """Rename, set or remove (``""`` or null) the barcode, archive (``is_active: false``) or restore.
    Locations keep no ``updated_at``: no ETag, no If-Match."""
    location = _location(location_id, field=None)
    changes = payload.model_dump(exclude_unset=True)
    no_nulls(changes, nullable={"barcode"})
    if "barcode" in changes and changes["barcode"] is None:
        changes["barcode"] = ""
    services.location_update(location=location, **changes)
    return _location(location_id, field=None)


# --- levels and moves -----------------------------------------------------------------------------


@router.get("/levels", response=list[LevelOut])
@paginate(PageNumberPagination, page_size=PAGE_SIZE)
def level_list(request: HttpRequest, filters: Query[LevelFilterIn]) -> QuerySet[StockLevel]:
    """Stock per (product, bin, lot). The counterparts at virtual locations only with
    ``include_virtual=true``."""
    queryset = selectors.level_list()
    if not filters.include_virtual:
        queryset = queryset.filter(location__kind=LocationKind.INTERNAL)
    return filtered(LevelFilter, filters, queryset, listing=LEVELS, exclude={"include_virtual"})


@router.get("/moves", response=list[MoveOut])
@paginate(PageNumberPagination, page_size=PAGE_SIZE)
def move_list(request: HttpRequest, filters: Query[MoveFilterIn]) -> QuerySet[StockMove]:
    """The stock ledger, newest first. Moves are never changed: a mistake is reversed."""
    return filtered(MoveFilter, filters, selectors.move_list(), listing=MOVES)


@router.get("/moves/{move_id}", response=MoveDetailOut)
def move_detail(request: HttpRequest, move_id: int) -> StockMove:
    move = get_or_404(selectors.move_list(), move_id, "stock move")
    move.reversed_by_id = (  # type: ignore[attr-defined]
        StockMove.objects.filter(reversal_of=move).values_list("pk", flat=True).first()
    )
    return move


@router.post("/moves/{move_id}/reverse", response={201: MoveOut})
def move_reverse(request: HttpRequest, move_id: int, payload: ReverseIn) -> StockMove:
    """Undo a move with its mirror image (once; a reversal is not reversed)."""
    move = get_or_404(StockMove, move_id, "stock move")
    reversal = services.stock_move_reverse(move=move, reason=payload.reason, user=user_of(request))
    return selectors.move_list().get(pk=reversal.pk)


# --- stock operations -----------------------------------------------------------------------------


def _document(reference: str) -> Document:
    return Document(reference=reference.strip())


@router.post("/receipts", response={201: MoveOut})
def receipt_create(request: HttpRequest, payload: ReceiptIn) -> StockMove:
    """Stock in from a supplier (opening stock, tools): sets the moving-average cost.
    A ``lot`` code is created for the product if new."""
    product = _product(payload.product)
    location = _location(payload.location)
    lot = None
    if payload.lot:
        lot = services.lot_get_or_create(product=product, code=payload.lot, expiry_date=payload.expiry_date)
    elif payload.expiry_date is not None:
        raise ValidationFailed(
            "An expiry date belongs to a lot: give the lot code too.", field_errors={"lot": ["Required."]}
        )
    move = services.stock_receive(
        product=product,
        location=location,
        quantity=payload.quantity,
        unit_cost=payload.unit_cost,
        lot=lot,
        document=_document(payload.reference),
        reason=payload.reason,
        user=user_of(request),
    )
    return selectors.move_list().get(pk=move.pk)


@router.post("/issues", response={201: MoveOut})
def issue_create(request: HttpRequest, payload: IssueIn) -> StockMove:
    """Unreserved stock out to a customer. Refused (409) beyond what is available."""
    move = services.stock_issue(
        product=_product(payload.product),
        location=_location(payload.location),
        quantity=payload.quantity,
        lot=_lot(payload.lot),
        document=_document(payload.reference),
        reason=payload.reason,
        user=user_of(request),
    )
    return selectors.move_list().get(pk=move.pk)


@router.post("/adjustments", response=AdjustmentOut)
def adjustment_create(request: HttpRequest, payload: AdjustmentIn) -> dict[str, Any]:
    """Set the on-hand quantity of a bin (``quantity``) or change it (``delta``), with a reason."""
    product, location, lot = _product(payload.product), _location(payload.location), _lot(payload.lot)
    move = services.stock_adjust(
        product=product,
        location=location,
        lot=lot,
        quantity=payload.quantity,
        delta=payload.delta,
        reason=payload.reason,
        user=user_of(request),
    )
    level = StockLevel.objects.filter(product=product, location=location, lot=lot).first()
    return {
        "move": selectors.move_list().get(pk=move.pk) if move is not None else None,
        "level": level if level is not None else {"on_hand": ZERO, "reserved": ZERO, "available": ZERO},
    }


@router.post("/scrap", response={201: MoveOut})
def scrap_create(request: HttpRequest, payload: ScrapIn) -> StockMove:
    """Stock written off as damaged or lost, with a reason."""
    move = services.stock_scrap(
        product=_product(payload.product),
        location=_location(payload.location),
        quantity=payload.quantity,
        lot=_lot(payload.lot),
        reason=payload.reason,
        user=user_of(request),
    )
    return selectors.move_list().get(pk=move.pk)


# --- transfers ------------------------------------------------------------------------------------


def _transfers() -> QuerySet[Transfer]:
    return selectors.transfer_list().prefetch_related("lines__lot")


@router.post("/transfers", response={201: TransferOut | DirectTransferOut})
def transfer_create(request: HttpRequest, payload: TransferIn) -> Any:
    """Move stock between bins. Direct: done at once, answers the moves. With ``two_step``
    (between warehouses): shipped into transit now, answers the transfer to receive later."""
    from_location = _location(payload.from_location, field="from_location")
    to_location = _location(payload.to_location, field="to_location")
    products = Product.objects.select_related("stock_unit").in_bulk({ln.product for ln in payload.lines})
    lots = Lot.objects.in_bulk({ln.lot for ln in payload.lines if ln.lot is not None})
    lines = []
    for i, ln in enumerate(payload.lines):
        if ln.product not in products:
            message = f"No product with id {ln.product}."
            raise NotFound(message, field_errors={f"lines.{i}.product": [message]})
        if ln.lot is not None and ln.lot not in lots:
            message = f"No lot with id {ln.lot}."
            raise NotFound(message, field_errors={f"lines.{i}.lot": [message]})
        lines.append(
            services.Line(
                product=products[ln.product],
                quantity=ln.quantity,
                lot=lots[ln.lot] if ln.lot is not None else None,
            )
        )
    if payload.two_step:
        transfer = services.transfer_ship(
            from_location=from_location,
            to_location=to_location,
            lines=lines,
            note=payload.note,
            user=user_of(request),
        )
        return _transfers().get(pk=transfer.pk)
    moves = services.stock_transfer(
        from_location=from_location,
        to_location=to_location,
        lines=lines,
        reason=payload.note,
        user=user_of(request),
    )
    ledger = selectors.move_list().filter(pk__in=[m.pk for m in moves]).order_by("pk")
    return {"moves": list(ledger)}


@router.get("/transfers", response=list[TransferOut])
@paginate(PageNumberPagination, page_size=PAGE_SIZE)
def transfer_list(request: HttpRequest, filters: Query[TransferFilterIn]) -> QuerySet[Transfer]:
    """Two-step transfers, newest first."""
    return filtered(TransferFilter, filters, _transfers(), listing=TRANSFERS)


@router.get("/transfers/{transfer_id}", response=TransferOut)
def transfer_detail(request: HttpRequest, transfer_id: int) -> Transfer:
    return get_or_404(_transfers(), transfer_id, "transfer")


@router.post("/transfers/{transfer_id}/receive", response=TransferOut)
def transfer_receive(request: HttpRequest, transfer_id: int) -> Transfer:
    """Step two: the goods arrive from transit at the destination."""
    transfer = get_or_404(Transfer, transfer_id, "transfer")
    services.transfer_receive(transfer=transfer, user=user_of(request))
    return _transfers().get(pk=transfer_id)


@router.post("/transfers/{transfer_id}/cancel", response=TransferOut)
def transfer_cancel(request: HttpRequest, transfer_id: int) -> Transfer:
    """Goods that never left: back from transit to the source."""
    transfer = get_or_404(Transfer, transfer_id, "transfer")
    services.transfer_cancel(transfer=transfer, user=user_of(request))
    return _transfers().get(pk=transfer_id)


# --- counts ---------------------------------------------------------------------------------------


def _count_sheet(pk: int) -> CountSheet:
    try:
        return selectors.count_sheet_detail(pk)
    except CountSheet.DoesNotExist:
        raise NotFound(f"No count sheet with id {pk}.") from None


@router.post("/counts", response={201: CountSheetDetailOut})
def count_sheet_create(request: HttpRequest, payload: CountSheetIn) -> CountSheet:
    """A count sheet for one bin; with ``prefill`` a line for everything the system thinks is there."""
    sheet = services.count_sheet_create(
        location=_location(payload.location),
        note=payload.note,
        prefill=payload.prefill,
        user=user_of(request),
    )
    return _count_sheet(sheet.pk)


@router.get("/counts", response=list[CountSheetOut])
@paginate(PageNumberPagination, page_size=PAGE_SIZE)
def count_sheet_list(request: HttpRequest, filters: Query[CountSheetFilterIn]) -> QuerySet[CountSheet]:
    return filtered(CountSheetFilter, filters, selectors.count_sheet_list(), listing=COUNT_SHEETS)


@router.get("/counts/{sheet_id}", response=CountSheetDetailOut)
def count_sheet_detail(request: HttpRequest, sheet_id: int) -> CountSheet:
    """A sheet with its lines: expected, counted and the difference."""
    return _count_sheet(sheet_id)


@router.post("/counts/{sheet_id}/lines", response=CountLineOut)
def count_line_set(request: HttpRequest, sheet_id: int, payload: CountLineIn) -> Any:
    """Record what was counted of a product (and lot); ``add`` adds to it, as a scanner does."""
    sheet = get_or_404(CountSheet, sheet_id, "count sheet")
    return services.count_line_set(
        sheet=sheet,
        product=_product(payload.product),
        lot=_lot(payload.lot),
        counted=payload.counted,
        add=payload.add,
    )


@router.post("/counts/{sheet_id}/apply", response=CountSheetDetailOut)
def count_sheet_apply(request: HttpRequest, sheet_id: int, payload: CountApplyIn | None = None) -> CountSheet:
    """Turn the differences into count adjustments (moves of kind ``count``)."""
    sheet = get_or_404(CountSheet, sheet_id, "count sheet")
    zero_uncounted = payload.zero_uncounted if payload is not None else False
    services.count_sheet_apply(sheet=sheet, zero_uncounted=zero_uncounted, user=user_of(request))
    return _count_sheet(sheet_id)


@router.post("/counts/{sheet_id}/cancel", response=CountSheetDetailOut)
def count_sheet_cancel(request: HttpRequest, sheet_id: int) -> CountSheet:
    sheet = get_or_404(CountSheet, sheet_id, "count sheet")
    services.count_sheet_cancel(sheet=sheet, user=user_of(request))
    return _count_sheet(sheet_id)


# --- reservations ---------------------------------------------------------------------------------


def _reservations() -> QuerySet[Reservation]:
    return selectors.reservation_list(active_only=False)


@router.get("/reservations", response=list[ReservationOut])
@paginate(PageNumberPagination, page_size=PAGE_SIZE)
def reservation_list(request: HttpRequest, filters: Query[ReservationFilterIn]) -> QuerySet[Reservation]:
    """Reservations of every status (``status=active`` for what is still held), oldest first."""
    return filtered(ReservationFilter, filters, _reservations(), listing=RESERVATIONS)


@router.post("/reservations", response={201: ReserveOut})
def reservation_create(request: HttpRequest, payload: ReservationIn) -> dict[str, Any]:
    """Hold available stock of a warehouse (or one bin, or one lot) for a demand, first-expiring
    lots first. All or nothing (409), unless ``allow_partial``."""
    product = _product(payload.product)
    warehouse = _warehouse(payload.warehouse)
    location = _location(payload.location) if payload.location is not None else None
    held = services.stock_reserve(
        product=product,
        warehouse=warehouse,
        quantity=payload.quantity,
        demand=services.Demand(payload.demand_type, payload.demand_id, payload.reference),
        location=location,
        lot=_lot(payload.lot),
        allow_partial=payload.allow_partial,
        user=user_of(request),
    )
    reservations = list(_reservations().filter(pk__in=[r.pk for r in held]))
    return {
        "requested": quantize_quantity(payload.quantity),
        "reserved": sum((r.quantity for r in reservations), ZERO),
        "reservations": reservations,
    }


@router.post("/reservations/{reservation_id}/release", response=ReservationOut)
def reservation_release(
    request: HttpRequest, reservation_id: int, payload: ReservationQuantityIn | None = None
) -> Reservation:
    """Give back everything still held (or ``quantity`` of it)."""
    reservation = get_or_404(Reservation, reservation_id, "reservation")
    services.reservation_release(
        reservation=reservation,
        quantity=payload.quantity if payload is not None else None,
        user=user_of(request),
    )
    return _reservations().get(pk=reservation_id)


@router.post("/reservations/{reservation_id}/consume", response={201: ConsumeOut})
def reservation_consume(
    request: HttpRequest, reservation_id: int, payload: ConsumeIn | None = None
) -> dict[str, Any]:
    """Issue held stock to the customer (everything still held, or ``quantity``).
    The move belongs to the reservation's demand."""
    reservation = get_or_404(Reservation, reservation_id, "reservation")
    reference = payload.reference.strip() if payload is not None else ""
    move = services.reservation_consume(
        reservation=reservation,
        quantity=payload.quantity if payload is not None else None,
        document=Document(reservation.demand_type, reservation.demand_id, reference or reservation.reference),
        user=user_of(request),
    )
    return {
        "reservation": _reservations().get(pk=reservation_id),
        "move": selectors.move_list().get(pk=move.pk),
    }


# --- reorder rules and replenishment --------------------------------------------------------------


@router.get("/reorder-rules", response=list[ReorderRuleOut])
@paginate(PageNumberPagination, page_size=PAGE_SIZE)
def reorder_rule_list(request: HttpRequest, filters: Query[ReorderRuleFilterIn]) -> QuerySet[ReorderRule]:
    return filtered(ReorderRuleFilter, filters, selectors.reorder_rule_list(), listing=REORDER_RULES)


@router.post("/reorder-rules", response=ReorderRuleOut)
def reorder_rule_set(request: HttpRequest, payload: ReorderRuleIn) -> ReorderRule:
    """Create or change the rule of (product, warehouse): keep between min and max, order in multiples."""
    rule = services.reorder_rule_set(
        product=_product(payload.product),
        warehouse=_warehouse(payload.warehouse),
        min_quantity=payload.min_quantity,
        max_quantity=payload.max_quantity,
        multiple=payload.multiple,
        user=user_of(request),
    )
    return selectors.reorder_rule_list().get(pk=rule.pk)


@router.delete("/reorder-rules/{rule_id}", response={204: None})
def reorder_rule_delete(request: HttpRequest, rule_id: int) -> None:
    services.reorder_rule_delete(rule=get_or_404(ReorderRule, rule_id, "reorder rule"))


@router.get("/replenishment", response=list[ReplenishmentSuggestionOut])
@paginate(PageNumberPagination, page_size=PAGE_SIZE)
def replenishment_suggestions(
    request: HttpRequest, warehouse: int | None = None
) -> list[replenishment.Suggestion]:
    """Rules whose projected quantity (on hand + incoming - reserved - outgoing) is below the
    minimum, with the quantity to order: up to the maximum, rounded up to the multiple."""
    return replenishment.suggestions(warehouse_id=_warehouse_filter(warehouse))


# --- valuation and stock checks -------------------------------------------------------------------


@router.get("/valuation", response=ValuationOut)
def valuation_report(request: HttpRequest, as_of: datetime | None = None) -> dict[str, Any]:
    """Quantity and value per warehouse: now (on hand x average cost) or ``as_of`` a past moment
    (from the ledger, at the costs the moves carried)."""
    moment = _aware(as_of) if as_of is not None else None
    rows = valuation.as_of(moment) if moment is not None else valuation.current_by_warehouse()
    return {
        "as_of": moment,
        "currency": base_currency(),
        "warehouses": rows,
        "total_quantity": sum((r.quantity for r in rows), ZERO),
        "total_value": sum((r.value for r in rows), Decimal("0.00")),
    }


def _stock_checks() -> QuerySet[StockCheckRun]:
    return StockCheckRun.objects.select_related("triggered_by").order_by("-started_at", "-pk")


@router.get("/stock-checks", response=list[StockCheckOut])
@paginate(PageNumberPagination, page_size=PAGE_SIZE)
def stock_check_list(request: HttpRequest, filters: Query[StockCheckFilterIn]) -> QuerySet[StockCheckRun]:
    """Runs of the check that recomputes every level from the ledger, latest first."""
    return STOCK_CHECKS.apply(_stock_checks(), filters)


@router.post("/stock-checks", response={201: StockCheckDetailOut})
def stock_check_run(request: HttpRequest) -> StockCheckRun:
    """Recompute every level from the ledger now and report drift (nothing is repaired)."""
    run = integrity.run_check(user=user_of(request))
    return _stock_checks().get(pk=run.pk)


@router.get("/stock-checks/{run_id}", response=StockCheckDetailOut)
def stock_check_detail(request: HttpRequest, run_id: int) -> StockCheckRun:
    """One run with the drifts it found (the first 500)."""
    return get_or_404(_stock_checks(), run_id, "stock check")
