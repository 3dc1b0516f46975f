"""Emailing sales documents: an invoice (or credit note) to its customer, a delivery note.

The caller renders the PDF (sales.documents, the same document the print page shows) and hands it
over; the service checks the addresses (a bad one: ValidationFailed, nothing sent), records the
event in the same transaction and sends. When the mail server refuses, the event rolls back.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from erp import events
from erp.exceptions import ValidationFailed
from erp.mail import Outgoing, document_send
from sales.models import Invoice, InvoiceKind, InvoiceStatus, Shipment
from sales.services.billing import invoice_payload
from sales.services.orders import order_payload


def _mail_payload(outgoing: Outgoing, filename: str) -> dict[str, Any]:
    return {"to": outgoing.to, "cc": outgoing.cc, "subject": outgoing.subject, "attachment": filename}


@transaction.atomic
def invoice_email(
    *,
    invoice: Invoice,
    to: str | list[str],
    cc: str | list[str] = "",
    subject: str,
    message: str = "",
    pdf: bytes,
    filename: str,
    user: Any = None,
) -> Outgoing:
    """Email an issued invoice or credit note with its PDF; records ``sales.invoice_emailed``.
    Returns what was sent."""
    invoice = Invoice.objects.select_related("order__channel").get(pk=invoice.pk)
    what = "credit note" if invoice.kind == InvoiceKind.CREDIT_NOTE else "invoice"
    if invoice.status == InvoiceStatus.DRAFT:
        raise ValidationFailed(f"Issue the {what} before sending it: a draft has no number yet.")
    if invoice.status == InvoiceStatus.VOID:
        raise ValidationFailed(f"{invoice.number} is void: it is not sent.")
    outgoing = Outgoing.check(to=to, cc=cc, subject=subject, body=message)
    events.emit(
        "sales.invoice_emailed",
        aggregate=invoice.order,
        payload=order_payload(
            invoice.order, invoice=invoice_payload(invoice), email=_mail_payload(outgoing, filename)
        ),
    )
    document_send(outgoing, attachment=pdf, filename=filename, reply_to=getattr(user, "email", "") or None)
    return outgoing


@transaction.atomic
def delivery_note_email(
    *,
    shipment: Shipment,
    to: str | list[str],
    cc: str | list[str] = "",
    subject: str,
    message: str = "",
    pdf: bytes,
    filename: str,
    user: Any = None,
) -> Outgoing:
    """Email a shipment's delivery note with its PDF; records ``sales.delivery_note_emailed``."""
    shipment = Shipment.objects.select_related("order__channel").get(pk=shipment.pk)
    outgoing = Outgoing.check(to=to, cc=cc, subject=subject, body=message)
    events.emit(
        "sales.delivery_note_emailed",
        aggregate=shipment.order,
        payload=order_payload(
            shipment.order,
            shipment_id=shipment.pk,
            shipment_number=shipment.number,
            email=_mail_payload(outgoing, filename),
        ),
    )
    document_send(outgoing, attachment=pdf, filename=filename, reply_to=getattr(user, "email", "") or None)
    return outgoing
