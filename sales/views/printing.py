"""Printable documents, as pages and as PDFs: the packing slip, pick list and delivery note of a
shipment, the pick list of an order, and an invoice (or credit note)."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from erp.company import profile as company_profile
from erp.exceptions import ValidationFailed
from erp.mail import DocumentEmailForm
from erp.pdf import pdf_response, render_pdf, wants_pdf
from erp.ui import flash
from sales import documents, picking
from sales.models import Invoice, SalesOrder, Shipment
from sales.services.documents import delivery_note_email as delivery_note_send
from sales.views.common import read, render_page, ship


def company() -> dict[str, Any]:
    """The letterhead: the company's details (Settings → Company, erp.company; until they are saved,
    settings.COMPANY_NAME and COMPANY_ADDRESS, else "ERP")."""
    info = company_profile()
    return {
        "name": info.name,
        "address": list(info.address_lines),
        "email": info.email,
        "phone": info.phone,
        "tax_id": info.tax_id,
    }


def _document(
    request: HttpRequest, template: str, context: dict[str, Any], filename: str, as_pdf: bool
) -> HttpResponse:
    """The print page, or (``/pdf/`` or ``?format=pdf``) the same page as a PDF."""
    if as_pdf or wants_pdf(request):
        return pdf_response(render_pdf(template, context, request), filename)
    return render(request, template, context)


def _shipment(pk: int) -> Shipment:
    try:
        return picking.shipment_for_print(pk)
    except Shipment.DoesNotExist as exc:
        raise Http404(f"No shipment {pk}") from exc


@read
def packing_slip(request: HttpRequest, pk: int, as_pdf: bool = False) -> HttpResponse:
    shipment = _shipment(pk)
    context = documents.packing_slip_context(shipment, company())
    filename = f"packing-slip-{shipment.number}.pdf"
    return _document(request, documents.PACKING_SLIP_TEMPLATE, context, filename, as_pdf)


@read
def invoice_print(request: HttpRequest, pk: int, as_pdf: bool = False) -> HttpResponse:
    try:
        invoice = documents.invoice_for_print(pk)
    except Invoice.DoesNotExist as exc:
        raise Http404(f"No invoice {pk}") from exc
    context = documents.invoice_context(invoice, company())
    filename = documents.invoice_filename(invoice)
    return _document(request, documents.INVOICE_TEMPLATE, context, filename, as_pdf)


@read
def order_pick_list(request: HttpRequest, pk: int, as_pdf: bool = False) -> HttpResponse:
    """What to pick for an order: its open lines, by location and lot, from its reservations."""
    try:
        order = picking.order_for_picking(pk)
    except SalesOrder.DoesNotExist as exc:
        raise Http404(f"No order {pk}") from exc
    context = documents.order_pick_list_context(order, company())
    filename = f"pick-list-{order.number}.pdf"
    return _document(request, documents.PICK_LIST_TEMPLATE, context, filename, as_pdf)


@read
def shipment_pick_list(request: HttpRequest, pk: int, as_pdf: bool = False) -> HttpResponse:
    """What was picked for a shipment: by location and lot, from its stock moves."""
    shipment = _shipment(pk)
    context = documents.shipment_pick_list_context(shipment, company())
    filename = f"pick-list-{shipment.number}.pdf"
    return _document(request, documents.PICK_LIST_TEMPLATE, context, filename, as_pdf)


@read
def delivery_note(request: HttpRequest, pk: int, as_pdf: bool = False) -> HttpResponse:
    """What a shipment delivered, without prices, for the customer to sign."""
    shipment = _shipment(pk)
    context = documents.delivery_note_context(shipment, company())
    filename = documents.delivery_note_filename(shipment)
    return _document(request, documents.DELIVERY_NOTE_TEMPLATE, context, filename, as_pdf)


@ship
def delivery_note_email(request: HttpRequest, pk: int) -> HttpResponse:
    """Email the delivery note (PDF attached) to the customer; the order's timeline records it."""
    shipment = _shipment(pk)
    letterhead = company()
    filename = documents.delivery_note_filename(shipment)
    if request.method == "POST":
        form = DocumentEmailForm(request.POST)
        if form.is_valid():
            try:
                delivery_note_send(
                    shipment=shipment,
                    to=form.cleaned_data["to"],
                    cc=form.cleaned_data["cc"],
                    subject=form.cleaned_data["subject"],
                    message=form.cleaned_data["message"],
                    pdf=documents.delivery_note_pdf(shipment, letterhead),
                    filename=filename,
                    user=request.user,
                )
            except ValidationFailed as exc:
                form.add_domain_errors(exc)
            else:
                flash(
                    request,
                    f"Delivery note {shipment.number} sent to {form.cleaned_data['to']} ({filename}).",
                )
                return redirect("sales:order", pk=shipment.order_id)
    else:
        form = DocumentEmailForm(initial=documents.delivery_note_email_defaults(shipment, letterhead))
    context = {
        "form": form,
        "title": f"Email delivery note {shipment.number}",
        "document": f"Delivery note {shipment.number}",
        "attachment": filename,
        "pdf_url": reverse("sales:delivery-note-pdf", args=[pk]),
        "back_url": reverse("sales:order", args=[shipment.order_id]),
        "refused": "",
    }
    status = 422 if form.errors else 200
    return render_page(request, "sales/email_form.html", context, fragments=(), status=status)
