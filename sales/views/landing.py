"""The sales landing page: what needs doing now, and the way to every sales page."""

from __future__ import annotations

from django.db.models import Count
from django.http import HttpRequest, HttpResponse

from erp.navigation import AREA_PAGE_BY_KEY
from sales import selectors
from sales.views.common import read, render_page


@read
def index(request: HttpRequest) -> HttpResponse:
    ready = selectors.ready_to_ship().aggregate(orders=Count("order", distinct=True), lines=Count("pk"))
    money = selectors.receivables()
    context = {
        "page": AREA_PAGE_BY_KEY["sales"],
        "to_confirm": selectors.orders_to_confirm().count(),
        "ready": ready,
        "backordered": selectors.backordered_line_count(),
        "receivables": money,
        "overdue_count": sum(r["overdue_count"] for r in money),
        "recent": list(selectors.order_list()[:10]),
    }
    return render_page(request, "sales/index.html", context, fragments=())
