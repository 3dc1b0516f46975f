"""What every sales page shares: rights, fragment rendering, toasts, paging and sorting."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from django.contrib import messages
from django.core.paginator import Page, Paginator
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render

from erp.access import user_can, user_has_right
from erp.exceptions import DomainError
from erp.permissions import area_required

PAGE_SIZE = 50
View = Callable[..., HttpResponse]

read = area_required("sales")
write = area_required("sales", "write")


def can_ship(user: Any) -> bool:
    """Sales writers, and warehouse staff with the shipping right, may ship."""
    return user_can(user, "sales", "write") or user_has_right(user, "sales_ship")


def ship(view: View) -> View:
    """Reading sales, plus the right to ship."""

    @wraps(view)
    def check(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not can_ship(request.user):
            return render(request, "403.html", {"missing": "Sales (write) or shipping"}, status=403)
        return view(request, *args, **kwargs)

    return read(check)


def read_write(view: View) -> View:
    """GET and HEAD need sales:read; POST (anything else) sales:write."""
    reader, writer = read(view), write(view)

    @wraps(view)
    def dispatch(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        handler = reader if request.method in ("GET", "HEAD") else writer
        return handler(request, *args, **kwargs)

    return dispatch


def is_htmx(request: HttpRequest) -> bool:
    return bool(getattr(request, "htmx", False))


def htmx_target(request: HttpRequest) -> str:
    return (request.htmx.target or "") if is_htmx(request) else ""  # type: ignore[attr-defined]


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
    context.setdefault("can_write", user_can(request.user, "sales", "write"))
    context.setdefault("can_ship", can_ship(request.user))
    return render(request, template, context, status=status)


def toast(response: HttpResponse, message: str, level: str = "success", **events: Any) -> HttpResponse:
    """HX-Trigger: a toast (erp/static/erp/app.js shows it) and any other events."""
    payload: dict[str, Any] = dict(events)
    if message:
        payload["toast"] = {"message": message, "level": level}
    response["HX-Trigger"] = json.dumps(payload)
    return response


def flash(request: HttpRequest, message: str, level: str = "success") -> None:
    """The same message for a request without htmx, shown after the redirect."""
    (messages.error if level == "error" else messages.success)(request, message)


def error_text(error: DomainError) -> str:
    return error.message


def paginate(request: HttpRequest, queryset: Any, param: str = "page", size: int = PAGE_SIZE) -> Page:
    return Paginator(queryset, size).get_page(request.GET.get(param))


def query_with(params: QueryDict, **changes: str | None) -> str:
    """The query string of this page with some parameters changed (None drops one); the page resets."""
    query = params.copy()
    query.pop("page", None)
    for key, value in changes.items():
        query.pop(key, None)
        if value:
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
