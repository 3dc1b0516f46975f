"""MRP: runs, their make and buy suggestions, and converting them into draft orders."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from ninja import Field

from erp.api_helpers import ApiSchema, Quantity, examples, ordering_param
from manufacturing.models import MrpRun

# The sort keys of each list: public name -> field. Old short names stay as aliases.
SUGGESTION_ORDERING = {
    "level": "level",
    "release_date": "release_date",
    "due_date": "due_date",
    "sku": "product__sku",
    "id": "pk",
}

# Examples for the OpenAPI document: a gadget made of 2 parts, one assembly operation.
SUGGESTION_EXAMPLE: dict[str, Any] = {
    "id": 30,
    "run": 2,
    "kind": "buy",
    "product": 7,
    "sku": "PART-1",
    "product_name": "Part",
    "stock_unit": "pcs",
    "warehouse": 1,
    "warehouse_code": "WH1",
    "quantity": "24.0000",
    "due_date": "2030-02-01",
    "release_date": "2030-01-25",
    "level": 1,
    "supplier_item": 5,
    "supplier": 2,
    "supplier_name": "Parts Inc",
    "covers": [{"demand": "MO-00006", "date": "2030-02-01", "quantity": "10.0000"}],
    "converted_to": "",
}


class MrpRunIn(ApiSchema):
    model_config = examples({"horizon": "2030-03-31"})

    horizon: date | None = Field(None, description="plan up to this date; 60 days ahead when left out")


class CoverOut(ApiSchema):
    model_config = examples(SUGGESTION_EXAMPLE["covers"][0])

    demand: str
    date: date
    quantity: Quantity


class MrpSuggestionOut(ApiSchema):
    model_config = examples(SUGGESTION_EXAMPLE)

    id: int
    run: int = Field(alias="run_id")
    kind: str = Field(description="make (a manufacturing order) or buy (a purchase order)")
    product: int = Field(alias="product_id")
    sku: str = Field(alias="product.sku")
    product_name: str = Field(alias="product.name")
    stock_unit: str = Field(alias="product.stock_unit.code")
    warehouse: int = Field(alias="warehouse_id")
    warehouse_code: str = Field(alias="warehouse.code")
    quantity: Quantity = Field(description="in stock units")
    due_date: date
    release_date: date = Field(description="when to order or start: the due date less the lead time")
    level: int = Field(description="low-level code: 0 for finished goods")
    supplier_item: int | None = Field(alias="supplier_item_id")
    supplier: int | None
    supplier_name: str | None
    covers: list[CoverOut] = Field(description="the demands it covers")
    converted_to: str = Field(description="MO-... or PO-... once converted")

    @staticmethod
    def resolve_supplier(obj: Any) -> int | None:
        return obj.supplier_item.supplier_id if obj.supplier_item else None

    @staticmethod
    def resolve_supplier_name(obj: Any) -> str | None:
        return obj.supplier_item.supplier.name if obj.supplier_item else None


class MrpRunOut(ApiSchema):
    model_config = examples(
        {
            "id": 2,
            "started_at": "2030-01-31T12:00:00Z",
            "horizon": "2030-03-31",
            "user": "ada",
            "suggestions": [SUGGESTION_EXAMPLE],
        }
    )

    id: int
    started_at: datetime
    horizon: date
    user: str | None
    suggestions: list[MrpSuggestionOut] = Field(alias="suggestions_list")

    @staticmethod
    def resolve_user(obj: MrpRun) -> str | None:
        return obj.user.get_username() if obj.user else None


class MrpSuggestionFilterIn(ApiSchema):
    model_config = examples({"kind": "buy", "open": True})

    run: int | None = Field(None, description="the latest run when left out")
    kind: str | None = Field(None, description="make or buy")
    warehouse: int | None = None
    open: bool | None = Field(None, description="true: not converted yet; false: converted")
    ordering: str | None = ordering_param(SUGGESTION_ORDERING, default="level,release_date")


class ConvertIn(ApiSchema):
    model_config = examples({"suggestions": [30, 31]})

    suggestions: list[int] = Field(min_length=1, description="ids of suggestions to turn into orders")


class ConvertedOut(ApiSchema):
    model_config = examples({"documents": ["MO-00007", "PO-00012"]})

    documents: list[str] = Field(description="numbers of the draft orders created: MO-... and PO-...")
