"""What a sales order's timeline says (erp.timeline): the order and everything recorded on it.

Every sales event about an order's invoices, credit notes, shipments, returns, payments and refunds
is emitted on the order's aggregate (``sales.salesorder``: see sales/services/), so the order's own
events are all of them; events a record of its own may carry (an invoice's, a shipment's, a
return's aggregate) are included too, by subqueries in the same one query.
"""

from __future__ import annotations

from typing import Any

from django.db.models import CharField, Q
from django.db.models.functions import Cast
from django.urls import reverse

from erp import timeline
from erp.models import OutboxEvent
from erp.money import ZERO, to_decimal
from erp.timeline import amount, as_dict, qty
from sales.models import Invoice, SalesOrder, SalesReturn, Shipment

LABEL = SalesOrder._meta.label_lower


def _ids(model: Any, order: SalesOrder) -> Any:
    return model.objects.filter(order_id=order.pk).annotate(key=Cast("pk", CharField())).values("key")


def order_events(order: SalesOrder) -> Q:
    related = Q()
    for model in (Invoice, Shipment, SalesReturn):
        related |= Q(aggregate_type=model._meta.label_lower, aggregate_id__in=_ids(model, order))
    return timeline.own_events(order) | related


def invoice_events(invoice: Invoice) -> Q:
    """An invoice's (or credit note's) events: those of its order that name it (issued, voided, paid,
    refunded), and any on its own aggregate."""
    on_order = Q(
        aggregate_type=LABEL, aggregate_id=str(invoice.order_id), payload__invoice__invoice_id=invoice.pk
    )
    return on_order | timeline.own_events(invoice)


def _units(lines: Any) -> str:
    if not isinstance(lines, list):
        return ""
    total = sum((to_decimal(ln.get("quantity") or 0) for ln in lines if isinstance(ln, dict)), ZERO)
    return f"{qty(total)} unit{'s' if total != 1 else ''}"


def _line_facts(lines: Any, limit: int = 6) -> list[str]:
    if not isinstance(lines, list):
        return [f"{lines} line{'s' if lines != 1 else ''}"] if isinstance(lines, int) else []
    shown = [f"{qty(ln.get('quantity'))} × {ln.get('sku')}" for ln in lines[:limit] if isinstance(ln, dict)]
    more = [f"+{len(lines) - limit} more"] if len(lines) > limit else []
    return shown + more


def _backordered(lines: Any) -> list[str]:
    if not isinstance(lines, list):
        return []
    return [
        f"{qty(ln['backordered'])} × {ln.get('sku')} backordered"
        for ln in lines
        if isinstance(ln, dict) and ln.get("backordered") and to_decimal(ln["backordered"])
    ]


def describe(event: OutboxEvent) -> tuple[str, list[str]] | None:
    p = as_dict(event.payload)
    cur = p.get("currency", "")
    topic = event.topic.split(".", 1)[1]
    invoice = as_dict(p.get("invoice"))
    reason = [f"reason: {p['reason']}"] if p.get("reason") else []
    if topic == "order_created":
        return "Created", [*_line_facts(p.get("lines")), f"total {amount(p.get('total', 0), cur)}"]
    if topic == "order_updated":
        return "Edited", [*reason, f"total {amount(p.get('total', 0), cur)}"]
    if topic == "order_confirmed":
        return "Confirmed", [*_backordered(p.get("lines")), f"total {amount(p.get('total', 0), cur)}"]
    if topic == "order_held":
        return "Put on hold", reason
    if topic == "order_released":
        return "Released from hold", []
    if topic == "order_cancelled":
        return "Cancelled", reason
    if topic == "order_closed":
        return "Closed", []
    if topic == "order_allocated":
        return "Backordered stock reserved", []
    if topic == "shipment_shipped":
        units = _units(p.get("lines"))
        carrier = " ".join(v for v in (p.get("carrier"), p.get("service")) if v)
        sentence = f"Shipped {units}" + (f" with {carrier}" if carrier else "")
        if p.get("tracking_number"):
            sentence += f" {p['tracking_number']}"
        return sentence, [v for v in (p.get("shipment_number"),) if v] + _line_facts(p.get("lines"))
    if topic == "shipment_updated":
        carrier = " ".join(v for v in (p.get("carrier"), p.get("service"), p.get("tracking_number")) if v)
        return f"Shipment {p.get('shipment_number', '')} tracking set: {carrier or 'none'}", []
    if topic in ("invoice_issued", "credit_note_issued"):
        kind = "Credit note" if topic == "credit_note_issued" else "Invoice"
        return f"{kind} {invoice.get('number', '')} issued: {amount(invoice.get('total', 0), cur)}", []
    if topic == "invoice_voided":
        return f"Invoice {invoice.get('number', '')} voided", reason
    if topic == "payment_received":
        pay = as_dict(p.get("payment"))
        facts = [
            f"invoice {invoice.get('number', '')}",
            *(v for v in (pay.get("method"), pay.get("reference")) if v),
        ]
        return f"Payment of {amount(pay.get('amount', 0), cur)} received", facts
    if topic == "refund_recorded":
        refund = as_dict(p.get("refund"))
        facts = [
            f"credit note {invoice.get('number', '')}",
            *(v for v in (refund.get("method"), refund.get("reference")) if v),
        ]
        return f"Refund of {amount(refund.get('amount', 0), cur)} recorded", facts
    if topic == "return_received":
        facts = [f"credit note {p['credit_note']}"] if p.get("credit_note") else []
        if p.get("credit_total"):
            facts.append(amount(p["credit_total"], cur))
        return f"Return {p.get('return_number', '')} received", facts + _line_facts(p.get("lines"))
    return None


def register() -> None:
    timeline.register_document(
        LABEL,
        area="sales",
        events=order_events,
        title=lambda order: f"sales order {order.number}",
        url=lambda order: reverse("sales:order", args=[order.pk]),
    )
    timeline.register_document(
        Invoice._meta.label_lower,
        area="sales",
        events=invoice_events,
        title=lambda inv: (
            f"{'credit note' if inv.kind == 'credit_note' else 'invoice'} {inv.number or 'draft'}"
        ),
        url=lambda inv: reverse("sales:invoice", args=[inv.pk]),
    )
    timeline.register_describer("sales.*", describe)


register()
