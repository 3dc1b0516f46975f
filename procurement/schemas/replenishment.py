"""Replenishment: purchase suggestions, and ordering them."""

from __future__ import annotations

from ninja import Field

from erp.api_helpers import ApiSchema, Money, Quantity, examples


class PurchaseSuggestionOut(ApiSchema):
    model_config = examples(
        {
            "key": "7-1",
            "product": 7,
            "sku": "PART-1",
            "product_name": "Part",
            "warehouse": 1,
            "warehouse_code": "WH1",
            "projected": "4.0000",
            "min": "10.0000",
            "max": "40.0000",
            "stock_quantity": "36.0000",
            "stock_unit": "pcs",
            "supplier": 2,
            "supplier_name": "Parts Inc",
            "purchase_quantity": "3.0000",
            "purchase_unit": "box",
            "unit_price": "30.00",
            "currency": "USD",
            "orderable": True,
        }
    )

    key: str = Field(description="send it back to POST /replenishment to order")
    product: int
    sku: str
    product_name: str
    warehouse: int
    warehouse_code: str
    projected: Quantity = Field(description="on hand + incoming - reserved - outgoing, in stock units")
    min: Quantity
    max: Quantity
    stock_quantity: Quantity = Field(description="suggested, in stock units")
    stock_unit: str
    supplier: int | None = Field(description="the preferred supplier; null: none yet")
    supplier_name: str | None
    purchase_quantity: Quantity = Field(description="in purchase units, after rounding and the minimum order")
    purchase_unit: str | None
    unit_price: Money | None = Field(description="per purchase unit, with the price break reached")
    currency: str | None
    orderable: bool = Field(description="false: no preferred supplier; order it by hand")


class ReplenishIn(ApiSchema):
    model_config = examples({"keys": ["7-1"]})

    keys: list[str] = Field(min_length=1, description="keys of suggestions to order")
