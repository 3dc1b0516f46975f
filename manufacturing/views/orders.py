"""Manufacturing orders: the list with status tabs, the create form, the detail with its actions."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import DecimalField
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.views.decorators.http import require_POST

from erp import formatting
from erp.exceptions import DomainError
from erp.money import ZERO, quantize_money
from erp.ui import flash, is_htmx, paginate, qty, query_with, sort_headers, toast
from inventory import availability
from inventory.models import Tracking
from inventory.selectors import warehouse_choices
from manufacturing import lifecycle, selectors, services
from manufacturing.filters import ManufacturingOrderFilter
from manufacturing.forms import ManufacturingOrderForm, ProduceForm, default_warehouse_id
from manufacturing.models import ManufacturingOrder, MOComponent, MOStatus
from manufacturing.views.common import can_write, product_url, read, render_page, write

S = MOStatus
OPEN = selectors.OPEN
STATUS_TABS: tuple[tuple[str, str], ...] = (
    ("", "All"),
    (OPEN, "Open"),
    (S.DRAFT, "Draft"),
    (S.CONFIRMED, "Confirmed"),
    (S.IN_PROGRESS, "In progress"),
    (S.DONE, "Done"),
    (S.CANCELLED, "Cancelled"),
)
STATUS_BADGE: dict[str, str] = {
    S.DRAFT: "",
    S.CONFIRMED: "info",
    S.IN_PROGRESS: "warn",
    S.DONE: "ok",
    S.CANCELLED: "bad",
}
QTY: DecimalField[Any, Any] = DecimalField(max_digits=18, decimal_places=4)


# --- the list ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OrderRow:
    mo: ManufacturingOrder
    badge: str
    late: bool
    short: bool


def _status_counts(params: QueryDict) -> dict[str, int]:
    """How many orders each tab holds under the other filters: one aggregate query."""
    others = params.copy()
    for key in ("status", "ordering", "page", "short"):
        others.pop(key, None)
    return selectors.order_status_counts(ManufacturingOrderFilter(others, queryset=selectors.mo_list()).qs)


@read
def order_list(request: HttpRequest) -> HttpResponse:
    params = request.GET
    filterset = ManufacturingOrderFilter(params, queryset=selectors.with_shortage(selectors.mo_list()))
    short_only = params.get("short") == "1"
    if filterset.is_valid():
        qs = filterset.qs.filter(short=True) if short_only else filterset.qs
    else:
        qs = ManufacturingOrder.objects.none()
    counts = _status_counts(params)
    status = params.get("status", "")
    tabs = [
        {
            "label": label,
            "count": counts[key or "all"],
            "url": query_with(params, status=key or None),
            "current": key == status,
        }
        for key, label in STATUS_TABS
    ]
    headers = sort_headers(
        params,
        [
            ("Number", "number", False),
            ("Product", None, False),
            ("Warehouse", None, False),
            ("Quantity", "quantity", True),
            ("Produced", None, True),
            ("Start", "start", False),
            ("Finish", None, False),
            ("Status", None, False),
            ("Cost so far", None, True),
        ],
        default="-start",
    )
    page = paginate(request, qs)
    today = timezone.localdate()
    rows = [
        OrderRow(
            mo,
            STATUS_BADGE.get(mo.status, ""),
            mo.status in lifecycle.OPEN_STATUSES and mo.planned_finish < today,
            bool(getattr(mo, "short", False)) and mo.status in (S.CONFIRMED, S.IN_PROGRESS),
        )
        for mo in page.object_list
    ]
    context = {
        "filter": filterset,
        "page": page,
        "rows": rows,
        "tabs": tabs,
        "status": status,
        "headers": headers,
        "short_only": short_only,
        "warehouses": warehouse_choices(),
        "warehouse_id": params.get("warehouse", ""),
    }
    return render_page(request, "manufacturing/mo_list.html", context)


# --- create --------------------------------------------------------------------------------------


@write
def order_create(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        form = ManufacturingOrderForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                mo = services.mo_create(
                    product=data["product"],
                    quantity=data["quantity"],
                    warehouse=data["warehouse"],
                    planned_start=data["planned_start"],
                    planned_finish=data["planned_finish"],
                    notes=data["notes"],
                    user=request.user,
                )
            except DomainError as exc:
                for key, texts in exc.field_errors.items():
                    form.add_error(key if key in form.fields else None, texts)
                if not exc.field_errors:
                    form.add_error(None, exc.message)
            else:
                flash(request, f"{mo.number} is created as a draft: confirm it to reserve the components.")
                return redirect("manufacturing:order", pk=mo.pk)
        status = 422
    else:
        initial: dict[str, Any] = {k: request.GET[k] for k in ("product", "quantity") if request.GET.get(k)}
        warehouse_id = default_warehouse_id(request.user)  # never blank (issue #21)
        if warehouse_id is not None:
            initial["warehouse"] = warehouse_id
        form = ManufacturingOrderForm(initial=initial)
        status = 200
    return render_page(request, "manufacturing/mo_form.html", {"form": form}, fragments=(), status=status)


# --- the detail ----------------------------------------------------------------------------------


@dataclass
class ComponentLine:
    line: MOComponent
    reserved: Decimal
    available: Decimal  # in the order's warehouse, held by nobody
    is_open: bool

    @property
    def remaining(self) -> Decimal:
        return self.line.quantity_required - self.line.quantity_consumed

    @property
    def shortage(self) -> Decimal:
        """What is neither held for this order nor free in the warehouse."""
        if not self.is_open:
            return ZERO
        return max(ZERO, self.remaining - self.reserved - max(self.available, ZERO))

    @property
    def url(self) -> str:
        return product_url(self.line.product_id)


@dataclass(frozen=True)
class Action:
    key: str
    label: str
    confirm: str
    primary: bool = False
    danger: bool = False


ACTION_LABELS: dict[str, tuple[str, str, bool, bool]] = {
    # key: (label, confirmation, primary, danger)
    "confirm": ("Confirm", "Confirm {number}? Its components are reserved in {warehouse}.", True, False),
    "start": ("Start", "Start {number}?", True, False),
    "finish": (
        "Finish",
        "Finish {number} with {produced} of {quantity} made? Components not used are released.",
        False,
        False,
    ),
    "cancel": ("Cancel order", "Cancel {number}? Its reservations are released.", False, True),
}


def detail_context(request: HttpRequest, pk: int, **extra: Any) -> dict[str, Any]:
    try:
        mo = selectors.mo_detail(pk)
    except ManufacturingOrder.DoesNotExist as exc:
        raise Http404(f"No manufacturing order {pk}") from exc
    lines = list(mo.components.all())
    reserved = selectors.reserved_by_component([line.pk for line in lines])
    stock = availability.by_warehouse([line.product_id for line in lines], mo.warehouse_id)
    is_open = mo.status in lifecycle.OPEN_STATUSES
    rows = [
        ComponentLine(
            line,
            reserved.get(line.pk, ZERO),
            stock.get((line.product_id, mo.warehouse_id), availability.Availability()).available,
            is_open,
        )
        for line in lines
    ]
    allowed = lifecycle.allowed_actions(mo.status) if can_write(request) else []
    words = {
        "number": mo.number,
        "warehouse": mo.warehouse.code,
        "produced": formatting.number(mo.quantity_produced),
        "quantity": formatting.number(mo.quantity),
    }
    actions = [
        Action(key, label, confirm.format(**words), primary, danger)
        for key in allowed
        if key in ACTION_LABELS
        for label, confirm, primary, danger in [ACTION_LABELS[key]]
    ]
    if "finish" in allowed and mo.quantity_produced >= mo.quantity:
        actions = [
            Action(a.key, a.label, a.confirm, True, a.danger) if a.key == "finish" else a for a in actions
        ]
    remaining = mo.quantity - mo.quantity_produced
    produce_form = extra.pop("produce_form", None) or ProduceForm(initial={"quantity": qty(remaining)})
    today = timezone.localdate()
    return {
        "mo": mo,
        "badge": STATUS_BADGE.get(mo.status, ""),
        "rows": rows,
        "operations": list(mo.bom.operations.select_related("work_centre")),
        "short_rows": [r for r in rows if r.shortage > 0],
        "actions": actions,
        "can_produce": "produce" in allowed,
        "produce_form": produce_form,
        "remaining": remaining,
        "tracking": mo.product.tracking,
        "unit_cost": quantize_money(mo.produced_cost / mo.quantity_produced)
        if mo.quantity_produced
        else None,
        "progress": int(mo.quantity_produced * 100 / mo.quantity) if mo.quantity else 0,
        "late": is_open and mo.planned_finish < today,
        "product_url": product_url(mo.product_id),
        "error": "",
        "shortages": None,
        **extra,
    }


@read
def order_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return render_page(
        request, "manufacturing/mo_detail.html", detail_context(request, pk), fragments=("mo",)
    )


def _answer(request: HttpRequest, pk: int, message: str, level: str, **extra: Any) -> HttpResponse:
    """The refreshed detail (htmx) with a toast, or a redirect with the message."""
    if not is_htmx(request):
        flash(request, message, level)
        return redirect("manufacturing:order", pk=pk)
    context = detail_context(request, pk, **extra)
    response = render_page(request, "manufacturing/mo_detail.html#mo", context, fragments=())
    return toast(response, message, level, events={"mo-changed": {"id": pk}})


def _confirm(mo: ManufacturingOrder, user: Any) -> tuple[str, str, dict[str, Any]]:
    mo, shortages = services.mo_confirm(mo=mo, user=user)
    if shortages:
        short = ", ".join(f"{sku} {formatting.number(q)}" for sku, q in shortages.items())
        return f"{mo.number} is confirmed, but short of {short}.", "warning", {"shortages": shortages}
    return f"{mo.number} is confirmed: every component is reserved.", "success", {"shortages": {}}


SIMPLE_ACTIONS: dict[str, tuple[Callable[..., ManufacturingOrder], str]] = {
    "start": (services.mo_start, "{number} is started."),
    "finish": (services.mo_finish, "{number} is done: {produced} made."),
    "cancel": (services.mo_cancel, "{number} is cancelled; its reservations are released."),
}


@write
@require_POST
def order_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """Confirm, start, finish or cancel; a refused action changes nothing and says why."""
    if action not in ("confirm", *SIMPLE_ACTIONS):
        raise Http404(action)
    mo = get_object_or_404(ManufacturingOrder, pk=pk)
    try:
        if action == "confirm":
            message, level, extra = _confirm(mo, request.user)
        else:
            service, done = SIMPLE_ACTIONS[action]
            kwargs: dict[str, Any] = {"reason": request.POST.get("reason", "")} if action == "cancel" else {}
            mo = service(mo=mo, user=request.user, **kwargs)
            message, level, extra = (
                done.format(number=mo.number, produced=formatting.number(mo.quantity_produced)),
                "success",
                {},
            )
    except DomainError as exc:
        return _answer(request, pk, exc.message, "error", error=exc.message)
    return _answer(request, pk, message, level, **extra)


@write
@require_POST
def order_produce(request: HttpRequest, pk: int) -> HttpResponse:
    """Produce a quantity (with its lot or serial numbers when the output is tracked)."""
    mo = get_object_or_404(ManufacturingOrder.objects.select_related("product"), pk=pk)
    form = ProduceForm(request.POST)
    if not form.is_valid():
        return _answer(
            request, pk, "Nothing was produced: see the marked fields.", "error", produce_form=form
        )
    data = form.cleaned_data
    try:
        mo = services.mo_produce(
            mo=mo,
            quantity=data["quantity"],
            lot_code=data["lot_code"] if mo.product.tracking == Tracking.LOT else "",
            serials=data["serials"] if mo.product.tracking == Tracking.SERIAL else (),
            user=request.user,
        )
    except DomainError as exc:
        for key, texts in exc.field_errors.items():
            form.add_error(key if key in form.fields else None, texts)
        return _answer(request, pk, exc.message, "error", error=exc.message, produce_form=form)
    left = mo.quantity - mo.quantity_produced
    message = (
        f"{formatting.number(data['quantity'])} {mo.product.sku} made: "
        f"{formatting.number(mo.quantity_produced)} of {formatting.number(mo.quantity)}."
    )
    message += f" {formatting.number(left)} to go." if left > 0 else " All made: finish the order."
    return _answer(request, pk, message, "success")
