"""Sales' printed documents, shared by the print pages, their PDFs, the API and the emails.

Each document has one template (``sales/print/...``) and one context builder here, so the page a
user prints, the PDF they download and the PDF attached to an email are the same document. The
letterhead (``company``) is given by the caller: the views' ``company()``.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch

from erp.pdf import render_pdf
from sales import picking
from sales.models import Invoice, InvoiceKind, Refund, SalesOrder, Shipment

INVOICE_TEMPLATE = "sales/print/invoice.html"
PACKING_SLIP_TEMPLATE = "sales/print/packing_slip.html"
PICK_LIST_TEMPLATE = "sales/print/pick_list.html"
DELIVERY_NOTE_TEMPLATE = "sales/print/delivery_note.html"


def invoice_for_print(pk: int) -> Invoice:
    """An invoice with all its print shows: order, customer, credited invoice, lines, payments,
    refunds. Four queries."""
    return (
        Invoice.objects.select_related("order", "customer", "credit_of")
        .prefetch_related("lines", "payments", Prefetch("refunds", queryset=Refund.objects.all()))
        .get(pk=pk)
    )


def invoice_title(invoice: Invoice) -> str:
    kind = "Credit note" if invoice.kind == InvoiceKind.CREDIT_NOTE else "Invoice"
    return f"{kind} {invoice.number or 'draft'}"


def invoice_filename(invoice: Invoice) -> str:
    """INV-0042.pdf; a draft has no number yet: invoice-draft-17.pdf."""
    return f"{invoice.number or f'invoice-draft-{invoice.pk}'}.pdf"


def invoice_context(invoice: Invoice, company: dict[str, Any]) -> dict[str, Any]:
    return {"invoice": invoice, "order": invoice.order, "company": company}


def invoice_pdf(invoice: Invoice, company: dict[str, Any]) -> bytes:
    return render_pdf(INVOICE_TEMPLATE, invoice_context(invoice, company))


def packing_slip_context(shipment: Shipment, company: dict[str, Any]) -> dict[str, Any]:
    lines = sorted(shipment.lines.all(), key=lambda sl: (sl.order_line.position, sl.pk))
    return {"shipment": shipment, "order": shipment.order, "lines": lines, "company": company}


def order_pick_list_context(order: SalesOrder, company: dict[str, Any]) -> dict[str, Any]:
    rows = picking.order_pick_rows(order)
    return {"order": order, "shipment": None, "rows": rows, "company": company, "ref": order.number}


def shipment_pick_list_context(shipment: Shipment, company: dict[str, Any]) -> dict[str, Any]:
    rows = picking.shipment_pick_rows(shipment)
    return {
        "order": shipment.order,
        "shipment": shipment,
        "rows": rows,
        "company": company,
        "ref": shipment.number,
    }


def delivery_note_filename(shipment: Shipment) -> str:
    return f"delivery-note-{shipment.number}.pdf"


def delivery_note_context(shipment: Shipment, company: dict[str, Any]) -> dict[str, Any]:
    rows = picking.delivery_rows(shipment)
    return {"shipment": shipment, "order": shipment.order, "rows": rows, "company": company}


def delivery_note_pdf(shipment: Shipment, company: dict[str, Any]) -> bytes:
    return render_pdf(DELIVERY_NOTE_TEMPLATE, delivery_note_context(shipment, company))


def invoice_email_defaults(invoice: Invoice, company: dict[str, Any]) -> dict[str, str]:
    """What the email form starts with: the customer's address, a subject and a short message."""
    title = invoice_title(invoice)
    name = company.get("name") or "us"
    if invoice.kind == InvoiceKind.CREDIT_NOTE:
        body = f"Hello,\n\nplease find attached our credit note {invoice.number}"
        body += f" for order {invoice.order.number}.\n\nKind regards,\n{name}"
    else:
        body = f"Hello,\n\nplease find attached our invoice {invoice.number} for order {invoice.order.number}"
        if invoice.due_date:
            body += f", due on {invoice.due_date:%Y-%m-%d}"
        body += f".\n\nKind regards,\n{name}"
    return {"to": invoice.customer.email, "cc": "", "subject": f"{title} from {name}", "message": body}


def delivery_note_email_defaults(shipment: Shipment, company: dict[str, Any]) -> dict[str, str]:
    name = company.get("name") or "us"
    order = shipment.order
    body = f"Hello,\n\nplease find attached the delivery note {shipment.number} for order {order.number}"
    if shipment.tracking_number:
        body += f" (tracking {shipment.tracking_number})"
    body += f".\n\nKind regards,\n{name}"
    return {
        "to": order.customer.email,
        "cc": "",
        "subject": f"Delivery note {shipment.number} from {name}",
        "message": body,
    }
