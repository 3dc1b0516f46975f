"""Supplier bills (with the three-way match) and the payments made on them."""

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
    expand_param,
    ordering_param,
    updated_since_param,
)
from procurement.models import Bill

# The sort keys of each list: public name -> field. Old short names stay as aliases.
BILL_ORDERING = {
    "bill_date": "bill_date",
    "due_date": "due_date",
    "number": "number",
    "total": "total",
    "created_at": "created_at",
    "updated_at": "updated_at",
    "id": "pk",
}
PAYMENT_ORDERING = {
    "paid_at": "paid_at",
    "amount": "amount",
    "created_at": "created_at",
    "updated_at": "updated_at",
    "id": "pk",
}

# Examples for the OpenAPI document: one purchase order of 2 boxes of 12 parts, received and billed.
BILL_LINE_EXAMPLE: dict[str, Any] = {
    "id": 6,
    "line_id": 21,
    "sku": "PART-1",
    "quantity": "2.0000",
    "unit_cost": "30.00",
    "subtotal": "60.00",
    "tax_amount": "0.00",
    "total": "60.00",
}
PAYMENT_EXAMPLE: dict[str, Any] = {
    "id": 8,
    "bill": 5,
    "amount": "60.00",
    "paid_at": "2030-03-01",
    "method": "bank transfer",
    "reference": "TX-77",
    "created_at": "2030-03-01T10:00:00Z",
}
BILL_EXAMPLE: dict[str, Any] = {
    "id": 5,
    "number": "BILL-00005",
    "supplier": 2,
    "supplier_name": "Parts Inc",
    "order": 11,
    "supplier_reference": "INV-4411",
    "status": "open",
    "currency": "USD",
    "bill_date": "2030-02-07",
    "due_date": "2030-03-09",
    "subtotal": "60.00",
    "tax_total": "0.00",
    "total": "60.00",
    "amount_paid": "0.00",
    "balance": "60.00",
    "match_ok": True,
    "match_issues": [],
    "reviewed_at": None,
    "created_at": "2030-02-07T10:00:00Z",
}


class NoteIn(ApiSchema):
    model_config = examples({"note": "price rise agreed by phone"})

    note: str = Field("", max_length=255, description="why a bill that failed its match is accepted")


class BillLineOut(ApiSchema):
    model_config = examples(BILL_LINE_EXAMPLE)

    id: int
    line_id: int = Field(alias="order_line_id")
    sku: str = Field(alias="order_line.product.sku")
    quantity: Quantity
    unit_cost: Money
    subtotal: Money
    tax_amount: Money
    total: Money


class SupplierPaymentOut(ApiSchema):
    model_config = examples(PAYMENT_EXAMPLE)

    id: int
    bill: int = Field(alias="bill_id")
    amount: Money
    paid_at: date
    method: str
    reference: str
    created_at: datetime


class BillOut(ApiSchema):
    model_config = examples(BILL_EXAMPLE)

    id: int
    number: str
    supplier: int = Field(alias="supplier_id")
    supplier_name: str = Field(alias="supplier.name")
    order: int = Field(alias="order_id")
    supplier_reference: str
    status: str
    currency: str
    bill_date: date
    due_date: date
    subtotal: Money
    tax_total: Money
    total: Money
    amount_paid: Money
    balance: Money
    match_ok: bool
    match_issues: list[str]
    reviewed_at: datetime | None
    created_at: datetime


class BillDetailOut(BillOut):
    model_config = examples(
        {**BILL_EXAMPLE, "order_number": "PO-00011", "lines": [BILL_LINE_EXAMPLE], "payments": []}
    )

    order_number: str = Field(alias="order.number")
    lines: list[BillLineOut]
    payments: list[SupplierPaymentOut]

    @staticmethod
    def resolve_lines(obj: Bill) -> list[Any]:
        return list(obj.lines.all())

    @staticmethod
    def resolve_payments(obj: Bill) -> list[Any]:
        return list(obj.payments.all())


class BillListOut(BillOut):
    """A bill in a list; its lines and payments only when expanded (null otherwise)."""

    model_config = examples({**BILL_EXAMPLE, "lines": [BILL_LINE_EXAMPLE], "payments": [PAYMENT_EXAMPLE]})

    lines: list[BillLineOut] | None = Field(
        None, alias="expanded_lines", description="with expand=lines; null otherwise"
    )
    payments: list[SupplierPaymentOut] | None = Field(
        None, alias="expanded_payments", description="with expand=payments; null otherwise"
    )


class BillInOrderOut(BillOut):
    """A bill inside its order (the order is the one around it)."""

    model_config = examples({**BILL_EXAMPLE, "lines": [BILL_LINE_EXAMPLE], "payments": []})

    lines: list[BillLineOut]
    payments: list[SupplierPaymentOut]

    @staticmethod
    def resolve_lines(obj: Bill) -> list[Any]:
        return list(obj.lines.all())

    @staticmethod
    def resolve_payments(obj: Bill) -> list[Any]:
        return list(obj.payments.all())


class BillFilterIn(ApiSchema):
    model_config = examples({"overdue": True, "expand": "payments"})

    status: str | None = None
    supplier: int | None = None
    order: int | None = None
    match_ok: bool | None = None
    overdue: bool | None = Field(None, description="unpaid and past its due date")
    due_before: date | None = Field(None, description="due on or before")
    updated_since: datetime | None = updated_since_param()
    ordering: str | None = ordering_param(BILL_ORDERING, default="-bill_date")
    expand: str | None = expand_param("lines", "payments")


class BillLineIn(ApiSchema):
    model_config = examples({"line_id": 21, "quantity": "2", "unit_cost": "30.00"})

    line_id: int = Field(description="id of a line of the purchase order")
    quantity: QuantityIn = Field(description="in purchase units")
    unit_cost: MoneyIn = Field(description="as billed, per purchase unit")


class BillIn(ApiSchema):
    model_config = examples(
        {
            "purchase_order": 11,
            "supplier_reference": "INV-4411",
            "bill_date": "2030-02-07",
            "lines": [{"line_id": 21, "quantity": "2", "unit_cost": "30.00"}],
        }
    )

    purchase_order: int
    supplier_reference: str = Field(max_length=64, description="the supplier's invoice number")
    bill_date: date | None = Field(None, description="today when left out")
    lines: list[BillLineIn]


class SupplierPaymentIn(ApiSchema):
    model_config = examples(
        {"amount": "60.00", "paid_at": "2030-03-01", "method": "bank transfer", "reference": "TX-77"}
    )

    amount: MoneyIn
    paid_at: date | None = Field(None, description="today when left out")
    method: str = Field("", max_length=40)
    reference: str = Field("", max_length=100)


class SupplierPaymentRecordedOut(SupplierPaymentOut):
    model_config = examples(
        {**PAYMENT_EXAMPLE, "currency": "USD", "bill_status": "paid", "bill_balance": "0.00"}
    )

    currency: str = Field(alias="bill.currency")
    bill_status: str = Field(alias="bill.status")
    bill_balance: Money = Field(alias="bill.balance")


class SupplierPaymentListOut(SupplierPaymentOut):
    model_config = examples(
        {
            **PAYMENT_EXAMPLE,
            "currency": "USD",
            "bill_number": "BILL-00005",
            "supplier": 2,
            "supplier_name": "Parts Inc",
        }
    )

    currency: str = Field(alias="bill.currency")
    bill_number: str = Field(alias="bill.number")
    supplier: int = Field(alias="bill.supplier_id")
    supplier_name: str = Field(alias="bill.supplier.name")


class SupplierPaymentFilterIn(ApiSchema):
    model_config = examples({"supplier": 2, "since": "2030-03-01"})

    bill: int | None = None
    supplier: int | None = None
    since: date | None = None
    until: date | None = None
    updated_since: datetime | None = updated_since_param()
    ordering: str | None = ordering_param(PAYMENT_ORDERING, default="-paid_at")
