"""Orders: the list, the detail page and everything done from it (actions, shipping, returns)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from erp import formatting
from erp.access import user_can
from erp.exceptions import DomainError
from erp.models import OutboxEvent
from erp.money import ZERO, round_money
from erp.ui import flash, htmx_of, is_htmx, paginate, query_with, sort_headers, toast
from inventory.models import Product
from sales import lifecycle, selectors, services
from sales.filters import OPEN, OrderFilter
from sales.forms import (
    AddLineForm,
    LineQuantitiesForm,
    PaymentForm,
    RefundForm,
    ReturnForm,
    ShipForm,
    add_domain_errors,
)
from sales.models import (
    Customer,
    Invoice,
    InvoiceKind,
    OrderStatus,
    ReturnStatus,
    SalesOrder,
    SalesReturn,
)
from sales.order_lines import money_text
from sales.views.common import can_invoice, invoicing, read, render_page, ship, write

STATUS_TABS: tuple[tuple[str, str], ...] = (
    ("", "All"),
    (OrderStatus.DRAFT, "Draft"),
    (OPEN, "Open"),
    (OrderStatus.CONFIRMED, "Confirmed"),
    (OrderStatus.PARTIALLY_SHIPPED, "Partially shipped"),
    (OrderStatus.ON_HOLD, "On hold"),
    (OrderStatus.SHIPPED, "Shipped"),
    (OrderStatus.CLOSED, "Closed"),
    (OrderStatus.CANCELLED, "Cancelled"),
)
DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


# --- the list ------------------------------------------------------------------------


def _filter_data(params: QueryDict) -> QueryDict:
    """The list's filters as OrderFilter reads them: a date-only 'until' includes that whole day."""
    data = params.copy()
    until = data.get("until", "")
    if DATE_ONLY.match(until):
        data["until"] = f"{until}T23:59:59.999999"
    return data


def _status_counts(data: QueryDict) -> dict[str, int]:
    """How many orders each tab holds under the other filters: one aggregate query."""
    others = data.copy()
    for key in ("status", "ordering", "page"):
        others.pop(key, None)
    return selectors.order_status_counts(OrderFilter(others, queryset=selectors.order_list()).qs)


@read
def order_list(request: HttpRequest) -> HttpResponse:
    data = _filter_data(request.GET)
    filterset = OrderFilter(data, queryset=selectors.order_list())
    filterset.form.fields["channel"].empty_label = "All channels"
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
    customer_id, product_id = request.GET.get("customer", ""), request.GET.get("product", "")
    customer = Customer.objects.filter(pk=customer_id).first() if customer_id.isdigit() else None
    product = Product.objects.filter(pk=product_id).first() if product_id.isdigit() else None
    headers = sort_headers(
        request.GET,
        [
            ("Number", "number", False),
            ("Date", "date", False),
            ("Customer", None, False),
            ("Channel", None, False),
            ("External ref.", None, False),
            ("Status", None, False),
            ("Total", "total", True),
        ],
        default="-date",
        descending_first=("date", "total"),
    )
    context = {
        "filter": filterset,
        "page": paginate(request, filterset.qs),
        "tabs": tabs,
        "status": status,
        "headers": headers,
        "customer": customer,
        "product": product,
        "until": request.GET.get("until", ""),
    }
    return render_page(request, "sales/order_list.html", context)


# --- the detail ----------------------------------------------------------------------

TOPIC_FACTS = (
    ("reason", "reason"),
    ("shipment_number", "shipment"),
    ("carrier", "carrier"),
    ("service", "service"),
    ("tracking_number", "tracking"),
    ("return_number", "return"),
    ("credit_note", "credit note"),
)
TOTAL_TOPICS = {"sales.order_created", "sales.order_updated", "sales.order_confirmed"}


@dataclass
class TimelineEntry:
    at: Any
    title: str
    facts: list[str] = field(default_factory=list)
    topic: str = ""


def _decimal(value: Any) -> Decimal | None:
    """A number of an event's payload (a string there), or None when it is not one."""
    try:
        return Decimal(str(value))
    except (ArithmeticError, ValueError, TypeError):
        return None


def _money(value: Any, currency: str) -> str:
    amount = _decimal(value)
    if amount is None or not currency:
        return f"{value} {currency}".strip()
    return formatting.money(round_money(amount, currency), currency)


def _qty(value: Any) -> str:
    number = _decimal(value)
    return formatting.number(number) if number is not None and number.is_finite() else str(value)


def timeline_entry(event: OutboxEvent) -> TimelineEntry:
    """An event as a person reads it: 'Shipment shipped · SH-0003 · UPS 1Z99 · 2 × TEE-M'."""
    p = event.payload or {}
    currency = p.get("currency", "")
    title = event.topic.split(".", 1)[-1].replace("_", " ").capitalize()
    facts: list[str] = []
    invoice = p.get("invoice")
    if isinstance(invoice, dict):
        kind = "credit note" if invoice.get("kind") == InvoiceKind.CREDIT_NOTE else "invoice"
        facts.append(f"{kind} {invoice.get('number') or 'draft'}")
        facts.append(_money(invoice.get("total", 0), currency))
    payment = p.get("payment")
    if isinstance(payment, dict):
        facts.append(f"paid {_money(payment.get('amount', 0), currency)}")
        facts.extend(v for v in (payment.get("method"), payment.get("reference")) if v)
    for key, label in TOPIC_FACTS:
        if p.get(key):
            facts.append(f"{label} {p[key]}")
    if p.get("credit_total"):
        facts.append(_money(p["credit_total"], currency))
    lines = p.get("lines")
    if isinstance(lines, list):
        shown = [
            f"{_qty(ln.get('quantity'))} × {ln.get('sku')}"
            + (f" ({_qty(ln['backordered'])} backordered)" if _decimal(ln.get("backordered") or 0) else "")
            for ln in lines[:6]
            if isinstance(ln, dict)
        ]
        facts.extend(shown)
        if len(lines) > 6:
            facts.append(f"+{len(lines) - 6} more")
    elif isinstance(lines, int):
        facts.append(f"{lines} line{'s' if lines != 1 else ''}")
    if event.topic in TOTAL_TOPICS and "total" in p:
        facts.append(f"total {_money(p['total'], currency)}")
    return TimelineEntry(at=event.created_at, title=title, facts=facts, topic=event.topic)


def detail_context(
    pk: int,
    *,
    panel: str = "",
    panel_form: Any = None,
    error: str = "",
    pay_forms: dict[int, PaymentForm] | None = None,
    refund_forms: dict[int, RefundForm] | None = None,
) -> dict[str, Any]:
    """All the order page shows, at a constant number of queries whatever the number of lines."""
    try:
        order = selectors.order_detail(pk)
    except SalesOrder.DoesNotExist:
        raise Http404(f"No order {pk}") from None
    lines = list(order.lines.all())
    figures = selectors.order_figures(order)
    reserved = figures.reserved
    invoices = list(order.invoices.all())
    by_id = {inv.pk: inv for inv in invoices}
    returns = list(order.returns.all())
    pending: dict[int, Decimal] = {}
    for ret in returns:
        if ret.status == ReturnStatus.OPEN:
            for rl in ret.lines.all():
                pending[rl.order_line_id] = pending.get(rl.order_line_id, ZERO) + rl.quantity
    line_rows = [
        {
            "line": ln,
            "reserved": reserved.get(ln.pk, ZERO),
            "backordered": figures.backordered[ln.pk],
            "taxes": list(ln.taxes.all()),
            "pending_return": pending.get(ln.pk, ZERO),
        }
        for ln in lines
    ]
    payments = sorted(
        (p for inv in invoices for p in inv.payments.all()), key=lambda p: (p.paid_at, p.pk), reverse=True
    )
    pay_forms = pay_forms or {}
    refund_forms = refund_forms or {}
    invoice_rows = [
        {
            "invoice": inv,
            "pay_form": pay_forms.get(inv.pk)
            or (
                PaymentForm(prefix=f"pay{inv.pk}", initial={"amount": money_text(inv.balance)})
                if inv.kind == InvoiceKind.INVOICE and inv.status in selectors.OPEN_INVOICE
                else None
            ),
        }
        for inv in invoices
    ]
    return_rows = []
    for ret in returns:
        note = by_id.get(ret.credit_note_id) if ret.credit_note_id else None
        refundable = note.total - note.amount_paid if note is not None else ZERO
        return_rows.append(
            {
                "ret": ret,
                "credit_note": note,
                "refundable": refundable,
                "refund_form": refund_forms.get(ret.pk)
                or (RefundForm(prefix=f"refund{ret.pk}") if refundable > 0 else None),
            }
        )
    if panel == "ship" and panel_form is None:
        panel_form = ShipForm(lines=lines, reserved=reserved)
    if panel == "return" and panel_form is None:
        panel_form = ReturnForm(lines=lines, pending=pending)
    add_form = grow_form = None
    if panel == "lines":  # both forms of the panel; the one posted keeps what was typed
        add_form = panel_form if isinstance(panel_form, AddLineForm) else AddLineForm(lines=lines)
        grow_form = (
            panel_form if isinstance(panel_form, LineQuantitiesForm) else LineQuantitiesForm(lines=lines)
        )
    lines_tax = sum((ln.tax_amount for ln in lines), ZERO)
    return {
        "order": order,
        "lines": line_rows,
        "shipping_net": order.shipping_total - (order.tax_total - lines_tax),
        "actions": list(figures.actions),
        "editable": order.status in lifecycle.EDITABLE_STATUSES,
        "can_return": any(
            ln.quantity_shipped - ln.quantity_returned - pending.get(ln.pk, ZERO) > 0 for ln in lines
        ),
        "shipments": list(order.shipments.all()),
        "invoices": invoice_rows,
        "payments": payments,
        "returns": return_rows,
        "invoiced": figures.invoiced,
        "paid": figures.paid,
        "balance": figures.balance,
        "panel": panel,
        "panel_form": panel_form,
        "add_form": add_form,
        "grow_form": grow_form,
        "error": error,
    }


@read
def order_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return render_page(request, "sales/order_detail.html", detail_context(pk), fragments=("order",))


def answer(
    request: HttpRequest,
    pk: int,
    *,
    message: str = "",
    error: str = "",
    **context: Any,
) -> HttpResponse:
    """After a write on the order page: htmx gets the refreshed order and a toast; a plain POST a
    redirect, or the page again when a form has errors (shown in the form, nothing was changed)."""
    forms_with_errors = [
        form
        for form in (
            context.get("panel_form"),
            *(context.get("pay_forms") or {}).values(),
            *(context.get("refund_forms") or {}).values(),
        )
        if form is not None
    ]
    if forms_with_errors:
        first = forms_with_errors[0]
        problems = first.non_field_errors()
        error = problems[0] if problems else "Please correct the marked fields; nothing was changed."
        ctx = detail_context(pk, **context)
        if is_htmx(request):
            response = render_page(request, "sales/order_detail.html#order", ctx, fragments=())
            return toast(response, error, "error")
        return render_page(request, "sales/order_detail.html", ctx, fragments=())
    if is_htmx(request):
        ctx = detail_context(pk, error=error, **context)
        response = render_page(request, "sales/order_detail.html#order", ctx, fragments=())
        return toast(response, error or message, "error" if error else "success")
    flash(request, error or message, "error" if error else "success")
    return redirect("sales:order", pk=pk)


ORDER_ACTIONS: dict[str, tuple[Callable[..., Any], str]] = {
    "confirm": (services.order_confirm, "{number} confirmed: stock is reserved."),
    "hold": (services.order_hold, "{number} is on hold."),
    "release": (services.order_release, "{number} is released."),
    "close": (services.order_close, "{number} is closed."),
    "cancel": (services.order_cancel, "{number} is cancelled; its reservations are released."),
    "invoice": (
        services.invoice_create,
        "Draft invoice for {number}: {total}. Issue it to give it a number.",
    ),
}


def _reason(request: HttpRequest) -> str:
    prompt = htmx_of(request).prompt
    return (prompt or request.POST.get("reason", "")).strip()


@read
@require_POST
def order_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    # Invoicing an order is the accountant's as well as the seller's (docs/roles.md); the rest is sales:write.
    allowed = can_invoice(request.user) if action == "invoice" else user_can(request.user, "sales", "write")
    if not allowed:
        missing = "Sales (write) or invoicing" if action == "invoice" else "Sales (write)"
        return render(request, "403.html", {"missing": missing}, status=403)
    order = get_object_or_404(SalesOrder, pk=pk)
    service, done = ORDER_ACTIONS[action]
    kwargs: dict[str, Any] = {"order": order, "user": request.user}
    if action in ("hold", "cancel"):
        kwargs["reason"] = _reason(request)
    try:
        result = service(**kwargs)
    except DomainError as exc:
        return answer(request, pk, error=exc.message)
    total = _money(result.total, result.currency) if isinstance(result, Invoice) else ""
    if action == "confirm":
        backordered = _backordered_count(order)
        if backordered:
            done = f"{{number}} confirmed; {backordered} line{'s' if backordered > 1 else ''} backordered."
    return answer(request, pk, message=done.format(number=order.number, total=total))


def _backordered_count(order: SalesOrder) -> int:
    return selectors.order_figures(selectors.order_detail(order.pk)).backordered_lines()


@write
def order_lines(request: HttpRequest, pk: int) -> HttpResponse:
    """More for a confirmed order (``services.order_lines_extend``): a line added (``op=add``: product,
    quantity, price, tax %) or higher quantities of its lines (``op=grow``); stock is reserved for
    them, what is missing is backordered. GET: the order page with the panel of both."""
    if request.method != "POST":
        return render_page(
            request, "sales/order_detail.html", detail_context(pk, panel="lines"), fragments=("order",)
        )
    order = get_object_or_404(SalesOrder, pk=pk)
    lines = list(order.lines.select_related("product__stock_unit").prefetch_related("taxes"))
    form: AddLineForm | LineQuantitiesForm
    if request.POST.get("op") == "grow":
        form = LineQuantitiesForm(request.POST, lines=lines)
        if form.is_valid():
            grow = form.quantities()
            if not grow:
                form.add_error(None, "Enter a higher quantity on at least one line.")
            else:
                try:
                    services.order_lines_extend(order=order, grow=grow, user=request.user)
                except DomainError as exc:
                    form.add_service_errors(exc)
                else:
                    count = len(grow)
                    message = f"{order.number}: {count} line{'s' if count > 1 else ''} raised"
                    backordered = _backordered_count(order)
                    if backordered:
                        message += f"; {backordered} line{'s' if backordered > 1 else ''} backordered"
                    return answer(request, pk, message=f"{message}.")
    else:
        form = AddLineForm(request.POST, lines=lines)
        if form.is_valid():
            spec = form.spec()
            try:
                services.order_lines_extend(order=order, add=[spec], user=request.user)
            except DomainError as exc:
                form.add_service_errors(exc)
            else:
                detail = selectors.order_detail(pk)
                figures = selectors.order_figures(detail)
                added = max(detail.lines.all(), key=lambda ln: ln.position)
                message = f"{formatting.number(added.quantity)} × {added.product.sku} added to {order.number}"
                if figures.backordered[added.pk]:
                    message += f"; {formatting.number(figures.backordered[added.pk])} backordered"
                return answer(request, pk, message=f"{message}.")
    return answer(request, pk, panel="lines", panel_form=form)


@ship
def order_ship(request: HttpRequest, pk: int) -> HttpResponse:
    """The ship dialog: quantities per line (default: what is reserved), carrier, service, tracking."""
    if request.method != "POST":
        return render_page(
            request, "sales/order_detail.html", detail_context(pk, panel="ship"), fragments=("order",)
        )
    order = get_object_or_404(SalesOrder, pk=pk)
    lines = list(order.lines.select_related("product__stock_unit"))
    form = ShipForm(request.POST, lines=lines, reserved=selectors.reserved_by_line([ln.pk for ln in lines]))
    if form.is_valid():
        chosen = form.quantities()
        if not chosen:
            form.add_error(None, "Enter a quantity to ship on at least one line.")
        else:
            try:
                shipment = services.shipment_create(
                    order=order,
                    lines=[services.ShipLine(line, qty) for line, qty in chosen],
                    carrier=form.cleaned_data["carrier"],
                    service=form.cleaned_data["service"],
                    tracking_number=form.cleaned_data["tracking_number"],
                    user=request.user,
                )
            except DomainError as exc:
                _ship_errors(form, exc)
            else:
                return answer(request, pk, message=f"{shipment.number} shipped for {order.number}.")
    return answer(request, pk, panel="ship", panel_form=form)


def _ship_errors(form: ShipForm, error: DomainError) -> None:
    """'line <position>' errors of the service go next to that line's quantity."""
    by_position = {f"line {row['line'].position}": f"qty_{row['line'].pk}" for row in form.rows}
    placed = False
    for key, problems in error.field_errors.items():
        if key in by_position:
            for problem in problems:
                form.add_error(by_position[key], problem)
            placed = True
    if not placed:
        form.add_error(None, error.message)


@write
def return_create(request: HttpRequest, pk: int) -> HttpResponse:
    """Announce a return of shipped quantities: per line a quantity, restock or scrap, a reason."""
    if request.method != "POST":
        return render_page(
            request, "sales/order_detail.html", detail_context(pk, panel="return"), fragments=("order",)
        )
    order = get_object_or_404(SalesOrder, pk=pk)
    lines = list(order.lines.select_related("product__stock_unit"))
    pending: dict[int, Decimal] = {}
    for ret in order.returns.filter(status=ReturnStatus.OPEN).prefetch_related("lines"):
        for rl in ret.lines.all():
            pending[rl.order_line_id] = pending.get(rl.order_line_id, ZERO) + rl.quantity
    form = ReturnForm(request.POST, lines=lines, pending=pending)
    if form.is_valid():
        chosen = form.chosen()
        if not chosen:
            form.add_error(None, "Enter a quantity to return on at least one line.")
        else:
            try:
                sales_return = services.return_create(
                    order=order,
                    lines=[
                        services.ReturnLineSpec(line, qty, disposition, reason)
                        for line, qty, disposition, reason in chosen
                    ],
                    reason=form.cleaned_data["reason"],
                    user=request.user,
                )
            except DomainError as exc:
                add_domain_errors(form, exc)
            else:
                return answer(
                    request,
                    pk,
                    message=f"Return {sales_return.number} announced. Receive it when the goods are back.",
                )
    return answer(request, pk, panel="return", panel_form=form)


@write
@require_POST
def return_receive(request: HttpRequest, pk: int) -> HttpResponse:
    sales_return = get_object_or_404(SalesReturn, pk=pk)
    try:
        received = services.return_receive(sales_return=sales_return, user=request.user)
    except DomainError as exc:
        return answer(request, sales_return.order_id, error=exc.message)
    note = received.credit_note
    return answer(
        request,
        sales_return.order_id,
        message=f"{received.number} received; credit note {note.number if note else ''} issued.",
    )


@invoicing
@require_POST
def return_refund(request: HttpRequest, pk: int) -> HttpResponse:
    sales_return = get_object_or_404(SalesReturn, pk=pk)
    form = RefundForm(request.POST, prefix=f"refund{pk}")
    if form.is_valid():
        try:
            refund = services.refund_record(
                sales_return=sales_return,
                amount=form.cleaned_data["amount"],
                method=form.cleaned_data["method"],
                reference=form.cleaned_data["reference"],
                user=request.user,
            )
        except DomainError as exc:
            add_domain_errors(form, exc)
        else:
            return answer(
                request,
                sales_return.order_id,
                message=f"Refund of {formatting.money(refund.amount, refund.credit_note.currency)} recorded.",
            )
    return answer(request, sales_return.order_id, refund_forms={pk: form})


def order_url(order_id: int) -> str:
    return reverse("sales:order", args=[order_id])
