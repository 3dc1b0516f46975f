"""What every procurement page shares: rights (receiving, approving) and fragment rendering; the
rest comes from erp.ui."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from erp.access import user_can, user_can_or_has, user_has_right
from erp.money import quantize_money
from erp.permissions import area_required
from erp.ui import View, read_write_required, render_fragment

read = area_required("procurement")
write = area_required("procurement", "write")
read_write = read_write_required("procurement")


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


def can_bill(user: Any) -> bool:
    """Procurement writers, and accountants with the billing right (bills and bill payments)."""
    return user_can_or_has(user, "procurement", "procurement_bill")


def bill_required(view: View) -> View:
    """Reading procurement, plus procurement:write or the billing right (docs/roles.md)."""

    @wraps(view)
    def check(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not can_bill(request.user):
            return render(request, "403.html", {"missing": "Procurement (write) or billing"}, status=403)
        return view(request, *args, **kwargs)

    return read(check)


def rights(request: HttpRequest) -> dict[str, bool]:
    user = request.user
    return {
        "can_write": user_can(user, "procurement", "write"),
        "can_receive": can_receive(user),
        "can_approve": user_has_right(user, "procurement_approve"),
        "can_bill": can_bill(user),
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
    for key, value in rights(request).items():
        context.setdefault(key, value)
    return render_fragment(request, template, context, fragments=fragments, status=status)


def price_text(value: Decimal | None) -> str:
    """A unit price as people read it: 4.5000 -> '4.50', 60 -> '60.00', 0.1250 -> '0.125'."""
    if value is None:
        return ""
    text = f"{quantize_money(value).normalize():f}"
    whole, _, decimals = text.partition(".")
    return f"{whole}.{decimals.ljust(2, '0')}"
