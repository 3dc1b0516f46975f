"""Purchase orders and their lines; an order's detail gathers its receipts and bills."""

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
    Shown,
    examples,
    expand_param,
    model_of,
    ordering_param,
    updated_since_param,
)
from procurement.models import PurchaseOrder, PurchaseOrderLine
from procurement.schemas.bills import BillInOrderOut
from procurement.schemas.receipts import ReceiptOut
from procurement.services import needs_approval

# A purchase order as the schemas read it: in a list the model, in a detail shown with its actions.
AnyPurchaseOrder = PurchaseOrder | Shown[PurchaseOrder]

# The sort keys of each list: public name -> field. Old short names stay as aliases.
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

# Examples for the OpenAPI document: one purchase order of 2 boxes of 12 parts, received and billed.
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


class PurchaseReasonIn(ApiSchema):
    model_config = examples({"reason": "supplier cannot deliver"})

    reason: str = Field("", max_length=255)


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
    def resolve_needs_approval(obj: AnyPurchaseOrder) -> bool:
        return needs_approval(model_of(obj))

    @staticmethod
    def resolve_approved(obj: AnyPurchaseOrder) -> bool:
        return model_of(obj).approved_at is not None


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
    def resolve_approved_by(obj: AnyPurchaseOrder) -> str | None:
        po = model_of(obj)
        return po.approved_by.get_username() if po.approved_by else None

    @staticmethod
    def resolve_lines(obj: AnyPurchaseOrder) -> list[PurchaseOrderLine]:
        return list(model_of(obj).lines.all())

    @staticmethod
    def resolve_receipts(obj: AnyPurchaseOrder) -> list[Any]:
        return list(model_of(obj).receipts.all())

    @staticmethod
    def resolve_bills(obj: AnyPurchaseOrder) -> list[Any]:
        return list(model_of(obj).bills.all())


class PurchaseOrderListOut(PurchaseOrderOut):
    """A purchase order in a list; its lines only with ``expand=lines`` (null otherwise)."""

    model_config = examples({**PO_EXAMPLE, "lines": [PO_LINE_EXAMPLE]})

    lines: list[POLineOut] | None = Field(
        None, alias="expanded_lines", description="with expand=lines; null otherwise"
    )
