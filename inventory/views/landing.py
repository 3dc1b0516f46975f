"""The landing page (what needs attention today) and the stock check run from it."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from erp.money import ZERO
from erp.navigation import AREA_PAGE_BY_KEY
from erp.ui import htmx_of
from inventory import integrity, replenishment, selectors, valuation
from inventory.views.common import read, render_page, trigger, write


def _overview(request: HttpRequest) -> dict[str, Any]:
    values = valuation.current_by_warehouse()
    return {
        "page": AREA_PAGE_BY_KEY["inventory"],
        "product_count": selectors.active_products().count(),
        "warehouse_count": len(values),
        "stock_value": sum((v.value for v in values), ZERO),
        "below_min": len(replenishment.suggestions()),
        "reservations": selectors.reservation_list().count(),
        "last_check": selectors.last_stock_check(),
        "open_counts": selectors.open_count_sheets().count(),
        "in_transit": selectors.transfers_in_transit().count(),
    }


@read
def index(request: HttpRequest) -> HttpResponse:
    return render_page(request, "inventory/index.html", _overview(request))


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
    if htmx_of(request):
        response = render(request, "inventory/index.html#checktile", {"last_check": run, "can_write": True})
        return trigger(response, text, level)
    messages.add_message(request, messages.ERROR if run.drift_count else messages.SUCCESS, text)
    return redirect("inventory:index")
