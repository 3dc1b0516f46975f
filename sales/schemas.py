"""Schemas of the sales API: what comes in (``*In``) and what goes out (``*Out``).

Quantities and money go out as strings of Decimals (``"12.5000"``, ``"24.00"``), never
floats. They come in as strings or numbers; the services quantize them. Related
records are referenced by id (``customer``, ``channel``, ``product``, ``line_id``); the
output repeats a readable label next to each id (``customer_name``, ``channel_code``, ``sku``).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from ninja import Field, Schema
from pydantic import PlainSerializer

from erp.money import quantize_quantity
from sales.models import (
    Address,
    ChannelKind,
    CustomerKind,
    InvoicePolicy,
    PaymentTerms,
    ReturnDisposition,
)


def _quantity_str(value: Decimal) -> str:
    return format(quantize_quantity(value), "f")


def _decimal_str(value: Decimal) -> str:
    return format(value, "f")


# Output types: a quantity always carries 4 places ("3.0000"); money and rates keep their own.
Quantity = Annotated[Decimal, PlainSerializer(_quantity_str, return_type=str)]
Money = Annotated[Decimal, PlainSerializer(_decimal_str, return_type=str)]
Rate = Annotated[Decimal, PlainSerializer(_decimal_str, return_type=str)]


class ReasonIn(Schema):
    reason: str = Field("", max_length=255)


# --- customers ------------------------------------------------------------------------------------


class AddressFields(Schema):
    """An address as written on a document. Customers' addresses need name, line1, city and country."""

    name: str = Field("", max_length=200, description="recipient")
    company: str = Field("", max_length=200)
    line1: str = Field("", max_length=200)
    line2: str = Field("", max_length=200)
    city: str = Field("", max_length=100)
    region: str = Field("", max_length=100)
    postal_code: str = Field("", max_length=20)
    country: str = Field("", max_length=2, description="ISO 3166-1 alpha-2")
    phone: str = Field("", max_length=40)


class AddressIn(AddressFields):
    kind: Address.Kind
    default: bool = Field(True, description="replaces the customer's default address of this kind")


class AddressOut(Schema):
    id: int
    kind: str
    name: str
    company: str
    line1: str
    line2: str
    city: str
    region: str
    postal_code: str
    country: str
    phone: str
    is_default: bool


class ContactIn(Schema):
    name: str = Field(max_length=200)
    email: str = Field("", max_length=254)
    phone: str = Field("", max_length=40)
    role: str = Field("", max_length=100)


class ContactOut(Schema):
    id: int
    name: str
    email: str
    phone: str
    role: str


class CustomerFilterIn(Schema):
    q: str | None = Field(None, description="part of the name, code prefix or exact email")
    kind: str | None = None
    is_active: bool | None = None


class CustomerIn(Schema):
    name: str = Field(max_length=200)
    kind: CustomerKind = CustomerKind.COMPANY
    code: str = Field("", max_length=32, description="given (C-00001...) when empty")
    email: str = Field("", max_length=254)
    phone: str = Field("", max_length=40)
    tax_id: str = Field("", max_length=40)
    tax_exempt: bool = False
    currency: str = Field("USD", max_length=3)
    payment_terms: PaymentTerms = PaymentTerms.NET_30
    notes: str = ""
    billing_address: AddressFields | None = None
    shipping_address: AddressFields | None = Field(None, description="the billing address when left out")
    contacts: list[ContactIn] = Field(default_factory=list)


class CustomerPatchIn(Schema):
    """Only the fields sent are changed."""

    name: str | None = Field(None, max_length=200)
    kind: CustomerKind | None = None
    email: str | None = Field(None, max_length=254)
    phone: str | None = Field(None, max_length=40)
    tax_id: str | None = Field(None, max_length=40)
    tax_exempt: bool | None = None
    currency: str | None = Field(None, max_length=3)
    payment_terms: PaymentTerms | None = None
    notes: str | None = None
    is_active: bool | None = Field(None, description="false archives the customer")


class CustomerOut(Schema):
    id: int
    code: str
    kind: str
    name: str
    email: str
    phone: str
    tax_id: str
    tax_exempt: bool
    currency: str
    payment_terms: str
    is_active: bool
    open_balance: Money = Field(description="issued invoices not paid yet")
    created_at: datetime
    updated_at: datetime


class OrderBriefOut(Schema):
    id: int
    number: str
    status: str
    order_date: datetime
    total: Money
    currency: str


class CustomerDetailOut(CustomerOut):
    notes: str
    addresses: list[AddressOut]
    contacts: list[ContactOut]
    recent_orders: list[OrderBriefOut] = Field(description="the ten latest")


# --- channels -------------------------------------------------------------------------------------


class ChannelFilterIn(Schema):
    kind: str | None = None
    warehouse: int | None = None
    is_active: bool | None = None


class ChannelIn(Schema):
    code: str = Field(max_length=32)
    name: str = Field("", max_length=100)
    warehouse: int = Field(description="id of the warehouse its orders ship from")
    kind: ChannelKind = ChannelKind.MANUAL
    currency: str = Field("USD", max_length=3)
    prices_include_tax: bool = False
    invoice_policy: InvoicePolicy = InvoicePolicy.SHIPPED


class ChannelPatchIn(Schema):
    name: str | None = Field(None, max_length=100)
    warehouse: int | None = None
    kind: ChannelKind | None = None
    currency: str | None = Field(None, max_length=3)
    prices_include_tax: bool | None = None
    invoice_policy: InvoicePolicy | None = None
    is_active: bool | None = Field(None, description="false archives the channel")


class ChannelOut(Schema):
    id: int
    code: str
    name: str
    kind: str
    warehouse: int = Field(alias="warehouse_id")
    warehouse_code: str = Field(alias="warehouse.code")
    currency: str
    prices_include_tax: bool
    invoice_policy: str
    is_active: bool


# --- orders ---------------------------------------------------------------------------------------


class TaxIn(Schema):
    name: str = Field(max_length=60)
    rate: Decimal = Field(description="a fraction: 0.2 for 20 %")


class OrderLineIn(Schema):
    """A line names its product by ``product`` (id) or ``sku``, one of the two."""

    product: int | None = Field(None, description="product id")
    sku: str | None = Field(None, description="SKU (any case), instead of the product id")
    quantity: Decimal
    unit_price: Decimal | None = Field(None, description="the product's sale price when left out")
    description: str = Field("", max_length=255)
    discount_percent: Decimal = Decimal(0)
    taxes: list[TaxIn] = Field(default_factory=list)


class OrderFilterIn(Schema):
    status: str | None = Field(
        None, description="a status, or 'open' (confirmed, partially shipped or on hold)"
    )
    channel: int | None = None
    customer: int | None = None
    since: datetime | None = Field(None, description="ordered at or after")
    until: datetime | None = Field(None, description="ordered at or before")
    product: int | None = Field(None, description="orders with a line of this product")
    q: str | None = Field(None, description="order number or external reference prefix, or customer name")
    tag: str | None = None
    updated_since: datetime | None = None
    ordering: str | None = Field(None, description="date, number, total; '-' for descending")


class OrderIn(Schema):
    channel: int = Field(description="sales channel id")
    customer: int = Field(description="customer id")
    lines: list[OrderLineIn]
    order_date: datetime | None = Field(None, description="now when left out")
    billing_address: AddressFields | None = Field(None, description="the customer's default when left out")
    shipping_address: AddressFields | None = Field(None, description="the customer's default when left out")
    shipping_amount: Decimal = Decimal(0)
    shipping_tax_rate: Decimal = Decimal(0)
    order_discount: Decimal = Field(Decimal(0), description="an amount off the whole order, before tax")
    notes: str = ""
    tags: list[str] = Field(default_factory=list)
    external_reference: str = Field("", max_length=100, description="the order's number in its channel")
    confirm: bool = Field(False, description="confirm (reserve stock) in the same transaction")


class OrderPatchIn(Schema):
    """A draft: anything; later: notes, tags, addresses and the external reference only.
    ``lines`` replaces every line of a draft."""

    lines: list[OrderLineIn] | None = None
    billing_address: AddressFields | None = None
    shipping_address: AddressFields | None = None
    shipping_amount: Decimal | None = None
    shipping_tax_rate: Decimal | None = None
    order_discount: Decimal | None = None
    notes: str | None = None
    tags: list[str] | None = None
    external_reference: str | None = Field(None, max_length=100)


class ShipLineIn(Schema):
    line_id: int
    quantity: Decimal


class ShipIn(Schema):
    lines: list[ShipLineIn] | None = Field(None, description="everything reserved when left out")
    carrier: str = Field("", max_length=60)
    service: str = Field("", max_length=60)
    tracking_number: str = Field("", max_length=100)


class InvoiceOrderIn(Schema):
    draft: bool = Field(False, description="leave the invoice as a draft instead of issuing it")
    issue_date: date | None = Field(None, description="today when left out")


class OrderOut(Schema):
    id: int
    number: str
    status: str
    channel: int = Field(alias="channel_id")
    channel_code: str = Field(alias="channel.code")
    customer: int = Field(alias="customer_id")
    customer_name: str = Field(alias="customer.name")
    order_date: datetime
    total: Money
    currency: str
    external_reference: str
    tags: list[str]
    updated_at: datetime


class LineTaxOut(Schema):
    name: str
    rate: Rate
    amount: Money


class OrderLineOut(Schema):
    id: int
    position: int
    product: int = Field(alias="product_id")
    sku: str = Field(alias="product.sku")
    description: str
    stock_unit: str = Field(alias="product.stock_unit.code")
    ordered: Quantity = Field(alias="quantity")
    reserved: Quantity = Field(description="held in stock for the line now")
    shipped: Quantity = Field(alias="quantity_shipped")
    invoiced: Quantity = Field(alias="quantity_invoiced")
    returned: Quantity = Field(alias="quantity_returned")
    unit_price: Money
    discount_percent: Rate
    discount_amount: Money
    line_subtotal: Money
    tax_amount: Money
    line_total: Money
    taxes: list[LineTaxOut]


class ShipmentLineOut(Schema):
    line_id: int = Field(alias="order_line_id")
    sku: str = Field(alias="order_line.product.sku")
    quantity: Quantity


class ShipmentOut(Schema):
    id: int
    number: str
    order: int = Field(alias="order_id")
    carrier: str
    service: str
    tracking_number: str
    shipped_at: datetime
    lines: list[ShipmentLineOut]


class ShipLineOut(Schema):
    line_id: int = Field(alias="order_line_id")
    quantity: Quantity


class ShipmentListOut(Schema):
    """A shipment in a list: its lines by order line id."""

    id: int
    number: str
    order: int = Field(alias="order_id")
    order_number: str = Field(alias="order.number")
    customer_name: str = Field(alias="order.customer.name")
    carrier: str
    service: str
    tracking_number: str
    shipped_at: datetime
    lines: list[ShipLineOut]


class ShipmentDetailOut(ShipmentListOut):
    lines: list[ShipmentLineOut]  # type: ignore[assignment]


class PaymentOut(Schema):
    id: int
    invoice: int = Field(alias="invoice_id")
    amount: Money
    paid_at: date
    method: str
    reference: str
    created_at: datetime


class InvoiceOut(Schema):
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


class OrderInvoiceOut(Schema):
    """An invoice as the order shows it: amounts and payments."""

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


class InvoiceLineOut(Schema):
    id: int
    line_id: int | None = Field(None, alias="order_line_id")
    description: str
    quantity: Quantity
    unit_price: Money
    discount_amount: Money
    subtotal: Money
    tax_amount: Money
    total: Money


class RefundOut(Schema):
    id: int
    sales_return: int | None = Field(None, alias="sales_return_id")
    credit_note: int = Field(alias="credit_note_id")
    amount: Money
    refunded_at: date
    method: str
    reference: str
    credit_note_status: str = Field(alias="credit_note.status")


class InvoiceDetailOut(InvoiceOut):
    billing_address: dict[str, Any]
    lines: list[InvoiceLineOut]
    payments: list[PaymentOut]
    refunds: list[RefundOut] = Field(description="money paid back on a credit note")


class PaymentListOut(PaymentOut):
    invoice_number: str | None = Field(None, alias="invoice.number")
    customer: int = Field(alias="invoice.customer_id")
    customer_name: str = Field(alias="invoice.customer.name")
    currency: str = Field(alias="invoice.currency")


class PaymentRecordedOut(PaymentOut):
    """The payment, and the invoice after it."""

    invoice_status: str = Field(alias="invoice.status")
    invoice_amount_paid: Money = Field(alias="invoice.amount_paid")
    invoice_balance: Money = Field(alias="invoice.balance")


class ReturnLineOut(Schema):
    id: int
    line_id: int = Field(alias="order_line_id")
    quantity: Quantity
    disposition: str
    reason: str


class ReturnLineDetailOut(ReturnLineOut):
    sku: str = Field(alias="order_line.product.sku")


class OrderReturnOut(Schema):
    id: int
    number: str
    status: str
    reason: str
    received_at: datetime | None
    credit_note: int | None = Field(None, alias="credit_note_id")
    lines: list[ReturnLineDetailOut]


class ReturnOut(Schema):
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
    credit_note_total: Money | None = Field(None, alias="credit_note.total")
    created_at: datetime
    lines: list[ReturnLineOut]


class ReturnDetailOut(ReturnOut):
    lines: list[ReturnLineDetailOut]  # type: ignore[assignment]
    refunds: list[RefundOut]


class OrderDetailOut(OrderOut):
    held_from: str
    prices_include_tax: bool
    billing_address: dict[str, Any]
    shipping_address: dict[str, Any]
    shipping_amount: Money
    shipping_tax_rate: Rate
    order_discount: Money
    subtotal: Money
    discount_total: Money
    tax_total: Money
    shipping_total: Money
    notes: str
    confirmed_at: datetime | None
    cancelled_at: datetime | None
    created_at: datetime
    lines: list[OrderLineOut]
    shipments: list[ShipmentOut]
    invoices: list[OrderInvoiceOut]
    returns: list[OrderReturnOut]
    allowed_actions: list[str] = Field(description="what can be done next: confirm, ship, invoice, ...")


class EventOut(Schema):
    topic: str
    sequence: int
    occurred_at: datetime = Field(alias="created_at")
    data: dict[str, Any] = Field(alias="payload")
    event_id: str

    @staticmethod
    def resolve_event_id(obj: Any) -> str:
        return str(obj.event_id)


# --- shipments, invoices, payments, returns --------------------------------------------------------


class ShipmentFilterIn(Schema):
    order: int | None = None
    carrier: str | None = None
    since: datetime | None = Field(None, description="shipped at or after")
    until: datetime | None = Field(None, description="shipped at or before")


class InvoiceFilterIn(Schema):
    status: str | None = None
    kind: str | None = Field(None, description="invoice or credit_note")
    customer: int | None = None
    order: int | None = None
    overdue: bool | None = Field(None, description="issued, not fully paid and past its due date")
    due_before: date | None = None
    due_after: date | None = None


class InvoiceIssueIn(Schema):
    issue_date: date | None = Field(None, description="today when left out")


class PaymentIn(Schema):
    amount: Decimal
    paid_at: date | None = Field(None, description="today when left out")
    method: str = Field("", max_length=40, description="card, bank transfer, ...")
    reference: str = Field("", max_length=100)


class PaymentFilterIn(Schema):
    invoice: int | None = None
    customer: int | None = None
    since: date | None = None
    until: date | None = None


class ReturnFilterIn(Schema):
    status: str | None = None
    order: int | None = None


class ReturnLineIn(Schema):
    line_id: int = Field(description="id of the order line")
    quantity: Decimal
    disposition: ReturnDisposition = ReturnDisposition.RESTOCK
    reason: str = Field("", max_length=255)


class ReturnIn(Schema):
    order: int = Field(description="sales order id")
    lines: list[ReturnLineIn]
    reason: str = Field("", max_length=255)


class RefundIn(Schema):
    amount: Decimal | None = Field(None, description="all that is left of the credit note when left out")
    method: str = Field("", max_length=40)
    reference: str = Field("", max_length=100)
    refunded_at: date | None = Field(None, description="today when left out")
