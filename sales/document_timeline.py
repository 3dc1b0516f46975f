"""The timeline of an invoice (or credit note) page, and the sentences of the emailed documents.

Invoice events are emitted on the order's aggregate (sales/services/billing.py) with the invoice in
their payload (``invoice.invoice_id``): an invoice's timeline is those events of its order, plus any
event of its own aggregate, in one query (erp.timeline). Its comments are its own.
"""

from __future__ import annotations

from django.db.models import Q
from django.urls import reverse

from erp import timeline
from erp.models import OutboxEvent
from erp.timeline import as_dict
from sales.models import Invoice, InvoiceKind, SalesOrder

ORDER_LABEL = SalesOrder._meta.label_lower


def invoice_events(invoice: Invoice) -> Q:
    return timeline.own_events(invoice) | Q(
        aggregate_type=ORDER_LABEL,
        aggregate_id=str(invoice.order_id),
        payload__invoice__invoice_id=invoice.pk,
    )


def invoice_title(invoice: Invoice) -> str:
    kind = "credit note" if invoice.kind == InvoiceKind.CREDIT_NOTE else "invoice"
    return f"{kind} {invoice.number or 'draft'}"


def _recipients(email: dict[str, object]) -> tuple[str, list[str]]:
    to = email.get("to") or []
    cc = email.get("cc") or []
    to_text = ", ".join(str(a) for a in to) if isinstance(to, list) else str(to)
    facts = [f"cc {', '.join(str(a) for a in cc)}"] if isinstance(cc, list) and cc else []
    if email.get("attachment"):
        facts.append(str(email["attachment"]))
    return to_text, facts


def describe_emailed(event: OutboxEvent) -> tuple[str, list[str]] | None:
    p = as_dict(event.payload)
    email = as_dict(p.get("email"))
    to, facts = _recipients(email)
    if event.topic == "sales.invoice_emailed":
        invoice = as_dict(p.get("invoice"))
        kind = "Credit note" if invoice.get("kind") == InvoiceKind.CREDIT_NOTE else "Invoice"
        return f"{kind} {invoice.get('number', '')} emailed to {to}", facts
    if event.topic == "sales.delivery_note_emailed":
        return f"Delivery note {p.get('shipment_number', '')} emailed to {to}", facts
    return None


def register() -> None:
    timeline.register_document(
        Invoice._meta.label_lower,
        area="sales",
        events=invoice_events,
        title=invoice_title,
        url=lambda invoice: reverse("sales:invoice", args=[invoice.pk]),
    )
    timeline.register_describer("sales.invoice_emailed", describe_emailed)
    timeline.register_describer("sales.delivery_note_emailed", describe_emailed)


register()
