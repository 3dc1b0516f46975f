"""What every sales page shares: rights and fragment rendering; the rest comes from erp.ui."""

from __future__ import annotations

from collections.abc import Iterable
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from erp.access import user_can, user_can_or_has, user_has_right
from erp.permissions import area_required
from erp.ui import View, read_write_required, render_fragment

read = area_required("sales")
write = area_required("sales", "write")
read_write = read_write_required("sales")


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


def can_invoice(user: Any) -> bool:
    """Sales writers, and accountants with the invoicing right (invoices, payments, refunds)."""
    return user_can_or_has(user, "sales", "sales_invoice")


def invoicing(view: View) -> View:
    """Reading sales, plus sales:write or the invoicing right (separation of duties: docs/roles.md)."""

    @wraps(view)
    def check(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not can_invoice(request.user):
            return render(request, "403.html", {"missing": "Sales (write) or invoicing"}, status=403)
        return view(request, *args, **kwargs)

    return read(check)


def render_page(
    request: HttpRequest,
    template: str,
    context: dict[str, Any],
    *,
    fragments: Iterable[str] = ("rows",),
    status: int = 200,
) -> HttpResponse:
    """The fragment htmx targets (when the page has one by that name), else the whole page."""
    context.setdefault("can_write", user_can(request.user, "sales", "write"))
    context.setdefault("can_ship", can_ship(request.user))
    context.setdefault("can_invoice", can_invoice(request.user))
    return render_fragment(request, template, context, fragments=fragments, status=status)
