"""Supplier bills: the list (those needing review first), the detail against the order, the actions,
and recording a bill from a purchase order."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Case, IntegerField, Value, When
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone

from erp import formatting
from erp.exceptions import DomainError
from erp.money import ZERO, round_money
from erp.ui import flash, is_htmx, paginate, parse_decimal, qty, sort_headers, toast
from procurement import selectors, services
from procurement.filters import BillFilter
from procurement.forms import BillApproveForm, BillRecordForm, PaymentForm, add_domain_errors
from procurement.models import Bill, BillLine, BillStatus, PurchaseOrder, PurchaseOrderLine
from procurement.views.common import bill_required, price_text, read, render_page

UNPAID: tuple[str, ...] = (BillStatus.OPEN, BillStatus.PARTIALLY_PAID)
BILL_BADGE: dict[str, str] = {
    BillStatus.NEEDS_REVIEW: "bad",
    BillStatus.OPEN: "warn",
    BillStatus.PARTIALLY_PAID: "warn",
    BillStatus.PAID: "ok",
    BillStatus.VOID: "",
}
BILL_ORDERING = {
    "due": ("due_date", "id"),
    "-due": ("-due_date", "-id"),
    "date": ("bill_date", "id"),
    "-date": ("-bill_date", "-id"),
    "total": ("total", "id"),
    "-total": ("-total", "-id"),
    "number": ("number",),
    "-number": ("-number",),
}


@dataclass(frozen=True)
class BillRow:
    bill: Bill
    badge: str
    overdue: bool


@read
def bill_list(request: HttpRequest) -> HttpResponse:
    filterset = BillFilter(request.GET, queryset=selectors.bill_list())
    qs = filterset.qs if filterset.is_valid() else Bill.objects.none()
    ordering = request.GET.get("ordering", "")
    if ordering in BILL_ORDERING:
        qs = qs.order_by(*BILL_ORDERING[ordering])
    else:  # those needing review first, then by due date
        qs = qs.annotate(
            review_first=Case(
                When(status=BillStatus.NEEDS_REVIEW, then=Value(0)),
                When(status__in=UNPAID, then=Value(1)),
                default=Value(2),
                output_field=IntegerField(),
            )
        ).order_by("review_first", "due_date", "id")
    headers = sort_headers(
        request.GET,
        [
            ("Number", "number", False),
            ("Supplier's ref.", None, False),
            ("Supplier", None, False),
            ("Order", None, False),
            ("Bill date", "date", False),
            ("Due", "due", False),
            ("Status", None, False),
            ("Match", None, False),
            ("Total", "total", True),
            ("Balance", None, True),
        ],
        default="",
        descending_first=("date", "total"),
    )
    page = paginate(request, qs)
    today = timezone.localdate()
    rows = [
        BillRow(bill, BILL_BADGE.get(bill.status, ""), bill.status in UNPAID and bill.due_date < today)
        for bill in page.object_list
    ]
    context = {
        "filter": filterset,
        "page": page,
        "rows": rows,
        "headers": headers,
        "statuses": BillStatus.choices,
        "suppliers": selectors.supplier_choices(),
    }
    return render_page(request, "procurement/bill_list.html", context)


@dataclass(frozen=True)
class BillLineRow:
    """A bill line against its order line: ordered price × quantity received (not billed elsewhere)."""

    row: BillLine
    line: PurchaseOrderLine
    billable: Decimal  # received and not billed by other bills, in purchase units
    expected: Decimal
    price_differs: bool
    quantity_differs: bool
    unit: str  # the purchase unit's code

    @property
    def difference(self) -> Decimal:
        return self.row.subtotal - self.expected


def _line_rows(bill: Bill) -> list[BillLineRow]:
    bill_lines = list(bill.lines.all())
    rows = []
    for row in bill_lines:
        line = row.order_line
        others = line.quantity_billed - (row.quantity if bill.status != BillStatus.VOID else ZERO)
        billable = max(line.quantity_received - others, ZERO)
        expected = round_money(line.unit_cost * min(row.quantity, billable), bill.currency)
        rows.append(
            BillLineRow(
                row=row,
                line=line,
                billable=billable,
                expected=expected,
                price_differs=row.unit_cost != line.unit_cost,
                quantity_differs=row.quantity > billable,
                unit=str(line.purchase_unit.code),
            )
        )
    return rows


def bill_context(pk: int, **extra: Any) -> dict[str, Any]:
    try:
        bill = selectors.bill_detail(pk)
    except Bill.DoesNotExist as exc:
        raise Http404(f"No bill {pk}") from exc
    rows = _line_rows(bill)
    return {
        "bill": bill,
        "rows": rows,
        "expected_total": sum((r.expected for r in rows), ZERO),
        "payments": list(bill.payments.all()),
        "badge": BILL_BADGE.get(bill.status, ""),
        "overdue": bill.status in UNPAID and bill.due_date < timezone.localdate(),
        "can_approve_bill": bill.status == BillStatus.NEEDS_REVIEW,
        "can_void": bill.status in (BillStatus.NEEDS_REVIEW, BillStatus.OPEN) and bill.amount_paid == 0,
        "can_pay": bill.status in UNPAID,
        "approve_form": extra.pop("approve_form", None) or BillApproveForm(),
        "pay_form": extra.pop("pay_form", None)
        or PaymentForm(initial={"amount": bill.balance, "paid_at": timezone.localdate()}),
        **extra,
    }


@read
def bill_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return render_page(request, "procurement/bill_detail.html", bill_context(pk), fragments=("bill",))


def _answer(
    request: HttpRequest, pk: int, *, message: str = "", error: str = "", **context: Any
) -> HttpResponse:
    """After a write on the bill page: htmx gets the refreshed bill and a toast; a plain POST a redirect."""
    if not is_htmx(request):
        flash(request, error or message, "error" if error else "success")
        return redirect("procurement:bill", pk=pk)
    response = render_page(
        request, "procurement/bill_detail.html#bill", bill_context(pk, error=error, **context), fragments=()
    )
    return toast(response, error or message, "error" if error else "success")


@bill_required
def bill_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    if request.method != "POST":
        return redirect("procurement:bill", pk=pk)
    bill = get_object_or_404(Bill, pk=pk)
    if action == "approve":
        form = BillApproveForm(request.POST)
        note = form.data.get("note", "").strip()[:255]
        try:
            services.bill_approve(bill=bill, note=note, user=request.user)
        except DomainError as exc:
            return _answer(request, pk, error=exc.message)
        return _answer(request, pk, message=f"{bill.number} is accepted: it can be paid.")
    if action == "void":
        try:
            services.bill_void(bill=bill, user=request.user)
        except DomainError as exc:
            return _answer(request, pk, error=exc.message)
        return _answer(request, pk, message=f"{bill.number} is void; its quantities can be billed again.")
    if action == "pay":
        pay_form = PaymentForm(request.POST)
        if not pay_form.is_valid():
            return _answer(request, pk, error="The payment is not recorded: see the form.", pay_form=pay_form)
        try:
            payment = services.supplier_payment_record(bill=bill, user=request.user, **pay_form.cleaned_data)
        except DomainError as exc:
            add_domain_errors(pay_form, exc)
            return _answer(request, pk, error=exc.message, pay_form=pay_form)
        paid = formatting.money(payment.amount, bill.currency)
        return _answer(request, pk, message=f"Payment of {paid} recorded on {bill.number}.")
    raise Http404(action)


@dataclass
class RecordLine:
    line: PurchaseOrderLine
    quantity_text: str
    cost_text: str
    error: str = ""


@bill_required
def bill_record(request: HttpRequest, pk: int) -> HttpResponse:
    """Record the supplier's bill for an order: received-not-billed quantities at the ordered price."""
    try:
        po = selectors.po_detail(pk)
    except PurchaseOrder.DoesNotExist as exc:
        raise Http404(f"No purchase order {pk}") from exc
    lines = list(po.lines.all())
    if request.method == "POST":
        form = BillRecordForm(request.POST)
        rows = [
            RecordLine(
                line,
                request.POST.get(f"qty-{line.pk}", "").strip(),
                request.POST.get(f"cost-{line.pk}", "").strip(),
            )
            for line in lines
        ]
        specs = []
        for r in rows:
            if not r.quantity_text or parse_decimal(r.quantity_text) == 0:
                continue
            quantity, cost = parse_decimal(r.quantity_text), parse_decimal(r.cost_text)
            if quantity is None or quantity < 0:
                r.error = "A positive quantity, or empty."
            elif cost is None or cost < 0:
                r.error = "A price of zero or more."
            else:
                specs.append(services.BillLineSpec(line=r.line, quantity=quantity, unit_cost=cost))
        if form.is_valid() and not any(r.error for r in rows):
            try:
                bill = services.bill_record(
                    po=po,
                    supplier_reference=form.cleaned_data["supplier_reference"],
                    bill_date=form.cleaned_data["bill_date"],
                    lines=specs,
                    user=request.user,
                )
            except DomainError as exc:
                add_domain_errors(form, exc)
            else:
                if bill.match_ok:
                    flash(request, f"{bill.number} is recorded and matches the order: it can be paid.")
                else:
                    issues = len(bill.match_issues)
                    plural = "s" if issues != 1 else ""
                    flash(
                        request,
                        f"{bill.number} is recorded but needs review: {issues} issue{plural}.",
                        "error",
                    )
                return redirect("procurement:bill", pk=bill.pk)
    else:
        form = BillRecordForm(initial={"bill_date": timezone.localdate()})
        rows = [
            RecordLine(
                line,
                qty(billable)
                if (billable := max(line.quantity_received - line.quantity_billed, ZERO))
                else "",
                price_text(line.unit_cost),
            )
            for line in lines
        ]
    context = {"po": po, "form": form, "rows": rows, "cancel_url": reverse("procurement:order", args=[po.pk])}
    return render_page(request, "procurement/bill_form.html", context, fragments=())
