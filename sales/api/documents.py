"""Printed documents through the API: an invoice's (credit note's) PDF and a shipment's delivery
note as PDF, and emailing either with its PDF attached (``sales.invoice_emailed``,
``sales.delivery_note_emailed`` on the order's timeline)."""

from django.http import HttpRequest, HttpResponse

from erp.api_helpers import user_of
from erp.exceptions import NotFound
from erp.mail import PDF_RESPONSE, DocumentEmailedOut, DocumentEmailIn, Outgoing, email_values
from erp.pdf import pdf_response
from sales import documents, picking
from sales.api.common import INVOICING, router
from sales.models import Invoice, Shipment
from sales.services.documents import delivery_note_email, invoice_email
from sales.views.printing import company


def _invoice(pk: int) -> Invoice:
    try:
        return documents.invoice_for_print(pk)
    except Invoice.DoesNotExist:
        raise NotFound(f"No invoice with id {pk}.") from None


def _shipment(pk: int) -> Shipment:
    try:
        return picking.shipment_for_print(pk)
    except Shipment.DoesNotExist:
        raise NotFound(f"No shipment with id {pk}.") from None


def _sent(outgoing: Outgoing, filename: str) -> DocumentEmailedOut:
    return DocumentEmailedOut(to=outgoing.to, cc=outgoing.cc, subject=outgoing.subject, attachment=filename)


@router.get("/invoices/{invoice_id}/pdf", response={200: None}, openapi_extra=PDF_RESPONSE)
def invoice_pdf(request: HttpRequest, invoice_id: int) -> HttpResponse:
    """The invoice (or credit note) as a PDF, named like INV-0042.pdf: the document its print page shows."""
    invoice = _invoice(invoice_id)
    pdf = documents.invoice_pdf(invoice, company())
    return pdf_response(pdf, documents.invoice_filename(invoice))


@router.post("/invoices/{invoice_id}/email", response=DocumentEmailedOut, auth=INVOICING)
def invoice_email_send(request: HttpRequest, invoice_id: int, payload: DocumentEmailIn) -> DocumentEmailedOut:
    """Email an issued invoice or credit note with its PDF attached (422: a bad address, a draft or a
    void invoice; nothing is sent). Blank fields take the defaults: the customer's email, the usual
    subject and message."""
    invoice = _invoice(invoice_id)
    letterhead = company()
    values = email_values(payload, documents.invoice_email_defaults(invoice, letterhead))
    filename = documents.invoice_filename(invoice)
    outgoing = invoice_email(
        invoice=invoice,
        pdf=documents.invoice_pdf(invoice, letterhead),
        filename=filename,
        user=user_of(request),
        **values,
    )
    return _sent(outgoing, filename)


@router.get("/shipments/{shipment_id}/delivery-note/pdf", response={200: None}, openapi_extra=PDF_RESPONSE)
def delivery_note_pdf(request: HttpRequest, shipment_id: int) -> HttpResponse:
    """A shipment's delivery note as a PDF: what was delivered, without prices, with signature lines."""
    shipment = _shipment(shipment_id)
    return pdf_response(
        documents.delivery_note_pdf(shipment, company()), documents.delivery_note_filename(shipment)
    )


@router.post("/shipments/{shipment_id}/delivery-note/email", response=DocumentEmailedOut)
def delivery_note_email_send(
    request: HttpRequest, shipment_id: int, payload: DocumentEmailIn
) -> DocumentEmailedOut:
    """Email a shipment's delivery note with its PDF attached (422: a bad address; nothing is sent)."""
    shipment = _shipment(shipment_id)
    letterhead = company()
    values = email_values(payload, documents.delivery_note_email_defaults(shipment, letterhead))
    filename = documents.delivery_note_filename(shipment)
    outgoing = delivery_note_email(
        shipment=shipment,
        pdf=documents.delivery_note_pdf(shipment, letterhead),
        filename=filename,
        user=user_of(request),
        **values,
    )
    return _sent(outgoing, filename)
