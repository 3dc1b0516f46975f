"""Printable documents: the packing slip of a shipment and an invoice (or credit note)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from sales import selectors
from sales.models import Invoice, Shipment
from sales.views.common import read


def company() -> dict[str, Any]:
    """The letterhead: settings.COMPANY_NAME and COMPANY_ADDRESS (lines) when set, else "ERP"."""
    address = settings.COMPANY_ADDRESS
    lines = address.splitlines() if isinstance(address, str) else list(address)
    return {"name": settings.COMPANY_NAME or "ERP", "address": lines}


@read
def packing_slip(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        shipment = selectors.shipment_detail(pk)
    except Shipment.DoesNotExist as exc:
        raise Http404(f"No shipment {pk}") from exc
    lines = sorted(shipment.lines.all(), key=lambda sl: (sl.order_line.position, sl.pk))
    context = {"shipment": shipment, "order": shipment.order, "lines": lines, "company": company()}
    return render(request, "sales/print/packing_slip.html", context)


@read
def invoice_print(request: HttpRequest, pk: int) -> HttpResponse:
    invoice = get_object_or_404(
        Invoice.objects.select_related("order", "customer", "credit_of").prefetch_related(
            "lines", "payments"
        ),
        pk=pk,
    )
    context = {"invoice": invoice, "order": invoice.order, "company": company()}
    return render(request, "sales/print/invoice.html", context)
