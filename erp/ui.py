"""What every app's pages share: area rights per method, htmx fragments, toasts, paging, sorting,
and reading numbers as people type them. Each app's views/common.py adds its own rights on top.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import wraps
from typing import Any

from django.contrib import messages
from django.core.paginator import Page, Paginator
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django_htmx.middleware import HtmxDetails

from erp.money import quantize_quantity
from erp.permissions import area_required

PAGE_SIZE = 50
View = Callable[..., HttpResponse]


def read_write_required(area: str) -> Callable[[View], View]:
    """A view that reads on GET and HEAD (area:read) and writes on anything else (area:write)."""
    read, write = area_required(area), area_required(area, "write")

    def decorate(view: View) -> View:
        reader, writer = read(view), write(view)

        @wraps(view)
        def dispatch(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            handler = reader if request.method in ("GET", "HEAD") else writer
            return handler(request, *args, **kwargs)

        return dispatch

    return decorate


def htmx_of(request: HttpRequest) -> HtmxDetails:
    """What htmx says about the request (``request.htmx``, set by django-htmx's middleware, typed;
    false for a plain request): ``htmx_of(request).target``, ``.trigger_name``, ``.prompt``."""
    details = getattr(request, "htmx", None)
    return details if isinstance(details, HtmxDetails) else HtmxDetails(request)


def is_htmx(request: HttpRequest) -> bool:
    return bool(htmx_of(request))


def htmx_target(request: HttpRequest) -> str:
    return htmx_of(request).target or ""


def render_fragment(
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
    return render(request, template, context, status=status)


def toast(
    response: HttpResponse,
    message: str,
    level: str = "success",
    *,
    events: dict[str, Any] | None = None,
    after_settle: bool = False,
    **more_events: Any,
) -> HttpResponse:
    """HX-Trigger (or HX-Trigger-After-Settle): a toast (erp/static/erp/app.js shows it) and any
    other events the page listens for (``events`` for names that are not Python identifiers)."""
    payload: dict[str, Any] = {**(events or {}), **more_events}
    if message:
        payload["toast"] = {"message": message, "level": level}
    if payload:
        response["HX-Trigger-After-Settle" if after_settle else "HX-Trigger"] = json.dumps(payload)
    return response


def flash(request: HttpRequest, message: str, level: str = "success") -> None:
    """The same message for a request without htmx, shown after the redirect."""
    {"error": messages.error, "warning": messages.warning}.get(level, messages.success)(request, message)


def paginate(request: HttpRequest, queryset: Any, size: int = PAGE_SIZE, param: str = "page") -> Page:
    return Paginator(queryset, size).get_page(request.GET.get(param))


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
        value = Decimal(str(text if text is not None else "").strip().replace(",", "."))
    except (InvalidOperation, ValueError):
        return None
    return value if value.is_finite() else None


def qty(value: Decimal | None) -> str:
    """12.0000 -> '12', 2.5000 -> '2.5': quantities as people write them."""
    if value is None:
        return ""
    return f"{quantize_quantity(value).normalize():f}"
