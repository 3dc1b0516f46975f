"""What every inventory page shares: rights, fragment rendering, toasts, paging, sorting,
filter labels and reading quantities as people type them."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from decimal import Decimal
from functools import wraps
from typing import Any

from django import forms
from django.core.paginator import Paginator
from django.forms.widgets import NullBooleanSelect
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from erp.access import user_can
from erp.money import quantize_quantity, to_decimal
from erp.permissions import area_required
from erp.ui import htmx_of
from inventory import selectors
from inventory.models import CountSheet, Location, LocationKind, Product, Warehouse

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


def render_page(
    request: HttpRequest,
    template: str,
    context: dict[str, Any],
    *,
    fragments: Iterable[str] = ("rows",),
    status: int = 200,
) -> HttpResponse:
    """The fragment htmx targets (when the page has it), else the whole page."""
    target = htmx_of(request).target if htmx_of(request) else None
    if target and target in fragments:
        template = f"{template}#{target}"
    context.setdefault("can_write", user_can(request.user, "inventory", "write"))
    return render(request, template, context, status=status)


def trigger(
    response: HttpResponse, message: str = "", level: str = "success", events: dict[str, Any] | None = None
) -> HttpResponse:
    """HX-Trigger: a toast (erp/static/erp/app.js shows it) and any other events."""
    payload: dict[str, Any] = dict(events or {})
    if message:
        payload["toast"] = {"message": message, "level": level}
    if payload:
        response["HX-Trigger"] = json.dumps(payload)
    return response


def paginate(request: HttpRequest, queryset: Any) -> Any:
    return Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))


def int_or_none(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def qty_text(value: Decimal) -> str:
    """12.0000 -> '12', 2.5000 -> '2.5': how people type quantities."""
    return f"{value.normalize():f}"


def parse_qty(text: str) -> Decimal | None:
    try:
        return quantize_quantity(to_decimal((text or "").strip().replace(",", ".")))
    except (TypeError, ValueError, ArithmeticError):
        return None


def or_404(loader: Callable[[int], Any], pk: int) -> Any:
    try:
        return loader(pk)
    except (Product.DoesNotExist, CountSheet.DoesNotExist, Warehouse.DoesNotExist) as exc:
        raise Http404(str(exc)) from exc


def sort_headers(
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


def friendly_filters(filterset: Any) -> Any:
    """Filter selects say "All" rather than "---------", and "Active: yes / no" rather than "Unknown"."""
    for field in filterset.form.fields.values():
        widget = field.widget
        if isinstance(widget, NullBooleanSelect):
            widget.choices = [("unknown", "All"), ("true", "Yes"), ("false", "No")]
        elif isinstance(field, forms.ChoiceField) and hasattr(field, "empty_label"):
            field.empty_label = "All"
            widget.choices = field.choices  # the widget holds the choices it was built with
    return filterset


def active_bins() -> list[Location]:
    """Every active bin that holds stock, by warehouse and path (for pickers)."""
    return list(selectors.location_list().filter(kind=LocationKind.INTERNAL, is_active=True))
