"""The global search box finds purchase orders by number and suppliers by name or code."""

from __future__ import annotations

from django.db.models import Q
from django.urls import reverse

from erp import formatting
from erp.search import SearchProvider, SearchResult, register
from procurement.models import PurchaseOrder, Supplier


def search_orders(query: str, limit: int) -> list[SearchResult]:
    query = query.strip()
    orders = (
        PurchaseOrder.objects.select_related("supplier")
        .filter(number__icontains=query)
        .order_by("-order_date", "-id")[:limit]
    )
    return [
        SearchResult(
            title=po.number,
            url=reverse("procurement:order", args=[po.pk]),
            subtitle=" · ".join(
                (po.supplier.name, po.get_status_display(), formatting.money(po.total, po.currency))
            ),
        )
        for po in orders
    ]


def search_suppliers(query: str, limit: int) -> list[SearchResult]:
    query = query.strip()
    suppliers = Supplier.objects.filter(Q(name__icontains=query) | Q(code__istartswith=query)).order_by(
        "name"
    )[:limit]
    return [
        SearchResult(
            title=supplier.name,
            url=reverse("procurement:supplier", args=[supplier.pk]),
            subtitle=" · ".join(
                part for part in (supplier.code, "" if supplier.is_active else "archived") if part
            ),
        )
        for supplier in suppliers
    ]


register(
    SearchProvider(
        key="procurement.orders",
        label="Purchase orders",
        area="procurement",
        search=search_orders,
        hint="number",
    )
)
register(
    SearchProvider(
        key="procurement.suppliers",
        label="Suppliers",
        area="procurement",
        search=search_suppliers,
        hint="name or code",
    )
)
