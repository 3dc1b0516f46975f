"""The landing page of procurement, and replenishment (what to buy now)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone

from erp.exceptions import DomainError
from erp.money import round_money
from erp.navigation import AREA_PAGE_BY_KEY
from erp.ui import flash, int_or_none, is_htmx, toast
from inventory.selectors import warehouse_list
from procurement import replenishment, selectors, thresholds
from procurement.models import PurchaseOrder
from procurement.replenishment import PurchaseSuggestion
from procurement.views.common import read, read_write, render_page


@read
def index(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    week = today + datetime.timedelta(days=7)
    orders = selectors.po_figures(today)
    bills = selectors.bill_figures(today)
    context = {
        "page": AREA_PAGE_BY_KEY["procurement"],
        "orders": orders,
        "bills": bills,
        "below_minimum": len(replenishment.suggestions()),
        "yesterday": today - datetime.timedelta(days=1),
        "week": week,
        "thresholds": thresholds.described(),
        "thresholds_in_short": thresholds.in_short(),
    }
    return render_page(request, "procurement/index.html", context)


@dataclass(frozen=True)
class SuggestionRow:
    """A purchase suggestion with its numbers as people read them."""

    s: PurchaseSuggestion

    @property
    def amount(self) -> Decimal | None:
        s = self.s
        if s.item is None or s.unit_price is None:
            return None
        return round_money(s.quantity * s.unit_price, s.item.supplier.currency)


def _replenishment_context(request: HttpRequest, **extra: Any) -> dict[str, Any]:
    source = request.POST if request.method == "POST" else request.GET
    warehouse_id = int_or_none(source.get("warehouse"))
    rows = replenishment.suggestions(warehouse_id=warehouse_id)
    rows.sort(
        key=lambda s: (s.item is None, s.item.supplier.name if s.item else "", s.stock.rule.product.sku)
    )
    created_ids = [pk for pk in (int_or_none(v) for v in source.get("created", "").split(",")) if pk]
    return {
        "created": list(PurchaseOrder.objects.filter(pk__in=created_ids).select_related("supplier")),
        "suggestions": [SuggestionRow(s) for s in rows],
        "warehouses": list(warehouse_list()),
        "warehouse_id": warehouse_id,
        "selectable": sum(1 for s in rows if s.orderable),
        **extra,
    }


@read_write
def replenishment_list(request: HttpRequest) -> HttpResponse:
    """Below minimum, bought from the preferred supplier: tick and create draft orders."""
    if request.method != "POST":
        return render_page(
            request, "procurement/replenishment.html", _replenishment_context(request), fragments=("rows",)
        )
    keys = request.POST.getlist("key")
    created: list[PurchaseOrder] = []
    error = ""
    if not keys:
        error = "Tick at least one suggestion."
    else:
        try:
            created = replenishment.orders_from_suggestions(keys=keys, user=request.user)
        except DomainError as exc:
            error = exc.message
    message = (
        f"{len(created)} draft purchase order{'s' if len(created) != 1 else ''} created: "
        + ", ".join(po.number for po in created)
        if created
        else ""
    )
    if not is_htmx(request):
        flash(request, error or message, "error" if error else "success")
        if created:
            return redirect(f"{request.path}?created={','.join(str(po.pk) for po in created)}")
        return redirect(request.get_full_path())
    context = _replenishment_context(request, created=created, error=error)
    response = render_page(request, "procurement/replenishment.html#rows", context, fragments=())
    return toast(response, error or message, "error" if error else "success")
