"""Schemas of the inventory API: what comes in (``*In``) and what goes out (``*Out``).

Quantities and money follow the one rule of erp.api_helpers: quantities as decimal strings
with 4 places (``"12.5000"``), money as decimal strings with the currency's minor-unit digits
(``"12.50"``; a product's sale price in its ``currency``, costs and stock values in the base
currency). They come in as strings or numbers; the services quantize them (0.0001, half up).
Related records are referenced by id (``product``, ``location``, ``lot``, ...); the output
repeats a readable label next to each id (``sku``, ``location_path``, ...).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from ninja import Field

from erp.api_helpers import (
    ApiSchema,
    BaseMoney,
    Money,
    MoneyIn,
    Quantity,
    QuantityIn,
    examples,
    ordering_param,
    updated_since_param,
)
from inventory.models import LocationKind, ProductKind, Tracking

# The sort keys of each list: public name -> field. Old short names stay as aliases.
PRODUCT_ORDERING = {
    "sku": "sku",
    "name": "name",
    "sale_price": "sale_price",
    "price": "sale_price",
    "on_hand": "on_hand",
    "created_at": "created_at",
    "updated_at": "updated_at",
    "updated": "updated_at",
    "id": "pk",
}
WAREHOUSE_ORDERING = {
    "code": "code",
    "name": "name",
    "created_at": "created_at",
    "updated_at": "updated_at",
    "id": "pk",
}
LOCATION_ORDERING = {"path": "path", "name": "name", "id": "pk"}
LEVEL_ORDERING = {
    "sku": "product__sku",
    "location": "location__path",
    "on_hand": "on_hand",
    "reserved": "reserved",
    "id": "pk",
}
MOVE_ORDERING = {"created_at": "created_at", "sku": "product__sku", "quantity": "quantity", "id": "pk"}
TRANSFER_ORDERING = {
    "number": "number",
    "created_at": "created_at",
    "updated_at": "updated_at",
    "shipped_at": "shipped_at",
    "received_at": "received_at",
    "id": "pk",
}
COUNT_ORDERING = {
    "number": "number",
    "created_at": "created_at",
    "updated_at": "updated_at",
    "applied_at": "applied_at",
    "id": "pk",
}
RESERVATION_ORDERING = {"created_at": "created_at", "sku": "product__sku", "quantity": "quantity", "id": "pk"}
REORDER_RULE_ORDERING = {
    "sku": "product__sku",
    "warehouse": "warehouse__code",
    "created_at": "created_at",
    "updated_at": "updated_at",
    "id": "pk",
}
STOCK_CHECK_ORDERING = {"started_at": "started_at", "drift_count": "drift_count", "id": "pk"}

BULK_MAX = 1000


# --- products ---------------------------------------------------------------------


class ProductIn(ApiSchema):
    model_config = examples(
        {
            "sku": "MUG-BLUE",
            "name": "Blue mug",
            "stock_unit": "pcs",
            "sale_price": "12.50",
            "currency": "USD",
            "barcodes": ["4006381333931"],
        }
    )

    sku: str = Field(max_length=64)
    name: str = Field(max_length=200)
    stock_unit: str = Field("pcs", description="unit code: pcs, kg, m, box, ...")
    description: str = ""
    category: int | None = Field(None, description="category id")
    kind: ProductKind = ProductKind.STOCKED
    weight: QuantityIn | None = Field(None, description="kg per stock unit")
    sale_price: MoneyIn = Decimal(0)
    currency: str = "USD"
    tracking: Tracking = Tracking.NONE
    barcodes: list[str] = Field(default_factory=list)


class ProductPatchIn(ApiSchema):
    """Only the fields sent are changed; ``barcodes`` replaces the product's own barcodes."""

    model_config = examples({"name": "Blue mug, 300 ml", "sale_price": "13.00"})

    sku: str | None = Field(None, max_length=64)
    name: str | None = Field(None, max_length=200)
    stock_unit: str | None = None
    description: str | None = None
    category: int | None = None
    kind: ProductKind | None = None
    weight: QuantityIn | None = None
    sale_price: MoneyIn | None = None
    currency: str | None = None
    tracking: Tracking | None = None
    barcodes: list[str] | None = None


class ProductFilterIn(ApiSchema):
    model_config = examples({"q": "MUG", "is_active": True, "ordering": "-updated_at,id"})

    q: str | None = Field(None, description="SKU prefix, exact barcode or part of the name")
    category: int | None = None
    kind: str | None = None
    tracking: str | None = None
    is_active: bool | None = None
    template: int | None = None
    warehouse: int | None = Field(None, description="on_hand and reserved of this warehouse only")
    updated_since: datetime | None = updated_since_param()
    ordering: str | None = ordering_param(PRODUCT_ORDERING, default="sku")


class VariantFilterIn(ApiSchema):
    model_config = examples({"ordering": "sku"})

    updated_since: datetime | None = updated_since_param()
    ordering: str | None = ordering_param(PRODUCT_ORDERING, default="sku")


PRODUCT_EXAMPLE: dict[str, Any] = {
    "id": 7,
    "sku": "MUG-BLUE",
    "name": "Blue mug",
    "description": "",
    "kind": "stocked",
    "tracking": "none",
    "stock_unit": "pcs",
    "category": 2,
    "category_name": "Kitchen",
    "template": None,
    "weight": "0.3500",
    "sale_price": "12.50",
    "currency": "USD",
    "average_cost": "4.2500",
    "is_active": True,
    "barcodes": ["4006381333931"],
    "on_hand": "40.0000",
    "reserved": "5.0000",
    "available": "35.0000",
    "created_at": "2030-01-02T09:00:00Z",
    "updated_at": "2030-01-31T12:00:00Z",
}


class ProductOut(ApiSchema):
    model_config = examples(PRODUCT_EXAMPLE)

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
    sale_price: Money = Field(description="in the product's currency")
    currency: str
    average_cost: BaseMoney = Field(description="moving average per stock unit, in the base currency")
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


class ProductUnitIn(ApiSchema):
    model_config = examples({"unit": "box", "factor": "12", "barcode": "14006381333938"})

    unit: str = Field(description="unit code, e.g. box")
    factor: QuantityIn = Field(description="stock units in one of this unit")
    barcode: str = Field("", description="a barcode that counts as one of this unit")


class ProductUnitOut(ApiSchema):
    model_config = examples({"id": 3, "unit": "box", "factor": "12.0000", "barcodes": ["14006381333938"]})

    id: int
    unit: str = Field(alias="unit.code")
    factor: Quantity
    barcodes: list[str] = Field(description="scanning one counts as one of this unit")

    @staticmethod
    def resolve_barcodes(obj: object) -> list[str]:
        # From the product's prefetched barcodes, not one query per unit.
        return sorted(b.code for b in obj.product.barcodes.all() if b.unit_id == obj.pk)  # type: ignore[attr-defined]


class AttributeValueOut(ApiSchema):
    model_config = examples({"attribute": "Size", "value": "M"})

    attribute: str = Field(alias="attribute.name")
    value: str


AVAILABILITY_EXAMPLE: dict[str, Any] = {
    "on_hand": "40.0000",
    "reserved": "5.0000",
    "available": "35.0000",
    "incoming": "24.0000",
    "outgoing": "3.0000",
    "projected": "56.0000",
}


class AvailabilityOut(ApiSchema):
    model_config = examples(AVAILABILITY_EXAMPLE)

    on_hand: Quantity
    reserved: Quantity
    available: Quantity
    incoming: Quantity
    outgoing: Quantity
    projected: Quantity


class WarehouseAvailabilityOut(AvailabilityOut):
    model_config = examples({"warehouse": 1, "warehouse_code": "WH1", **AVAILABILITY_EXAMPLE})

    warehouse: int
    warehouse_code: str


class ProductReorderRuleOut(ApiSchema):
    model_config = examples(
        {
            "id": 4,
            "warehouse": 1,
            "warehouse_code": "WH1",
            "min_quantity": "10.0000",
            "max_quantity": "100.0000",
            "multiple": "6.0000",
        }
    )

    id: int
    warehouse: int = Field(alias="warehouse_id")
    warehouse_code: str = Field(alias="warehouse.code")
    min_quantity: Quantity
    max_quantity: Quantity
    multiple: Quantity


class ProductDetailOut(ProductOut):
    """A product with its units, attribute values, reorder rules and availability per warehouse."""

    model_config = examples(
        {
            **PRODUCT_EXAMPLE,
            "units": [{"id": 3, "unit": "box", "factor": "12.0000", "barcodes": []}],
            "attribute_values": [],
            "reorder_rules": [],
            "availability": [{"warehouse": 1, "warehouse_code": "WH1", **AVAILABILITY_EXAMPLE}],
        }
    )

    units: list[ProductUnitOut]
    attribute_values: list[AttributeValueOut]
    reorder_rules: list[ProductReorderRuleOut]
    availability: list[WarehouseAvailabilityOut]


class VariantOut(ProductOut):
    model_config = examples({**PRODUCT_EXAMPLE, "attribute_values": [{"attribute": "Size", "value": "M"}]})

    attribute_values: list[AttributeValueOut]


class ProductLookupOut(ApiSchema):
    """What one scan of ``code`` is: a product, counted in ``unit`` (``factor`` stock units each)."""

    model_config = examples(
        {
            "code": "14006381333938",
            "matched": "barcode",
            "product": PRODUCT_EXAMPLE,
            "unit": "box",
            "factor": "12.0000",
        }
    )

    code: str
    matched: str = Field(description="barcode or sku")
    product: ProductOut
    unit: str
    factor: Quantity


class ProductTemplateIn(ApiSchema):
    model_config = examples(
        {
            "name": "T-shirt",
            "sku_prefix": "TEE",
            "attributes": {"Size": ["S", "M"], "Colour": ["Red"]},
            "sale_price": "19.90",
        }
    )

    name: str = Field(max_length=200)
    sku_prefix: str = Field(max_length=40, description="variant SKUs are PREFIX-VALUE-VALUE")
    attributes: dict[str, list[str]] = Field(description='e.g. {"Size": ["S", "M"], "Colour": ["Red"]}')
    stock_unit: str = "pcs"
    description: str = ""
    category: int | None = None
    sale_price: MoneyIn = Decimal(0)
    currency: str = "USD"
    tracking: Tracking = Tracking.NONE


class ProductTemplateOut(ApiSchema):
    model_config = examples(
        {
            "id": 1,
            "name": "T-shirt",
            "description": "",
            "category": None,
            "attributes": ["Size"],
            "variants": [],
        }
    )

    id: int
    name: str
    description: str
    category: int | None = Field(None, alias="category_id")
    attributes: list[str]
    variants: list[VariantOut]


# --- bulk ------------------------------------------------------------------------------------------


class ProductUpsertItemIn(ApiSchema):
    """A product by SKU: created when the SKU is new (``name`` then required), else updated.

    Only the fields sent are set; ``barcodes`` replaces the product's own barcodes;
    ``is_active: false`` archives it, ``true`` restores it.
    """

    model_config = examples(
        {"sku": "MUG-BLUE", "name": "Blue mug", "sale_price": "12.50", "barcodes": ["4006381333931"]}
    )

    sku: str = Field(min_length=1, max_length=64)
    name: str | None = Field(None, max_length=200)
    description: str | None = None
    category: int | None = Field(None, description="category id")
    kind: ProductKind | None = None
    stock_unit: str | None = Field(None, max_length=16, description="unit code")
    weight: QuantityIn | None = Field(None, ge=0, max_digits=18, decimal_places=4)
    sale_price: MoneyIn | None = Field(None, ge=0, max_digits=19, decimal_places=4)
    currency: str | None = Field(None, max_length=3)
    tracking: Tracking | None = None
    barcodes: list[str] | None = None
    is_active: bool | None = None


class ProductBulkUpsertIn(ApiSchema):
    model_config = examples(
        {
            "items": [
                {"sku": "MUG-BLUE", "name": "Blue mug", "sale_price": "12.50"},
                {"sku": "MUG-RED", "sale_price": "13.00"},
            ]
        }
    )

    items: list[ProductUpsertItemIn] = Field(
        min_length=1, max_length=BULK_MAX, description=f"at most {BULK_MAX}; validated as a whole"
    )


class ProductUpsertedOut(ApiSchema):
    model_config = examples({"index": 0, "sku": "MUG-BLUE", "id": 7, "action": "created"})

    index: int = Field(description="position of the item in the request")
    sku: str
    id: int = Field(description="product id")
    action: str = Field(description="created, updated or unchanged")


class ProductBulkUpsertOut(ApiSchema):
    model_config = examples(
        {
            "created": ["MUG-BLUE"],
            "updated": ["MUG-RED"],
            "unchanged": [],
            "items": [
                {"index": 0, "sku": "MUG-BLUE", "id": 7, "action": "created"},
                {"index": 1, "sku": "MUG-RED", "id": 8, "action": "updated"},
            ],
        }
    )

    created: list[str] = Field(description="SKUs created")
    updated: list[str] = Field(description="SKUs changed")
    unchanged: list[str] = Field(description="SKUs sent as they already were")
    items: list[ProductUpsertedOut]


class CountedLevelIn(ApiSchema):
    """What was counted of a product in a bin (by id or by path), maybe of one lot or serial."""

    model_config = examples({"sku": "MUG-BLUE", "location_path": "WH1/Stock", "counted": "38"})

    sku: str = Field(min_length=1, max_length=64)
    location: int | None = Field(None, description="bin id")
    location_path: str | None = Field(None, max_length=500, description="bin path, e.g. WH1/A/A-01")
    lot: str | None = Field(None, max_length=64, description="lot or serial code; created if new")
    expiry_date: date | None = Field(None, description="of a new lot")
    counted: QuantityIn = Field(ge=0, max_digits=18, decimal_places=4, description="the on-hand quantity now")


class CountedLevelsIn(ApiSchema):
    model_config = examples(
        {
            "reference": "CYCLE-2030-05",
            "items": [
                {"sku": "MUG-BLUE", "location_path": "WH1/Stock", "counted": "38"},
                {"sku": "MUG-RED", "location": 12, "counted": "0"},
            ],
        }
    )

    items: list[CountedLevelIn] = Field(
        min_length=1, max_length=BULK_MAX, description=f"at most {BULK_MAX}; validated as a whole"
    )
    reference: str = Field("", max_length=100, description="shown on every move, e.g. the count's name")
    reason: str = Field("stock count", min_length=1, max_length=255)


class CountedOut(ApiSchema):
    model_config = examples(
        {
            "index": 0,
            "sku": "MUG-BLUE",
            "location": 12,
            "location_path": "WH1/Stock",
            "lot": None,
            "previous": "40.0000",
            "counted": "38.0000",
            "difference": "-2.0000",
            "move": 301,
        }
    )

    index: int
    sku: str = Field(alias="product.sku")
    location: int = Field(alias="location.pk")
    location_path: str = Field(alias="location.path")
    lot: str | None = Field(None, alias="lot.code")
    previous: Quantity = Field(description="on hand before")
    counted: Quantity = Field(description="on hand now")
    difference: Quantity
    move: int | None = Field(None, alias="move.pk", description="the count move; null when nothing changed")

    @staticmethod
    def resolve_difference(obj: object) -> Decimal:
        return obj.counted - obj.previous  # type: ignore[attr-defined]


class CountedLevelsOut(ApiSchema):
    model_config = examples({"batch": "3f2a9c1d7b4e", "reference": "CYCLE-2030-05", "items": []})

    batch: str = Field(description="the moves' document_id (document_type inventory.stockcount)")
    reference: str
    items: list[CountedOut]


# --- warehouses and locations -----------------------------------------------------


class WarehouseIn(ApiSchema):
    model_config = examples({"code": "WH2", "name": "East warehouse", "address": "1 Dock Rd"})

    code: str = Field(max_length=16)
    name: str = Field(max_length=100)
    address: str = ""
    allow_negative_stock: bool = False


class WarehousePatchIn(ApiSchema):
    model_config = examples({"name": "East warehouse (main)", "is_active": True})

    name: str | None = Field(None, max_length=100)
    address: str | None = None
    allow_negative_stock: bool | None = None
    is_active: bool | None = None


class WarehouseFilterIn(ApiSchema):
    model_config = examples({"q": "east", "is_active": True})

    q: str | None = Field(None, description="code prefix or part of the name")
    is_active: bool | None = None
    updated_since: datetime | None = updated_since_param()
    ordering: str | None = ordering_param(WAREHOUSE_ORDERING, default="code")


class WarehouseOut(ApiSchema):
    model_config = examples(
        {
            "id": 2,
            "code": "WH2",
            "name": "East warehouse",
            "address": "1 Dock Rd",
            "allow_negative_stock": False,
            "is_active": True,
            "created_at": "2030-01-02T09:00:00Z",
            "updated_at": "2030-01-02T09:00:00Z",
        }
    )

    id: int
    code: str
    name: str
    address: str
    allow_negative_stock: bool
    is_active: bool
    created_at: datetime
    updated_at: datetime


class LocationFilterIn(ApiSchema):
    """Locations have no updated_at: there is no updated_since here."""

    model_config = examples({"warehouse": 1, "kind": "internal"})

    warehouse: int | None = None
    kind: str | None = None
    q: str | None = Field(None, description="part of the path")
    is_active: bool | None = None
    ordering: str | None = ordering_param(LOCATION_ORDERING, default="path")


class LocationIn(ApiSchema):
    model_config = examples({"parent": 3, "name": "A-01", "kind": "internal", "barcode": "LOC-A-01"})

    parent: int = Field(description="id of the zone (a view location) it goes under")
    name: str = Field(max_length=100)
    kind: LocationKind = Field(LocationKind.INTERNAL, description="internal (a bin) or view (a zone)")
    barcode: str | None = Field(None, max_length=64)


class LocationPatchIn(ApiSchema):
    model_config = examples({"name": "A-01-top", "barcode": ""})

    name: str | None = Field(None, max_length=100)
    barcode: str | None = Field(None, max_length=64, description="'' removes it")
    is_active: bool | None = Field(None, description="false archives the location")


class LocationOut(ApiSchema):
    model_config = examples(
        {
            "id": 12,
            "warehouse": 1,
            "warehouse_code": "WH1",
            "parent": 3,
            "name": "A-01",
            "kind": "internal",
            "path": "WH1/A/A-01",
            "barcode": "LOC-A-01",
            "is_active": True,
        }
    )

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


class LevelFilterIn(ApiSchema):
    """Stock levels: no updated_since (the ledger does not keep their updated_at; sync moves instead)."""

    model_config = examples({"q": "MUG", "warehouse": 1, "nonzero": True})

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
    ordering: str | None = ordering_param(LEVEL_ORDERING, default="sku,location")


class LevelOut(ApiSchema):
    model_config = examples(
        {
            "id": 55,
            "product": 7,
            "sku": "MUG-BLUE",
            "product_name": "Blue mug",
            "stock_unit": "pcs",
            "location": 12,
            "location_path": "WH1/A/A-01",
            "warehouse": 1,
            "warehouse_code": "WH1",
            "lot": None,
            "lot_code": None,
            "on_hand": "40.0000",
            "reserved": "5.0000",
            "available": "35.0000",
            "updated_at": "2030-01-31T12:00:00Z",
        }
    )

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


class MoveFilterIn(ApiSchema):
    """Moves are never changed: ``updated_since`` is the moment they were made (``created_at``)."""

    model_config = examples({"product": 7, "kind": "count", "since": "2030-01-01T00:00:00Z"})

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
    updated_since: datetime | None = updated_since_param()
    ordering: str | None = ordering_param(MOVE_ORDERING, default="-created_at")


MOVE_EXAMPLE: dict[str, Any] = {
    "id": 301,
    "product": 7,
    "sku": "MUG-BLUE",
    "quantity": "2.0000",
    "stock_unit": "pcs",
    "from_location": 12,
    "from_location_path": "WH1/A/A-01",
    "to_location": 2,
    "to_location_path": "Virtual/Adjustment",
    "lot": None,
    "lot_code": None,
    "unit_cost": "4.25",
    "kind": "count",
    "reference": "CYCLE-2030-05",
    "document_type": "inventory.stockcount",
    "document_id": "3f2a9c1d7b4e",
    "reason": "stock count",
    "reversal_of": None,
    "operation": "0b6f5a8e-3d4c-4d7e-9a31-2f1c0e9d8b7a",
    "user": "ada",
    "created_at": "2030-01-31T12:00:00Z",
}


class MoveOut(ApiSchema):
    model_config = examples(MOVE_EXAMPLE)

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
    unit_cost: BaseMoney
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
    model_config = examples({**MOVE_EXAMPLE, "reversed_by": None})

    reversed_by: int | None = Field(
        None, alias="reversed_by_id", description="id of the move that reversed this one"
    )


class ReverseIn(ApiSchema):
    model_config = examples({"reason": "booked to the wrong bin"})

    reason: str = Field(max_length=255)


# --- stock operations ----------------------------------------------------------------------


class ReceiptIn(ApiSchema):
    model_config = examples(
        {"product": 7, "location": 12, "quantity": "24", "unit_cost": "4.25", "reference": "OPENING"}
    )

    product: int
    location: int
    quantity: QuantityIn
    unit_cost: MoneyIn | None = Field(None, description="per stock unit; default: the average cost")
    lot: str | None = Field(None, max_length=64, description="lot or serial code (created if new)")
    expiry_date: date | None = None
    reference: str = Field("", max_length=100)
    reason: str = Field("", max_length=255)


class IssueIn(ApiSchema):
    model_config = examples({"product": 7, "location": 12, "quantity": "2", "reference": "SAMPLE"})

    product: int
    location: int
    quantity: QuantityIn
    lot: int | None = None
    reference: str = Field("", max_length=100)
    reason: str = Field("", max_length=255)


class AdjustmentIn(ApiSchema):
    """Set the on-hand quantity (``quantity``) or change it (``delta``): one of the two."""

    model_config = examples({"product": 7, "location": 12, "quantity": "38", "reason": "recount"})

    product: int
    location: int
    lot: int | None = None
    quantity: QuantityIn | None = Field(None, description="the new on-hand quantity")
    delta: QuantityIn | None = Field(None, description="the change, + or -")
    reason: str = Field(max_length=255)


class LevelBalanceOut(ApiSchema):
    model_config = examples({"on_hand": "38.0000", "reserved": "5.0000", "available": "33.0000"})

    on_hand: Quantity
    reserved: Quantity
    available: Quantity


class AdjustmentOut(ApiSchema):
    model_config = examples(
        {"move": MOVE_EXAMPLE, "level": {"on_hand": "38.0000", "reserved": "5.0000", "available": "33.0000"}}
    )

    move: MoveOut | None = Field(description="null when the quantity was already right")
    level: LevelBalanceOut


class ScrapIn(ApiSchema):
    model_config = examples({"product": 7, "location": 12, "quantity": "1", "reason": "broken"})

    product: int
    location: int
    quantity: QuantityIn
    lot: int | None = None
    reason: str = Field(max_length=255)


# --- transfers ---------------------------------------------------------------------------------


class TransferLineIn(ApiSchema):
    model_config = examples({"product": 7, "quantity": "6"})

    product: int
    quantity: QuantityIn
    lot: int | None = None


class TransferIn(ApiSchema):
    model_config = examples(
        {"from_location": 12, "to_location": 31, "lines": [{"product": 7, "quantity": "6"}], "two_step": True}
    )

    from_location: int
    to_location: int
    lines: list[TransferLineIn] = Field(min_length=1)
    two_step: bool = Field(False, description="ship into transit now, receive later")
    note: str = Field(
        "", max_length=255, description="the reason of a direct transfer; the note of a two-step one"
    )


class DirectTransferOut(ApiSchema):
    model_config = examples({"moves": [MOVE_EXAMPLE]})

    moves: list[MoveOut]


class TransferFilterIn(ApiSchema):
    model_config = examples({"status": "in_transit"})

    status: str | None = None
    updated_since: datetime | None = updated_since_param()
    ordering: str | None = ordering_param(TRANSFER_ORDERING, default="-created_at")


class TransferLineOut(ApiSchema):
    model_config = examples(
        {"id": 5, "product": 7, "sku": "MUG-BLUE", "lot": None, "lot_code": None, "quantity": "6.0000"}
    )

    id: int
    product: int = Field(alias="product_id")
    sku: str = Field(alias="product.sku")
    lot: int | None = Field(None, alias="lot_id")
    lot_code: str | None = Field(None, alias="lot.code")
    quantity: Quantity


class TransferOut(ApiSchema):
    model_config = examples(
        {
            "id": 3,
            "number": "TR-00003",
            "status": "in_transit",
            "from_location": 12,
            "from_location_path": "WH1/A/A-01",
            "to_location": 31,
            "to_location_path": "WH2/Stock",
            "note": "",
            "shipped_at": "2030-01-31T12:00:00Z",
            "received_at": None,
            "created_at": "2030-01-31T12:00:00Z",
            "lines": [],
        }
    )

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


class CountSheetIn(ApiSchema):
    model_config = examples({"location": 12, "prefill": True, "note": "weekly count"})

    location: int
    prefill: bool = Field(True, description="a line for everything the system thinks is there")
    note: str = Field("", max_length=255)


class CountSheetFilterIn(ApiSchema):
    model_config = examples({"status": "open", "warehouse": 1})

    status: str | None = None
    location: int | None = None
    warehouse: int | None = None
    updated_since: datetime | None = updated_since_param()
    ordering: str | None = ordering_param(COUNT_ORDERING, default="-created_at")


class CountLineIn(ApiSchema):
    model_config = examples({"product": 7, "counted": "38"})

    product: int
    lot: int | None = None
    counted: QuantityIn
    add: bool = Field(False, description="add to what was counted so far (one scan at a time)")


class CountApplyIn(ApiSchema):
    model_config = examples({"zero_uncounted": False})

    zero_uncounted: bool = Field(False, description="set lines nobody counted to zero")


class CountLineOut(ApiSchema):
    model_config = examples(
        {
            "id": 9,
            "product": 7,
            "sku": "MUG-BLUE",
            "lot": None,
            "lot_code": None,
            "expected": "40.0000",
            "counted": "38.0000",
            "difference": "-2.0000",
        }
    )

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


COUNT_SHEET_EXAMPLE: dict[str, Any] = {
    "id": 4,
    "number": "CNT-00004",
    "status": "open",
    "location": 12,
    "location_path": "WH1/A/A-01",
    "warehouse": 1,
    "note": "weekly count",
    "applied_at": None,
    "created_at": "2030-01-31T12:00:00Z",
    "created_by": "ada",
}


class CountSheetOut(ApiSchema):
    model_config = examples(COUNT_SHEET_EXAMPLE)

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
    model_config = examples({**COUNT_SHEET_EXAMPLE, "lines": []})

    lines: list[CountLineOut]


# --- reservations ----------------------------------------------------------------------------------


class ReservationFilterIn(ApiSchema):
    """No updated_since: the ledger's bulk releases do not keep reservations' updated_at."""

    model_config = examples({"demand_type": "sales.orderline", "status": "active"})

    product: int | None = None
    warehouse: int | None = None
    demand_type: str | None = None
    demand_id: str | None = None
    status: str | None = None
    ordering: str | None = ordering_param(RESERVATION_ORDERING, default="created_at")


class ReservationIn(ApiSchema):
    model_config = examples(
        {"product": 7, "warehouse": 1, "quantity": "2", "demand_type": "shop.order", "demand_id": "1001"}
    )

    product: int
    warehouse: int
    quantity: QuantityIn
    demand_type: str = Field(max_length=64, description="app.model of the demand: sales.orderline")
    demand_id: str = Field(max_length=64)
    reference: str = Field("", max_length=100)
    location: int | None = Field(None, description="reserve in this bin only")
    lot: int | None = Field(None, description="reserve this lot only")
    allow_partial: bool = Field(False, description="reserve what is available instead of refusing")


RESERVATION_EXAMPLE: dict[str, Any] = {
    "id": 21,
    "product": 7,
    "sku": "MUG-BLUE",
    "location": 12,
    "location_path": "WH1/A/A-01",
    "warehouse": 1,
    "lot": None,
    "lot_code": None,
    "quantity": "2.0000",
    "consumed_quantity": "0.0000",
    "released_quantity": "0.0000",
    "status": "active",
    "demand_type": "shop.order",
    "demand_id": "1001",
    "reference": "",
    "created_at": "2030-01-31T12:00:00Z",
    "updated_at": "2030-01-31T12:00:00Z",
}


class ReservationOut(ApiSchema):
    model_config = examples(RESERVATION_EXAMPLE)

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


class ReserveOut(ApiSchema):
    model_config = examples(
        {"requested": "2.0000", "reserved": "2.0000", "reservations": [RESERVATION_EXAMPLE]}
    )

    requested: Quantity
    reserved: Quantity
    reservations: list[ReservationOut]


class ReservationQuantityIn(ApiSchema):
    model_config = examples({"quantity": "1"})

    quantity: QuantityIn | None = Field(None, description="default: everything still held")


class ConsumeIn(ReservationQuantityIn):
    model_config = examples({"quantity": "1", "reference": "SHIP-1001"})

    reference: str = Field("", max_length=100)


class ConsumeOut(ApiSchema):
    model_config = examples({"reservation": RESERVATION_EXAMPLE, "move": MOVE_EXAMPLE})

    reservation: ReservationOut
    move: MoveOut


# --- reorder rules, replenishment, valuation, checks ---------------------------------------------------


class ReorderRuleFilterIn(ApiSchema):
    model_config = examples({"warehouse": 1})

    product: int | None = None
    warehouse: int | None = None
    updated_since: datetime | None = updated_since_param()
    ordering: str | None = ordering_param(REORDER_RULE_ORDERING, default="sku,warehouse")


class ReorderRuleIn(ApiSchema):
    model_config = examples(
        {"product": 7, "warehouse": 1, "min_quantity": "10", "max_quantity": "100", "multiple": "6"}
    )

    product: int
    warehouse: int
    min_quantity: QuantityIn
    max_quantity: QuantityIn
    multiple: QuantityIn = Decimal(1)


REORDER_RULE_EXAMPLE: dict[str, Any] = {
    "id": 4,
    "product": 7,
    "sku": "MUG-BLUE",
    "warehouse": 1,
    "warehouse_code": "WH1",
    "min_quantity": "10.0000",
    "max_quantity": "100.0000",
    "multiple": "6.0000",
    "updated_at": "2030-01-31T12:00:00Z",
}


class ReorderRuleOut(ApiSchema):
    model_config = examples(REORDER_RULE_EXAMPLE)

    id: int
    product: int = Field(alias="product_id")
    sku: str = Field(alias="product.sku")
    warehouse: int = Field(alias="warehouse_id")
    warehouse_code: str = Field(alias="warehouse.code")
    min_quantity: Quantity
    max_quantity: Quantity
    multiple: Quantity
    updated_at: datetime


class ReplenishmentSuggestionOut(ApiSchema):
    model_config = examples(
        {"rule": REORDER_RULE_EXAMPLE, "availability": AVAILABILITY_EXAMPLE, "quantity": "48.0000"}
    )

    rule: ReorderRuleOut
    availability: AvailabilityOut
    quantity: Quantity = Field(description="to order: up to max, in multiples")


class WarehouseValueOut(ApiSchema):
    model_config = examples(
        {"warehouse": 1, "warehouse_code": "WH1", "quantity": "40.0000", "value": "170.00"}
    )

    warehouse: int = Field(alias="warehouse.pk")
    warehouse_code: str = Field(alias="warehouse.code")
    quantity: Quantity
    value: BaseMoney


class ValuationOut(ApiSchema):
    model_config = examples(
        {
            "as_of": None,
            "currency": "USD",
            "warehouses": [
                {"warehouse": 1, "warehouse_code": "WH1", "quantity": "40.0000", "value": "170.00"}
            ],
            "total_quantity": "40.0000",
            "total_value": "170.00",
        }
    )

    as_of: datetime | None = Field(description="null: now, at the current average costs")
    currency: str = Field(description="the base currency, of every value here")
    warehouses: list[WarehouseValueOut]
    total_quantity: Quantity
    total_value: BaseMoney


class StockCheckFilterIn(ApiSchema):
    """Check runs have no updated_at: no updated_since."""

    model_config = examples({"ordering": "-drift_count"})

    ordering: str | None = ordering_param(STOCK_CHECK_ORDERING, default="-started_at")


STOCK_CHECK_EXAMPLE: dict[str, Any] = {
    "id": 2,
    "started_at": "2030-01-31T03:00:00Z",
    "finished_at": "2030-01-31T03:00:04Z",
    "levels_checked": 1200,
    "drift_count": 0,
    "repaired": False,
    "triggered_by": None,
}


class StockCheckOut(ApiSchema):
    model_config = examples(STOCK_CHECK_EXAMPLE)

    id: int
    started_at: datetime
    finished_at: datetime
    levels_checked: int
    drift_count: int
    repaired: bool
    triggered_by: str | None = Field(None, alias="triggered_by.username")


class StockCheckDetailOut(StockCheckOut):
    model_config = examples({**STOCK_CHECK_EXAMPLE, "drifts": []})

    drifts: list[dict[str, object]] = Field(description="the first 500 drifts found")
