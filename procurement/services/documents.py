"""Emailing a purchase order to its supplier, with the order's PDF attached.

The caller renders the PDF (the print page of the order, procurement/views/orders.py) and hands it
over; the service checks the addresses (a bad one: ValidationFailed, nothing sent), records
``procurement.po_emailed`` in the same transaction and sends. When the mail server refuses, the
event rolls back.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from erp import events
from erp.exceptions import ValidationFailed
from erp.mail import Outgoing, document_send
from procurement.models import PurchaseOrder, PurchaseOrderStatus
from procurement.services.orders import po_payload


def po_email_defaults(po: PurchaseOrder, company_name: str) -> dict[str, str]:
    """What the email form starts with: the supplier's address, a subject and a short message."""
    name = company_name or "us"
    body = f"Hello,\n\nplease find attached our purchase order {po.number}"
    if po.expected_date:
        body += f", for delivery by {po.expected_date:%Y-%m-%d}"
    body += f".\nPlease quote {po.number} on the delivery note and the invoice.\n\nKind regards,\n{name}"
    return {
        "to": po.supplier.email,
        "cc": "",
        "subject": f"Purchase order {po.number} from {name}",
        "message": body,
    }


@transaction.atomic
def po_email(
    *,
    po: PurchaseOrder,
    to: str | list[str],
    cc: str | list[str] = "",
    subject: str,
    message: str = "",
    pdf: bytes,
    filename: str,
    user: Any = None,
) -> Outgoing:
    """Email a purchase order with its PDF; records ``procurement.po_emailed``."""
    po = PurchaseOrder.objects.select_related("supplier").get(pk=po.pk)
    if po.status == PurchaseOrderStatus.DRAFT:
        raise ValidationFailed(f"{po.number} is a draft: approve and send it before emailing it.")
    if po.status == PurchaseOrderStatus.CANCELLED:
        raise ValidationFailed(f"{po.number} is cancelled: it is not sent.")
    outgoing = Outgoing.check(to=to, cc=cc, subject=subject, body=message)
    events.emit(
        "procurement.po_emailed",
        aggregate=po,
        payload=po_payload(
            po,
            email={"to": outgoing.to, "cc": outgoing.cc, "subject": outgoing.subject, "attachment": filename},
        ),
    )
    document_send(outgoing, attachment=pdf, filename=filename, reply_to=getattr(user, "email", "") or None)
    return outgoing
