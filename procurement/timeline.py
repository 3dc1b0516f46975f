"""What a purchase order's and a bill's timelines say (erp.timeline).

Every procurement event about a purchase order, its receipts and its bills is emitted on the
order's aggregate (``procurement.purchaseorder``); a bill's timeline is the order's events that
name the bill (``payload.bill.bill_id``), plus its own comments. Neither creation emits an event:
"Created" comes from the row (created_at, created_by).
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from django.urls import reverse

from erp import timeline
from erp.models import OutboxEvent
from erp.timeline import amount, as_dict, as_list, qty
from procurement.models import Bill, PurchaseOrder

PO = PurchaseOrder._meta.label_lower
BILL = Bill._meta.label_lower


def bill_events(bill: Bill) -> Q:
    return Q(aggregate_type=PO, aggregate_id=str(bill.order_id), payload__bill__bill_id=bill.pk)


def describe(event: OutboxEvent) -> tuple[str, list[str]] | None:
    p = as_dict(event.payload)
    cur = p.get("currency", "")
    topic = event.topic.split(".", 1)[1]
    bill = as_dict(p.get("bill"))
    reason = [f"reason: {p['reason']}"] if p.get("reason") else []
    if topic == "po_approval_requested":
        return f"Approval requested for {amount(p.get('total', 0), cur)}", [p["note"]] if p.get(
            "note"
        ) else []
    if topic == "po_approved":
        return "Approved", []
    if topic == "po_rejected":
        return "Approval refused", reason
    if topic == "po_sent":
        count = len(as_list(p.get("lines")))
        return (
            f"Sent to supplier: {count} line{'s' if count != 1 else ''}, {amount(p.get('total', 0), cur)}",
            [],
        )
    if topic == "po_cancelled":
        return "Cancelled", reason
    if topic == "po_closed":
        return "Closed", []
    if topic == "receipt_done":
        lines = as_list(p.get("lines"))
        shown = [f"{qty(ln.get('quantity'))} × {ln.get('sku')}" for ln in lines[:6] if isinstance(ln, dict)]
        more = [f"+{len(lines) - 6} more"] if len(lines) > 6 else []
        where = f" into {p['location']}" if p.get("location") else ""
        return f"Received {p.get('receipt_number', '')}{where}", shown + more
    if topic == "bill_recorded":
        issues = [] if bill.get("match_ok", True) else ["does not match the order: review"]
        return f"Bill {bill.get('number', '')} recorded: {amount(bill.get('total', 0), cur)}", [
            *([f"supplier ref {bill['supplier_reference']}"] if bill.get("supplier_reference") else []),
            *issues,
        ]
    if topic == "bill_approved":
        return f"Bill {bill.get('number', '')} approved for payment", []
    if topic == "supplier_payment_recorded":
        pay = as_dict(p.get("payment"))
        facts = [
            f"bill {bill.get('number', '')}",
            *(v for v in (pay.get("method"), pay.get("reference")) if v),
        ]
        return f"Payment of {amount(pay.get('amount', 0), cur)} to the supplier recorded", facts
    return None


def _created(obj: Any) -> list[timeline.Entry]:
    return [timeline.created_entry(obj)]


def register() -> None:
    timeline.register_document(
        PO,
        area="procurement",
        extra=_created,
        title=lambda po: f"purchase order {po.number}",
        url=lambda po: reverse("procurement:order", args=[po.pk]),
    )
    timeline.register_document(
        BILL,
        area="procurement",
        events=bill_events,
        title=lambda bill: f"bill {bill.number}",
        url=lambda bill: reverse("procurement:bill", args=[bill.pk]),
    )
    timeline.register_describer("procurement.*", describe)


register()
