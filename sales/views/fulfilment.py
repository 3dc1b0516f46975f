"""The fulfilment queue: what can ship today, grouped by order, oldest first."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_POST

from erp.exceptions import DomainError
from erp.money import ZERO
from erp.ui import flash, is_htmx, paginate, toast
from sales import selectors, services
from sales.models import SalesOrder, Shipment
from sales.views.common import read, render_page, ship
from sales.views.orders import answer

QUEUE_PAGE = 100


def _context(request: HttpRequest) -> dict[str, Any]:
    page = paginate(request, selectors.ready_to_ship(), size=QUEUE_PAGE)
    lines = list(page.object_list)
    reserved = selectors.reserved_by_line([ln.pk for ln in lines])
    groups: list[dict[str, Any]] = []
    for line in lines:
        if not groups or groups[-1]["order"].pk != line.order_id:
            groups.append({"order": line.order, "lines": [], "units": []})
        held = reserved.get(line.pk, ZERO)
        groups[-1]["lines"].append(
            {"line": line, "reserved": held, "open": line.quantity - line.quantity_shipped}
        )
        groups[-1]["units"].append((held, line.product.stock_unit.code))  # per unit: no kg + pcs
    return {"page": page, "groups": groups}


@read
def fulfilment_queue(request: HttpRequest) -> HttpResponse:
    return render_page(request, "sales/fulfilment.html", _context(request))


@ship
@require_POST
def fulfilment_ship(request: HttpRequest, pk: int) -> HttpResponse:
    """Ship everything reserved for one order, straight from the queue."""
    order = get_object_or_404(SalesOrder, pk=pk)
    try:
        shipment = services.shipment_create(order=order, lines=None, user=request.user)
    except DomainError as exc:
        message, level = exc.message, "error"
    else:
        message, level = f"{shipment.number} shipped for {order.number}.", "success"
    if is_htmx(request):
        response = render_page(request, "sales/fulfilment.html#rows", _context(request), fragments=())
        return toast(response, message, level)
    flash(request, message, level)
    return redirect("sales:fulfilment")


@ship
@require_POST
def shipment_tracking(request: HttpRequest, pk: int) -> HttpResponse:
    """Change a shipment's carrier and tracking (a label voided and printed again, a number typed
    wrong), from the order page; the channel the order came from is told the new tracking."""
    shipment = get_object_or_404(Shipment.objects.select_related("order"), pk=pk)
    try:
        services.shipment_tracking_set(
            shipment=shipment,
            carrier=request.POST.get("carrier", ""),
            tracking_number=request.POST.get("tracking_number", ""),
            user=request.user,
        )
    except DomainError as exc:
        return answer(request, shipment.order_id, error=exc.message)
    shipment.refresh_from_db()
    travels = " ".join(part for part in (shipment.carrier, shipment.tracking_number) if part)
    return answer(request, shipment.order_id, message=f"{shipment.number} travels under {travels} now.")
