"""Sales orders and their lines; an order's detail gathers its shipments, invoices and returns."""

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
    Rate,
    examples,
    expand_param,
    ordering_param,
    updated_since_param,
)
from sales.models import FulfilledBy
from sales.schemas.common import ADDRESS_EXAMPLE, AddressFields
from sales.schemas.invoices import OrderInvoiceOut
from sales.schemas.returns import OrderReturnOut
from sales.schemas.shipments import ShipmentOut

# The sort keys of each list: public name -> field. Old short names stay as aliases.
ORDER_ORDERING = {
    "order_date": "order_date",
    "date": "order_date",
    "number": "number",
    "total": "total",
    "created_at": "created_at",
    "updated_at": "updated_at",
    "id": "pk",
}

# Examples for the OpenAPI document (one order of two mugs, shipped and invoiced).
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
    "fulfilled_by": "merchant",
}
EVENT_EXAMPLE: dict[str, Any] = {
    "topic": "sales.order_confirmed",
    "sequence": 2,
    "occurred_at": "2030-01-31T12:00:01Z",
    "data": {"order_id": 12, "number": "SO-00012"},
    "event_id": "5f0c1a9e-8f0e-4c1e-9a1b-0d2c3e4f5a6b",
}


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
    fulfilled_by: FulfilledBy = Field(
        FulfilledBy.MERCHANT,
        description="marketplace: the marketplace ships it from its own stock (Amazon FBA); "
        "it reserves and ships none of ours",
    )


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
    shipping_method: str = Field(
        "", max_length=100, description="the shipping the customer chose; a shipping tool maps it"
    )
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


class LineQuantityIn(ApiSchema):
    model_config = examples({"line_id": 31, "quantity": "3"})

    line_id: int = Field(description="an order line's id")
    quantity: QuantityIn = Field(description="its new quantity, above the ordered one")


class OrderLinesIn(ApiSchema):
    """More for a confirmed order: ``add`` new lines, ``grow`` the quantity of lines it has."""

    model_config = examples(
        {
            "add": [{"sku": "MUG-RED", "quantity": "1", "taxes": [{"name": "VAT", "rate": "0.2"}]}],
            "grow": [{"line_id": 31, "quantity": "3"}],
            "reason": "the customer called",
        }
    )

    add: list[OrderLineIn] = Field(
        default_factory=list,
        description="new lines, priced as in a new order (the product's price by default)",
    )
    grow: list[LineQuantityIn] = Field(
        default_factory=list, description="lines that grow: the extra units at the line's price and taxes"
    )
    reason: str = Field("", max_length=255)


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
    fulfilled_by: str = Field(
        description="merchant (from our stock) or marketplace (shipped by the marketplace, none of our stock)"
    )


class OrderDetailLineOut(OrderLineOut):
    model_config = examples({**ORDER_LINE_EXAMPLE, "backordered": "0.0000"})

    backordered: Quantity = Field(
        description="still to ship but neither shipped nor reserved (a confirmed order waiting for stock)"
    )


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


class OrderDetailOut(OrderOut):
    model_config = examples(
        {
            **ORDER_EXAMPLE,
            "held_from": "",
            "prices_include_tax": False,
            "billing_address": ADDRESS_EXAMPLE,
            "shipping_address": ADDRESS_EXAMPLE,
            "shipping_amount": "0.00",
            "shipping_method": "Standard",
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
            "lines": [{**ORDER_LINE_EXAMPLE, "backordered": "0.0000"}],
            "shipments": [],
            "invoices": [],
            "returns": [],
            "invoiced": "0.00",
            "paid": "0.00",
            "balance": "0.00",
            "allowed_actions": ["ship", "hold", "cancel", "invoice"],
        }
    )

    held_from: str
    prices_include_tax: bool
    billing_address: dict[str, Any]
    shipping_address: dict[str, Any]
    shipping_amount: Money
    shipping_method: str
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
    lines: list[OrderDetailLineOut]
    shipments: list[ShipmentOut]
    invoices: list[OrderInvoiceOut]
    returns: list[OrderReturnOut]
    invoiced: Money = Field(description="the total of its invoices that are not void")
    paid: Money = Field(description="paid on its invoices")
    balance: Money = Field(description="still to be paid on its open invoices")
    allowed_actions: list[str] = Field(
        description="what can be done next: confirm, ship, invoice, ... (the same buttons as the order page)"
    )


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
