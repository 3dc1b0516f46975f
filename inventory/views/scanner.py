"""Scanner sessions: what was scanned so far, kept in the user's session, and what a scan means.

The transfer and adjustment pages (and the count sheet) share them: a code is a product's
barcode (a box counts its factor), a SKU or a bin; the lines wait in the session until Done."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render

from erp import formatting
from erp.exceptions import ValidationFailed
from erp.money import ZERO
from erp.ui import htmx_of
from inventory import selectors
from inventory.models import Location, LocationKind, Lot, Product, Tracking
from inventory.views.common import int_or_none, parse_qty, qty_text, trigger


@dataclass
class Message:
    text: str
    level: str = "ok"  # ok | bad | info


@dataclass
class ScanLine:
    key: str
    product: Product
    lot: str
    quantity: Decimal
    on_hand: Decimal | None = None

    @property
    def after_delta(self) -> Decimal | None:
        return None if self.on_hand is None else self.on_hand + self.quantity

    @property
    def after_scrap(self) -> Decimal | None:
        return None if self.on_hand is None else self.on_hand - self.quantity


@dataclass
class Scanned:
    product: Product | None = None
    factor: Decimal = Decimal(1)
    unit: str = ""
    location: Location | None = None


def resolve_code(code: str) -> Scanned | None:
    """What a scanner sent: a product's barcode (a box counts its factor), a SKU, or a bin."""
    found = selectors.product_by_code(code)
    if found is not None:
        product, barcode = found
        if barcode is not None and barcode.unit is not None:
            return Scanned(product=product, factor=barcode.unit.factor, unit=barcode.unit.unit.code)
        return Scanned(product=product)
    location = selectors.location_by_code(code)
    return Scanned(location=location) if location else None


class ScanSession:
    """The lines of an unfinished scanner session, kept in the user's session: a reload loses nothing."""

    def __init__(self, request: HttpRequest, name: str, defaults: dict[str, Any]):
        self.request = request
        self.key = f"inventory.scan.{name}"
        self.data: dict[str, Any] = {**defaults, "lines": [], "last": "", **request.session.get(self.key, {})}

    def save(self) -> None:
        self.request.session[self.key] = self.data

    def add(self, product: Product, quantity: Decimal, lot: str = "") -> Decimal:
        key = f"{product.pk}:{lot}"
        self.data["last"] = key
        for line in self.data["lines"]:
            if line["key"] == key:
                total = Decimal(line["quantity"]) + quantity
                line["quantity"] = qty_text(total)
                return total
        self.data["lines"].append(
            {"key": key, "product": product.pk, "lot": lot, "quantity": qty_text(quantity)}
        )
        return quantity

    def set_quantity(self, key: str, quantity: Decimal) -> None:
        for line in self.data["lines"]:
            if line["key"] == key:
                line["quantity"] = qty_text(quantity)
                self.data["last"] = key

    def remove(self, key: str) -> None:
        self.data["lines"] = [line for line in self.data["lines"] if line["key"] != key]

    def clear_lines(self) -> None:
        self.data["lines"] = []
        self.data["last"] = ""

    def flash(self, message: Message | None) -> None:
        """Keep a message for the next page load (the no-JavaScript round trip)."""
        self.data["message"] = [message.text, message.level] if message else None

    def pop_message(self) -> Message | None:
        stored = self.data.pop("message", None)
        return Message(*stored) if stored else None

    def lines(self, *, at: Location | None = None) -> list[ScanLine]:
        raw = self.data["lines"]
        products = Product.objects.select_related("stock_unit").in_bulk({line["product"] for line in raw})
        on_hand: dict[tuple[int, str], Decimal] = {}
        if at is not None and products:
            for level in selectors.level_list().filter(location=at, product_id__in=products):
                on_hand[(level.product_id, level.lot.code if level.lot else "")] = level.on_hand
        return [
            ScanLine(
                key=line["key"],
                product=products[line["product"]],
                lot=line["lot"],
                quantity=Decimal(line["quantity"]),
                on_hand=on_hand.get((line["product"], line["lot"]), ZERO) if at is not None else None,
            )
            for line in raw
            if line["product"] in products
        ]

    def sync_quantities(self, post: QueryDict) -> Message | None:
        """The no-JavaScript path: every quantity field of the form at once."""
        for line in self.data["lines"]:
            name = f"qty:{line['key']}"
            if name in post:
                text = post.get(name, "")
                quantity = parse_qty(text)
                if quantity is None:
                    return Message(f"“{text}” is not a number.", "bad")
                line["quantity"] = qty_text(quantity)
        return None


def scan_product(session: ScanSession, scanned: Scanned, lot: str) -> Message:
    product = scanned.product
    assert product is not None
    if not product.is_stocked:
        return Message(f"{product.sku} is a service: it has no stock to move.", "bad")
    if product.tracking != Tracking.NONE and not lot:
        what = "serial number" if product.tracking == Tracking.SERIAL else "lot"
        return Message(f"{product.sku} is tracked by {what}: type it in the Lot box, then scan again.", "bad")
    if product.tracking == Tracking.NONE:
        lot = ""
    total = session.add(product, scanned.factor, lot)
    unit = product.stock_unit.code
    box = f" (1 {scanned.unit} = {formatting.quantity(scanned.factor, unit)})" if scanned.unit else ""
    return Message(
        f"+{formatting.number(scanned.factor)} {product.sku}{box} · {product.name} → "
        f"{formatting.quantity(total, unit)}"
    )


def unknown_code(code: str) -> Message:
    if not code:
        return Message("Scan a barcode or type a SKU, then press Enter.", "info")
    return Message(f"Unknown code “{code}”: no product, box or bin has this barcode or SKU.", "bad")


def bin_or_none(pk: Any) -> Location | None:
    pk = int_or_none(pk)
    if pk is None:
        return None
    return Location.objects.select_related("warehouse").filter(pk=pk, kind=LocationKind.INTERNAL).first()


def existing_lot(line: ScanLine) -> Lot | None:
    if line.product.tracking == Tracking.NONE:
        return None
    lot = Lot.objects.filter(product=line.product, code=line.lot).first()
    if lot is None:
        raise ValidationFailed(f"{line.product.sku} has no lot or serial “{line.lot}”.")
    return lot


def set_line_quantity(request: HttpRequest, session: ScanSession) -> Message | None:
    """One quantity field changed (htmx names it in HX-Trigger-Name)."""
    name = htmx_of(request).trigger_name or ""
    if not name.startswith("qty:"):
        return None
    quantity = parse_qty(request.POST.get(name, ""))
    if quantity is None:
        return Message(f"“{request.POST.get(name, '')}” is not a number.", "bad")
    session.set_quantity(name.removeprefix("qty:"), quantity)
    return None


def line_action(request: HttpRequest, session: ScanSession, action: str) -> tuple[bool, Message | None]:
    """The line actions every scanning page shares (update, qty, remove:<key>, clear, and the
    quantities synced before done): (whether the page may finish now, the message to show)."""
    message: Message | None = None
    if action == "update":
        message = session.sync_quantities(request.POST)
    elif action == "qty":
        message = set_line_quantity(request, session)
    elif action.startswith("remove:"):
        session.remove(action.removeprefix("remove:"))
    elif action == "clear":
        session.clear_lines()
        message = Message("Cleared. Scan the first item.", "info")
    elif action == "done":
        message = session.sync_quantities(request.POST) if not htmx_of(request) else None
        return message is None, message
    return False, message


def scanner_response(
    request: HttpRequest,
    session: ScanSession,
    message: Message | None,
    *,
    page: str,
    template: str,
    context: Callable[[ScanSession, Message | None], dict[str, Any]],
    events: dict[str, Any] | None = None,
) -> HttpResponse:
    """htmx: the panel again (with the message) and a flash event; otherwise back to the page."""
    session.save()
    if htmx_of(request):
        response = render(request, f"{template}#panel", context(session, message))
        events = dict(events or {})
        if message is not None and message.level != "info":
            events["scanned"] = {"ok": message.level == "ok"}
        return trigger(response, events=events)
    session.flash(message)
    session.save()
    return redirect(page)
