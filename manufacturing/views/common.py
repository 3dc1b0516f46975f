"""What every manufacturing page shares: rights, fragment rendering and links to other apps'
documents; the rest comes from erp.ui."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.urls import NoReverseMatch, reverse

from erp.access import user_can
from erp.permissions import area_required
from erp.ui import read_write_required, render_fragment

read = area_required("manufacturing")
write = area_required("manufacturing", "write")
read_write = read_write_required("manufacturing")


def can_write(request: HttpRequest) -> bool:
    return user_can(request.user, "manufacturing", "write")


def render_page(
    request: HttpRequest,
    template: str,
    context: dict[str, Any],
    *,
    fragments: Iterable[str] = ("rows",),
    status: int = 200,
) -> HttpResponse:
    """The fragment htmx targets (when the page has one by that name), else the whole page."""
    context.setdefault("can_write", can_write(request))
    return render_fragment(request, template, context, fragments=fragments, status=status)


def document_url(number: str, pk: int | None) -> str:
    """Where a document created by manufacturing lives: MO-... here, PO-... in procurement."""
    if pk is not None:
        name = "manufacturing:order" if number.startswith("MO-") else "procurement:order"
        try:
            return reverse(name, args=[pk])
        except NoReverseMatch:
            pass
    return f"{reverse('search')}?q={number}"


def product_url(pk: int) -> str:
    """The product's page in inventory, or "" while inventory has none."""
    try:
        return reverse("inventory:product", args=[pk])
    except NoReverseMatch:
        return ""
