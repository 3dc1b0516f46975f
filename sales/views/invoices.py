"""Invoices: the list, the detail page, and what is done to one (issue, void, pay, email) from its
order's page or its own: a form posted with ``from=invoice`` answers with the invoice's page."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from erp import formatting
from erp.exceptions import DomainError, ValidationFailed
from erp.mail import DocumentEmailForm
from erp.money import round_money
from erp.ui import flash, htmx_of, is_htmx, paginate, toast
from sales import documents, selectors, services
from sales.filters import InvoiceFilter
from sales.forms import PaymentForm, add_domain_errors
from sales.models import Invoice, InvoiceKind, InvoiceLine, InvoiceStatus, Refund
from sales.order_lines import money_text
from sales.services.documents import invoice_email as invoice_email_send
from sales.views.common import invoicing, read, render_page
from sales.views.orders import answer as order_answer
from sales.views.printing import company


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


@dataclass(frozen=True)
class TaxRow:
    name: str
    rate: Decimal
    amount: Decimal

    @property
    def percent(self) -> Decimal:
        return self.rate * 100


def invoice_for_detail(pk: int) -> Invoice:
    """An invoice with everything its page shows: order, customer, credited invoice, the return it
    credits, lines with their order lines' taxes, payments, refunds, credit notes. Six queries."""
    try:
        return (
            Invoice.objects.select_related("order__channel", "customer", "credit_of", "sales_return")
            .prefetch_related(
                Prefetch(
                    "lines",
                    queryset=InvoiceLine.objects.select_related("order_line").prefetch_related(
                        Prefetch("order_line__taxes")
                    ),
                ),
                "payments",
                Prefetch("refunds", queryset=Refund.objects.select_related("sales_return")),
                Prefetch("credit_notes", queryset=Invoice.objects.order_by("created_at", "id")),
            )
            .get(pk=pk)
        )
    except Invoice.DoesNotExist as exc:
        raise Http404(f"No invoice {pk}") from exc


def tax_rows(invoice: Invoice) -> list[TaxRow]:
    """The invoice's tax by name and rate: each line's tax shared among its order line's taxes in
    proportion to their rates (a line with no named tax counts as "Tax")."""
    totals: dict[tuple[str, Decimal], Decimal] = defaultdict(Decimal)
    for line in invoice.lines.all():
        if not line.tax_amount:
            continue
        taxes = list(line.order_line.taxes.all()) if line.order_line else []
        rate_sum = sum((t.rate for t in taxes), Decimal(0))
        if not taxes or not rate_sum:
            totals[("Tax", Decimal(0))] += line.tax_amount
            continue
        left = line.tax_amount
        for n, tax in enumerate(taxes):
            share = (
                left
                if n == len(taxes) - 1
                else round_money(line.tax_amount * tax.rate / rate_sum, invoice.currency)
            )
            totals[(tax.name, tax.rate)] += share
            left -= share
    return [TaxRow(name, rate, amount) for (name, rate), amount in sorted(totals.items())]


def can_void(invoice: Invoice) -> bool:
    return invoice.kind == InvoiceKind.INVOICE and (
        invoice.status == InvoiceStatus.DRAFT
        or (invoice.status == InvoiceStatus.ISSUED and not invoice.amount_paid)
    )


def can_email(invoice: Invoice) -> bool:
    return invoice.status not in (InvoiceStatus.DRAFT, InvoiceStatus.VOID)


def detail_context(pk: int, *, pay_form: PaymentForm | None = None, error: str = "") -> dict[str, Any]:
    invoice = invoice_for_detail(pk)
    open_invoice = invoice.kind == InvoiceKind.INVOICE and invoice.status in selectors.OPEN_INVOICE
    if pay_form is None and open_invoice:
        pay_form = PaymentForm(prefix=f"pay{pk}", initial={"amount": money_text(invoice.balance)})
    today = timezone.localdate()
    return {
        "invoice": invoice,
        "order": invoice.order,
        "lines": list(invoice.lines.all()),
        "taxes": tax_rows(invoice),
        "payments": list(invoice.payments.all()),
        "refunds": list(invoice.refunds.all()),
        "credit_notes": list(invoice.credit_notes.all()),
        "pay_form": pay_form if open_invoice else None,
        "can_void": can_void(invoice),
        "can_email": can_email(invoice),
        "overdue": bool(open_invoice and invoice.due_date and invoice.due_date < today),
        "today": today,
        "error": error,
    }


@read
def invoice_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return render_page(request, "sales/invoice_detail.html", detail_context(pk), fragments=("invoice",))


def answer(
    request: HttpRequest,
    invoice: Invoice,
    *,
    message: str = "",
    error: str = "",
    pay_form: PaymentForm | None = None,
) -> HttpResponse:
    """After a write: the order's page answers (``answer`` of the order views), or, for a form of the
    invoice's own page (``from=invoice``), the invoice's page: htmx gets it refreshed with a toast, a
    plain POST a redirect (or the page again, when the payment form has errors)."""
    if request.POST.get("from") != "invoice":
        return order_answer(
            request,
            invoice.order_id,
            message=message,
            error=error,
            **({"pay_forms": {invoice.pk: pay_form}} if pay_form else {}),
        )
    if pay_form is not None:
        problems = pay_form.non_field_errors()
        error = str(problems[0]) if problems else "Please correct the marked fields; nothing was changed."
        context = detail_context(invoice.pk, pay_form=pay_form, error=error)
        if is_htmx(request):
            return toast(
                render_page(request, "sales/invoice_detail.html#invoice", context, fragments=()),
                error,
                "error",
            )
        return render_page(request, "sales/invoice_detail.html", context, fragments=())
    if is_htmx(request):
        context = detail_context(invoice.pk, error=error)
        response = render_page(request, "sales/invoice_detail.html#invoice", context, fragments=())
        return toast(response, error or message, "error" if error else "success")
    flash(request, error or message, "error" if error else "success")
    return redirect("sales:invoice", pk=invoice.pk)


@invoicing
@require_POST
def invoice_issue(request: HttpRequest, pk: int) -> HttpResponse:
    invoice = get_object_or_404(Invoice, pk=pk)
    try:
        invoice = services.invoice_issue(invoice=invoice, user=request.user)
    except DomainError as exc:
        return answer(request, invoice, error=exc.message)
    due = f", due {invoice.due_date:%Y-%m-%d}" if invoice.due_date else ""
    return answer(request, invoice, message=f"Invoice {invoice.number} issued{due}.")


@invoicing
@require_POST
def invoice_void(request: HttpRequest, pk: int) -> HttpResponse:
    invoice = get_object_or_404(Invoice, pk=pk)
    prompt = htmx_of(request).prompt
    try:
        services.invoice_void(
            invoice=invoice, reason=(prompt or request.POST.get("reason", "")).strip(), user=request.user
        )
    except DomainError as exc:
        return answer(request, invoice, error=exc.message)
    return answer(
        request, invoice, message=f"Invoice {invoice} is void; its quantities can be invoiced again."
    )


@invoicing
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
                invoice,
                message=(
                    f"Payment of {formatting.money(payment.amount, invoice.currency)} on {invoice.number} "
                    f"recorded{left}."
                ),
            )
    return answer(request, invoice, pay_form=form)


@invoicing
def invoice_email(request: HttpRequest, pk: int) -> HttpResponse:
    """The "Email" form: to (the customer's address), cc, subject, message; sends the PDF attached."""
    invoice = get_object_or_404(Invoice.objects.select_related("order", "customer", "credit_of"), pk=pk)
    letterhead = company()
    if request.method == "POST":
        form = DocumentEmailForm(request.POST)
        if form.is_valid():
            filename = documents.invoice_filename(invoice)
            try:
                printed = documents.invoice_for_print(pk)
                invoice_email_send(
                    invoice=invoice,
                    to=form.cleaned_data["to"],
                    cc=form.cleaned_data["cc"],
                    subject=form.cleaned_data["subject"],
                    message=form.cleaned_data["message"],
                    pdf=documents.invoice_pdf(printed, letterhead),
                    filename=filename,
                    user=request.user,
                )
            except ValidationFailed as exc:
                form.add_domain_errors(exc)
            else:
                flash(
                    request,
                    f"{documents.invoice_title(invoice)} sent to {form.cleaned_data['to']} ({filename}).",
                )
                return redirect("sales:invoice", pk=pk)
    else:
        form = DocumentEmailForm(initial=documents.invoice_email_defaults(invoice, letterhead))
    context = {
        "form": form,
        "title": f"Email {documents.invoice_title(invoice)}",
        "document": documents.invoice_title(invoice),
        "attachment": documents.invoice_filename(invoice),
        "pdf_url": reverse("sales:invoice-pdf", args=[pk]),
        "back_url": reverse("sales:invoice", args=[pk]),
        "refused": ""
        if can_email(invoice)
        else "Only an issued invoice (not a draft, not a void one) can be sent.",
    }
    return render_page(
        request,
        "sales/email_form.html",
        context,
        fragments=(),
        status=200 if request.method == "GET" or not form.errors else 422,
    )
