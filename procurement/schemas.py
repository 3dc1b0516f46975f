"""Schemas of the procurement API: what comes in (``*In``) and what goes out (``*Out``).

Quantities and money follow the one rule of erp.api_helpers: quantities as decimal strings
with 4 places (``"12.0000"``); money as decimal strings with the minor-unit digits of the
``currency`` given next to it -- the supplier's, the order's, the bill's (``"24.50"`` in USD;
unit costs keep sub-cent digits when they have them). Never floats. They come in as strings or
numbers and the services quantize them. Quantities of purchase order, receipt and bill lines are
in PURCHASE units (a box); ``factor`` is the number of stock units in one. Related records are
referenced by id (``supplier``, ``warehouse``, ``product``, ``line_id``); the output repeats a
readable label next to each id (``supplier_name``, ``warehouse_code``, ``sku``).
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
from procurement.models import Bill, PurchaseOrder, PurchaseOrderLine, SupplierItem
from procurement.services import needs_approval

# The sort keys of each list: public name -> field. Old short names stay as aliases.
SUPPLIER_ORDERING = {
    "name": "name",
    "code": "code",
    "open_balance": "open_balance",
    "created_at": "created_at",
    "updated_at": "updated_at",
    "id": "pk",
}
SUPPLIER_ITEM_ORDERING = {
    "supplier": "supplier__name",
    "sku": "product__sku",
    "unit_price": "unit_price",
    "updated_at": "updated_at",
    "id": "pk",
}
PO_ORDERING = {
    "order_date": "order_date",
    "date": "order_date",
    "expected_date": "expected_date",
    "expected": "expected_date",
    "number": "number",
    "total": "total",
    "created_at": "created_at",
    "updated_at": "updated_at",
    "updated": "updated_at",
    "id": "pk",
}
RECEIPT_ORDERING = {"received_at": "received_at", "number": "number", "updated_at": "updated_at", "id": "pk"}
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
SUPPLIER_EXAMPLE: dict[str, Any] = {
    "id": 2,
    "code": "S-0002",
    "name": "Parts Inc",
    "email": "orders@parts.example",
    "phone": "",
    "currency": "USD",
    "payment_terms_days": 30,
    "lead_time_days": 7,
    "is_active": True,
    "open_orders": 1,
    "open_balance": "60.00",
    "created_at": "2030-01-02T09:00:00Z",
    "updated_at": "2030-01-31T12:00:00Z",
}
SUPPLIER_ITEM_EXAMPLE: dict[str, Any] = {
    "id": 5,
    "supplier": 2,
    "supplier_code": "S-0002",
    "supplier_name": "Parts Inc",
    "product": 7,
    "sku": "PART-1",
    "product_name": "Part",
    "stock_unit": "pcs",
    "supplier_sku": "P-100",
    "purchase_unit": "box",
    "factor": "12.0000",
    "unit_price": "30.00",
    "currency": "USD",
    "min_order_quantity": "1.0000",
    "lead_time_days": None,
    "effective_lead_time": 7,
    "is_preferred": True,
    "price_breaks": [{"min_quantity": "10.0000", "unit_price": "27.50"}],
}
PO_EXAMPLE: dict[str, Any] = {
    "id": 11,
    "number": "PO-00011",
    "status": "sent",
    "supplier": 2,
    "supplier_code": "S-0002",
    "supplier_name": "Parts Inc",
    "warehouse": 1,
    "warehouse_code": "WH1",
    "currency": "USD",
    "order_date": "2030-01-31",
    "expected_date": "2030-02-07",
    "subtotal": "60.00",
    "tax_total": "0.00",
    "total": "60.00",
    "needs_approval": False,
    "approved": False,
    "sent_at": "2030-01-31T12:00:00Z",
    "created_at": "2030-01-31T11:00:00Z",
    "updated_at": "2030-01-31T12:00:00Z",
}
PO_LINE_EXAMPLE: dict[str, Any] = {
    "id": 21,
    "position": 1,
    "product": 7,
    "sku": "PART-1",
    "product_name": "Part",
    "stock_unit": "pcs",
    "description": "",
    "purchase_unit": "box",
    "factor": "12.0000",
    "ordered": "2.0000",
    "received": "0.0000",
    "billed": "0.0000",
    "open": "2.0000",
    "unit_cost": "30.00",
    "tax_rate": "0.0000",
    "line_subtotal": "60.00",
    "tax_amount": "0.00",
    "line_total": "60.00",
}
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


class PurchaseReasonIn(ApiSchema):
    model_config = examples({"reason": "supplier cannot deliver"})

    reason: str = Field("", max_length=255)


class NoteIn(ApiSchema):
    model_config = examples({"note": "price rise agreed by phone"})

    note: str = Field("", max_length=255, description="why a bill that failed its match is accepted")


# --- suppliers ------------------------------------------------------------------------------------


class SupplierFilterIn(ApiSchema):
    model_config = examples({"q": "parts", "is_active": True, "ordering": "-updated_at,id"})

    q: str | None = Field(None, description="part of the name, or a code or email prefix")
    is_active: bool | None = None
    updated_since: datetime | None = updated_since_param()
    ordering: str | None = ordering_param(SUPPLIER_ORDERING, default="name")


class SupplierContactIn(ApiSchema):
    model_config = examples({"name": "Grace", "email": "grace@parts.example", "role": "sales"})

    name: str = Field(max_length=200)
    email: str = Field("", max_length=254)
    phone: str = Field("", max_length=40)
    role: str = Field("", max_length=100)


class SupplierContactOut(ApiSchema):
    model_config = examples(
        {"id": 3, "name": "Grace", "email": "grace@parts.example", "phone": "", "role": "sales"}
    )

    id: int
    name: str
    email: str
    phone: str
    role: str


class SupplierIn(ApiSchema):
    model_config = examples(
        {
            "name": "Parts Inc",
            "email": "orders@parts.example",
            "currency": "USD",
            "payment_terms_days": 30,
            "lead_time_days": 7,
            "contacts": [{"name": "Grace", "role": "sales"}],
        }
    )

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
    contacts: list[SupplierContactIn] = Field(default_factory=list)


class SupplierPatchIn(ApiSchema):
    """Only the fields sent are changed."""

    model_config = examples({"lead_time_days": 10, "is_active": True})

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


class SupplierOut(ApiSchema):
    model_config = examples(SUPPLIER_EXAMPLE)

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


class PriceBreakIn(ApiSchema):
    model_config = examples({"min_quantity": "10", "unit_price": "27.50"})

    min_quantity: QuantityIn = Field(description="from this quantity on, in purchase units")
    unit_price: MoneyIn = Field(description="per purchase unit")


class PriceBreakOut(ApiSchema):
    model_config = examples({"min_quantity": "10.0000", "unit_price": "27.50"})

    min_quantity: Quantity
    unit_price: Money


class SupplierItemFilterIn(ApiSchema):
    model_config = examples({"supplier": 2, "preferred": True})

    supplier: int | None = None
    product: int | None = None
    preferred: bool | None = None
    updated_since: datetime | None = updated_since_param()
    ordering: str | None = ordering_param(SUPPLIER_ITEM_ORDERING, default="supplier,sku")


class SupplierItemIn(ApiSchema):
    """Create, or change, what a supplier sells (one item per supplier and product).

    The product is named by ``product`` (id) or ``sku``, one of the two. ``price_breaks``,
    when sent, replaces the item's breaks.
    """

    model_config = examples(
        {
            "supplier": 2,
            "sku": "PART-1",
            "unit_price": "30.00",
            "purchase_unit": "box",
            "factor": "12",
            "is_preferred": True,
            "price_breaks": [{"min_quantity": "10", "unit_price": "27.50"}],
        }
    )

    supplier: int
    product: int | None = None
    sku: str | None = None
    unit_price: MoneyIn = Field(description="per purchase unit, in the supplier's currency")
    purchase_unit: str | None = Field(
        None, description="unit code (box, pcs...); the stock unit when left out"
    )
    factor: QuantityIn = Field(Decimal(1), description="stock units in one purchase unit")
    supplier_sku: str = Field("", max_length=64)
    min_order_quantity: QuantityIn = Field(Decimal(0), description="in purchase units")
    lead_time_days: int | None = Field(None, ge=0, description="empty: the supplier's")
    is_preferred: bool = Field(False, description="the supplier replenishment buys this product from")
    price_breaks: list[PriceBreakIn] | None = None


class SupplierItemOut(ApiSchema):
    model_config = examples(SUPPLIER_ITEM_EXAMPLE)

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


class PurchaseOrderBriefOut(ApiSchema):
    model_config = examples(
        {
            k: PO_EXAMPLE[k]
            for k in ("id", "number", "status", "order_date", "expected_date", "total", "currency")
        }
    )

    id: int
    number: str
    status: str
    order_date: date
    expected_date: date | None
    total: Money
    currency: str


class SupplierDetailOut(SupplierOut):
    model_config = examples(
        {
            **SUPPLIER_EXAMPLE,
            "address": "5 Mill Lane",
            "tax_id": "",
            "notes": "",
            "contacts": [],
            "items": [SUPPLIER_ITEM_EXAMPLE],
            "open_purchase_orders": [],
        }
    )

    address: str
    tax_id: str
    notes: str
    contacts: list[SupplierContactOut]
    items: list[SupplierItemOut]
    open_purchase_orders: list[PurchaseOrderBriefOut] = Field(description="sent or partially received")

    @staticmethod
    def resolve_contacts(obj: Any) -> list[Any]:
        return list(obj.contacts.all())

    @staticmethod
    def resolve_items(obj: Any) -> list[Any]:
        return list(obj.items.all())


# --- purchase orders ------------------------------------------------------------------------------


class PurchaseOrderFilterIn(ApiSchema):
    model_config = examples({"status": "open", "supplier": 2, "ordering": "expected_date", "expand": "lines"})

    status: str | None = Field(None, description="a status, or 'open' (sent or partially received)")
    supplier: int | None = None
    warehouse: int | None = None
    product: int | None = Field(None, description="orders with a line of this product")
    since: date | None = Field(None, description="ordered on or after")
    until: date | None = Field(None, description="ordered on or before")
    expected_before: date | None = Field(None, description="expected on or before")
    q: str | None = Field(None, description="order number prefix")
    needs_approval: bool | None = Field(None, description="drafts above the threshold, not approved yet")
    updated_since: datetime | None = updated_since_param()
    ordering: str | None = ordering_param(PO_ORDERING, default="-order_date")
    expand: str | None = expand_param("lines")


class POLineIn(ApiSchema):
    """A line names its product by ``product`` (id) or ``sku``, one of the two.

    ``unit_cost`` left out: the supplier's price at this quantity (price breaks apply).
    ``purchase_unit`` left out: the supplier item's unit, else the stock unit.
    ``factor`` left out: the supplier item's (stock units per purchase unit).
    """

    model_config = examples({"sku": "PART-1", "quantity": "2", "purchase_unit": "box"})

    product: int | None = None
    sku: str | None = None
    quantity: QuantityIn = Field(description="in purchase units")
    unit_cost: MoneyIn | None = Field(None, description="per purchase unit")
    purchase_unit: str | None = Field(None, description="unit code")
    factor: QuantityIn | None = None
    tax_rate: QuantityIn = Field(Decimal(0), description="a fraction: 0.2 for 20 %")
    description: str = Field("", max_length=255)


class PurchaseOrderIn(ApiSchema):
    model_config = examples(
        {
            "supplier": 2,
            "warehouse": 1,
            "lines": [{"sku": "PART-1", "quantity": "2"}],
            "expected_date": "2030-02-07",
        }
    )

    supplier: int
    warehouse: int = Field(description="where the goods are delivered")
    lines: list[POLineIn]
    order_date: date | None = Field(None, description="today when left out")
    expected_date: date | None = Field(
        None, description="order date + the supplier's lead time when left out"
    )
    notes: str = ""


class PurchaseOrderPatchIn(ApiSchema):
    """A draft: anything, ``lines`` replacing every line (and taking back an approval); later only
    notes and the expected date."""

    model_config = examples({"expected_date": "2030-02-10", "notes": "deliver to gate 2"})

    expected_date: date | None = None
    notes: str | None = None
    warehouse: int | None = None
    lines: list[POLineIn] | None = None


class PurchaseOrderOut(ApiSchema):
    model_config = examples(PO_EXAMPLE)

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


class POLineOut(ApiSchema):
    model_config = examples(PO_LINE_EXAMPLE)

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


class PurchaseOrderDetailOut(PurchaseOrderOut):
    model_config = examples(
        {
            **PO_EXAMPLE,
            "notes": "",
            "approved_by": None,
            "approved_at": None,
            "lines": [PO_LINE_EXAMPLE],
            "receipts": [],
            "bills": [],
            "allowed_actions": ["receive", "cancel"],
        }
    )

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


class PurchaseOrderListOut(PurchaseOrderOut):
    """A purchase order in a list; its lines only with ``expand=lines`` (null otherwise)."""

    model_config = examples({**PO_EXAMPLE, "lines": [PO_LINE_EXAMPLE]})

    lines: list[POLineOut] | None = Field(
        None, alias="expanded_lines", description="with expand=lines; null otherwise"
    )


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


# --- receipts, bills, payments --------------------------------------------------------------------


class ReceiptFilterIn(ApiSchema):
    model_config = examples({"order": 11})

    order: int | None = None
    since: datetime | None = Field(None, description="received at or after")
    until: datetime | None = Field(None, description="received at or before")
    updated_since: datetime | None = updated_since_param()
    ordering: str | None = ordering_param(RECEIPT_ORDERING, default="-received_at")


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


# --- replenishment --------------------------------------------------------------------------------


class PurchaseSuggestionOut(ApiSchema):
    model_config = examples(
        {
            "key": "7-1",
            "product": 7,
            "sku": "PART-1",
            "product_name": "Part",
            "warehouse": 1,
            "warehouse_code": "WH1",
            "projected": "4.0000",
            "min": "10.0000",
            "max": "40.0000",
            "stock_quantity": "36.0000",
            "stock_unit": "pcs",
            "supplier": 2,
            "supplier_name": "Parts Inc",
            "purchase_quantity": "3.0000",
            "purchase_unit": "box",
            "unit_price": "30.00",
            "currency": "USD",
            "orderable": True,
        }
    )

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


class ReplenishIn(ApiSchema):
    model_config = examples({"keys": ["7-1"]})

    keys: list[str] = Field(min_length=1, description="keys of suggestions to order")
