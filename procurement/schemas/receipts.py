"""Receipts: goods received against a purchase order (its ``receive`` action)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from ninja import Field

from erp.api_helpers import ApiSchema, Quantity, QuantityIn, examples, ordering_param, updated_since_param

# The sort keys of each list: public name -> field. Old short names stay as aliases.
RECEIPT_ORDERING = {"received_at": "received_at", "number": "number", "updated_at": "updated_at", "id": "pk"}

# Examples for the OpenAPI document: one purchase order of 2 boxes of 12 parts, received and billed.
RECEIPT_EXAMPLE: dict[str, Any] = {
    "id": 3,
    "number": "RC-00003",
    "order": 11,
    "location": 12,
    "location_path": "WH1/Stock",
    "received_at": "2030-02-06T09:00:00Z",
    "note": "",
    "lines": [
        {"id": 4, "line_id": 21, "sku": "PART-1", "quantity": "2.0000", "lot_code": "", "expiry_date": None}
    ],
}


class ReceiptLineOut(ApiSchema):
    model_config = examples(RECEIPT_EXAMPLE["lines"][0])

    id: int
    line_id: int = Field(alias="order_line_id")
    sku: str = Field(alias="order_line.product.sku")
    quantity: Quantity = Field(description="in purchase units")
    lot_code: str
    expiry_date: date | None


class ReceiptOut(ApiSchema):
    model_config = examples(RECEIPT_EXAMPLE)

    id: int
    number: str
    order: int = Field(alias="order_id")
    location: int = Field(alias="location_id")
    location_path: str = Field(alias="location.path")
    received_at: datetime
    note: str
    lines: list[ReceiptLineOut]

    @staticmethod
    def resolve_lines(obj: Any) -> list[Any]:
        return list(obj.lines.all())


class ReceiveLineIn(ApiSchema):
    model_config = examples({"line_id": 21, "quantity": "2", "lot_code": "L-2030-01"})

    line_id: int = Field(description="id of a line of this purchase order")
    quantity: QuantityIn = Field(description="in purchase units (2 boxes of 12: 2)")
    lot_code: str = Field("", max_length=64, description="required for lot-tracked products")
    expiry_date: date | None = None
    serials: list[str] = Field(
        default_factory=list, description="serial-tracked products: one per stock unit received"
    )


class ReceiveIn(ApiSchema):
    model_config = examples(
        {"lines": [{"line_id": 21, "quantity": "2"}], "location": 12, "note": "pallet 1 of 1"}
    )

    lines: list[ReceiveLineIn]
    location: int | None = Field(
        None, description="a bin of the order's warehouse; its default bin when left out"
    )
    note: str = Field("", max_length=255)


class ReceiptFilterIn(ApiSchema):
    model_config = examples({"order": 11})

    order: int | None = None
    since: datetime | None = Field(None, description="received at or after")
    until: datetime | None = Field(None, description="received at or before")
    updated_since: datetime | None = updated_since_param()
    ordering: str | None = ordering_param(RECEIPT_ORDERING, default="-received_at")
