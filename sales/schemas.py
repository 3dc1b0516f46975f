"""Schemas of the sales API: what comes in (``*In``) and what goes out (``*Out``).

Quantities and money follow the one rule of erp.api_helpers: quantities as decimal strings
with 4 places (``"12.5000"``); money as decimal strings with the minor-unit digits of the
document's ``currency``, given next to it (``"24.00"`` in USD, ``"2400"`` in JPY; unit prices
keep sub-cent digits when they have them). Never floats. They come in as strings or numbers;
the services quantize them. Related records are referenced by id (``customer``, ``channel``,
``product``, ``line_id``); the output repeats a readable label next to each id
(``customer_name``, ``channel_code``, ``sku``).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from ninja import Field

from erp.api_helpers import (
    ApiSchema,
    Money,
    MoneyIn,
    Quantity,
    QuantityIn,
    Rate,
    examples,
    expand_param,
    ordering_param,
    updated_since_param,
)
from sales.models import (
    Address,
    ChannelKind,
    CustomerKind,
    InvoicePolicy,
    PaymentTerms,
    ReturnDisposition,
)

# The sort keys of each list: public name -> field. Old short names stay as aliases.
CUSTOMER_ORDERING = {
    "name": "name",
    "code": "code",
    "open_balance": "open_balance",
    "created_at": "created_at",
    "updated_at": "updated_at",
    "id": "pk",
}
CHANNEL_ORDERING = {
    "code": "code",
    "name": "name",
    "created_at": "created_at",
    "updated_at": "updated_at",
    "id": "pk",
}
ORDER_ORDERING = {
    "order_date": "order_date",
    "date": "order_date",
    "number": "number",
    "total": "total",
    "created_at": "created_at",
    "updated_at": "updated_at",
    "id": "pk",
}
SHIPMENT_ORDERING = {
    "shipped_at": "shipped_at",
    "number": "number",
    "created_at": "created_at",
    "updated_at": "updated_at",
    "id": "pk",
}
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
RETURN_ORDERING = {"number": "number", "created_at": "created_at", "updated_at": "updated_at", "id": "pk"}
FULFILMENT_ORDERING = {"order_date": "order__order_date", "order": "order_id", "id": "pk"}


# Examples for the OpenAPI document (one order of two mugs, shipped and invoiced).
ADDRESS_EXAMPLE: dict[str, Any] = {
    "name": "Ada Lovelace",
    "company": "Engines Ltd",
    "line1": "1 Analytical St",
    "line2": "",
    "city": "London",
    "region": "",
    "postal_code": "N1 9GU",
    "country": "GB",
    "phone": "+44 20 7946 0000",
}
CUSTOMER_EXAMPLE: dict[str, Any] = {
    "id": 3,
    "code": "C-00003",
    "kind": "company",
    "name": "Engines Ltd",
    "email": "ap@engines.example",
    "phone": "",
    "tax_id": "GB123456789",
    "tax_exempt": False,
    "currency": "USD",
    "payment_terms": "net_30",
    "is_active": True,
    "open_balance": "24.00",
    "created_at": "2030-01-02T09:00:00Z",
    "updated_at": "2030-01-31T12:00:00Z",
}
ORDER_EXAMPLE: dict[str, Any] = {
    "id": 12,
    "number": "SO-00012",
    "status": "confirmed",
    "channel": 1,
    "channel_code": "web",
    "customer": 3,
    "customer_name": "Engines Ltd",
    "order_date": "2030-01-31T12:00:00Z",
    "total": "24.00",
    "currency": "USD",
    "external_reference": "#1001",
    "tags": ["vip"],
    "updated_at": "2030-01-31T12:00:00Z",
}
ORDER_LINE_EXAMPLE: dict[str, Any] = {
    "id": 31,
    "position": 1,
    "product": 7,
    "sku": "MUG-BLUE",
    "description": "Blue mug",
    "stock_unit": "pcs",
    "ordered": "2.0000",
    "reserved": "2.0000",
    "shipped": "0.0000",
    "invoiced": "0.0000",
    "returned": "0.0000",
    "unit_price": "10.00",
    "discount_percent": "0.0000",
    "discount_amount": "0.00",
    "line_subtotal": "20.00",
    "tax_amount": "4.00",
    "line_total": "24.00",
    "taxes": [{"name": "VAT", "rate": "0.2000", "amount": "4.00"}],
}
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
SHIPMENT_EXAMPLE: dict[str, Any] = {
    "id": 6,
    "number": "SH-00006",
    "order": 12,
    "carrier": "UPS",
    "service": "ground",
    "tracking_number": "1Z999",
    "shipped_at": "2030-02-01T08:00:00Z",
    "lines": [{"line_id": 31, "sku": "MUG-BLUE", "quantity": "2.0000"}],
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
EVENT_EXAMPLE: dict[str, Any] = {
    "topic": "sales.order_confirmed",
    "sequence": 2,
    "occurred_at": "2030-01-31T12:00:01Z",
    "data": {"order_id": 12, "number": "SO-00012"},
    "event_id": "5f0c1a9e-8f0e-4c1e-9a1b-0d2c3e4f5a6b",
}


class SalesReasonIn(ApiSchema):
    model_config = examples({"reason": "customer asked"})

    reason: str = Field("", max_length=255)


# --- customers ------------------------------------------------------------------------------------


class AddressFields(ApiSchema):
    """An address as written on a document. Customers' addresses need name, line1, city and country."""

    model_config = examples(ADDRESS_EXAMPLE)

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
    model_config = examples({**ADDRESS_EXAMPLE, "kind": "shipping", "default": True})

    kind: Address.Kind
    default: bool = Field(True, description="replaces the customer's default address of this kind")


class AddressOut(ApiSchema):
    model_config = examples({"id": 8, "kind": "billing", **ADDRESS_EXAMPLE, "is_default": True})

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


class ContactIn(ApiSchema):
    model_config = examples({"name": "Charles", "email": "charles@engines.example", "role": "buyer"})

    name: str = Field(max_length=200)
    email: str = Field("", max_length=254)
    phone: str = Field("", max_length=40)
    role: str = Field("", max_length=100)


class ContactOut(ApiSchema):
    model_config = examples(
        {"id": 2, "name": "Charles", "email": "charles@engines.example", "phone": "", "role": "buyer"}
    )

    id: int
    name: str
    email: str
    phone: str
    role: str


class CustomerFilterIn(ApiSchema):
    model_config = examples({"q": "engines", "is_active": True, "ordering": "-updated_at,id"})

    q: str | None = Field(None, description="part of the name, code prefix or exact email")
    kind: str | None = None
    is_active: bool | None = None
    updated_since: datetime | None = updated_since_param()
    ordering: str | None = ordering_param(CUSTOMER_ORDERING, default="name")


class CustomerIn(ApiSchema):
    model_config = examples(
        {
            "name": "Engines Ltd",
            "email": "ap@engines.example",
            "payment_terms": "net_30",
            "billing_address": ADDRESS_EXAMPLE,
            "contacts": [{"name": "Charles", "role": "buyer"}],
        }
    )

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


class CustomerPatchIn(ApiSchema):
    """Only the fields sent are changed."""

    model_config = examples({"payment_terms": "net_15", "is_active": True})

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


class CustomerOut(ApiSchema):
    model_config = examples(CUSTOMER_EXAMPLE)

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


class OrderBriefOut(ApiSchema):
    model_config = examples(
        {k: ORDER_EXAMPLE[k] for k in ("id", "number", "status", "order_date", "total", "currency")}
    )

    id: int
    number: str
    status: str
    order_date: datetime
    total: Money
    currency: str


class CustomerDetailOut(CustomerOut):
    model_config = examples(
        {**CUSTOMER_EXAMPLE, "notes": "", "addresses": [], "contacts": [], "recent_orders": []}
    )

    notes: str
    addresses: list[AddressOut]
    contacts: list[ContactOut]
    recent_orders: list[OrderBriefOut] = Field(description="the ten latest")


# --- channels -------------------------------------------------------------------------------------


class ChannelFilterIn(ApiSchema):
    model_config = examples({"kind": "web_store", "is_active": True})

    kind: str | None = None
    warehouse: int | None = None
    is_active: bool | None = None
    updated_since: datetime | None = updated_since_param()
    ordering: str | None = ordering_param(CHANNEL_ORDERING, default="name")


class ChannelIn(ApiSchema):
    model_config = examples(
        {
            "code": "web",
            "name": "Web shop",
            "warehouse": 1,
            "kind": "web_store",
            "currency": "USD",
            "prices_include_tax": False,
            "invoice_policy": "shipped",
        }
    )

    code: str = Field(max_length=32)
    name: str = Field("", max_length=100)
    warehouse: int = Field(description="id of the warehouse its orders ship from")
    kind: ChannelKind = ChannelKind.MANUAL
    currency: str = Field("USD", max_length=3)
    prices_include_tax: bool = False
    invoice_policy: InvoicePolicy = InvoicePolicy.SHIPPED


class ChannelPatchIn(ApiSchema):
    model_config = examples({"name": "Web shop (EU)", "currency": "EUR"})

    name: str | None = Field(None, max_length=100)
    warehouse: int | None = None
    kind: ChannelKind | None = None
    currency: str | None = Field(None, max_length=3)
    prices_include_tax: bool | None = None
    invoice_policy: InvoicePolicy | None = None
    is_active: bool | None = Field(None, description="false archives the channel")


class ChannelOut(ApiSchema):
    model_config = examples(
        {
            "id": 1,
            "code": "web",
            "name": "Web shop",
            "kind": "web_store",
            "warehouse": 1,
            "warehouse_code": "WH1",
            "currency": "USD",
            "prices_include_tax": False,
            "invoice_policy": "shipped",
            "is_active": True,
        }
    )

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


class TaxIn(ApiSchema):
    model_config = examples({"name": "VAT", "rate": "0.2"})

    name: str = Field(max_length=60)
    rate: QuantityIn = Field(description="a fraction: 0.2 for 20 %")


class OrderLineIn(ApiSchema):
    """A line names its product by ``product`` (id) or ``sku``, one of the two."""

    model_config = examples(
        {"sku": "MUG-BLUE", "quantity": "2", "unit_price": "10.00", "taxes": [{"name": "VAT", "rate": "0.2"}]}
    )

    product: int | None = Field(None, description="product id")
    sku: str | None = Field(None, description="SKU (any case), instead of the product id")
    quantity: QuantityIn
    unit_price: MoneyIn | None = Field(None, description="the product's sale price when left out")
    description: str = Field("", max_length=255)
    discount_percent: QuantityIn = Decimal(0)
    taxes: list[TaxIn] = Field(default_factory=list)


class OrderFilterIn(ApiSchema):
    model_config = examples(
        {
            "status": "open",
            "updated_since": "2030-01-31T00:00:00Z",
            "ordering": "updated_at,id",
            "expand": "lines",
        }
    )

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
    updated_since: datetime | None = updated_since_param()
    ordering: str | None = ordering_param(ORDER_ORDERING, default="-order_date")
    expand: str | None = expand_param("lines")


class OrderIn(ApiSchema):
    model_config = examples(
        {
            "channel": 1,
            "customer": 3,
            "lines": [{"sku": "MUG-BLUE", "quantity": "2"}],
            "external_reference": "#1001",
            "confirm": True,
        }
    )

    channel: int = Field(description="sales channel id")
    customer: int = Field(description="customer id")
    lines: list[OrderLineIn]
    order_date: datetime | None = Field(None, description="now when left out")
    billing_address: AddressFields | None = Field(None, description="the customer's default when left out")
    shipping_address: AddressFields | None = Field(None, description="the customer's default when left out")
    shipping_amount: MoneyIn = Decimal(0)
    shipping_tax_rate: QuantityIn = Decimal(0)
    order_discount: MoneyIn = Field(Decimal(0), description="an amount off the whole order, before tax")
    notes: str = ""
    tags: list[str] = Field(default_factory=list)
    external_reference: str = Field("", max_length=100, description="the order's number in its channel")
    confirm: bool = Field(False, description="confirm (reserve stock) in the same transaction")


class OrderPatchIn(ApiSchema):
    """A draft: anything; later: notes, tags, addresses and the external reference only.
    ``lines`` replaces every line of a draft."""

    model_config = examples({"notes": "leave at the back door", "tags": ["vip"]})

    lines: list[OrderLineIn] | None = None
    billing_address: AddressFields | None = None
    shipping_address: AddressFields | None = None
    shipping_amount: MoneyIn | None = None
    shipping_tax_rate: QuantityIn | None = None
    order_discount: MoneyIn | None = None
    notes: str | None = None
    tags: list[str] | None = None
    external_reference: str | None = Field(None, max_length=100)


class ShipLineIn(ApiSchema):
    model_config = examples({"line_id": 31, "quantity": "2"})

    line_id: int
    quantity: QuantityIn


class ShipIn(ApiSchema):
    model_config = examples(
        {"lines": [{"line_id": 31, "quantity": "2"}], "carrier": "UPS", "tracking_number": "1Z999"}
    )

    lines: list[ShipLineIn] | None = Field(None, description="everything reserved when left out")
    carrier: str = Field("", max_length=60)
    service: str = Field("", max_length=60)
    tracking_number: str = Field("", max_length=100)


class InvoiceOrderIn(ApiSchema):
    model_config = examples({"draft": False, "issue_date": "2030-02-01"})

    draft: bool = Field(False, description="leave the invoice as a draft instead of issuing it")
    issue_date: date | None = Field(None, description="today when left out")


class OrderOut(ApiSchema):
    model_config = examples(ORDER_EXAMPLE)

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


class LineTaxOut(ApiSchema):
    model_config = examples({"name": "VAT", "rate": "0.2000", "amount": "4.00"})

    name: str
    rate: Rate
    amount: Money


class OrderLineOut(ApiSchema):
    model_config = examples(ORDER_LINE_EXAMPLE)

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


class ShipmentLineOut(ApiSchema):
    model_config = examples({"line_id": 31, "sku": "MUG-BLUE", "quantity": "2.0000"})

    line_id: int = Field(alias="order_line_id")
    sku: str = Field(alias="order_line.product.sku")
    quantity: Quantity


class ShipmentOut(ApiSchema):
    model_config = examples(SHIPMENT_EXAMPLE)

    id: int
    number: str
    order: int = Field(alias="order_id")
    carrier: str
    service: str
    tracking_number: str
    shipped_at: datetime
    lines: list[ShipmentLineOut]


class ShipLineOut(ApiSchema):
    model_config = examples({"line_id": 31, "quantity": "2.0000"})

    line_id: int = Field(alias="order_line_id")
    quantity: Quantity


class ShipmentListOut(ApiSchema):
    """A shipment in a list: its lines by order line id."""

    model_config = examples(
        {
            **SHIPMENT_EXAMPLE,
            "order_number": "SO-00012",
            "customer_name": "Engines Ltd",
            "lines": [{"line_id": 31, "quantity": "2.0000"}],
        }
    )

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
    model_config = examples({**SHIPMENT_EXAMPLE, "order_number": "SO-00012", "customer_name": "Engines Ltd"})

    lines: list[ShipmentLineOut]  # type: ignore[assignment]


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


class OrderDetailOut(OrderOut):
    model_config = examples(
        {
            **ORDER_EXAMPLE,
            "held_from": "",
            "prices_include_tax": False,
            "billing_address": ADDRESS_EXAMPLE,
            "shipping_address": ADDRESS_EXAMPLE,
            "shipping_amount": "0.00",
            "shipping_tax_rate": "0.0000",
            "order_discount": "0.00",
            "subtotal": "20.00",
            "discount_total": "0.00",
            "tax_total": "4.00",
            "shipping_total": "0.00",
            "notes": "",
            "confirmed_at": "2030-01-31T12:00:01Z",
            "cancelled_at": None,
            "created_at": "2030-01-31T12:00:00Z",
            "lines": [ORDER_LINE_EXAMPLE],
            "shipments": [],
            "invoices": [],
            "returns": [],
            "allowed_actions": ["ship", "hold", "cancel", "invoice"],
        }
    )

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


class OrderListOut(OrderOut):
    """An order in a list; its lines only with ``expand=lines`` (null otherwise)."""

    model_config = examples({**ORDER_EXAMPLE, "lines": [ORDER_LINE_EXAMPLE]})

    lines: list[OrderLineOut] | None = Field(
        None, alias="expanded_lines", description="with expand=lines; null otherwise"
    )


class OrderEventOut(ApiSchema):
    model_config = examples(EVENT_EXAMPLE)

    topic: str
    sequence: int
    occurred_at: datetime = Field(alias="created_at")
    data: dict[str, Any] = Field(alias="payload")
    event_id: str

    @staticmethod
    def resolve_event_id(obj: Any) -> str:
        return str(obj.event_id)


# --- shipments, invoices, payments, returns --------------------------------------------------------


class ShipmentFilterIn(ApiSchema):
    model_config = examples({"order": 12, "carrier": "UPS"})

    order: int | None = None
    carrier: str | None = None
    since: datetime | None = Field(None, description="shipped at or after")
    until: datetime | None = Field(None, description="shipped at or before")
    updated_since: datetime | None = updated_since_param()
    ordering: str | None = ordering_param(SHIPMENT_ORDERING, default="-shipped_at")


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


class ReturnFilterIn(ApiSchema):
    model_config = examples({"status": "open"})

    status: str | None = None
    order: int | None = None
    updated_since: datetime | None = updated_since_param()
    ordering: str | None = ordering_param(RETURN_ORDERING, default="-created_at")


class FulfilmentFilterIn(ApiSchema):
    """Order lines have no updated_at of their own: no updated_since here."""

    model_config = examples({"channel": 1})

    channel: int | None = None
    warehouse: int | None = Field(None, description="the channel's warehouse")
    ordering: str | None = ordering_param(FULFILMENT_ORDERING, default="order_date (oldest first)")


class FulfilmentLineOut(ApiSchema):
    """An open line of a confirmed order with stock held for it: what can ship now."""

    model_config = examples(
        {
            "order": 12,
            "order_number": "SO-00012",
            "order_date": "2030-01-31T12:00:00Z",
            "customer_name": "Engines Ltd",
            "channel_code": "web",
            "line_id": 31,
            "sku": "MUG-BLUE",
            "product_name": "Blue mug",
            "stock_unit": "pcs",
            "ordered": "2.0000",
            "shipped": "0.0000",
            "open": "2.0000",
            "reserved": "2.0000",
        }
    )

    order: int = Field(alias="order_id")
    order_number: str = Field(alias="order.number")
    order_date: datetime = Field(alias="order.order_date")
    customer_name: str = Field(alias="order.customer.name")
    channel_code: str = Field(alias="order.channel.code")
    line_id: int = Field(alias="pk")
    sku: str = Field(alias="product.sku")
    product_name: str = Field(alias="product.name")
    stock_unit: str = Field(alias="product.stock_unit.code")
    ordered: Quantity = Field(alias="quantity")
    shipped: Quantity = Field(alias="quantity_shipped")
    open: Quantity = Field(description="still to ship")
    reserved: Quantity = Field(
        description="held in stock for the line now: ship it with POST /orders/{id}/ship"
    )

    @staticmethod
    def resolve_open(obj: Any) -> Decimal:
        return obj.quantity - obj.quantity_shipped


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
