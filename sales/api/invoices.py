"""Invoices and credit notes, and the payments recorded against them."""

from typing import Any

from django.db.models import Prefetch, QuerySet
from django.http import HttpRequest
from ninja import Query
from ninja.pagination import PageNumberPagination, paginate

from erp.api_helpers import Listing, filtered, get_or_404, user_of
from sales import selectors, services
from sales.api.common import INVOICING, PAGE_SIZE, invoice_of, router
from sales.filters import InvoiceFilter, PaymentFilter
from sales.models import Invoice, InvoiceLine, Payment
from sales.schemas.common import SalesReasonIn
from sales.schemas.invoices import (
    INVOICE_ORDERING,
    PAYMENT_ORDERING,
    InvoiceDetailOut,
    InvoiceFilterIn,
    InvoiceIssueIn,
    InvoiceListOut,
    PaymentFilterIn,
    PaymentIn,
    PaymentListOut,
    PaymentRecordedOut,
)


def _expand_invoice_lines(queryset: QuerySet[Any]) -> QuerySet[Any]:
    lines = InvoiceLine.objects.order_by("id")
    return queryset.prefetch_related(Prefetch("lines", queryset=lines, to_attr="expanded_lines"))


def _expand_invoice_payments(queryset: QuerySet[Any]) -> QuerySet[Any]:
    payments = Payment.objects.order_by("paid_at", "id")
    return queryset.prefetch_related(Prefetch("payments", queryset=payments, to_attr="expanded_payments"))


INVOICES = Listing(
    ordering=INVOICE_ORDERING, expand={"lines": _expand_invoice_lines, "payments": _expand_invoice_payments}
)
PAYMENTS = Listing(ordering=PAYMENT_ORDERING)


def _invoice_for_write(pk: int) -> Invoice:
    return get_or_404(Invoice, pk, "invoice")


@router.get("/invoices", response=list[InvoiceListOut])
@paginate(PageNumberPagination, page_size=PAGE_SIZE)
def invoice_list(request: HttpRequest, filters: Query[InvoiceFilterIn]) -> QuerySet[Invoice]:
    """Invoices and credit notes, newest first. ``overdue=true``: unpaid past the due date.
    ``expand=lines,payments``: each with its lines and payments (fetched with the page)."""
    return filtered(InvoiceFilter, filters, selectors.invoice_list(), listing=INVOICES)


@router.get("/invoices/{invoice_id}", response=InvoiceDetailOut)
def invoice_detail(request: HttpRequest, invoice_id: int) -> Invoice:
    return invoice_of(invoice_id)


@router.post("/invoices/{invoice_id}/issue", response=InvoiceDetailOut, auth=INVOICING)
def invoice_issue(request: HttpRequest, invoice_id: int, payload: InvoiceIssueIn | None = None) -> Invoice:
    """Number a draft and fix its due date from the customer's payment terms."""
    issue_date = payload.issue_date if payload else None
    services.invoice_issue(
        invoice=_invoice_for_write(invoice_id), issue_date=issue_date, user=user_of(request)
    )
    return invoice_of(invoice_id)


@router.post("/invoices/{invoice_id}/void", response=InvoiceDetailOut, auth=INVOICING)
def invoice_void(request: HttpRequest, invoice_id: int, payload: SalesReasonIn | None = None) -> Invoice:
    """Void a draft or an unpaid issued invoice; its quantities become invoiceable again."""
    reason = payload.reason if payload else ""
    services.invoice_void(invoice=_invoice_for_write(invoice_id), reason=reason, user=user_of(request))
    return invoice_of(invoice_id)


@router.post("/invoices/{invoice_id}/pay", response={201: PaymentRecordedOut}, auth=INVOICING)
def invoice_pay(request: HttpRequest, invoice_id: int, payload: PaymentIn) -> Payment:
    """Record a payment; the answer carries the invoice's status and balance after it."""
    payment = services.payment_record(
        invoice=_invoice_for_write(invoice_id),
        amount=payload.amount,
        paid_at=payload.paid_at,
        method=payload.method,
        reference=payload.reference,
        user=user_of(request),
    )
    return payment


@router.get("/payments", response=list[PaymentListOut])
@paginate(PageNumberPagination, page_size=PAGE_SIZE)
def payment_list(request: HttpRequest, filters: Query[PaymentFilterIn]) -> QuerySet[Payment]:
    return filtered(PaymentFilter, filters, selectors.payment_list(), listing=PAYMENTS)
