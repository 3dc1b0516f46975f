"""Procurement's tables: suppliers and their items, purchase orders, receipts, bills and payments."""

from procurement.models.documents import (
    Bill,
    BillLine,
    BillStatus,
    Receipt,
    ReceiptLine,
    SupplierPayment,
)
from procurement.models.purchasing import (
    PriceBreak,
    PurchaseOrder,
    PurchaseOrderLine,
    PurchaseOrderStatus,
    Supplier,
    SupplierContact,
    SupplierItem,
)

__all__ = [
    "Bill",
    "BillLine",
    "BillStatus",
    "PriceBreak",
    "PurchaseOrder",
    "PurchaseOrderLine",
    "PurchaseOrderStatus",
    "Receipt",
    "ReceiptLine",
    "Supplier",
    "SupplierContact",
    "SupplierItem",
    "SupplierPayment",
]
