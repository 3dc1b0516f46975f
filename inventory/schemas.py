"""Schemas of the inventory API: what comes in (``*In``) and what goes out (``*Out``).

Quantities and money go out as strings of Decimals (``"12.5000"``), never floats.
They come in as strings or numbers; the services quantize them (0.0001, half up).
Related records are referenced by id (``product``, ``location``, ``lot``, ...); the
output repeats a readable label next to each id (``sku``, ``location_path``, ...).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

from ninja import Field, Schema
from pydantic import PlainSerializer

from erp.money import quantize_quantity
from inventory.models import LocationKind, ProductKind, Tracking


def _quantity_str(value: Decimal) -> str:
    return format(quantize_quantity(value), "f")


def _decimal_str(value: Decimal) -> str:
    return format(value, "f")


# Output types: a quantity always carries 4 places ("3.0000"); money keeps its own.
Quantity = Annotated[Decimal, PlainSerializer(_quantity_str, return_type=str)]
Money = Annotated[Decimal, PlainSerializer(_decimal_str, return_type=str)]


# --- products ---------------------------------------------------------------------


class ProductIn(Schema):
    sku: str = Field(max_length=64)
    name: str = Field(max_length=200)
    stock_unit: str = Field("pcs", description="unit code: pcs, kg, m, box, ...")
    description: str = ""
    category: int | None = Field(None, description="category id")
    kind: ProductKind = ProductKind.STOCKED
    weight: Decimal | None = Field(None, description="kg per stock unit")
    sale_price: Decimal = Decimal(0)
    currency: str = "USD"
    tracking: Tracking = Tracking.NONE
    barcodes: list[str] = Field(default_factory=list)


class ProductPatchIn(Schema):
    """Only the fields sent are changed; ``barcodes`` replaces the product's own barcodes."""

    sku: str | None = Field(None, max_length=64)
    name: str | None = Field(None, max_length=200)
    stock_unit: str | None = None
    description: str | None = None
    category: int | None = None
    kind: ProductKind | None = None
    weight: Decimal | None = None
    sale_price: Decimal | None = None
    currency: str | None = None
    tracking: Tracking | None = None
    barcodes: list[str] | None = None


class ProductFilterIn(Schema):
    q: str | None = Field(None, description="SKU prefix, exact barcode or part of the name")
    category: int | None = None
    kind: str | None = None
    tracking: str | None = None
    is_active: bool | None = None
    template: int | None = None
    updated_since: datetime | None = None
    ordering: str | None = Field(None, description="sku, name, price, updated, on_hand; '-' for descending")
    warehouse: int | None = Field(None, description="on_hand and reserved of this warehouse only")


class ProductOut(Schema):
    id: int
    sku: str
    name: str
    description: str
    kind: str
    tracking: str
    stock_unit: str = Field(alias="stock_unit.code")
    category: int | None = Field(None, alias="category_id")
    category_name: str | None = Field(None, alias="category.name")
    template: int | None = Field(None, alias="template_id")
    weight: Quantity | None
    sale_price: Money
    currency: str
    average_cost: Money
    is_active: bool
    barcodes: list[str]
    on_hand: Quantity
    reserved: Quantity
    available: Quantity
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_barcodes(obj: object) -> list[str]:
        return [b.code for b in obj.barcodes.all()]  # type: ignore[attr-defined]

    @staticmethod
    def resolve_available(obj: object) -> Decimal:
        return obj.on_hand - obj.reserved  # type: ignore[attr-defined]


class ProductUnitIn(Schema):
    unit: str = Field(description="unit code, e.g. box")
    factor: Decimal = Field(description="stock units in one of this unit")
    barcode: str = Field("", description="a barcode that counts as one of this unit")


class ProductUnitOut(Schema):
    id: int
    unit: str = Field(alias="unit.code")
    factor: Quantity
    barcodes: list[str] = Field(description="scanning one counts as one of this unit")

    @staticmethod
    def resolve_barcodes(obj: object) -> list[str]:
        # From the product's prefetched barcodes, not one query per unit.
        return sorted(b.code for b in obj.product.barcodes.all() if b.unit_id == obj.pk)  # type: ignore[attr-defined]


class AttributeValueOut(Schema):
    attribute: str = Field(alias="attribute.name")
    value: str


class AvailabilityOut(Schema):
    on_hand: Quantity
    reserved: Quantity
    available: Quantity
    incoming: Quantity
    outgoing: Quantity
    projected: Quantity


class WarehouseAvailabilityOut(AvailabilityOut):
    warehouse: int
    warehouse_code: str


class ProductReorderRuleOut(Schema):
    id: int
    warehouse: int = Field(alias="warehouse_id")
    warehouse_code: str = Field(alias="warehouse.code")
    min_quantity: Quantity
    max_quantity: Quantity
    multiple: Quantity


class ProductDetailOut(ProductOut):
    """A product with its units, attribute values, reorder rules and availability per warehouse."""

    units: list[ProductUnitOut]
    attribute_values: list[AttributeValueOut]
    reorder_rules: list[ProductReorderRuleOut]
    availability: list[WarehouseAvailabilityOut]


class VariantOut(ProductOut):
    attribute_values: list[AttributeValueOut]


class ProductLookupOut(Schema):
    """What one scan of ``code`` is: a product, counted in ``unit`` (``factor`` stock units each)."""

    code: str
    matched: str = Field(description="barcode or sku")
    product: ProductOut
    unit: str
    factor: Quantity


class ProductTemplateIn(Schema):
    name: str = Field(max_length=200)
    sku_prefix: str = Field(max_length=40, description="variant SKUs are PREFIX-VALUE-VALUE")
    attributes: dict[str, list[str]] = Field(description='e.g. {"Size": ["S", "M"], "Colour": ["Red"]}')
    stock_unit: str = "pcs"
    description: str = ""
    category: int | None = None
    sale_price: Decimal = Decimal(0)
    currency: str = "USD"
    tracking: Tracking = Tracking.NONE


class ProductTemplateOut(Schema):
    id: int
    name: str
    description: str
    category: int | None = Field(None, alias="category_id")
    attributes: list[str]
    variants: list[VariantOut]


# --- warehouses and locations -----------------------------------------------------


class WarehouseIn(Schema):
    code: str = Field(max_length=16)
    name: str = Field(max_length=100)
    address: str = ""
    allow_negative_stock: bool = False


class WarehousePatchIn(Schema):
    name: str | None = Field(None, max_length=100)
    address: str | None = None
    allow_negative_stock: bool | None = None
    is_active: bool | None = None


class WarehouseOut(Schema):
    id: int
    code: str
    name: str
    address: str
    allow_negative_stock: bool
    is_active: bool
    created_at: datetime
    updated_at: datetime


class LocationFilterIn(Schema):
    warehouse: int | None = None
    kind: str | None = None
    q: str | None = Field(None, description="part of the path")
    is_active: bool | None = None


class LocationIn(Schema):
    parent: int = Field(description="id of the zone (a view location) it goes under")
    name: str = Field(max_length=100)
    kind: LocationKind = Field(LocationKind.INTERNAL, description="internal (a bin) or view (a zone)")
    barcode: str | None = Field(None, max_length=64)


class LocationPatchIn(Schema):
    name: str | None = Field(None, max_length=100)
    barcode: str | None = Field(None, max_length=64, description="'' removes it")
    is_active: bool | None = Field(None, description="false archives the location")


class LocationOut(Schema):
    id: int
    warehouse: int | None = Field(None, alias="warehouse_id")
    warehouse_code: str | None = Field(None, alias="warehouse.code")
    parent: int | None = Field(None, alias="parent_id")
    name: str
    kind: str
    path: str
    barcode: str | None
    is_active: bool


# --- levels and moves ------------------------------------------------------------------


class LevelFilterIn(Schema):
    product: int | None = None
    q: str | None = Field(None, description="SKU prefix, exact barcode or part of the name")
    warehouse: int | None = None
    location: int | None = None
    lot: int | None = None
    nonzero: bool | None = None
    below_min: bool | None = None
    include_virtual: bool = Field(
        False, description="also the counterparts at virtual locations (supplier, customer, transit...)"
    )


class LevelOut(Schema):
    id: int
    product: int = Field(alias="product_id")
    sku: str = Field(alias="product.sku")
    product_name: str = Field(alias="product.name")
    stock_unit: str = Field(alias="product.stock_unit.code")
    location: int = Field(alias="location_id")
    location_path: str = Field(alias="location.path")
    warehouse: int | None = Field(None, alias="warehouse_id")
    warehouse_code: str | None = Field(None, alias="warehouse.code")
    lot: int | None = Field(None, alias="lot_id")
    lot_code: str | None = Field(None, alias="lot.code")
    on_hand: Quantity
    reserved: Quantity
    available: Quantity
    updated_at: datetime


class MoveFilterIn(Schema):
    product: int | None = None
    q: str | None = None
    warehouse: int | None = None
    location: int | None = Field(None, description="moves from or to this location")
    kind: str | None = None
    reference: str | None = Field(None, description="prefix")
    document_type: str | None = None
    document_id: str | None = None
    lot: int | None = None
    since: datetime | None = None
    until: datetime | None = None


class MoveOut(Schema):
    id: int
    product: int = Field(alias="product_id")
    sku: str = Field(alias="product.sku")
    quantity: Quantity
    stock_unit: str = Field(alias="product.stock_unit.code")
    from_location: int = Field(alias="from_location_id")
    from_location_path: str = Field(alias="from_location.path")
    to_location: int = Field(alias="to_location_id")
    to_location_path: str = Field(alias="to_location.path")
    lot: int | None = Field(None, alias="lot_id")
    lot_code: str | None = Field(None, alias="lot.code")
    unit_cost: Money
    kind: str
    reference: str
    document_type: str
    document_id: str
    reason: str
    reversal_of: int | None = Field(None, alias="reversal_of_id")
    operation: str
    user: str | None = Field(None, alias="user.username")
    created_at: datetime

    @staticmethod
    def resolve_operation(obj: object) -> str:
        return str(obj.operation)  # type: ignore[attr-defined]


class MoveDetailOut(MoveOut):
    reversed_by: int | None = Field(
        None, alias="reversed_by_id", description="id of the move that reversed this one"
    )


class ReverseIn(Schema):
    reason: str = Field(max_length=255)


# --- stock operations ----------------------------------------------------------------------


class ReceiptIn(Schema):
    product: int
    location: int
    quantity: Decimal
    unit_cost: Decimal | None = Field(None, description="per stock unit; default: the average cost")
    lot: str | None = Field(None, max_length=64, description="lot or serial code (created if new)")
    expiry_date: date | None = None
    reference: str = Field("", max_length=100)
    reason: str = Field("", max_length=255)


class IssueIn(Schema):
    product: int
    location: int
    quantity: Decimal
    lot: int | None = None
    reference: str = Field("", max_length=100)
    reason: str = Field("", max_length=255)


class AdjustmentIn(Schema):
    """Set the on-hand quantity (``quantity``) or change it (``delta``): one of the two."""

    product: int
    location: int
    lot: int | None = None
    quantity: Decimal | None = Field(None, description="the new on-hand quantity")
    delta: Decimal | None = Field(None, description="the change, + or -")
    reason: str = Field(max_length=255)


class LevelBalanceOut(Schema):
    on_hand: Quantity
    reserved: Quantity
    available: Quantity


class AdjustmentOut(Schema):
    move: MoveOut | None = Field(description="null when the quantity was already right")
    level: LevelBalanceOut


class ScrapIn(Schema):
    product: int
    location: int
    quantity: Decimal
    lot: int | None = None
    reason: str = Field(max_length=255)


# --- transfers ---------------------------------------------------------------------------------


class TransferLineIn(Schema):
    product: int
    quantity: Decimal
    lot: int | None = None


class TransferIn(Schema):
    from_location: int
    to_location: int
    lines: list[TransferLineIn] = Field(min_length=1)
    two_step: bool = Field(False, description="ship into transit now, receive later")
    note: str = Field(
        "", max_length=255, description="the reason of a direct transfer; the note of a two-step one"
    )


class DirectTransferOut(Schema):
    moves: list[MoveOut]


class TransferFilterIn(Schema):
    status: str | None = None


class TransferLineOut(Schema):
    id: int
    product: int = Field(alias="product_id")
    sku: str = Field(alias="product.sku")
    lot: int | None = Field(None, alias="lot_id")
    lot_code: str | None = Field(None, alias="lot.code")
    quantity: Quantity


class TransferOut(Schema):
    id: int
    number: str
    status: str
    from_location: int = Field(alias="from_location_id")
    from_location_path: str = Field(alias="from_location.path")
    to_location: int = Field(alias="to_location_id")
    to_location_path: str = Field(alias="to_location.path")
    note: str
    shipped_at: datetime | None
    received_at: datetime | None
    created_at: datetime
    lines: list[TransferLineOut]


# --- counts --------------------------------------------------------------------------------------


class CountSheetIn(Schema):
    location: int
    prefill: bool = Field(True, description="a line for everything the system thinks is there")
    note: str = Field("", max_length=255)


class CountSheetFilterIn(Schema):
    status: str | None = None
    location: int | None = None
    warehouse: int | None = None


class CountLineIn(Schema):
    product: int
    lot: int | None = None
    counted: Decimal
    add: bool = Field(False, description="add to what was counted so far (one scan at a time)")


class CountApplyIn(Schema):
    zero_uncounted: bool = Field(False, description="set lines nobody counted to zero")


class CountLineOut(Schema):
    id: int
    product: int = Field(alias="product_id")
    sku: str = Field(alias="product.sku")
    lot: int | None = Field(None, alias="lot_id")
    lot_code: str | None = Field(None, alias="lot.code")
    expected: Quantity = Field(alias="expected_quantity")
    counted: Quantity | None = Field(None, alias="counted_quantity")
    difference: Quantity | None = Field(None, description="counted - expected; null until counted")

    @staticmethod
    def resolve_difference(obj: object) -> Decimal | None:
        counted = obj.counted_quantity  # type: ignore[attr-defined]
        return None if counted is None else counted - obj.expected_quantity  # type: ignore[attr-defined]


class CountSheetOut(Schema):
    id: int
    number: str
    status: str
    location: int = Field(alias="location_id")
    location_path: str = Field(alias="location.path")
    warehouse: int | None = Field(None, alias="location.warehouse_id")
    note: str
    applied_at: datetime | None
    created_at: datetime
    created_by: str | None = Field(None, alias="created_by.username")


class CountSheetDetailOut(CountSheetOut):
    lines: list[CountLineOut]


# --- reservations ----------------------------------------------------------------------------------


class ReservationFilterIn(Schema):
    product: int | None = None
    warehouse: int | None = None
    demand_type: str | None = None
    demand_id: str | None = None
    status: str | None = None


class ReservationIn(Schema):
    product: int
    warehouse: int
    quantity: Decimal
    demand_type: str = Field(max_length=64, description="app.model of the demand: sales.orderline")
    demand_id: str = Field(max_length=64)
    reference: str = Field("", max_length=100)
    location: int | None = Field(None, description="reserve in this bin only")
    lot: int | None = Field(None, description="reserve this lot only")
    allow_partial: bool = Field(False, description="reserve what is available instead of refusing")


class ReservationOut(Schema):
    id: int
    product: int = Field(alias="product_id")
    sku: str = Field(alias="product.sku")
    location: int = Field(alias="location_id")
    location_path: str = Field(alias="location.path")
    warehouse: int | None = Field(None, alias="location.warehouse_id")
    lot: int | None = Field(None, alias="lot_id")
    lot_code: str | None = Field(None, alias="lot.code")
    quantity: Quantity = Field(description="still held")
    consumed_quantity: Quantity
    released_quantity: Quantity
    status: str
    demand_type: str
    demand_id: str
    reference: str
    created_at: datetime
    updated_at: datetime


class ReserveOut(Schema):
    requested: Quantity
    reserved: Quantity
    reservations: list[ReservationOut]


class ReservationQuantityIn(Schema):
    quantity: Decimal | None = Field(None, description="default: everything still held")


class ConsumeIn(ReservationQuantityIn):
    reference: str = Field("", max_length=100)


class ConsumeOut(Schema):
    reservation: ReservationOut
    move: MoveOut


# --- reorder rules, replenishment, valuation, checks ---------------------------------------------------


class ReorderRuleFilterIn(Schema):
    product: int | None = None
    warehouse: int | None = None


class ReorderRuleIn(Schema):
    product: int
    warehouse: int
    min_quantity: Decimal
    max_quantity: Decimal
    multiple: Decimal = Decimal(1)


class ReorderRuleOut(Schema):
    id: int
    product: int = Field(alias="product_id")
    sku: str = Field(alias="product.sku")
    warehouse: int = Field(alias="warehouse_id")
    warehouse_code: str = Field(alias="warehouse.code")
    min_quantity: Quantity
    max_quantity: Quantity
    multiple: Quantity
    updated_at: datetime


class SuggestionOut(Schema):
    rule: ReorderRuleOut
    availability: AvailabilityOut
    quantity: Quantity = Field(description="to order: up to max, in multiples")


class WarehouseValueOut(Schema):
    warehouse: int = Field(alias="warehouse.pk")
    warehouse_code: str = Field(alias="warehouse.code")
    quantity: Quantity
    value: Money


class ValuationOut(Schema):
    as_of: datetime | None = Field(description="null: now, at the current average costs")
    warehouses: list[WarehouseValueOut]
    total_quantity: Quantity
    total_value: Money


class StockCheckOut(Schema):
    id: int
    started_at: datetime
    finished_at: datetime
    levels_checked: int
    drift_count: int
    repaired: bool
    triggered_by: str | None = Field(None, alias="triggered_by.username")


class StockCheckDetailOut(StockCheckOut):
    drifts: list[dict[str, object]] = Field(description="the first 500 drifts found")
