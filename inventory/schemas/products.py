"""Products, their units and attribute values, availability, the lookup by code, and templates."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

from ninja import Field

from erp.api_helpers import (
    ApiSchema,
    BaseMoney,
    Money,
    MoneyIn,
    Quantity,
    QuantityIn,
    Shown,
    examples,
    model_of,
    ordering_param,
    updated_since_param,
)
from inventory.models import Product, ProductKind, ProductUnit, Tracking

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


class StockFigures(Protocol):
    """What ProductOut reads beside a product's fields: ``on_hand`` and ``reserved`` over its stock
    bins, annotated by ``selectors.product_list`` or computed into a ``Shown`` product."""

    @property
    def on_hand(self) -> Decimal: ...

    @property
    def reserved(self) -> Decimal: ...


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

    # A list reads its products as rows of columns (KeysetPagination's rows), their barcodes attached.
    @staticmethod
    def resolve_barcodes(obj: Product | Shown[Product] | dict[str, Any]) -> list[str]:
        if isinstance(obj, dict):
            return list(obj["barcodes"])
        return [b.code for b in model_of(obj).barcodes.all()]

    @staticmethod
    def resolve_available(obj: StockFigures | dict[str, Any]) -> Decimal:
        if isinstance(obj, dict):
            return obj["on_hand"] - obj["reserved"]
        return obj.on_hand - obj.reserved


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
    def resolve_barcodes(obj: ProductUnit) -> list[str]:
        # From the product's prefetched barcodes, not one query per unit.
        return sorted(b.code for b in obj.product.barcodes.all() if b.unit_id == obj.pk)


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
