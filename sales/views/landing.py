"""The sales landing page: what needs doing now, and the way to every sales page."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db.models import Count, F, Q, Sum
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from erp.navigation import AREA_PAGE_BY_KEY
from inventory.models import ProductKind
from inventory.selectors import reserved_for_demand
from sales import selectors
from sales.models import Invoice, InvoiceKind, InvoiceStatus, OrderLine, OrderStatus, SalesOrder
from sales.views.common import read, render_page
from sales.views.fulfilment import queue

SHIPPABLE = (OrderStatus.CONFIRMED, OrderStatus.PARTIALLY_SHIPPED)


def backordered_lines() -> int:
    """Open lines of stocked products on confirmed orders with less held than is still to ship."""
    return (
        OrderLine.objects.filter(
            order__status__in=SHIPPABLE, product__kind=ProductKind.STOCKED, quantity__gt=F("quantity_shipped")
        )
        .annotate(held=reserved_for_demand(selectors.DEMAND_TYPE))
        .filter(held__lt=F("quantity") - F("quantity_shipped"))
        .count()
    )


def receivables() -> list[dict[str, Any]]:
    """Per currency: what is open on issued invoices and what of it is overdue. One query."""
    today = timezone.localdate()
    balance = F("total") - F("amount_paid")
    rows = (
        Invoice.objects.filter(
            kind=InvoiceKind.INVOICE, status__in=[InvoiceStatus.ISSUED, InvoiceStatus.PARTIALLY_PAID]
        )
        .order_by()
        .values("currency")
        .annotate(
            open=Sum(balance),
            invoices=Count("pk"),
            overdue=Sum(balance, filter=Q(due_date__lt=today)),
            overdue_count=Count("pk", filter=Q(due_date__lt=today)),
        )
        .order_by("currency")
    )
    return [{**r, "overdue": r["overdue"] or Decimal(0)} for r in rows]


@read
def index(request: HttpRequest) -> HttpResponse:
    ready = queue().aggregate(orders=Count("order", distinct=True), lines=Count("pk"))
    money = receivables()
    context = {
        "page": AREA_PAGE_BY_KEY["sales"],
        "to_confirm": SalesOrder.objects.filter(status=OrderStatus.DRAFT).count(),
        "ready": ready,
        "backordered": backordered_lines(),
        "receivables": money,
        "overdue_count": sum(r["overdue_count"] for r in money),
        "recent": list(selectors.order_list()[:10]),
    }
    return render_page(request, "sales/index.html", context, fragments=())
