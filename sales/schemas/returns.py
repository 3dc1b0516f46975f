"""Returns (RMAs) of shipped goods, and refunds paid against their credit notes."""

from __future__ import annotations

from datetime import date, datetime
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
from sales.models import ReturnDisposition

# The sort keys of each list: public name -> field. Old short names stay as aliases.
RETURN_ORDERING = {"number": "number", "created_at": "created_at", "updated_at": "updated_at", "id": "pk"}

# Examples for the OpenAPI document (one order of two mugs, shipped and invoiced).
REFUND_EXAMPLE: dict[str, Any] = {
    "id": 2,
    "sales_return": 4,
    "credit_note": 10,
    "currency": "USD",
    "amount": "12.00",
    "refunded_at": "2030-02-10",
    "method": "card",
    "reference": "re_123",
    "credit_note_status": "paid",
}
RETURN_EXAMPLE: dict[str, Any] = {
    "id": 4,
    "number": "RMA-00004",
    "order": 12,
    "order_number": "SO-00012",
    "customer_name": "Engines Ltd",
    "status": "received",
    "reason": "damaged",
    "received_at": "2030-02-09T08:00:00Z",
    "credit_note": 10,
    "credit_note_number": "CN-00010",
    "currency": "USD",
    "credit_note_total": "12.00",
    "created_at": "2030-02-05T08:00:00Z",
    "lines": [{"id": 1, "line_id": 31, "quantity": "1.0000", "disposition": "restock", "reason": ""}],
}


class RefundOut(ApiSchema):
    model_config = examples(REFUND_EXAMPLE)

    id: int
    sales_return: int | None = Field(None, alias="sales_return_id")
    credit_note: int = Field(alias="credit_note_id")
    currency: str = Field(alias="credit_note.currency")
    amount: Money
    refunded_at: date
    method: str
    reference: str
    credit_note_status: str = Field(alias="credit_note.status")


class ReturnLineOut(ApiSchema):
    model_config = examples(
        {"id": 1, "line_id": 31, "quantity": "1.0000", "disposition": "restock", "reason": ""}
    )

    id: int
    line_id: int = Field(alias="order_line_id")
    quantity: Quantity
    disposition: str
    reason: str


class ReturnLineDetailOut(ReturnLineOut):
    model_config = examples(
        {
            "id": 1,
            "line_id": 31,
            "quantity": "1.0000",
            "disposition": "restock",
            "reason": "",
            "sku": "MUG-BLUE",
        }
    )

    sku: str = Field(alias="order_line.product.sku")


class OrderReturnOut(ApiSchema):
    model_config = examples(
        {k: RETURN_EXAMPLE[k] for k in ("id", "number", "status", "reason", "received_at", "credit_note")}
        | {"lines": []}
    )

    id: int
    number: str
    status: str
    reason: str
    received_at: datetime | None
    credit_note: int | None = Field(None, alias="credit_note_id")
    lines: list[ReturnLineDetailOut]


class ReturnOut(ApiSchema):
    model_config = examples(RETURN_EXAMPLE)

    id: int
    number: str
    order: int = Field(alias="order_id")
    order_number: str = Field(alias="order.number")
    customer_name: str = Field(alias="order.customer.name")
    status: str
    reason: str
    received_at: datetime | None
    credit_note: int | None = Field(None, alias="credit_note_id")
    credit_note_number: str | None = Field(None, alias="credit_note.number")
    currency: str = Field(alias="order.currency")
    credit_note_total: Money | None = Field(None, alias="credit_note.total")
    created_at: datetime
    lines: list[ReturnLineOut]


class ReturnDetailOut(ReturnOut):
    model_config = examples({**RETURN_EXAMPLE, "refunds": [REFUND_EXAMPLE]})

    lines: list[ReturnLineDetailOut]  # type: ignore[assignment]
    refunds: list[RefundOut]


class ReturnFilterIn(ApiSchema):
    model_config = examples({"status": "open"})

    status: str | None = None
    order: int | None = None
    updated_since: datetime | None = updated_since_param()
    ordering: str | None = ordering_param(RETURN_ORDERING, default="-created_at")


class ReturnLineIn(ApiSchema):
    model_config = examples({"line_id": 31, "quantity": "1", "disposition": "restock", "reason": "damaged"})

    line_id: int = Field(description="id of the order line")
    quantity: QuantityIn
    disposition: ReturnDisposition = ReturnDisposition.RESTOCK
    reason: str = Field("", max_length=255)


class ReturnIn(ApiSchema):
    model_config = examples(
        {
            "order": 12,
            "lines": [{"line_id": 31, "quantity": "1", "disposition": "restock"}],
            "reason": "damaged",
        }
    )

    order: int = Field(description="sales order id")
    lines: list[ReturnLineIn]
    reason: str = Field("", max_length=255)


class RefundIn(ApiSchema):
    model_config = examples({"amount": "12.00", "method": "card", "reference": "re_123"})

    amount: MoneyIn | None = Field(None, description="all that is left of the credit note when left out")
    method: str = Field("", max_length=40)
    reference: str = Field("", max_length=100)
    refunded_at: date | None = Field(None, description="today when left out")
