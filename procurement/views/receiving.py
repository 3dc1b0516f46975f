"""The receiving screen: a warehouse worker with a barcode scanner receives a purchase order.

Scan (or type) the order number: its open lines appear. Scan the items: each scan
adds one purchase unit to its line, or the right fraction of one when the scanned
unit differs (a single piece on a line ordered in boxes of 12 adds 1/12; a box
barcode on a line ordered in pieces adds 12). Lot-tracked lines take a lot and an
expiry, serial-tracked ones a serial number per piece (scan them). A bin barcode
sets where the goods go (the warehouse's default bin otherwise). Done receives
everything at once through ``procurement.services.receipt_create``.

The unfinished work lives in the form (hidden inputs), not on the server: every
request carries it and gets it back, and the URL is replaced with it, so a
reload (or a lost connection) loses nothing. Quantities are kept in stock units
(exact), shown and edited in purchase units.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from django.db.models import Q
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.dateparse import parse_date

from erp import formatting
from erp.exceptions import DomainError
from erp.money import ZERO, quantize_quantity
from erp.ui import flash, int_or_none, is_htmx, parse_decimal, qty, toast
from inventory.models import Location, LocationKind, Tracking
from inventory.selectors import location_list, product_by_code
from inventory.services import warehouse_default_location
from procurement import lifecycle, selectors, services
from procurement.models import PurchaseOrder, PurchaseOrderLine, Receipt
from procurement.views.common import receive_required, render_page

OPEN_LIST_SIZE = 30


@dataclass
class Message:
    text: str
    level: str = "ok"  # ok | bad | info


@dataclass
class ReceiveRow:
    """One line of the order on the screen, with what is being received now."""

    line: PurchaseOrderLine
    stock_now: Decimal = ZERO  # receiving now, in stock units (exact)
    lot: str = ""
    expiry: str = ""
    serials: list[str] = field(default_factory=list)

    @property
    def pk(self) -> int:
        return int(self.line.pk)

    @property
    def now(self) -> Decimal:
        """Receiving now, in purchase units."""
        return self.stock_now / self.line.factor

    @property
    def stock_text(self) -> str:
        return qty(self.stock_now)

    @property
    def now_text(self) -> str:
        return qty(self.now)

    @property
    def exact(self) -> bool:
        """Whether the purchase-unit quantity can be recorded exactly (4 decimals)."""
        return quantize_quantity(self.now) * self.line.factor == self.stock_now

    @property
    def open(self) -> Decimal:
        return self.line.open_quantity

    @property
    def over(self) -> bool:
        return self.line.quantity_received + self.now > self.line.quantity

    @property
    def converts(self) -> bool:
        return self.line.factor != 1 or self.line.purchase_unit_id != self.line.product.stock_unit_id

    @property
    def tracking(self) -> str:
        return str(self.line.product.tracking)

    @property
    def serials_missing(self) -> int:
        if self.tracking != Tracking.SERIAL:
            return 0
        return max(int(self.stock_now) - len(self.serials), 0)

    @property
    def serials_text(self) -> str:
        return "\n".join(self.serials)


@dataclass
class State:
    po: PurchaseOrder | None = None
    bin: Location | None = None
    rows: list[ReceiveRow] = field(default_factory=list)
    last: int | None = None

    def row(self, pk: int | None) -> ReceiveRow | None:
        return next((r for r in self.rows if r.pk == pk), None)

    @property
    def busy(self) -> bool:
        return any(r.stock_now for r in self.rows)

    def query(self) -> dict[str, str]:
        """The state as URL parameters (what a reload needs)."""
        params: dict[str, str] = {}
        if self.po is None:
            return params
        params["po"] = str(self.po.pk)
        if self.bin is not None:
            params["bin"] = str(self.bin.pk)
        for r in self.rows:
            if r.stock_now:
                params[f"stk-{r.pk}"] = qty(r.stock_now)
            if r.lot:
                params[f"lot-{r.pk}"] = r.lot
            if r.expiry:
                params[f"exp-{r.pk}"] = r.expiry
            if r.serials:
                params[f"ser-{r.pk}"] = "\n".join(r.serials)
        if self.last:
            params["last"] = str(self.last)
        return params


def _order(pk: int | None) -> PurchaseOrder | None:
    if not pk:
        return None
    try:
        return selectors.po_detail(pk)
    except PurchaseOrder.DoesNotExist:
        return None


def _bin(po: PurchaseOrder, pk: int | None) -> Location | None:
    if pk:
        found = (
            location_list(warehouse_id=po.warehouse_id)
            .filter(pk=pk, kind=LocationKind.INTERNAL, is_active=True)
            .first()
        )
        if found is not None:
            return found
    try:
        return warehouse_default_location(po.warehouse)
    except DomainError:
        return None


def _serials(text: str) -> list[str]:
    seen: list[str] = []
    for part in text.replace(",", "\n").splitlines():
        code = part.strip()
        if code and code not in seen:
            seen.append(code)
    return seen


def load_state(data: QueryDict) -> tuple[State, Message | None]:
    """The state a request carries; typed quantities (``qty-N``) win over the kept ones (``stk-N``)."""
    po = _order(int_or_none(data.get("po")))
    if po is None:
        return State(), None
    state = State(po=po, bin=_bin(po, int_or_none(data.get("bin"))), last=int_or_none(data.get("last")))
    problem: Message | None = None
    for line in po.lines.all():
        row = ReceiveRow(
            line=line,
            stock_now=parse_decimal(data.get(f"stk-{line.pk}")) or ZERO,
            lot=data.get(f"lot-{line.pk}", "").strip(),
            expiry=data.get(f"exp-{line.pk}", "").strip(),
            serials=_serials(data.get(f"ser-{line.pk}", "")),
        )
        typed = data.get(f"qty-{line.pk}")
        if typed is not None and typed.strip() != row.now_text:
            value = parse_decimal(typed) if typed.strip() else ZERO
            if value is None or value < 0:
                problem = Message(f"“{typed}” is not a quantity ({line.product.sku}).", "bad")
            else:
                row.stock_now = value * line.factor
                state.last = line.pk
        state.rows.append(row)
    return state, problem


def _line_for(state: State, product_id: int) -> ReceiveRow | None:
    """The order's line of this product: the first with something still open, else the first."""
    rows = [r for r in state.rows if r.line.product_id == product_id]
    return next((r for r in rows if r.open > r.now), rows[0] if rows else None)


def _unit_text(row: ReceiveRow, quantity: Decimal) -> str:
    return formatting.quantity(quantity, row.line.purchase_unit.code)


def scan(state: State, code: str) -> tuple[State, Message]:
    """What a scanned code means on this screen, in order: an order number, an item, a bin, a serial."""
    code = code.strip()
    if not code:
        return state, Message("Scan the purchase order number, then the items.", "info")
    po = selectors.po_by_number(code)
    if po is not None:
        return _scan_order(state, po)
    if state.po is None:
        if product_by_code(code) is not None:
            return state, Message(f"“{code}” is an item: scan the purchase order number first.", "bad")
        return state, Message(f"Unknown code “{code}”: no purchase order has this number.", "bad")
    found = product_by_code(code)
    if found is not None:
        product, barcode = found
        row = _line_for(state, product.pk)
        if row is None:
            return state, Message(f"{product.sku} · {product.name} is not on {state.po.number}.", "bad")
        scanned_stock = (
            barcode.unit.factor if barcode is not None and barcode.unit is not None else Decimal(1)
        )
        row.stock_now += scanned_stock
        state.last = row.pk
        added = scanned_stock / row.line.factor
        stock_unit = row.line.product.stock_unit.code
        box = (
            f" (a {barcode.unit.unit.code} of {formatting.quantity(scanned_stock, stock_unit)})"
            if barcode and barcode.unit
            else ""
        )
        text = (
            f"+{_unit_text(row, added)}{box} {product.sku} · {product.name} → {_unit_text(row, row.now)} now"
        )
        if row.tracking == Tracking.SERIAL:
            text += f". Scan its serial number{'s' if row.serials_missing > 1 else ''}."
        elif row.tracking == Tracking.LOT and not row.lot:
            text += ". Type its lot (and expiry)."
        if row.over:
            return state, Message(
                text + f" More than the {_unit_text(row, row.line.quantity)} ordered.", "bad"
            )
        return state, Message(text)
    location = (
        location_list(warehouse_id=state.po.warehouse_id)
        .filter(Q(barcode=code) | Q(path__iexact=code), is_active=True)
        .first()
    )
    if location is not None:
        if location.kind != LocationKind.INTERNAL:
            return state, Message(f"{location.path} is a zone: scan one of its bins.", "bad")
        state.bin = location
        return state, Message(f"The goods go to {location.path}.")
    pending = [r for r in state.rows if r.serials_missing]
    pending.sort(key=lambda r: r.pk != state.last)
    if pending:
        row = pending[0]
        if any(code in r.serials for r in state.rows if r.line.product_id == row.line.product_id):
            return state, Message(f"Serial {code} is scanned already.", "bad")
        row.serials.append(code)
        state.last = row.pk
        left = row.serials_missing
        more = f" {left} more to scan." if left else " All serials scanned."
        return state, Message(f"Serial {code} for {row.line.product.sku}.{more}")
    return state, Message(
        f"Unknown code “{code}”: no item of {state.po.number}, bin of {state.po.warehouse.code} "
        "or purchase order has it.",
        "bad",
    )


def _scan_order(state: State, po: PurchaseOrder) -> tuple[State, Message]:
    if state.po is not None and state.po.pk == po.pk:
        return state, Message(f"{po.number} is open already: scan the items.", "info")
    if state.busy and state.po is not None:
        return state, Message(
            f"{state.po.number} has items scanned: press Done (or Clear) before {po.number}.", "bad"
        )
    if po.status not in lifecycle.OPEN_STATUSES:
        return state, Message(
            f"{po.number} is {po.get_status_display().lower()}: only sent orders are received.", "bad"
        )
    fresh, _ = load_state(QueryDict(f"po={po.pk}"))
    return fresh, _opened(fresh)


def _opened(state: State, level: str = "ok") -> Message:
    assert state.po is not None
    open_lines = sum(1 for r in state.rows if r.open > 0)
    plural = "s" if open_lines != 1 else ""
    return Message(
        f"{state.po.number} from {state.po.supplier.name}: {open_lines} open line{plural}. Scan the items.",
        level,
    )


def done(state: State, user: Any) -> tuple[State, Message, Receipt | None]:
    if state.po is None:
        return state, Message("Scan a purchase order number first.", "bad"), None
    chosen = [r for r in state.rows if r.stock_now > 0]
    if not chosen:
        return state, Message("Nothing scanned yet.", "bad"), None
    for r in chosen:
        if not r.exact:
            scanned = formatting.quantity(r.stock_now, r.line.product.stock_unit.code)
            return (
                state,
                Message(
                    f"{r.line.product.sku}: {scanned} is not a quantity of {r.line.purchase_unit.code} "
                    f"(×{formatting.number(r.line.factor)}) that can be recorded "
                    "exactly: receive whole units, or halves, quarters...",
                    "bad",
                ),
                None,
            )
    try:
        lines = [
            services.ReceiveLine(
                line=r.line,
                quantity=quantize_quantity(r.now),
                lot_code=r.lot if r.tracking == Tracking.LOT else "",
                expiry_date=parse_date(r.expiry) if r.expiry and r.tracking == Tracking.LOT else None,
                serials=tuple(r.serials) if r.tracking == Tracking.SERIAL else (),
            )
            for r in chosen
        ]
        receipt = services.receipt_create(po=state.po, lines=lines, location=state.bin, user=user)
    except (DomainError, ValueError) as exc:
        return state, Message(getattr(exc, "message", str(exc)), "bad"), None
    po = PurchaseOrder.objects.get(pk=state.po.pk)
    plural = "s" if len(lines) != 1 else ""
    text = (
        f"{len(lines)} line{plural} of {po.number} received into {receipt.location.path}. "
        f"{po.number} is now {po.get_status_display().lower()}."
    )
    return State(), Message(text), receipt


def _open_orders() -> list[PurchaseOrder]:
    return list(selectors.open_po_list().order_by("expected_date", "number")[:OPEN_LIST_SIZE])


def _context(state: State, message: Message | None, receipt: Receipt | None = None) -> dict[str, Any]:
    last = state.row(state.last)
    bins = (
        list(
            location_list(warehouse_id=state.po.warehouse_id).filter(
                kind=LocationKind.INTERNAL, is_active=True
            )
        )
        if state.po
        else []
    )
    return {
        "state": state,
        "rows": state.rows,
        "shown": [r for r in state.rows if r.open > 0 or r.stock_now > 0],
        "last": last,
        "bins": bins,
        "message": message,
        "receipt": receipt,
        "open_orders": [] if state.po else _open_orders(),
        "hidden_rows": sum(1 for r in state.rows if not (r.open > 0 or r.stock_now > 0)),
        "lines_now": sum(1 for r in state.rows if r.stock_now > 0),
        "url": reverse("procurement:receive"),
    }


def _url(state: State) -> str:
    params = state.query()
    return reverse("procurement:receive") + (f"?{urlencode(params)}" if params else "")


@receive_required
def receive(request: HttpRequest) -> HttpResponse:
    """GET: the screen (its state from the URL). POST: a scan, a change, Done or Clear."""
    return _post(request) if request.method == "POST" else _page(request)


def _page(request: HttpRequest) -> HttpResponse:
    state, problem = load_state(request.GET)
    message = problem
    text = request.GET.get("msg", "")
    if text:
        message = Message(text, request.GET.get("level", "ok"))
    if state.po is None and request.GET.get("po"):
        message = Message("That purchase order cannot be found.", "bad")
    elif state.po is not None and state.po.status not in lifecycle.OPEN_STATUSES:
        status = state.po.get_status_display().lower()
        message = Message(f"{state.po.number} is {status}: only sent orders are received.", "bad")
        state = State()
    elif state.po is not None and message is None and not state.busy:
        message = _opened(state, "info")
    receipt = Receipt.objects.filter(pk=int_or_none(request.GET.get("receipt")) or 0).first()
    return render_page(request, "procurement/receive.html", _context(state, message, receipt), fragments=())


def _post(request: HttpRequest) -> HttpResponse:
    state, problem = load_state(request.POST)
    action = request.POST.get("action", "scan")
    message: Message | None = problem
    receipt: Receipt | None = None
    events: dict[str, Any] = {}
    toast_text = ""
    if action.startswith("reset:"):
        row = state.row(int_or_none(action.removeprefix("reset:")))
        if row is not None:
            row.stock_now, row.serials = ZERO, []
            message = Message(f"{row.line.product.sku}: nothing received now.", "info")
    elif action == "clear":
        state = State()
        message = Message("Cleared. Scan the next purchase order number.", "info")
    elif action == "done" and problem is None:
        state, message, receipt = done(state, request.user)
        if receipt is not None:
            toast_text = f"{receipt.number}: {message.text}"
    elif action == "scan" and problem is None:
        state, message = scan(state, request.POST.get("code", ""))
    if message is not None and message.level != "info" and action == "scan":
        events["scanned"] = {"ok": message.level == "ok"}

    if not is_htmx(request):
        params = state.query()
        if message is not None:
            params.update(msg=message.text, level=message.level)
        if receipt is not None:
            params["receipt"] = str(receipt.pk)
        if toast_text:
            flash(request, toast_text)
        return redirect(reverse("procurement:receive") + f"?{urlencode(params)}")
    response = render_page(
        request, "procurement/receive.html#panel", _context(state, message, receipt), fragments=()
    )
    response["HX-Replace-Url"] = _url(state)
    return toast(response, toast_text, **events)
