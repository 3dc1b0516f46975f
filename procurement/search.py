"""The global search box finds purchase orders by number, suppliers by name or code, and bills by
their number or the supplier's invoice number. One query each; on PostgreSQL trigram indexes serve
the substring matches (migration 0004)."""

from __future__ import annotations

from django.db.models import Q
from django.urls import reverse

from erp import formatting
from erp.search import SearchProvider, SearchResult, register
from procurement.models import Bill, PurchaseOrder, Supplier


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


def search_bills(query: str, limit: int) -> list[SearchResult]:
    query = query.strip()
    bills = (
        Bill.objects.select_related("supplier", "order")
        .filter(Q(number__icontains=query) | Q(supplier_reference__icontains=query))
        .order_by("-bill_date", "-id")[:limit]
    )
    return [
        SearchResult(
            title=f"{bill.number} · {bill.supplier.name}",
            url=reverse("procurement:bill", args=[bill.pk]),
            subtitle=" · ".join(
                (
                    f"their invoice {bill.supplier_reference}",
                    bill.get_status_display(),
                    formatting.money(bill.total, bill.currency),
                    bill.order.number,
                )
            ),
        )
        for bill in bills
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
register(
    SearchProvider(
        key="procurement.bills",
        label="Bills",
        area="procurement",
        search=search_bills,
        hint="number or the supplier's invoice number",
    )
)
