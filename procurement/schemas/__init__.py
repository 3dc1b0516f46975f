"""Schemas of the procurement API: what comes in (``*In``) and what goes out (``*Out``).

Quantities and money follow the one rule of erp.api_helpers: quantities as decimal strings
with 4 places (``"12.0000"``); money as decimal strings with the minor-unit digits of the
``currency`` given next to it -- the supplier's, the order's, the bill's (``"24.50"`` in USD;
unit costs keep sub-cent digits when they have them). Never floats. They come in as strings or
numbers and the services quantize them. Quantities of purchase order, receipt and bill lines are
in PURCHASE units (a box); ``factor`` is the number of stock units in one. Related records are
referenced by id (``supplier``, ``warehouse``, ``product``, ``line_id``); the output repeats a
readable label next to each id (``supplier_name``, ``warehouse_code``, ``sku``).

The schemas live in one module per section of the API (suppliers, supplier items, purchase
orders, receipts, bills and payments, replenishment); this package re-exports them all.
"""

from procurement.schemas.bills import (
    BILL_ORDERING,
    PAYMENT_ORDERING,
    BillDetailOut,
    BillFilterIn,
    BillIn,
    BillInOrderOut,
    BillLineIn,
    BillLineOut,
    BillListOut,
    BillOut,
    NoteIn,
    SupplierPaymentFilterIn,
    SupplierPaymentIn,
    SupplierPaymentListOut,
    SupplierPaymentOut,
    SupplierPaymentRecordedOut,
)
from procurement.schemas.orders import (
    PO_ORDERING,
    POLineIn,
    POLineOut,
    PurchaseOrderBriefOut,
    PurchaseOrderDetailOut,
    PurchaseOrderFilterIn,
    PurchaseOrderIn,
    PurchaseOrderListOut,
    PurchaseOrderOut,
    PurchaseOrderPatchIn,
    PurchaseReasonIn,
)
from procurement.schemas.receipts import (
    RECEIPT_ORDERING,
    ReceiptFilterIn,
    ReceiptLineOut,
    ReceiptOut,
    ReceiveIn,
    ReceiveLineIn,
)
from procurement.schemas.replenishment import PurchaseSuggestionOut, ReplenishIn
from procurement.schemas.supplier_items import (
    SUPPLIER_ITEM_ORDERING,
    PriceBreakIn,
    PriceBreakOut,
    SupplierItemFilterIn,
    SupplierItemIn,
    SupplierItemOut,
)
from procurement.schemas.suppliers import (
    SUPPLIER_ORDERING,
    SupplierContactIn,
    SupplierContactOut,
    SupplierDetailOut,
    SupplierFilterIn,
    SupplierIn,
    SupplierOut,
    SupplierPatchIn,
)

__all__ = [
    "BILL_ORDERING",
    "PAYMENT_ORDERING",
    "PO_ORDERING",
    "RECEIPT_ORDERING",
    "SUPPLIER_ITEM_ORDERING",
    "SUPPLIER_ORDERING",
    "BillDetailOut",
    "BillFilterIn",
    "BillIn",
    "BillInOrderOut",
    "BillLineIn",
    "BillLineOut",
    "BillListOut",
    "BillOut",
    "NoteIn",
    "POLineIn",
    "POLineOut",
    "PriceBreakIn",
    "PriceBreakOut",
    "PurchaseOrderBriefOut",
    "PurchaseOrderDetailOut",
    "PurchaseOrderFilterIn",
    "PurchaseOrderIn",
    "PurchaseOrderListOut",
    "PurchaseOrderOut",
    "PurchaseOrderPatchIn",
    "PurchaseReasonIn",
    "PurchaseSuggestionOut",
    "ReceiptFilterIn",
    "ReceiptLineOut",
    "ReceiptOut",
    "ReceiveIn",
    "ReceiveLineIn",
    "ReplenishIn",
    "SupplierContactIn",
    "SupplierContactOut",
    "SupplierDetailOut",
    "SupplierFilterIn",
    "SupplierIn",
    "SupplierItemFilterIn",
    "SupplierItemIn",
    "SupplierItemOut",
    "SupplierOut",
    "SupplierPatchIn",
    "SupplierPaymentFilterIn",
    "SupplierPaymentIn",
    "SupplierPaymentListOut",
    "SupplierPaymentOut",
    "SupplierPaymentRecordedOut",
]
