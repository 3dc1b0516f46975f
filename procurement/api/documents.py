"""A purchase order's PDF through the API, and emailing it to the supplier with the PDF attached
(``procurement.po_emailed`` on the order's timeline)."""

from django.http import HttpRequest, HttpResponse

from erp.api_helpers import get_or_404, user_of
from erp.company import profile as company_profile
from erp.mail import PDF_RESPONSE, DocumentEmailedOut, DocumentEmailIn, email_values
from erp.pdf import pdf_response
from procurement.api.common import router
from procurement.models import PurchaseOrder
from procurement.services.documents import po_email, po_email_defaults
from procurement.views.orders import po_filename, po_pdf


@router.get("/purchase-orders/{po_id}/pdf", response={200: None}, openapi_extra=PDF_RESPONSE)
def purchase_order_pdf(request: HttpRequest, po_id: int) -> HttpResponse:
    """The purchase order as a PDF, named like PO-00042.pdf: the document its print page shows."""
    po = get_or_404(PurchaseOrder, po_id, "purchase order")
    po, pdf = po_pdf(po.pk)
    return pdf_response(pdf, po_filename(po))


@router.post("/purchase-orders/{po_id}/email", response=DocumentEmailedOut)
def purchase_order_email(request: HttpRequest, po_id: int, payload: DocumentEmailIn) -> DocumentEmailedOut:
    """Email a purchase order to its supplier with its PDF attached (422: a bad address, a draft or a
    cancelled order; nothing is sent). Blank fields take the defaults: the supplier's email, the
    usual subject and message."""
    po = get_or_404(PurchaseOrder.objects.select_related("supplier"), po_id, "purchase order")
    values = email_values(payload, po_email_defaults(po, company_profile().name))
    _, pdf = po_pdf(po.pk)
    outgoing = po_email(po=po, pdf=pdf, filename=po_filename(po), user=user_of(request), **values)
    return DocumentEmailedOut(
        to=outgoing.to, cc=outgoing.cc, subject=outgoing.subject, attachment=po_filename(po)
    )
