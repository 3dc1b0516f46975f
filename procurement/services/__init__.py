"""Every write of procurement."""

from procurement.services.bills import (
    BillLineSpec,
    bill_approve,
    bill_record,
    bill_void,
    supplier_payment_record,
)
from procurement.services.orders import (
    POLineSpec,
    po_approve,
    po_cancel,
    po_close,
    po_create,
    po_send,
    po_update,
)
from procurement.services.receiving import ReceiveLine, receipt_create
from procurement.services.suppliers import (
    price_for,
    supplier_contact_add,
    supplier_create,
    supplier_item_delete,
    supplier_item_set,
    supplier_update,
)
from procurement.thresholds import needs_approval

__all__ = [
    "BillLineSpec",
    "POLineSpec",
    "ReceiveLine",
    "bill_approve",
    "bill_record",
    "bill_void",
    "needs_approval",
    "po_approve",
    "po_cancel",
    "po_close",
    "po_create",
    "po_send",
    "po_update",
    "price_for",
    "receipt_create",
    "supplier_contact_add",
    "supplier_create",
    "supplier_item_delete",
    "supplier_item_set",
    "supplier_payment_record",
    "supplier_update",
]
