"""Cycle counts: count sheets and their lines."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from ninja import Field

from erp.api_helpers import ApiSchema, Quantity, QuantityIn, examples, ordering_param, updated_since_param
from inventory.models import CountLine

COUNT_ORDERING = {
    "number": "number",
    "created_at": "created_at",
    "updated_at": "updated_at",
    "applied_at": "applied_at",
    "id": "pk",
}


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
    def resolve_difference(obj: CountLine) -> Decimal | None:
        counted = obj.counted_quantity
        return None if counted is None else counted - obj.expected_quantity


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
