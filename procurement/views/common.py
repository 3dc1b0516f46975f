"""What every procurement page shares: rights, fragment rendering, toasts, paging, sorting, numbers."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Page, Paginator
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render

from erp.access import user_can, user_has_right
from erp.money import quantize_money, quantize_quantity
from erp.permissions import area_required

PAGE_SIZE = 50
View = Callable[..., HttpResponse]

read = area_required("procurement")
write = area_required("procurement", "write")


def read_write(view: View) -> View:
    """GET and HEAD need procurement:read; POST (anything else) procurement:write."""
    reader, writer = read(view), write(view)

    @wraps(view)
    def dispatch(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        handler = reader if request.method in ("GET", "HEAD") else writer
        return handler(request, *args, **kwargs)

    return dispatch


def can_receive(user: Any) -> bool:
    """Goods are received by warehouse workers (inventory:write) or by purchasing (procurement:write)."""
    return user_can(user, "inventory", "write") or user_can(user, "procurement", "write")


def receive_required(view: View) -> View:
    """The receiving screen: log in first, then inventory:write or procurement:write, else 403."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not can_receive(request.user):
            return render(
                request, "403.html", {"missing": "Inventory (write) or Procurement (write)"}, status=403
            )
        return view(request, *args, **kwargs)

    return wrapper


def is_htmx(request: HttpRequest) -> bool:
    return bool(getattr(request, "htmx", False))


def htmx_target(request: HttpRequest) -> str:
    return (request.htmx.target or "") if is_htmx(request) else ""  # type: ignore[attr-defined]


def rights(request: HttpRequest) -> dict[str, bool]:
    user = request.user
    return {
        "can_write": user_can(user, "procurement", "write"),
        "can_receive": can_receive(user),
        "can_approve": user_has_right(user, "procurement_approve"),
    }


def render_page(
    request: HttpRequest,
    template: str,
    context: dict[str, Any],
    *,
    fragments: Iterable[str] = ("rows",),
    status: int = 200,
) -> HttpResponse:
    """The fragment htmx targets (when the page has one by that name), else the whole page."""
    target = htmx_target(request)
    if target and target in fragments:
        template = f"{template}#{target}"
    for key, value in rights(request).items():
        context.setdefault(key, value)
    return render(request, template, context, status=status)


def toast(response: HttpResponse, message: str, level: str = "success", **events: Any) -> HttpResponse:
    """HX-Trigger: a toast (erp/static/erp/app.js shows it) and any other events."""
    payload: dict[str, Any] = dict(events)
    if message:
        payload["toast"] = {"message": message, "level": level}
    if payload:
        response["HX-Trigger"] = json.dumps(payload)
    return response


def flash(request: HttpRequest, message: str, level: str = "success") -> None:
    """The same message for a request without htmx, shown after the redirect."""
    (messages.error if level == "error" else messages.success)(request, message)


def paginate(request: HttpRequest, queryset: Any, size: int = PAGE_SIZE) -> Page:
    return Paginator(queryset, size).get_page(request.GET.get("page"))


def query_with(params: QueryDict, **changes: str | None) -> str:
    """The query string of this page with some parameters changed (None drops one); the page resets."""
    query = params.copy()
    query.pop("page", None)
    for key, value in changes.items():
        query.pop(key, None)
        if value is not None and value != "":
            query[key] = value
    encoded = query.urlencode()
    return f"?{encoded}" if encoded else "?"


@dataclass(frozen=True)
class Header:
    label: str
    url: str = ""
    direction: str = ""  # "asc", "desc" or "" (not the sort column)
    num: bool = False


def sort_headers(
    params: QueryDict,
    columns: Iterable[tuple[str, str | None, bool]],
    *,
    default: str,
    descending_first: Iterable[str] = (),
) -> list[Header]:
    """Column headers that sort the list: (label, ordering key or None, numeric)."""
    current = params.get("ordering") or default
    first_desc = set(descending_first)
    headers = []
    for label, key, num in columns:
        if key is None:
            headers.append(Header(label, num=num))
            continue
        if current == key:
            direction, target = "asc", f"-{key}"
        elif current == f"-{key}":
            direction, target = "desc", key
        else:
            direction, target = "", f"-{key}" if key in first_desc else key
        headers.append(Header(label, query_with(params, ordering=target), direction, num))
    return headers


def int_or_none(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def parse_decimal(text: Any) -> Decimal | None:
    """What people type: '12', '2,5', ' 3.25 '. None when it is not a number."""
    try:
        value = Decimal(str(text or "").strip().replace(",", "."))
    except (InvalidOperation, ValueError):
        return None
    return value if value.is_finite() else None


def qty(value: Decimal | None) -> str:
    """12.0000 -> '12', 2.5000 -> '2.5': quantities as people write them."""
    if value is None:
        return ""
    return f"{quantize_quantity(value).normalize():f}"


def price_text(value: Decimal | None) -> str:
    """A unit price as people read it: 4.5000 -> '4.50', 60 -> '60.00', 0.1250 -> '0.125'."""
    if value is None:
        return ""
    text = f"{quantize_money(value).normalize():f}"
    whole, _, decimals = text.partition(".")
    return f"{whole}.{decimals.ljust(2, '0')}"
