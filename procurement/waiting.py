"""Procurement's part of "waiting for you" (erp.waiting): purchase orders above the approval
threshold that nobody has approved yet, for those who may approve them (``procurement_approve``).

Two queries whatever the number of orders: the count, and the oldest few to open directly.
"""

from __future__ import annotations

from django.http import HttpRequest
from django.urls import reverse

from erp import formatting
from erp.access import user_has_right
from erp.waiting import WaitingItem, WaitingLink, WaitingSource, register
from procurement.filters import PurchaseOrderFilter
from procurement.models import PurchaseOrder

SHOWN = 5  # orders listed by number under the count


def purchase_orders_to_approve(request: HttpRequest) -> list[WaitingItem]:
    if not user_has_right(request.user, "procurement_approve"):
        return []
    # The same orders as the list's "Awaiting approval" filter: one definition, the filter's.
    orders = PurchaseOrderFilter({"needs_approval": "true"}, queryset=PurchaseOrder.objects.all()).qs
    count = orders.count()
    if not count:
        return []
    oldest = orders.select_related("supplier").order_by("order_date", "id")[:SHOWN]
    links = tuple(
        WaitingLink(
            label=f"{po.number} · {formatting.money(po.total, po.currency, total=True)}",
            url=reverse("procurement:order", args=[po.pk]),
            title=f"{po.number}, {po.supplier.name}: {formatting.money(po.total, po.currency, total=True)}",
        )
        for po in oldest
    )
    return [
        WaitingItem(
            key="procurement.po-approval",
            title="Purchase orders to approve",
            count=count,
            url=reverse("procurement:orders") + "?needs_approval=true",
            action="Review",
            detail="Above the approval threshold: open one to approve it.",
            links=links,
        )
    ]


register(WaitingSource("procurement.po-approval", 10, purchase_orders_to_approve))
