"""Schemas of the procurement API: what comes in (``*In``) and what goes out (``*Out``).

Quantities and money go out as strings of Decimals with 4 places (``"12.0000"``,
``"24.5000"``), never floats; they come in as strings or numbers and the services quantize them. Quantities
of purchase order, receipt and bill lines are in PURCHASE units (a box); ``factor`` is
the number of stock units in one. Related records are referenced by id (``supplier``,
``warehouse``, ``product``, ``line_id``); the output repeats a readable label next to
each id (``supplier_name``, ``warehouse_code``, ``sku``).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from ninja import Field, Schema
from pydantic import PlainSerializer

from erp.money import quantize_money, quantize_quantity
from procurement.models import Bill, PurchaseOrder, PurchaseOrderLine, SupplierItem
from procurement.services import needs_approval


def _quantity_str(value: Decimal) -> str:
    return format(quantize_quantity(value), "f")


def _money_str(value: Decimal) -> str:
    return format(quantize_money(value), "f")


def _decimal_str(value: Decimal) -> str:
    return format(value, "f")


# Output types: quantities and money always carry the 4 places they are stored with ("3.0000",
# "24.5000"), whatever the database returns for computed sums; rates keep their own.
Quantity = Annotated[Decimal, PlainSerializer(_quantity_str, return_type=str)]
Money = Annotated[Decimal, PlainSerializer(_money_str, return_type=str)]
Rate = Annotated[Decimal, PlainSerializer(_decimal_str, return_type=str)]


class ReasonIn(Schema):
    reason: str = Field("", max_length=255)


class NoteIn(Schema):
    note: str = Field("", max_length=255, description="why a bill that failed its match is accepted")


# --- suppliers ------------------------------------------------------------------------------------


class SupplierFilterIn(Schema):
    q: str | None = Field(None, description="part of the name, or a code or email prefix")
    is_active: bool | None = None


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


class SupplierIn(Schema):
    name: str = Field(max_length=200)
    code: str = Field("", max_length=32, description="given (S-0001...) when empty")
    email: str = Field("", max_length=254)
    phone: str = Field("", max_length=40)
    currency: str = Field("USD", max_length=3)
    payment_terms_days: int = Field(30, ge=0)
    lead_time_days: int = Field(7, ge=0, description="default for its items")
    address: str = ""
    tax_id: str = Field("", max_length=40)
    notes: str = ""
    contacts: list[ContactIn] = Field(default_factory=list)


class SupplierPatchIn(Schema):
    """Only the fields sent are changed."""

    name: str | None = Field(None, max_length=200)
    email: str | None = Field(None, max_length=254)
    phone: str | None = Field(None, max_length=40)
    currency: str | None = Field(None, max_length=3)
    payment_terms_days: int | None = Field(None, ge=0)
    lead_time_days: int | None = Field(None, ge=0)
    address: str | None = None
    tax_id: str | None = Field(None, max_length=40)
    notes: str | None = None
    is_active: bool | None = Field(None, description="false archives the supplier (no new orders)")


class SupplierOut(Schema):
    id: int
    code: str
    name: str
    email: str
    phone: str
    currency: str
    payment_terms_days: int
    lead_time_days: int
    is_active: bool
    open_orders: int = Field(description="purchase orders sent or partially received")
    open_balance: Money = Field(description="bills not paid yet (open, partially paid or in review)")
    created_at: datetime
    updated_at: datetime


class PriceBreakIn(Schema):
    min_quantity: Decimal = Field(description="from this quantity on, in purchase units")
    unit_price: Decimal = Field(description="per purchase unit")


class PriceBreakOut(Schema):
    min_quantity: Quantity
    unit_price: Money


class SupplierItemFilterIn(Schema):
    supplier: int | None = None
    product: int | None = None
    preferred: bool | None = None


class SupplierItemIn(Schema):
    """Create, or change, what a supplier sells (one item per supplier and product).

    The product is named by ``product`` (id) or ``sku``, one of the two. ``price_breaks``,
    when sent, replaces the item's breaks.
    """

    supplier: int
    product: int | None = None
    sku: str | None = None
    unit_price: Decimal = Field(description="per purchase unit, in the supplier's currency")
    purchase_unit: str | None = Field(
        None, description="unit code (box, pcs...); the stock unit when left out"
    )
    factor: Decimal = Field(Decimal(1), description="stock units in one purchase unit")
    supplier_sku: str = Field("", max_length=64)
    min_order_quantity: Decimal = Field(Decimal(0), description="in purchase units")
    lead_time_days: int | None = Field(None, ge=0, description="empty: the supplier's")
    is_preferred: bool = Field(False, description="the supplier replenishment buys this product from")
    price_breaks: list[PriceBreakIn] | None = None


class SupplierItemOut(Schema):
    id: int
    supplier: int = Field(alias="supplier_id")
    supplier_code: str = Field(alias="supplier.code")
    supplier_name: str = Field(alias="supplier.name")
    product: int = Field(alias="product_id")
    sku: str = Field(alias="product.sku")
    product_name: str = Field(alias="product.name")
    stock_unit: str = Field(alias="product.stock_unit.code")
    supplier_sku: str
    purchase_unit: str = Field(alias="purchase_unit.code")
    factor: Quantity
    unit_price: Money
    currency: str = Field(alias="supplier.currency")
    min_order_quantity: Quantity
    lead_time_days: int | None
    effective_lead_time: int
    is_preferred: bool
    price_breaks: list[PriceBreakOut]

    @staticmethod
    def resolve_price_breaks(obj: SupplierItem) -> list[Any]:
        return list(obj.price_breaks.all())


class OrderBriefOut(Schema):
    id: int
    number: str
    status: str
    order_date: date
    expected_date: date | None
    total: Money
    currency: str


class SupplierDetailOut(SupplierOut):
    address: str
    tax_id: str
    notes: str
    contacts: list[ContactOut]
    items: list[SupplierItemOut]
    open_purchase_orders: list[OrderBriefOut] = Field(description="sent or partially received")

    @staticmethod
    def resolve_contacts(obj: Any) -> list[Any]:
        return list(obj.contacts.all())

    @staticmethod
    def resolve_items(obj: Any) -> list[Any]:
        return list(obj.items.all())


# --- purchase orders ------------------------------------------------------------------------------


class PurchaseOrderFilterIn(Schema):
    status: str | None = Field(None, description="a status, or 'open' (sent or partially received)")
    supplier: int | None = None
    warehouse: int | None = None
    product: int | None = Field(None, description="orders with a line of this product")
    since: date | None = Field(None, description="ordered on or after")
    until: date | None = Field(None, description="ordered on or before")
    expected_before: date | None = Field(None, description="expected on or before")
    q: str | None = Field(None, description="order number prefix")
    updated_since: datetime | None = None
    ordering: str | None = Field(None, description="date, expected, number, total, updated; '-' descending")


class POLineIn(Schema):
    """A line names its product by ``product`` (id) or ``sku``, one of the two.

    ``unit_cost`` left out: the supplier's price at this quantity (price breaks apply).
    ``purchase_unit`` left out: the supplier item's unit, else the stock unit.
    ``factor`` left out: the supplier item's (stock units per purchase unit).
    """

    product: int | None = None
    sku: str | None = None
    quantity: Decimal = Field(description="in purchase units")
    unit_cost: Decimal | None = Field(None, description="per purchase unit")
    purchase_unit: str | None = Field(None, description="unit code")
    factor: Decimal | None = None
    tax_rate: Decimal = Field(Decimal(0), description="a fraction: 0.2 for 20 %")
    description: str = Field("", max_length=255)


class PurchaseOrderIn(Schema):
    supplier: int
    warehouse: int = Field(description="where the goods are delivered")
    lines: list[POLineIn]
    order_date: date | None = Field(None, description="today when left out")
    expected_date: date | None = Field(
        None, description="order date + the supplier's lead time when left out"
    )
    notes: str = ""


class PurchaseOrderPatchIn(Schema):
    """A draft: anything, ``lines`` replacing every line (and taking back an approval); later only
    notes and the expected date."""

    expected_date: date | None = None
    notes: str | None = None
    warehouse: int | None = None
    lines: list[POLineIn] | None = None


class PurchaseOrderOut(Schema):
    id: int
    number: str
    status: str
    supplier: int = Field(alias="supplier_id")
    supplier_code: str = Field(alias="supplier.code")
    supplier_name: str = Field(alias="supplier.name")
    warehouse: int = Field(alias="warehouse_id")
    warehouse_code: str = Field(alias="warehouse.code")
    currency: str
    order_date: date
    expected_date: date | None
    subtotal: Money
    tax_total: Money
    total: Money
    needs_approval: bool = Field(description="above the approval threshold")
    approved: bool
    sent_at: datetime | None
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_needs_approval(obj: PurchaseOrder) -> bool:
        return needs_approval(obj)

    @staticmethod
    def resolve_approved(obj: PurchaseOrder) -> bool:
        return obj.approved_at is not None


class POLineOut(Schema):
    id: int
    position: int
    product: int = Field(alias="product_id")
    sku: str = Field(alias="product.sku")
    product_name: str = Field(alias="product.name")
    stock_unit: str = Field(alias="product.stock_unit.code")
    description: str
    purchase_unit: str = Field(alias="purchase_unit.code")
    factor: Quantity = Field(description="stock units per purchase unit")
    ordered: Quantity = Field(alias="quantity")
    received: Quantity = Field(alias="quantity_received")
    billed: Quantity = Field(alias="quantity_billed")
    open: Quantity = Field(alias="open_quantity", description="still to receive")
    unit_cost: Money
    tax_rate: Rate
    line_subtotal: Money
    tax_amount: Money
    line_total: Money


class ReceiptLineOut(Schema):
    id: int
    line_id: int = Field(alias="order_line_id")
    sku: str = Field(alias="order_line.product.sku")
    quantity: Quantity = Field(description="in purchase units")
    lot_code: str
    expiry_date: date | None


class ReceiptOut(Schema):
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


class BillLineOut(Schema):
    id: int
    line_id: int = Field(alias="order_line_id")
    sku: str = Field(alias="order_line.product.sku")
    quantity: Quantity
    unit_cost: Money
    subtotal: Money
    tax_amount: Money
    total: Money


class SupplierPaymentOut(Schema):
    id: int
    bill: int = Field(alias="bill_id")
    amount: Money
    paid_at: date
    method: str
    reference: str
    created_at: datetime


class BillOut(Schema):
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
    order_number: str = Field(alias="order.number")
    lines: list[BillLineOut]
    payments: list[SupplierPaymentOut]

    @staticmethod
    def resolve_lines(obj: Bill) -> list[Any]:
        return list(obj.lines.all())

    @staticmethod
    def resolve_payments(obj: Bill) -> list[Any]:
        return list(obj.payments.all())


class BillInOrderOut(BillOut):
    """A bill inside its order (the order is the one around it)."""

    lines: list[BillLineOut]
    payments: list[SupplierPaymentOut]

    @staticmethod
    def resolve_lines(obj: Bill) -> list[Any]:
        return list(obj.lines.all())

    @staticmethod
    def resolve_payments(obj: Bill) -> list[Any]:
        return list(obj.payments.all())


class PurchaseOrderDetailOut(PurchaseOrderOut):
    notes: str
    approved_by: str | None
    approved_at: datetime | None
    lines: list[POLineOut]
    receipts: list[ReceiptOut]
    bills: list[BillInOrderOut]
    allowed_actions: list[str] = Field(
        description="what can be done now: approve, send, receive, bill, close, cancel"
    )

    @staticmethod
    def resolve_approved_by(obj: PurchaseOrder) -> str | None:
        return obj.approved_by.get_username() if obj.approved_by else None

    @staticmethod
    def resolve_lines(obj: PurchaseOrder) -> list[PurchaseOrderLine]:
        return list(obj.lines.all())

    @staticmethod
    def resolve_receipts(obj: PurchaseOrder) -> list[Any]:
        return list(obj.receipts.all())

    @staticmethod
    def resolve_bills(obj: PurchaseOrder) -> list[Any]:
        return list(obj.bills.all())


class ReceiveLineIn(Schema):
    line_id: int = Field(description="id of a line of this purchase order")
    quantity: Decimal = Field(description="in purchase units (2 boxes of 12: 2)")
    lot_code: str = Field("", max_length=64, description="required for lot-tracked products")
    expiry_date: date | None = None
    serials: list[str] = Field(
        default_factory=list, description="serial-tracked products: one per stock unit received"
    )


class ReceiveIn(Schema):
    lines: list[ReceiveLineIn]
    location: int | None = Field(
        None, description="a bin of the order's warehouse; its default bin when left out"
    )
    note: str = Field("", max_length=255)


# --- receipts, bills, payments --------------------------------------------------------------------


class ReceiptFilterIn(Schema):
    order: int | None = None
    since: datetime | None = Field(None, description="received at or after")
    until: datetime | None = Field(None, description="received at or before")


class BillFilterIn(Schema):
    status: str | None = None
    supplier: int | None = None
    order: int | None = None
    match_ok: bool | None = None
    overdue: bool | None = Field(None, description="unpaid and past its due date")


class BillLineIn(Schema):
    line_id: int = Field(description="id of a line of the purchase order")
    quantity: Decimal = Field(description="in purchase units")
    unit_cost: Decimal = Field(description="as billed, per purchase unit")


class BillIn(Schema):
    purchase_order: int
    supplier_reference: str = Field(max_length=64, description="the supplier's invoice number")
    bill_date: date | None = Field(None, description="today when left out")
    lines: list[BillLineIn]


class PaymentIn(Schema):
    amount: Decimal
    paid_at: date | None = Field(None, description="today when left out")
    method: str = Field("", max_length=40)
    reference: str = Field("", max_length=100)


class PaymentRecordedOut(SupplierPaymentOut):
    bill_status: str = Field(alias="bill.status")
    bill_balance: Money = Field(alias="bill.balance")


class PaymentListOut(SupplierPaymentOut):
    bill_number: str = Field(alias="bill.number")
    supplier: int = Field(alias="bill.supplier_id")
    supplier_name: str = Field(alias="bill.supplier.name")


class PaymentFilterIn(Schema):
    bill: int | None = None
    supplier: int | None = None
    since: date | None = None
    until: date | None = None


# --- replenishment --------------------------------------------------------------------------------


class PurchaseSuggestionOut(Schema):
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


class ReplenishIn(Schema):
    keys: list[str] = Field(min_length=1, description="keys of suggestions to order")
