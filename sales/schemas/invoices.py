"""Invoices and credit notes (an order's ``invoice`` action, issuing, voiding) and customer payments."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from ninja import Field

from erp.api_helpers import (
    ApiSchema,
    Money,
    MoneyIn,
    Quantity,
    examples,
    expand_param,
    ordering_param,
    updated_since_param,
)
from sales.schemas.common import ADDRESS_EXAMPLE
from sales.schemas.returns import RefundOut

# The sort keys of each list: public name -> field. Old short names stay as aliases.
INVOICE_ORDERING = {
    "number": "number",
    "issue_date": "issue_date",
    "due_date": "due_date",
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

# Examples for the OpenAPI document (one order of two mugs, shipped and invoiced).
PAYMENT_EXAMPLE: dict[str, Any] = {
    "id": 5,
    "invoice": 9,
    "amount": "24.00",
    "paid_at": "2030-02-01",
    "method": "card",
    "reference": "ch_123",
    "created_at": "2030-02-01T10:00:00Z",
}
INVOICE_EXAMPLE: dict[str, Any] = {
    "id": 9,
    "number": "INV-00009",
    "kind": "invoice",
    "status": "issued",
    "order": 12,
    "order_number": "SO-00012",
    "customer": 3,
    "customer_name": "Engines Ltd",
    "credit_of": None,
    "currency": "USD",
    "issue_date": "2030-02-01",
    "due_date": "2030-03-03",
    "subtotal": "20.00",
    "tax_total": "4.00",
    "total": "24.00",
    "amount_paid": "0.00",
    "balance": "24.00",
    "created_at": "2030-02-01T09:00:00Z",
}
INVOICE_LINE_EXAMPLE: dict[str, Any] = {
    "id": 14,
    "line_id": 31,
    "description": "Blue mug",
    "quantity": "2.0000",
    "unit_price": "10.00",
    "discount_amount": "0.00",
    "subtotal": "20.00",
    "tax_amount": "4.00",
    "total": "24.00",
}


class InvoiceOrderIn(ApiSchema):
    model_config = examples({"draft": False, "issue_date": "2030-02-01"})

    draft: bool = Field(False, description="leave the invoice as a draft instead of issuing it")
    issue_date: date | None = Field(None, description="today when left out")


class PaymentOut(ApiSchema):
    model_config = examples(PAYMENT_EXAMPLE)

    id: int
    invoice: int = Field(alias="invoice_id")
    amount: Money
    paid_at: date
    method: str
    reference: str
    created_at: datetime


class InvoiceOut(ApiSchema):
    model_config = examples(INVOICE_EXAMPLE)

    id: int
    number: str | None
    kind: str
    status: str
    order: int = Field(alias="order_id")
    order_number: str = Field(alias="order.number")
    customer: int = Field(alias="customer_id")
    customer_name: str = Field(alias="customer.name")
    credit_of: int | None = Field(None, alias="credit_of_id")
    currency: str
    issue_date: date | None
    due_date: date | None
    subtotal: Money
    tax_total: Money
    total: Money
    amount_paid: Money
    balance: Money
    created_at: datetime


class OrderInvoiceOut(ApiSchema):
    """An invoice as the order shows it: amounts and payments."""

    model_config = examples(
        {
            k: INVOICE_EXAMPLE[k]
            for k in (
                "id",
                "number",
                "kind",
                "status",
                "currency",
                "issue_date",
                "due_date",
                "total",
                "amount_paid",
                "balance",
            )
        }
        | {"payments": []}
    )

    id: int
    number: str | None
    kind: str
    status: str
    currency: str
    issue_date: date | None
    due_date: date | None
    total: Money
    amount_paid: Money
    balance: Money
    payments: list[PaymentOut]


class InvoiceLineOut(ApiSchema):
    model_config = examples(INVOICE_LINE_EXAMPLE)

    id: int
    line_id: int | None = Field(None, alias="order_line_id")
    description: str
    quantity: Quantity
    unit_price: Money
    discount_amount: Money
    subtotal: Money
    tax_amount: Money
    total: Money


class InvoiceDetailOut(InvoiceOut):
    model_config = examples(
        {
            **INVOICE_EXAMPLE,
            "billing_address": ADDRESS_EXAMPLE,
            "lines": [INVOICE_LINE_EXAMPLE],
            "payments": [],
            "refunds": [],
        }
    )

    billing_address: dict[str, Any]
    lines: list[InvoiceLineOut]
    payments: list[PaymentOut]
    refunds: list[RefundOut] = Field(description="money paid back on a credit note")


class InvoiceListOut(InvoiceOut):
    """An invoice in a list; its lines and payments only when expanded (null otherwise)."""

    model_config = examples(
        {**INVOICE_EXAMPLE, "lines": [INVOICE_LINE_EXAMPLE], "payments": [PAYMENT_EXAMPLE]}
    )

    lines: list[InvoiceLineOut] | None = Field(
        None, alias="expanded_lines", description="with expand=lines; null otherwise"
    )
    payments: list[PaymentOut] | None = Field(
        None, alias="expanded_payments", description="with expand=payments; null otherwise"
    )


class PaymentListOut(PaymentOut):
    model_config = examples(
        {
            **PAYMENT_EXAMPLE,
            "invoice_number": "INV-00009",
            "customer": 3,
            "customer_name": "Engines Ltd",
            "currency": "USD",
        }
    )

    invoice_number: str | None = Field(None, alias="invoice.number")
    customer: int = Field(alias="invoice.customer_id")
    customer_name: str = Field(alias="invoice.customer.name")
    currency: str = Field(alias="invoice.currency")


class PaymentRecordedOut(PaymentOut):
    """The payment, and the invoice after it."""

    model_config = examples(
        {
            **PAYMENT_EXAMPLE,
            "currency": "USD",
            "invoice_status": "paid",
            "invoice_amount_paid": "24.00",
            "invoice_balance": "0.00",
        }
    )

    currency: str = Field(alias="invoice.currency")
    invoice_status: str = Field(alias="invoice.status")
    invoice_amount_paid: Money = Field(alias="invoice.amount_paid")
    invoice_balance: Money = Field(alias="invoice.balance")


class InvoiceFilterIn(ApiSchema):
    model_config = examples({"overdue": True, "expand": "lines,payments"})

    status: str | None = None
    kind: str | None = Field(None, description="invoice or credit_note")
    customer: int | None = None
    order: int | None = None
    overdue: bool | None = Field(None, description="issued, not fully paid and past its due date")
    due_before: date | None = None
    due_after: date | None = None
    updated_since: datetime | None = updated_since_param()
    ordering: str | None = ordering_param(INVOICE_ORDERING, default="-created_at")
    expand: str | None = expand_param("lines", "payments")


class InvoiceIssueIn(ApiSchema):
    model_config = examples({"issue_date": "2030-02-01"})

    issue_date: date | None = Field(None, description="today when left out")


class PaymentIn(ApiSchema):
    model_config = examples(
        {"amount": "24.00", "paid_at": "2030-02-01", "method": "card", "reference": "ch_123"}
    )

    amount: MoneyIn
    paid_at: date | None = Field(None, description="today when left out")
    method: str = Field("", max_length=40, description="card, bank transfer, ...")
    reference: str = Field("", max_length=100)


class PaymentFilterIn(ApiSchema):
    model_config = examples({"customer": 3, "since": "2030-02-01"})

    invoice: int | None = None
    customer: int | None = None
    since: date | None = None
    until: date | None = None
    updated_since: datetime | None = updated_since_param()
    ordering: str | None = ordering_param(PAYMENT_ORDERING, default="-paid_at")
