"""Supplier bills (recorded against a purchase order, three-way matched) and payments."""

from typing import Any

from django.db.models import Prefetch, QuerySet
from django.http import HttpRequest
from ninja import Query
from ninja.pagination import PageNumberPagination, paginate

from erp.api_helpers import Listing, filtered, get_or_404, user_of
from erp.exceptions import NotFound, ValidationFailed
from procurement import selectors, services
from procurement.api.common import BILLING, PAGE_SIZE, router
from procurement.filters import BillFilter, PaymentFilter
from procurement.models import Bill, PurchaseOrder, PurchaseOrderLine, SupplierPayment
from procurement.schemas.bills import (
    BILL_ORDERING,
    PAYMENT_ORDERING,
    BillDetailOut,
    BillFilterIn,
    BillIn,
    BillListOut,
    NoteIn,
    SupplierPaymentFilterIn,
    SupplierPaymentIn,
    SupplierPaymentListOut,
    SupplierPaymentRecordedOut,
)


def _expand_bill_lines(queryset: QuerySet[Any]) -> QuerySet[Any]:
    lines = selectors.bill_line_list()
    return queryset.prefetch_related(Prefetch("lines", queryset=lines, to_attr="expanded_lines"))


def _expand_bill_payments(queryset: QuerySet[Any]) -> QuerySet[Any]:
    payments = SupplierPayment.objects.order_by("paid_at", "id")
    return queryset.prefetch_related(Prefetch("payments", queryset=payments, to_attr="expanded_payments"))


BILLS = Listing(
    ordering=BILL_ORDERING, expand={"lines": _expand_bill_lines, "payments": _expand_bill_payments}
)
PAYMENTS = Listing(ordering=PAYMENT_ORDERING)


def _bill_detail(pk: int) -> Bill:
    try:
        return selectors.bill_detail(pk)
    except Bill.DoesNotExist:
        raise NotFound(f"No bill with id {pk}.") from None


def _bill(pk: int) -> Bill:
    return get_or_404(Bill, pk, "bill")


@router.get("/bills", response=list[BillListOut])
@paginate(PageNumberPagination, page_size=PAGE_SIZE)
def bill_list(request: HttpRequest, filters: Query[BillFilterIn]) -> QuerySet[Bill]:
    """Supplier bills, newest first. ``overdue=true``: unpaid past the due date;
    ``match_ok=false``: the three-way match flagged something. ``expand=lines,payments``: each bill
    with its lines and payments (fetched with the page)."""
    return filtered(BillFilter, filters, selectors.bill_list(), listing=BILLS)


@router.post("/bills", response={201: BillDetailOut}, auth=BILLING)
def bill_record(request: HttpRequest, payload: BillIn) -> Bill:
    """Record a supplier's bill against a purchase order. The three-way match (ordered price x received
    quantity vs billed) opens it for payment, or puts it in review with ``match_issues``."""
    po = get_or_404(PurchaseOrder, payload.purchase_order, "purchase order", field="purchase_order")
    found = PurchaseOrderLine.objects.in_bulk({item.line_id for item in payload.lines})
    errors = {
        f"lines.{i}.line_id": [f"No line {item.line_id} in {po.number}."]
        for i, item in enumerate(payload.lines)
        if item.line_id not in found or found[item.line_id].order_id != po.pk
    }
    if errors:
        raise ValidationFailed(f"The bill is invalid: {next(iter(errors.values()))[0]}", field_errors=errors)
    bill = services.bill_record(
        po=po,
        supplier_reference=payload.supplier_reference,
        lines=[
            services.BillLineSpec(line=found[item.line_id], quantity=item.quantity, unit_cost=item.unit_cost)
            for item in payload.lines
        ],
        bill_date=payload.bill_date,
        user=user_of(request),
    )
    return _bill_detail(bill.pk)


@router.get("/bills/{bill_id}", response=BillDetailOut)
def bill_detail(request: HttpRequest, bill_id: int) -> Bill:
    return _bill_detail(bill_id)


@router.post("/bills/{bill_id}/approve", response=BillDetailOut, auth=BILLING)
def bill_approve(request: HttpRequest, bill_id: int, payload: NoteIn | None = None) -> Bill:
    """Accept a bill in review (its match failed) after checking it; it opens for payment."""
    note = payload.note if payload else ""
    services.bill_approve(bill=_bill(bill_id), note=note, user=user_of(request))
    return _bill_detail(bill_id)


@router.post("/bills/{bill_id}/void", response=BillDetailOut, auth=BILLING)
def bill_void(request: HttpRequest, bill_id: int) -> Bill:
    """Void an unpaid bill; its quantities become billable again."""
    services.bill_void(bill=_bill(bill_id), user=user_of(request))
    return _bill_detail(bill_id)


@router.post("/bills/{bill_id}/pay", response={201: SupplierPaymentRecordedOut}, auth=BILLING)
def bill_pay(request: HttpRequest, bill_id: int, payload: SupplierPaymentIn) -> SupplierPayment:
    """Record a payment to the supplier; the answer carries the bill's status and balance after it."""
    return services.supplier_payment_record(
        bill=_bill(bill_id),
        amount=payload.amount,
        paid_at=payload.paid_at,
        method=payload.method,
        reference=payload.reference,
        user=user_of(request),
    )


@router.get("/payments", response=list[SupplierPaymentListOut])
@paginate(PageNumberPagination, page_size=PAGE_SIZE)
def payment_list(request: HttpRequest, filters: Query[SupplierPaymentFilterIn]) -> QuerySet[SupplierPayment]:
    return filtered(PaymentFilter, filters, selectors.payment_list(), listing=PAYMENTS)
