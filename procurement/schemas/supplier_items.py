"""Supplier items (what a supplier sells us, at what price) and their price breaks."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from ninja import Field

from erp.api_helpers import (
    ApiSchema,
    Money,
    MoneyIn,
    Quantity,
    QuantityIn,
    examples,
    ordering_param,
    updated_since_param,
)
from procurement.models import SupplierItem

# The sort keys of each list: public name -> field. Old short names stay as aliases.
SUPPLIER_ITEM_ORDERING = {
    "supplier": "supplier__name",
    "sku": "product__sku",
    "unit_price": "unit_price",
    "updated_at": "updated_at",
    "id": "pk",
}

# Examples for the OpenAPI document: one purchase order of 2 boxes of 12 parts, received and billed.
SUPPLIER_ITEM_EXAMPLE: dict[str, Any] = {
    "id": 5,
    "supplier": 2,
    "supplier_code": "S-0002",
    "supplier_name": "Parts Inc",
    "product": 7,
    "sku": "PART-1",
    "product_name": "Part",
    "stock_unit": "pcs",
    "supplier_sku": "P-100",
    "purchase_unit": "box",
    "factor": "12.0000",
    "unit_price": "30.00",
    "currency": "USD",
    "min_order_quantity": "1.0000",
    "lead_time_days": None,
    "effective_lead_time": 7,
    "is_preferred": True,
    "price_breaks": [{"min_quantity": "10.0000", "unit_price": "27.50"}],
}


class PriceBreakIn(ApiSchema):
    model_config = examples({"min_quantity": "10", "unit_price": "27.50"})

    min_quantity: QuantityIn = Field(description="from this quantity on, in purchase units")
    unit_price: MoneyIn = Field(description="per purchase unit")


class PriceBreakOut(ApiSchema):
    model_config = examples({"min_quantity": "10.0000", "unit_price": "27.50"})

    min_quantity: Quantity
    unit_price: Money


class SupplierItemFilterIn(ApiSchema):
    model_config = examples({"supplier": 2, "preferred": True})

    supplier: int | None = None
    product: int | None = None
    preferred: bool | None = None
    updated_since: datetime | None = updated_since_param()
    ordering: str | None = ordering_param(SUPPLIER_ITEM_ORDERING, default="supplier,sku")


class SupplierItemIn(ApiSchema):
    """Create, or change, what a supplier sells (one item per supplier and product).

    The product is named by ``product`` (id) or ``sku``, one of the two. ``price_breaks``,
    when sent, replaces the item's breaks.
    """

    model_config = examples(
        {
            "supplier": 2,
            "sku": "PART-1",
            "unit_price": "30.00",
            "purchase_unit": "box",
            "factor": "12",
            "is_preferred": True,
            "price_breaks": [{"min_quantity": "10", "unit_price": "27.50"}],
        }
    )

    supplier: int
    product: int | None = None
    sku: str | None = None
    unit_price: MoneyIn = Field(description="per purchase unit, in the supplier's currency")
    purchase_unit: str | None = Field(
        None, description="unit code (box, pcs...); the stock unit when left out"
    )
    factor: QuantityIn = Field(Decimal(1), description="stock units in one purchase unit")
    supplier_sku: str = Field("", max_length=64)
    min_order_quantity: QuantityIn = Field(Decimal(0), description="in purchase units")
    lead_time_days: int | None = Field(None, ge=0, description="empty: the supplier's")
    is_preferred: bool = Field(False, description="the supplier replenishment buys this product from")
    price_breaks: list[PriceBreakIn] | None = None


class SupplierItemOut(ApiSchema):
    model_config = examples(SUPPLIER_ITEM_EXAMPLE)

    id: int
    supplier: int = Field(alias="supplier_id")
    supplier_code: str = Field(alias="supplier.code")
    supplier_name: str = Field(alias="supplier.name")
    product: int = Field(alias="product_id")
    sku: str = Field(alias="product.sku")
    product_name: str = Field(alias="product.name")
    stock_unit: str = Field(alias="product.stock_unit.code")
    supplier_sku: str
    purchase_unit: str = Field(alias="purchase_unit.code")
    factor: Quantity
    unit_price: Money
    currency: str = Field(alias="supplier.currency")
    min_order_quantity: Quantity
    lead_time_days: int | None
    effective_lead_time: int
    is_preferred: bool
    price_breaks: list[PriceBreakOut]

    @staticmethod
    def resolve_price_breaks(obj: SupplierItem) -> list[Any]:
        return list(obj.price_breaks.all())
