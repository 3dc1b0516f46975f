"""Inventory pages, for people who spend their day in them.

One view per page. An htmx request whose target is a fragment of the page
(``rows``, ``panel``, ...) gets that fragment only (django-template-partials,
``"inventory/product_list.html#rows"``); any other request gets the whole page,
so every link and form also works without JavaScript.

Views parse input, call a selector or a service, and render. Domain errors
become form errors (next to the field the service names) or an inline message.
Reading needs ``inventory:read``; anything that writes needs ``inventory:write``.
"""

from __future__ import annotations

import itertools
import json
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, time
from decimal import Decimal
from functools import wraps
from typing import Any

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Count, Exists, F, OuterRef, Q, Sum
from django.db.models.functions import Lower
from django.forms.widgets import NullBooleanSelect
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseClientRedirect

from erp.access import user_can
from erp.exceptions import DomainError, ValidationFailed
from erp.money import ZERO, quantize_quantity, to_decimal
from erp.navigation import AREA_PAGE_BY_KEY
from erp.permissions import area_required
from inventory import availability, integrity, replenishment, selectors, services, valuation
from inventory.filters import (
    CountSheetFilter,
    LevelFilter,
    MoveFilter,
    ProductFilter,
    ReorderRuleFilter,
)
from inventory.forms import (
    CountSheetForm,
    LocationForm,
    ProductForm,
    ReorderRuleForm,
    ReverseForm,
    VariantsForm,
    WarehouseForm,
    add_domain_errors,
)
from inventory.models import (
    AttributeValue,
    CountSheet,
    CountStatus,
    Location,
    LocationKind,
    Lot,
    Product,
    ReorderRule,
    StockCheckRun,
    StockLevel,
    StockMove,
    Tracking,
    Transfer,
    TransferStatus,
    Warehouse,
)
from inventory.services.catalog import _variant_sku

PAGE_SIZE = 50
View = Callable[..., HttpResponse]

read = area_required("inventory")
write = area_required("inventory", "write")


def read_write(view: View) -> View:
    """GET and HEAD need the read right; POST (and anything else) the write right."""
    reader, writer = read(view), write(view)

    @wraps(view)
    def dispatch(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        handler = reader if request.method in ("GET", "HEAD") else writer
        return handler(request, *args, **kwargs)

    return dispatch


def _render(
    request: HttpRequest,
    template: str,
    context: dict[str, Any],
    *,
    fragments: Iterable[str] = ("rows",),
    status: int = 200,
) -> HttpResponse:
    """The fragment htmx targets (when the page has it), else the whole page."""
    target = request.htmx.target if request.htmx else None  # type: ignore[attr-defined]
    if target and target in fragments:
        template = f"{template}#{target}"
    context.setdefault("can_write", user_can(request.user, "inventory", "write"))
    return render(request, template, context, status=status)


def _trigger(
    response: HttpResponse, message: str = "", level: str = "success", events: dict[str, Any] | None = None
) -> HttpResponse:
    """HX-Trigger: a toast (erp/static/erp/app.js shows it) and any other events."""
    payload: dict[str, Any] = dict(events or {})
    if message:
        payload["toast"] = {"message": message, "level": level}
    if payload:
        response["HX-Trigger"] = json.dumps(payload)
    return response


def _page(request: HttpRequest, queryset: Any) -> Any:
    return Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _qty(value: Decimal) -> str:
    """12.0000 -> '12', 2.5000 -> '2.5': how people type quantities."""
    return f"{value.normalize():f}"


def _parse_qty(text: str) -> Decimal | None:
    try:
        return quantize_quantity(to_decimal((text or "").strip().replace(",", ".")))
    except (TypeError, ValueError, ArithmeticError):
        return None


def _or_404(loader: Callable[[int], Any], pk: int) -> Any:
    try:
        return loader(pk)
    except (Product.DoesNotExist, CountSheet.DoesNotExist, Warehouse.DoesNotExist) as exc:
        raise Http404(str(exc)) from exc


def _sort_headers(
    request: HttpRequest, columns: Iterable[tuple[str, str, bool]], default: str = ""
) -> list[dict[str, Any]]:
    """Table headers; those with an ordering key link to the list sorted by them (again: reversed)."""
    current = request.GET.get("ordering") or default
    headers = []
    for key, label, numeric in columns:
        header: dict[str, Any] = {"label": label, "num": numeric, "url": "", "dir": ""}
        if key:
            params = request.GET.copy()
            params["ordering"] = f"-{key}" if current == key else key
            params.pop("page", None)
            header["url"] = f"?{params.urlencode()}"
            header["dir"] = "asc" if current == key else "desc" if current == f"-{key}" else ""
        headers.append(header)
    return headers


def _filters(filterset: Any) -> Any:
    """Filter selects say "All" rather than "---------", and "Active: yes / no" rather than "Unknown"."""
    for field in filterset.form.fields.values():
        widget = field.widget
        if isinstance(widget, NullBooleanSelect):
            widget.choices = [("unknown", "All"), ("true", "Yes"), ("false", "No")]
        elif isinstance(field, forms.ChoiceField) and hasattr(field, "empty_label"):
            field.empty_label = "All"
            widget.choices = field.choices  # the widget holds the choices it was built with
    return filterset


def _bins() -> list[Location]:
    """Every active bin that holds stock, by warehouse and path (for pickers)."""
    return list(selectors.location_list().filter(kind=LocationKind.INTERNAL, is_active=True))


# ---------------------------------------------------------------- landing page


def _overview(request: HttpRequest) -> dict[str, Any]:
    values = valuation.current_by_warehouse()
    return {
        "page": AREA_PAGE_BY_KEY["inventory"],
        "product_count": Product.objects.filter(is_active=True).count(),
        "warehouse_count": len(values),
        "stock_value": sum((v.value for v in values), ZERO),
        "below_min": len(replenishment.suggestions()),
        "reservations": selectors.reservation_list().count(),
        "last_check": StockCheckRun.objects.select_related("triggered_by").first(),
        "open_counts": CountSheet.objects.filter(status=CountStatus.OPEN).count(),
        "in_transit": Transfer.objects.filter(status=TransferStatus.IN_TRANSIT).count(),
    }


@read
def index(request: HttpRequest) -> HttpResponse:
    return _render(request, "inventory/index.html", _overview(request))


@write
@require_POST
def stock_check(request: HttpRequest) -> HttpResponse:
    run = integrity.run_check(user=request.user)
    if run.drift_count:
        text = f"Stock check: {run.drift_count} drift(s) between levels and the ledger."
        level = "error"
    else:
        text = f"Stock check: {run.levels_checked} levels agree with the ledger."
        level = "success"
    if request.htmx:  # type: ignore[attr-defined]
        response = render(request, "inventory/index.html#checktile", {"last_check": run, "can_write": True})
        return _trigger(response, text, level)
    messages.add_message(request, messages.ERROR if run.drift_count else messages.SUCCESS, text)
    return redirect("inventory:index")


# ---------------------------------------------------------------- products

PRODUCT_COLUMNS = (
    ("sku", "SKU", False),
    ("name", "Name", False),
    ("", "Category", False),
    ("", "Unit", False),
    ("price", "Price", True),
    ("on_hand", "On hand", True),
    ("", "Reserved", True),
    ("", "Available", True),
    ("", "Status", False),
)


@read
def product_list(request: HttpRequest) -> HttpResponse:
    queryset = selectors.product_list().annotate(available=F("on_hand") - F("reserved"))
    filterset = _filters(ProductFilter(request.GET, queryset=queryset))
    context = {
        "filter": filterset,
        "page": _page(request, filterset.qs),
        "headers": _sort_headers(request, PRODUCT_COLUMNS, default="sku"),
    }
    return _render(request, "inventory/product_list.html", context)


@read
def product_detail(request: HttpRequest, pk: int) -> HttpResponse:
    product = _or_404(selectors.product_detail, pk)
    flows = availability.by_warehouse([product.pk])
    warehouses = Warehouse.objects.in_bulk({w for _, w in flows})
    per_warehouse = sorted(
        ((warehouses[w], a) for (_, w), a in flows.items() if w in warehouses), key=lambda row: row[0].code
    )
    total = availability.Availability(
        on_hand=sum((a.on_hand for _, a in per_warehouse), ZERO),
        reserved=sum((a.reserved for _, a in per_warehouse), ZERO),
        incoming=sum((a.incoming for _, a in per_warehouse), ZERO),
        outgoing=sum((a.outgoing for _, a in per_warehouse), ZERO),
    )
    barcodes = list(product.barcodes.all())
    variants = []
    if product.template is not None:
        variants = list(
            product.template.variants.select_related("stock_unit")
            .prefetch_related("attribute_values__attribute")
            .order_by("sku")
        )
    context = {
        "product": product,
        "per_warehouse": per_warehouse,
        "total": total,
        "levels": selectors.level_list()
        .filter(product=product, location__kind=LocationKind.INTERNAL)
        .exclude(on_hand=0, reserved=0),
        "reservations": selectors.reservation_list().filter(product=product)[:100],
        "moves": selectors.move_list().filter(product=product)[:50],
        "variants": variants,
        "barcodes": barcodes,
        "units_without_barcode": [
            u for u in product.units.all() if u.pk not in {b.unit_id for b in barcodes}
        ],
        "rules": list(product.reorder_rules.all()),
    }
    return _render(request, "inventory/product_detail.html", context)


@write
def product_create(request: HttpRequest) -> HttpResponse:
    form = ProductForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            product = services.product_create(user=request.user, **form.values())
        except DomainError as exc:
            add_domain_errors(form, exc)
        else:
            messages.success(request, f"{product.sku} created.")
            return redirect("inventory:product", pk=product.pk)
    return _render(request, "inventory/product_form.html", {"form": form, "product": None}, fragments=())


@write
def product_edit(request: HttpRequest, pk: int) -> HttpResponse:
    product = _or_404(selectors.product_detail, pk)
    form = ProductForm(request.POST or None, initial=ProductForm.initial_for(product))
    if request.method == "POST" and form.is_valid():
        values = form.values()
        barcodes = values.pop("barcodes")
        try:
            services.product_update(product=product, user=request.user, barcodes=barcodes, **values)
        except DomainError as exc:
            add_domain_errors(form, exc)
        else:
            messages.success(request, f"{values['sku']} saved.")
            return redirect("inventory:product", pk=product.pk)
    context = {"form": form, "product": product}
    return _render(request, "inventory/product_form.html", context, fragments=())


@write
@require_POST
def product_archive(request: HttpRequest, pk: int) -> HttpResponse:
    product = _or_404(selectors.product_detail, pk)
    restore = request.POST.get("active") == "1"
    services.product_archive(product=product, user=request.user, active=restore)
    messages.success(request, f"{product.sku} {'restored' if restore else 'archived'}.")
    url = reverse("inventory:product", kwargs={"pk": product.pk})
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)  # type: ignore[attr-defined]


def _variant_preview(form: VariantsForm) -> list[dict[str, Any]]:
    """The SKUs product_template_create will make, and which of them are taken already."""
    attributes = form.cleaned_data["attributes"]
    prefix = form.cleaned_data["sku_prefix"]
    rows: list[dict[str, Any]] = []
    for combination in itertools.product(*attributes.values()):
        values = [AttributeValue(value=v) for v in combination]
        rows.append({"sku": _variant_sku(prefix, values), "label": " / ".join(combination)})
    wanted = {r["sku"].lower() for r in rows}
    taken = set(
        Product.objects.annotate(sku_lower=Lower("sku"))
        .filter(sku_lower__in=wanted)
        .values_list("sku_lower", flat=True)
    )
    for row in rows:
        row["taken"] = row["sku"].lower() in taken
    return rows


@write
def product_variants_create(request: HttpRequest) -> HttpResponse:
    form = VariantsForm(request.POST or None)
    preview: list[dict[str, Any]] = []
    if request.method == "POST" and form.is_valid():
        preview = _variant_preview(form)
        if request.POST.get("action") != "preview":
            data = form.cleaned_data
            try:
                template = services.product_template_create(
                    name=data["name"],
                    sku_prefix=data["sku_prefix"],
                    attributes=data["attributes"],
                    stock_unit=data["stock_unit"],
                    category=data["category"],
                    sale_price=data["sale_price"],
                    currency=data["currency"],
                    user=request.user,
                )
            except DomainError as exc:
                add_domain_errors(form, exc, aliases={"sku": "sku_prefix"})
            else:
                count = template.variants.count()
                messages.success(request, f"{template.name}: {count} variant(s) created.")
                return redirect(f"{reverse('inventory:products')}?template={template.pk}")
    context = {"form": form, "preview": preview}
    return _render(request, "inventory/product_variants.html", context, fragments=("preview",))


@write
@require_POST
def product_variants_preview(request: HttpRequest) -> HttpResponse:
    form = VariantsForm(request.POST)
    preview = _variant_preview(form) if form.is_valid() else []
    return render(request, "inventory/product_variants.html#preview", {"form": form, "preview": preview})


# ---------------------------------------------------------------- warehouses


@read_write
def warehouse_list(request: HttpRequest) -> HttpResponse:
    form = WarehouseForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            warehouse = services.warehouse_create(user=request.user, **form.cleaned_data)
        except DomainError as exc:
            add_domain_errors(form, exc)
        else:
            messages.success(request, f"Warehouse {warehouse.code} created with a Stock bin.")
            return redirect("inventory:warehouse", pk=warehouse.pk)
    values = {v.warehouse.pk: v for v in valuation.current_by_warehouse()}
    bins = dict(
        Location.objects.filter(kind=LocationKind.INTERNAL, warehouse__isnull=False)
        .values("warehouse")
        .annotate(n=Count("pk"))
        .values_list("warehouse", "n")
    )
    rows = [
        {"warehouse": w, "value": values.get(w.pk), "bins": bins.get(w.pk, 0)}
        for w in selectors.warehouse_list()
    ]
    status = 422 if form.errors else 200
    return _render(request, "inventory/warehouse_list.html", {"rows": rows, "form": form}, status=status)


def _location_tree(warehouse: Warehouse) -> list[dict[str, Any]]:
    """Locations in path order, each with its depth and the stock in it and below it."""
    locations = list(selectors.location_list(warehouse_id=warehouse.pk))
    stock = {
        row["location_id"]: row
        for row in StockLevel.objects.filter(warehouse=warehouse)
        .values("location_id")
        .annotate(
            quantity=Sum("on_hand"),
            products=Count("product_id", filter=~Q(on_hand=0), distinct=True),
        )
    }
    parents = {loc.pk: loc.parent_id for loc in locations}
    rolled: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for location_id, row in stock.items():
        node: int | None = location_id
        while node is not None:
            rolled[node] += row["quantity"] or ZERO
            node = parents.get(node)
    root_depth = min((loc.path.count("/") for loc in locations), default=0)
    return [
        {
            "location": loc,
            "depth": loc.path.count("/") - root_depth,
            "on_hand": (stock.get(loc.pk) or {}).get("quantity") or ZERO,
            "products": (stock.get(loc.pk) or {}).get("products") or 0,
            "total": rolled.get(loc.pk, ZERO),
        }
        for loc in locations
    ]


@read_write
def warehouse_detail(request: HttpRequest, pk: int) -> HttpResponse:
    warehouse = _or_404(lambda key: selectors.warehouse_list().get(pk=key), pk)
    tree = _location_tree(warehouse)
    zones = [row["location"] for row in tree if row["location"].kind == LocationKind.VIEW]
    form = LocationForm(request.POST or None, zones=zones)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            location = services.location_create(
                parent=data["parent"], name=data["name"], kind=data["kind"], barcode=data["barcode"] or None
            )
        except DomainError as exc:
            add_domain_errors(form, exc)
        else:
            messages.success(request, f"{location.path} added.")
            return redirect("inventory:warehouse", pk=warehouse.pk)
    context = {"warehouse": warehouse, "tree": tree, "form": form}
    return _render(request, "inventory/warehouse_detail.html", context, status=422 if form.errors else 200)


# ---------------------------------------------------------------- the ledger and levels


@read
def move_list(request: HttpRequest) -> HttpResponse:
    queryset = selectors.move_list().annotate(
        is_reversed=Exists(StockMove.objects.filter(reversal_of=OuterRef("pk")))
    )
    filterset = _filters(MoveFilter(request.GET, queryset=queryset))
    context = {
        "filter": filterset,
        "page": _page(request, filterset.qs),
        "locations": selectors.location_list(include_virtual=True).exclude(kind=LocationKind.VIEW),
        "product": _product_or_none(request.GET.get("product")),
    }
    return _render(request, "inventory/move_list.html", context)


def _product_or_none(pk: Any) -> Product | None:
    pk = _int(pk)
    return Product.objects.filter(pk=pk).first() if pk is not None else None


@write
def move_reverse(request: HttpRequest, pk: int) -> HttpResponse:
    move = selectors.move_list().filter(pk=pk).first()
    if move is None:
        raise Http404("No such move")
    form = ReverseForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            reversal = services.stock_move_reverse(
                move=move, reason=form.cleaned_data["reason"], user=request.user
            )
        except DomainError as exc:
            add_domain_errors(form, exc)
        else:
            text = f"Move {move.pk} reversed by move {reversal.pk}."
            if request.htmx:  # type: ignore[attr-defined]
                response = HttpResponse("")
                return _trigger(response, text, events={"moves-changed": True})
            messages.success(request, text)
            return redirect(f"{reverse('inventory:moves')}?product={move.product_id}")
    already = StockMove.objects.filter(reversal_of=move).exists()
    context = {"move": move, "form": form, "already": already}
    return _render(request, "inventory/move_reverse.html", context, fragments=("reverse",))


@read
def level_list(request: HttpRequest) -> HttpResponse:
    queryset = selectors.level_list().filter(location__kind=LocationKind.INTERNAL)
    filterset = _filters(LevelFilter(request.GET, queryset=queryset))
    context = {"filter": filterset, "page": _page(request, filterset.qs)}
    return _render(request, "inventory/level_list.html", context)


# ---------------------------------------------------------------- scanner sessions


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


def _resolve_code(code: str) -> Scanned | None:
    """What a scanner sent: a product's barcode (a box counts its factor), a SKU, or a bin."""
    found = selectors.product_by_code(code)
    if found is not None:
        product, barcode = found
        if barcode is not None and barcode.unit is not None:
            return Scanned(product=product, factor=barcode.unit.factor, unit=barcode.unit.unit.code)
        return Scanned(product=product)
    location = (
        Location.objects.select_related("warehouse")
        .filter(Q(barcode=code) | Q(path__iexact=code), warehouse__isnull=False)
        .first()
    )
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
                line["quantity"] = _qty(total)
                return total
        self.data["lines"].append({"key": key, "product": product.pk, "lot": lot, "quantity": _qty(quantity)})
        return quantity

    def set_quantity(self, key: str, quantity: Decimal) -> None:
        for line in self.data["lines"]:
            if line["key"] == key:
                line["quantity"] = _qty(quantity)
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
                quantity = _parse_qty(text)
                if quantity is None:
                    return Message(f"“{text}” is not a number.", "bad")
                line["quantity"] = _qty(quantity)
        return None


def _scan_product(session: ScanSession, scanned: Scanned, lot: str) -> Message:
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
    box = f" (1 {scanned.unit} = {_qty(scanned.factor)})" if scanned.unit else ""
    return Message(f"+{_qty(scanned.factor)} {product.sku}{box} · {product.name} → {_qty(total)}")


def _unknown(code: str) -> Message:
    if not code:
        return Message("Scan a barcode or type a SKU, then press Enter.", "info")
    return Message(f"Unknown code “{code}”: no product, box or bin has this barcode or SKU.", "bad")


def _location(pk: Any) -> Location | None:
    pk = _int(pk)
    if pk is None:
        return None
    return Location.objects.select_related("warehouse").filter(pk=pk, kind=LocationKind.INTERNAL).first()


def _existing_lot(line: ScanLine) -> Lot | None:
    if line.product.tracking == Tracking.NONE:
        return None
    lot = Lot.objects.filter(product=line.product, code=line.lot).first()
    if lot is None:
        raise ValidationFailed(f"{line.product.sku} has no lot or serial “{line.lot}”.")
    return lot


def _scanner_response(
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
    if request.htmx:  # type: ignore[attr-defined]
        response = render(request, f"{template}#panel", context(session, message))
        events = dict(events or {})
        if message is not None and message.level != "info":
            events["scanned"] = {"ok": message.level == "ok"}
        return _trigger(response, events=events)
    session.flash(message)
    session.save()
    return redirect(page)


# ---------------------------------------------------------------- transfer

TRANSFER_DEFAULTS = {"from": None, "to": None, "two_step": False}


def _transfer_context(session: ScanSession, message: Message | None) -> dict[str, Any]:
    from_bin, to_bin = _location(session.data["from"]), _location(session.data["to"])
    lines = session.lines(at=from_bin)
    return {
        "session": session.data,
        "bins": _bins(),
        "from_bin": from_bin,
        "to_bin": to_bin,
        "lines": lines,
        "units": sum((line.quantity for line in lines), ZERO),
        "cross_warehouse": bool(from_bin and to_bin and from_bin.warehouse_id != to_bin.warehouse_id),
        "message": message,
        "can_write": True,
    }


def _transfer_done(request: HttpRequest, session: ScanSession) -> tuple[Message, bool]:
    """Move (or ship) every scanned line at once; says whether it did."""
    lines = session.lines()
    from_bin, to_bin = _location(session.data["from"]), _location(session.data["to"])
    if not lines:
        return Message("Nothing scanned yet.", "bad"), False
    if from_bin is None:
        return Message("Choose or scan the bin the goods come from.", "bad"), False
    if to_bin is None:
        return Message("Choose or scan the bin the goods go to.", "bad"), False
    try:
        specs = [
            services.Line(product=ln.product, quantity=ln.quantity, lot=_existing_lot(ln)) for ln in lines
        ]
        if session.data["two_step"] and from_bin.warehouse_id != to_bin.warehouse_id:
            transfer = services.transfer_ship(
                from_location=from_bin, to_location=to_bin, lines=specs, user=request.user
            )
            text = f"{transfer.number} shipped: {len(specs)} line(s) in transit to {to_bin}."
        else:
            services.stock_transfer(
                from_location=from_bin, to_location=to_bin, lines=specs, user=request.user
            )
            units = _qty(sum((ln.quantity for ln in lines), ZERO))
            text = f"Moved {units} unit(s) of {len(specs)} product(s) from {from_bin} to {to_bin}."
    except DomainError as exc:
        return Message(exc.message, "bad"), False
    session.clear_lines()
    session.data["to"] = None  # the next transfer often starts from the same bin
    return Message(text), True


@write
def transfer(request: HttpRequest) -> HttpResponse:
    session = ScanSession(request, "transfer", TRANSFER_DEFAULTS)
    if request.method == "GET":
        context = _transfer_context(session, session.pop_message())
        session.save()
        context["in_transit"] = selectors.transfer_list().filter(status=TransferStatus.IN_TRANSIT)[:50]
        return _render(request, "inventory/transfer.html", context, fragments=("panel", "intransit"))
    action = request.POST.get("action", "update")
    message: Message | None = None
    done = False
    htmx = bool(request.htmx)  # type: ignore[attr-defined]
    if action == "bins" or (not htmx and action in ("update", "done")):
        session.data["from"] = _int(request.POST.get("from"))
        session.data["to"] = _int(request.POST.get("to"))
        session.data["two_step"] = request.POST.get("two_step") == "1"
    if action == "update":
        message = session.sync_quantities(request.POST)
    elif action == "qty":
        message = _set_line_quantity(request, session)
    elif action.startswith("remove:"):
        session.remove(action.removeprefix("remove:"))
    elif action == "clear":
        session.clear_lines()
        message = Message("Cleared. Scan the first item.", "info")
    elif action == "done":
        message = session.sync_quantities(request.POST) if not htmx else None
        if message is None:
            message, done = _transfer_done(request, session)
    return _scanner_response(
        request,
        session,
        message,
        page=reverse("inventory:transfer"),
        template="inventory/transfer.html",
        context=_transfer_context,
        events={"transfers-changed": True} if done else None,
    )


def _set_line_quantity(request: HttpRequest, session: ScanSession) -> Message | None:
    """One quantity field changed (htmx names it in HX-Trigger-Name)."""
    name = request.htmx.trigger_name or ""  # type: ignore[attr-defined]
    if not name.startswith("qty:"):
        return None
    quantity = _parse_qty(request.POST.get(name, ""))
    if quantity is None:
        return Message(f"“{request.POST.get(name, '')}” is not a number.", "bad")
    session.set_quantity(name.removeprefix("qty:"), quantity)
    return None


@write
@require_POST
def transfer_scan(request: HttpRequest) -> HttpResponse:
    session = ScanSession(request, "transfer", TRANSFER_DEFAULTS)
    code = request.POST.get("code", "").strip()
    scanned = _resolve_code(code) if code else None
    if scanned is None:
        message = _unknown(code)
    elif scanned.location is not None:
        message = _scan_bin(session, scanned.location)
    else:
        message = _scan_product(session, scanned, request.POST.get("lot", "").strip())
    return _scanner_response(
        request,
        session,
        message,
        page=reverse("inventory:transfer"),
        template="inventory/transfer.html",
        context=_transfer_context,
    )


def _scan_bin(session: ScanSession, location: Location) -> Message:
    """The first bin scanned is where goods come from; any later one, where they go."""
    if location.kind != LocationKind.INTERNAL:
        return Message(f"{location} is a zone: scan one of its bins.", "bad")
    if session.data["from"] is None:
        session.data["from"] = location.pk
        return Message(f"From {location}. Now scan the items.")
    if location.pk == session.data["from"]:
        return Message(f"{location} is already the source bin.", "info")
    session.data["to"] = location.pk
    return Message(f"To {location}. Press Done when everything is scanned.")


@write
@require_POST
def transfer_receive(request: HttpRequest, pk: int) -> HttpResponse:
    transfer = Transfer.objects.filter(pk=pk).first()
    if transfer is None:
        raise Http404("No such transfer")
    level = "success"
    try:
        services.transfer_receive(transfer=transfer, user=request.user)
        text = f"{transfer.number} received."
    except DomainError as exc:
        text, level = exc.message, "error"
    if request.htmx:  # type: ignore[attr-defined]
        in_transit = selectors.transfer_list().filter(status=TransferStatus.IN_TRANSIT)[:50]
        response = render(
            request, "inventory/transfer.html#intransit", {"in_transit": in_transit, "can_write": True}
        )
        return _trigger(response, text, level)
    messages.add_message(request, messages.SUCCESS if level == "success" else messages.ERROR, text)
    return redirect("inventory:transfer")


# ---------------------------------------------------------------- adjustment and scrap

ADJUST_DEFAULTS = {"bin": None, "mode": "set", "reason": ""}
ADJUST_MODES = {
    "set": "Set the new quantity (counted)",
    "delta": "Add or remove (+/-)",
    "scrap": "Scrap (damaged, expired)",
}


def _adjust_context(session: ScanSession, message: Message | None) -> dict[str, Any]:
    location = _location(session.data["bin"])
    return {
        "session": session.data,
        "bins": _bins(),
        "bin": location,
        "lines": session.lines(at=location),
        "modes": ADJUST_MODES,
        "message": message,
        "can_write": True,
    }


def _adjust_done(request: HttpRequest, session: ScanSession) -> Message:
    location = _location(session.data["bin"])
    lines = session.lines()
    mode, reason = session.data["mode"], session.data["reason"].strip()
    if not lines:
        return Message("Nothing scanned yet.", "bad")
    if location is None:
        return Message("Choose or scan the bin first.", "bad")
    if not reason:
        return Message("Give a reason: it is kept on every move.", "bad")
    changed = 0
    try:
        with transaction.atomic():  # all lines or none
            for line in lines:
                lot = _adjust_lot(line, mode)
                if mode == "scrap":
                    services.stock_scrap(
                        product=line.product,
                        location=location,
                        quantity=line.quantity,
                        reason=reason,
                        lot=lot,
                        user=request.user,
                    )
                    changed += 1
                else:
                    move = services.stock_adjust(
                        product=line.product,
                        location=location,
                        reason=reason,
                        lot=lot,
                        quantity=line.quantity if mode == "set" else None,
                        delta=line.quantity if mode == "delta" else None,
                        user=request.user,
                    )
                    changed += move is not None
    except DomainError as exc:
        return Message(exc.message, "bad")
    session.clear_lines()
    verb = "Scrapped" if mode == "scrap" else "Adjusted"
    text = f"{verb} {changed} of {len(lines)} line(s) at {location}."
    if changed < len(lines):
        text += " The others already had that quantity."
    return Message(text)


def _adjust_lot(line: ScanLine, mode: str) -> Lot | None:
    """Stock found of a new lot creates the lot; taking stock away needs one that exists."""
    if line.product.tracking == Tracking.NONE:
        return None
    if mode == "scrap" or (mode == "delta" and line.quantity < 0):
        return _existing_lot(line)
    return services.lot_get_or_create(product=line.product, code=line.lot)


@write
def adjust(request: HttpRequest) -> HttpResponse:
    session = ScanSession(request, "adjust", ADJUST_DEFAULTS)
    if request.method == "GET":
        context = _adjust_context(session, session.pop_message())
        session.save()
        return _render(request, "inventory/adjust.html", context, fragments=("panel",))
    action = request.POST.get("action", "update")
    message: Message | None = None
    htmx = bool(request.htmx)  # type: ignore[attr-defined]
    if action == "settings" or (not htmx and action in ("update", "done")):
        session.data["bin"] = _int(request.POST.get("bin"))
        if request.POST.get("mode") in ADJUST_MODES:
            session.data["mode"] = request.POST["mode"]
        session.data["reason"] = request.POST.get("reason", "").strip()[:255]
    if action == "update":
        message = session.sync_quantities(request.POST)
    elif action == "qty":
        message = _set_line_quantity(request, session)
    elif action.startswith("remove:"):
        session.remove(action.removeprefix("remove:"))
    elif action == "clear":
        session.clear_lines()
        message = Message("Cleared. Scan the first item.", "info")
    elif action == "done":
        message = session.sync_quantities(request.POST) if not htmx else None
        if message is None:
            message = _adjust_done(request, session)
    return _scanner_response(
        request,
        session,
        message,
        page=reverse("inventory:adjust"),
        template="inventory/adjust.html",
        context=_adjust_context,
    )


@write
@require_POST
def adjust_scan(request: HttpRequest) -> HttpResponse:
    session = ScanSession(request, "adjust", ADJUST_DEFAULTS)
    code = request.POST.get("code", "").strip()
    scanned = _resolve_code(code) if code else None
    if scanned is None:
        message = _unknown(code)
    elif scanned.location is not None:
        if scanned.location.kind != LocationKind.INTERNAL:
            message = Message(f"{scanned.location} is a zone: scan one of its bins.", "bad")
        else:
            session.data["bin"] = scanned.location.pk
            message = Message(f"Bin {scanned.location}. Now scan the items.")
    else:
        message = _scan_product(session, scanned, request.POST.get("lot", "").strip())
    return _scanner_response(
        request,
        session,
        message,
        page=reverse("inventory:adjust"),
        template="inventory/adjust.html",
        context=_adjust_context,
    )


# ---------------------------------------------------------------- cycle counts


@read
def count_list(request: HttpRequest) -> HttpResponse:
    queryset = selectors.count_sheet_list().annotate(
        line_count=Count("lines"),
        counted=Count("lines", filter=Q(lines__counted_quantity__isnull=False)),
    )
    filterset = _filters(CountSheetFilter(request.GET, queryset=queryset))
    context = {"filter": filterset, "page": _page(request, filterset.qs)}
    return _render(request, "inventory/count_list.html", context)


@write
def count_create(request: HttpRequest) -> HttpResponse:
    bins = _bins()
    initial = {"location": _int(request.GET.get("location"))}
    form = CountSheetForm(request.POST or None, bins=bins, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            sheet = services.count_sheet_create(
                location=data["location"], note=data["note"], prefill=data["prefill"], user=request.user
            )
        except DomainError as exc:
            add_domain_errors(form, exc)
        else:
            return redirect("inventory:count", pk=sheet.pk)
    return _render(request, "inventory/count_new.html", {"form": form}, fragments=())


def _count_context(
    sheet: CountSheet, message: Message | None = None, last: int | None = None
) -> dict[str, Any]:
    lines = sorted(sheet.lines.all(), key=lambda ln: (ln.product.sku, ln.lot.code if ln.lot else ""))
    rows = []
    for line in lines:
        diff = None if line.counted_quantity is None else line.counted_quantity - line.expected_quantity
        rows.append({"line": line, "diff": diff})
    return {
        "sheet": sheet,
        "rows": rows,
        "counted": sum(1 for r in rows if r["diff"] is not None),
        "differences": sum(1 for r in rows if r["diff"]),
        "message": message,
        "last": last,
        "open": sheet.status == CountStatus.OPEN,
    }


def _count_response(
    request: HttpRequest, pk: int, message: Message | None, *, last: int | None = None, toast: str = ""
) -> HttpResponse:
    sheet = selectors.count_sheet_detail(pk)
    if request.htmx:  # type: ignore[attr-defined]
        context = _count_context(sheet, message, last) | {"can_write": True}
        response = render(request, "inventory/count_detail.html#panel", context)
        events = {"scanned": {"ok": message.level == "ok"}} if message and message.level != "info" else {}
        return _trigger(response, toast, events=events)
    if message:
        messages.add_message(
            request, messages.ERROR if message.level == "bad" else messages.INFO, message.text
        )
    return redirect("inventory:count", pk=pk)


@read
def count_detail(request: HttpRequest, pk: int) -> HttpResponse:
    sheet = _or_404(selectors.count_sheet_detail, pk)
    return _render(request, "inventory/count_detail.html", _count_context(sheet), fragments=("panel",))


@write
@require_POST
def count_scan(request: HttpRequest, pk: int) -> HttpResponse:
    sheet = _or_404(selectors.count_sheet_detail, pk)
    code = request.POST.get("code", "").strip()
    lot_code = request.POST.get("lot", "").strip()
    scanned = _resolve_code(code) if code else None
    last = None
    if scanned is None or scanned.product is None:
        message = _unknown(code)
        if scanned is not None and scanned.location is not None:
            message = Message(f"{scanned.location} is a bin: this sheet counts {sheet.location}.", "bad")
    else:
        product = scanned.product
        try:
            with transaction.atomic():
                lot = None
                if product.tracking != Tracking.NONE and lot_code:
                    lot = services.lot_get_or_create(product=product, code=lot_code)
                line = services.count_line_set(
                    sheet=sheet, product=product, lot=lot, counted=scanned.factor, add=True
                )
        except DomainError as exc:
            message = Message(exc.message, "bad")
        else:
            last = line.pk
            box = f" (1 {scanned.unit})" if scanned.unit else ""
            counted = _qty(line.counted_quantity or ZERO)
            message = Message(
                f"+{_qty(scanned.factor)} {product.sku}{box} · {product.name} → {counted} counted"
            )
    return _count_response(request, pk, message, last=last)


@write
@require_POST
def count_line(request: HttpRequest, pk: int) -> HttpResponse:
    """Counted quantities typed in: one field (htmx) or all of them (the form without JavaScript)."""
    sheet = _or_404(selectors.count_sheet_detail, pk)
    lines = {line.pk: line for line in sheet.lines.all()}
    trigger = request.htmx.trigger_name if request.htmx else None  # type: ignore[attr-defined]
    names = [trigger] if trigger else [name for name in request.POST if name.startswith("counted:")]
    message = None
    last = None
    try:
        with transaction.atomic():
            for name in names:
                line = lines.get(_int(name.removeprefix("counted:")) or 0)
                raw = request.POST.get(name, "").strip()
                if line is None or (raw == "" and line.counted_quantity is None):
                    continue
                if raw == "":
                    raise ValidationFailed(f"Type what was counted of {line.product.sku} (0 if none).")
                counted = _parse_qty(raw)
                if counted is None:
                    raise ValidationFailed(f"“{raw}” is not a number ({line.product.sku}).")
                services.count_line_set(sheet=sheet, product=line.product, lot=line.lot, counted=counted)
                last = line.pk
    except DomainError as exc:
        message = Message(exc.message, "bad")
    return _count_response(request, pk, message, last=last)


@write
@require_POST
def count_apply(request: HttpRequest, pk: int) -> HttpResponse:
    sheet = _or_404(selectors.count_sheet_detail, pk)
    try:
        services.count_sheet_apply(
            sheet=sheet, user=request.user, zero_uncounted=request.POST.get("zero_uncounted") == "1"
        )
    except DomainError as exc:
        return _count_response(request, pk, Message(exc.message, "bad"))
    return _count_finished(request, sheet, f"{sheet.number} applied: the differences are in the ledger.")


@write
@require_POST
def count_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    sheet = _or_404(selectors.count_sheet_detail, pk)
    try:
        services.count_sheet_cancel(sheet=sheet, user=request.user)
    except DomainError as exc:
        return _count_response(request, pk, Message(exc.message, "bad"))
    return _count_finished(request, sheet, f"{sheet.number} cancelled; nothing was adjusted.")


def _count_finished(request: HttpRequest, sheet: CountSheet, text: str) -> HttpResponse:
    """The sheet is read-only now: load it whole (htmx follows HX-Redirect), with the news as a toast."""
    messages.success(request, text)
    url = reverse("inventory:count", kwargs={"pk": sheet.pk})
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)  # type: ignore[attr-defined]


# ---------------------------------------------------------------- replenishment and valuation


def _rule_initial(request: HttpRequest) -> dict[str, Any]:
    rule = reorder_rule_for_edit(request.GET.get("edit"))
    if rule is not None:
        return {
            "product": rule.product.sku,
            "warehouse": rule.warehouse_id,
            "min_quantity": _qty(rule.min_quantity),
            "max_quantity": _qty(rule.max_quantity),
            "multiple": _qty(rule.multiple),
        }
    return {"product": request.GET.get("product", ""), "warehouse": _int(request.GET.get("warehouse"))}


def reorder_rule_for_edit(pk: Any) -> ReorderRule | None:
    pk = _int(pk)
    return selectors.reorder_rule_list().filter(pk=pk).first() if pk else None


@read_write
def replenishment_list(request: HttpRequest) -> HttpResponse:
    form = ReorderRuleForm(request.POST or None, initial=_rule_initial(request))
    saved = ""
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            rule = services.reorder_rule_set(
                product=data["product"],
                warehouse=data["warehouse"],
                min_quantity=data["min_quantity"],
                max_quantity=data["max_quantity"],
                multiple=data["multiple"],
                user=request.user,
            )
        except DomainError as exc:
            add_domain_errors(form, exc)
        else:
            limits = f"{_qty(rule.min_quantity)}–{_qty(rule.max_quantity)}"
            saved = f"Rule saved: {rule.product.sku} in {rule.warehouse.code}, {limits}."
            if not request.htmx:  # type: ignore[attr-defined]
                messages.success(request, saved)
                return redirect(request.get_full_path())
            form = ReorderRuleForm(initial={"warehouse": rule.warehouse_id})
    warehouse_id = _int(request.GET.get("warehouse"))
    rules = ReorderRuleFilter(request.GET, queryset=selectors.reorder_rule_list())
    context = {
        "form": form,
        "warehouses": selectors.warehouse_list(),
        "warehouse_id": warehouse_id,
        "suggestions": replenishment.suggestions(warehouse_id=warehouse_id),
        "rules": rules,
        "page": _page(request, rules.qs),
    }
    status = 422 if form.errors else 200
    response = _render(
        request, "inventory/replenishment.html", context, fragments=("rows", "body"), status=status
    )
    return _trigger(response, saved)


@read
def valuation_report(request: HttpRequest) -> HttpResponse:
    current = valuation.current_by_warehouse()
    as_of_text = request.GET.get("as_of", "").strip()
    as_of_date = parse_date(as_of_text) if as_of_text else None
    error = ""
    past = None
    if as_of_text and as_of_date is None:
        error = f"“{as_of_text}” is not a date (YYYY-MM-DD)."
    elif as_of_date is not None:
        moment = timezone.make_aware(datetime.combine(as_of_date, time.max))
        past = valuation.as_of(moment)
    warehouse_id = _int(request.GET.get("warehouse"))
    context = {
        "current": current,
        "total": sum((v.value for v in current), ZERO),
        "total_quantity": sum((v.quantity for v in current), ZERO),
        "as_of": as_of_date,
        "as_of_text": as_of_text,
        "comparison": [
            {"warehouse": now.warehouse, "now": now, "then": then, "change": now.value - then.value}
            for now, then in zip(current, past, strict=True)
        ]
        if past is not None
        else [],
        "past_total": sum((v.value for v in past), ZERO) if past is not None else None,
        "error": error,
        "warehouse_id": warehouse_id,
        "top": list(valuation.by_product(warehouse_id)[:25]),
    }
    return _render(request, "inventory/valuation.html", context, fragments=())
