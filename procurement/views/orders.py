"""Purchase orders: the list with status tabs, the detail with its actions, the printable order."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.views.decorators.http import require_POST

from erp import formatting
from erp.access import user_has_right
from erp.company import profile as company_profile
from erp.exceptions import DomainError, ValidationFailed
from erp.mail import DocumentEmailForm
from erp.pdf import pdf_response, render_pdf
from erp.ui import flash, is_htmx, paginate, qty, query_with, sort_headers, toast
from inventory.selectors import product_by_code, warehouse_choices
from procurement import lifecycle, selectors, services, thresholds
from procurement.filters import OPEN, PurchaseOrderFilter
from procurement.models import (
    Bill,
    PurchaseOrder,
    PurchaseOrderLine,
    PurchaseOrderStatus,
)
from procurement.services.approval import po_approval_request
from procurement.services.documents import po_email, po_email_defaults
from procurement.views.common import can_receive, read, render_page, rights, write

S = PurchaseOrderStatus
STATUS_TABS: tuple[tuple[str, str], ...] = (
    ("", "All"),
    (S.DRAFT, "Draft"),
    (OPEN, "Open"),
    (S.SENT, "Sent"),
    (S.PARTIALLY_RECEIVED, "Partially received"),
    (S.RECEIVED, "Received"),
    (S.CLOSED, "Closed"),
    (S.CANCELLED, "Cancelled"),
)
STATUS_BADGE: dict[str, str] = {
    S.DRAFT: "",
    S.SENT: "warn",
    S.PARTIALLY_RECEIVED: "warn",
    S.RECEIVED: "ok",
    S.CLOSED: "ok",
    S.CANCELLED: "bad",
}


def awaiting_approval(po: PurchaseOrder) -> bool:
    return po.status == S.DRAFT and services.needs_approval(po) and po.approved_at is None


def overdue(po: PurchaseOrder, today: Any) -> bool:
    return po.status in lifecycle.OPEN_STATUSES and po.expected_date is not None and po.expected_date < today


# --- the list ------------------------------------------------------------------------


@dataclass(frozen=True)
class OrderRow:
    po: PurchaseOrder
    awaiting_approval: bool
    overdue: bool
    badge: str


def _filter_data(params: QueryDict) -> tuple[QueryDict, str]:
    """The list's filters as PurchaseOrderFilter reads them: a typed SKU or barcode becomes ``product``."""
    data = params.copy()
    code = data.get("sku", "").strip()
    note = ""
    if code and not data.get("product"):
        found = product_by_code(code)
        if found is None:
            note = f"No product has the SKU or barcode “{code}”."
            data["product"] = "0"  # matches nothing, as the person asked
        else:
            data["product"] = str(found[0].pk)
    return data, note


def _status_counts(data: QueryDict) -> dict[str, int]:
    """How many orders each tab holds under the other filters: one aggregate query."""
    others = data.copy()
    for key in ("status", "ordering", "page"):
        others.pop(key, None)
    return selectors.po_status_counts(PurchaseOrderFilter(others, queryset=selectors.po_list()).qs)


@read
def order_list(request: HttpRequest) -> HttpResponse:
    data, note = _filter_data(request.GET)
    filterset = PurchaseOrderFilter(data, queryset=selectors.po_list())
    counts = _status_counts(data)
    status = request.GET.get("status", "")
    tabs = [
        {
            "key": key,
            "label": label,
            "count": counts[key or "all"],
            "url": query_with(request.GET, status=key or None),
            "current": key == status,
        }
        for key, label in STATUS_TABS
    ]
    headers = sort_headers(
        request.GET,
        [
            ("Number", "number", False),
            ("Supplier", None, False),
            ("Warehouse", None, False),
            ("Ordered", "date", False),
            ("Expected", "expected", False),
            ("Status", None, False),
            ("Total", "total", True),
        ],
        default="-date",
        descending_first=("date", "total"),
    )
    page = paginate(request, filterset.qs if filterset.is_valid() else PurchaseOrder.objects.none())
    today = timezone.localdate()
    rows = [
        OrderRow(po, awaiting_approval(po), overdue(po, today), STATUS_BADGE.get(po.status, ""))
        for po in page.object_list
    ]
    context = {
        "filter": filterset,
        "page": page,
        "rows": rows,
        "tabs": tabs,
        "status": status,
        "headers": headers,
        "note": note,
        "suppliers": selectors.supplier_choices(),
        "warehouses": warehouse_choices(),
        "supplier_id": request.GET.get("supplier", ""),
        "warehouse_id": request.GET.get("warehouse", ""),
    }
    return render_page(request, "procurement/po_list.html", context)


# --- the detail ----------------------------------------------------------------------


@dataclass
class LineRow:
    line: PurchaseOrderLine
    open: Decimal

    @property
    def stock_unit(self) -> str:
        return str(self.line.product.stock_unit.code)

    @property
    def unit(self) -> str:
        return str(self.line.purchase_unit.code)

    @property
    def converts(self) -> bool:
        """Whether the purchase unit differs from the stock unit (then both are shown)."""
        return self.line.factor != 1 or self.line.purchase_unit_id != self.line.product.stock_unit_id

    def _both(self, quantity: Decimal) -> tuple[str, str]:
        """The quantity in the purchase unit, and in stock units when they differ ('' otherwise)."""
        stock = formatting.quantity(quantity * self.line.factor, self.stock_unit) if self.converts else ""
        return formatting.quantity(quantity, self.unit), stock

    @property
    def ordered(self) -> tuple[str, str]:
        return self._both(self.line.quantity)

    @property
    def received(self) -> tuple[str, str]:
        return self._both(self.line.quantity_received)

    @property
    def billed(self) -> tuple[str, str]:
        return self._both(self.line.quantity_billed)

    @property
    def open_text(self) -> tuple[str, str]:
        return self._both(self.open)

    @property
    def supplier_sku(self) -> str:
        return str(self.line.supplier_item.supplier_sku) if self.line.supplier_item else ""

    @property
    def description(self) -> str:
        """The line's description without the supplier's SKU it starts with (shown in its own column)."""
        text = str(self.line.description or self.line.product.name)
        return text.removeprefix(f"{self.supplier_sku} ") if self.supplier_sku else text

    @property
    def extra_description(self) -> str:
        """The description when it says more than the product's name."""
        return "" if self.description == self.line.product.name else self.description

    @property
    def tax_percent(self) -> str:
        return qty(self.line.tax_rate * 100)


@dataclass
class Action:
    key: str
    label: str
    confirm: str
    primary: bool = False
    danger: bool = False


ACTION_LABELS: dict[str, tuple[str, str, bool, bool]] = {
    # key: (label, confirmation, primary, danger)
    "approve": ("Approve", "Approve {number} ({total})?", True, False),
    "send": ("Send to supplier", "Send {number} to {supplier}? Lines can no longer change.", True, False),
    "request-approval": (
        "Request approval",
        "Ask the purchasing managers to approve {number} ({total})?",
        True,
        False,
    ),
    "close": ("Close", "Close {number}? Nothing more is expected on it.", False, False),
    "cancel": ("Cancel order", "Cancel {number}? This cannot be undone.", False, True),
}


def detail_context(request: HttpRequest, pk: int, **extra: Any) -> dict[str, Any]:
    try:
        po = selectors.po_detail(pk)
    except PurchaseOrder.DoesNotExist as exc:
        raise Http404(f"No purchase order {pk}") from exc
    lines = list(po.lines.all())
    by_id = {line.pk: line for line in lines}
    receipts = [
        (receipt, [(row, by_id.get(row.order_line_id), qty(row.quantity)) for row in receipt.lines.all()])
        for receipt in po.receipts.all()
    ]
    bills: list[Bill] = list(po.bills.all())
    needs = services.needs_approval(po)
    approved = po.approved_at is not None
    allowed = lifecycle.allowed_actions(po.status, needs_approval=needs, approved=approved)
    user_rights = rights(request)
    actions = []
    for key in allowed:
        if key not in ACTION_LABELS or not user_rights["can_write"]:
            continue
        if key == "approve" and not user_has_right(request.user, "procurement_approve"):
            continue
        if key == "send" and needs and not approved:
            # not sendable yet: a manager approves it, a buyer asks a manager to (erp.notifications)
            if user_has_right(request.user, "procurement_approve"):
                continue
            key = "request-approval"
        label, confirm, primary, danger = ACTION_LABELS[key]
        text = confirm.format(
            number=po.number, supplier=po.supplier.name, total=formatting.money(po.total, po.currency)
        )
        actions.append(Action(key, label, text, primary, danger))
    return {
        "po": po,
        "rows": [LineRow(line, line.open_quantity) for line in lines],
        "receipts": receipts,
        "bills": bills,
        "needs_approval": needs,
        "awaiting_approval": po.status == S.DRAFT and needs and not approved,
        "threshold": thresholds.approval_threshold(po.currency),
        "actions": actions,
        "can_receive_now": "receive" in allowed and can_receive(request.user),
        "can_bill_now": "bill" in allowed and user_rights["can_bill"],
        "badge": STATUS_BADGE.get(po.status, ""),
        "overdue": overdue(po, timezone.localdate()),
        **user_rights,
        **extra,
    }


@read
def order_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return render_page(request, "procurement/po_detail.html", detail_context(request, pk), fragments=("po",))


ORDER_ACTIONS: dict[str, tuple[Callable[..., PurchaseOrder], str]] = {
    "approve": (services.po_approve, "{number} is approved: it can be sent."),
    "send": (services.po_send, "{number} is sent to {supplier}."),
    "request-approval": (
        po_approval_request,
        "Approval of {number} requested: the purchasing managers are told.",
    ),
    "close": (services.po_close, "{number} is closed."),
    "cancel": (services.po_cancel, "{number} is cancelled."),
}


@write
@require_POST
def order_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """Approve, send, close or cancel; a refused action changes nothing and says why."""
    if action not in ORDER_ACTIONS:
        raise Http404(action)
    po = get_object_or_404(PurchaseOrder.objects.select_related("supplier"), pk=pk)
    service, done = ORDER_ACTIONS[action]
    error = ""
    try:
        service(po=po, user=request.user)
    except DomainError as exc:
        error = exc.message
    message = done.format(number=po.number, supplier=po.supplier.name)
    if not is_htmx(request):
        flash(request, error or message, "error" if error else "success")
        return redirect("procurement:order", pk=pk)
    context = detail_context(request, pk, error=error)
    response = render_page(request, "procurement/po_detail.html#po", context, fragments=())
    return toast(response, error or message, "error" if error else "success")


@read
def order_print(request: HttpRequest, pk: int) -> HttpResponse:
    """The order as the supplier gets it: a clean page for the printer (or a PDF)."""
    context = detail_context(request, pk)
    return render_page(request, "procurement/po_print.html", context, fragments=())


PO_PRINT_TEMPLATE = "procurement/po_print.html"


def print_context(pk: int) -> dict[str, Any]:
    """What the printed order shows (the PDF and its email too): the order and its lines."""
    try:
        po = selectors.po_detail(pk)
    except PurchaseOrder.DoesNotExist as exc:
        raise Http404(f"No purchase order {pk}") from exc
    return {"po": po, "rows": [LineRow(line, line.open_quantity) for line in po.lines.all()]}


def po_pdf(pk: int) -> tuple[PurchaseOrder, bytes]:
    """The order's PDF: its print page rendered by WeasyPrint."""
    context = print_context(pk)
    return context["po"], render_pdf(PO_PRINT_TEMPLATE, context)


def po_filename(po: PurchaseOrder) -> str:
    return f"{po.number}.pdf"


@read
def order_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    """The order as a PDF, named like PO-00042.pdf."""
    po, pdf = po_pdf(pk)
    return pdf_response(pdf, po_filename(po))


@write
def order_email(request: HttpRequest, pk: int) -> HttpResponse:
    """The "Email" form: to (the supplier's address), cc, subject, message; sends the PDF attached."""
    po = get_object_or_404(PurchaseOrder.objects.select_related("supplier"), pk=pk)
    company_name = company_profile().name
    if request.method == "POST":
        form = DocumentEmailForm(request.POST)
        if form.is_valid():
            try:
                _, pdf = po_pdf(pk)
                po_email(
                    po=po,
                    to=form.cleaned_data["to"],
                    cc=form.cleaned_data["cc"],
                    subject=form.cleaned_data["subject"],
                    message=form.cleaned_data["message"],
                    pdf=pdf,
                    filename=po_filename(po),
                    user=request.user,
                )
            except ValidationFailed as exc:
                form.add_domain_errors(exc)
            else:
                flash(request, f"{po.number} sent to {form.cleaned_data['to']} ({po_filename(po)}).")
                return redirect("procurement:order", pk=pk)
    else:
        form = DocumentEmailForm(initial=po_email_defaults(po, company_name))
    refused = ""
    if po.status in (S.DRAFT, S.CANCELLED):
        state = po.get_status_display().lower()
        refused = f"{po.number} is {state}: only an order sent to the supplier is emailed."
    context = {
        "form": form,
        "po": po,
        "attachment": po_filename(po),
        "refused": refused,
        **rights(request),
    }
    status = 422 if form.errors else 200
    return render_page(request, "procurement/po_email.html", context, fragments=(), status=status)
