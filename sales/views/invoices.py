"""Invoices: the list, and what is done to one from its order's page (issue, void, pay)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.views.decorators.http import require_POST

from erp import formatting
from erp.exceptions import DomainError
from erp.ui import htmx_of, paginate
from sales import selectors, services
from sales.filters import InvoiceFilter
from sales.forms import PaymentForm, add_domain_errors
from sales.models import Invoice, InvoiceKind, InvoiceStatus
from sales.views.common import read, render_page, write
from sales.views.orders import answer


@read
def invoice_list(request: HttpRequest) -> HttpResponse:
    filterset = InvoiceFilter(request.GET, queryset=selectors.invoice_list())
    for name, label, choices in (
        ("status", "Any status", InvoiceStatus.choices),
        ("kind", "Invoices and credit notes", InvoiceKind.choices),
    ):
        field = filterset.form.fields[name]
        field.empty_label = label
        field.choices = choices  # re-wrapped with the new empty label
    context = {
        "filter": filterset,
        "page": paginate(request, filterset.qs),
        "today": timezone.localdate(),
        "open_statuses": (InvoiceStatus.ISSUED, InvoiceStatus.PARTIALLY_PAID),
    }
    return render_page(request, "sales/invoice_list.html", context)


@write
@require_POST
def invoice_issue(request: HttpRequest, pk: int) -> HttpResponse:
    invoice = get_object_or_404(Invoice, pk=pk)
    try:
        invoice = services.invoice_issue(invoice=invoice, user=request.user)
    except DomainError as exc:
        return answer(request, invoice.order_id, error=exc.message)
    due = f", due {invoice.due_date:%Y-%m-%d}" if invoice.due_date else ""
    return answer(request, invoice.order_id, message=f"Invoice {invoice.number} issued{due}.")


@write
@require_POST
def invoice_void(request: HttpRequest, pk: int) -> HttpResponse:
    invoice = get_object_or_404(Invoice, pk=pk)
    prompt = htmx_of(request).prompt
    try:
        services.invoice_void(
            invoice=invoice, reason=(prompt or request.POST.get("reason", "")).strip(), user=request.user
        )
    except DomainError as exc:
        return answer(request, invoice.order_id, error=exc.message)
    return answer(
        request, invoice.order_id, message=f"Invoice {invoice} is void; its quantities can be invoiced again."
    )


@write
@require_POST
def invoice_pay(request: HttpRequest, pk: int) -> HttpResponse:
    invoice = get_object_or_404(Invoice, pk=pk)
    form = PaymentForm(request.POST, prefix=f"pay{pk}")
    if form.is_valid():
        try:
            payment = services.payment_record(invoice=invoice, user=request.user, **form.cleaned_data)
        except DomainError as exc:
            add_domain_errors(form, exc)
        else:
            invoice.refresh_from_db(fields=["status", "amount_paid", "total"])
            due = formatting.money(invoice.balance, invoice.currency)
            left = f"; {due} still due" if invoice.balance else "; paid in full"
            return answer(
                request,
                invoice.order_id,
                message=(
                    f"Payment of {formatting.money(payment.amount, invoice.currency)} on {invoice.number} "
                    f"recorded{left}."
                ),
            )
    return answer(request, invoice.order_id, pay_forms={pk: form})
