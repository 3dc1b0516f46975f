"""The global search box finds manufacturing orders by number and bills of materials by product."""

from __future__ import annotations

from django.db.models import Q
from django.urls import reverse

from erp import formatting
from erp.search import SearchProvider, SearchResult, register
from manufacturing.models import BillOfMaterials, ManufacturingOrder


def search_orders(query: str, limit: int) -> list[SearchResult]:
    query = query.strip()
    orders = (
        ManufacturingOrder.objects.select_related("product", "warehouse")
        .filter(number__icontains=query)
        .order_by("-planned_start", "-id")[:limit]
    )
    return [
        SearchResult(
            title=mo.number,
            url=reverse("manufacturing:order", args=[mo.pk]),
            subtitle=" · ".join(
                (
                    f"{formatting.number(mo.quantity)} × {mo.product.sku}",
                    mo.warehouse.code,
                    mo.get_status_display(),
                )
            ),
        )
        for mo in orders
    ]


def search_boms(query: str, limit: int) -> list[SearchResult]:
    query = query.strip()
    boms = (
        BillOfMaterials.objects.select_related("product")
        .filter(Q(product__sku__istartswith=query) | Q(product__name__icontains=query))
        .order_by("-is_active", "product__sku", "-version")[:limit]
    )
    return [
        SearchResult(
            title=f"{bom.product.sku} · {bom.product.name} — BOM v{bom.version}",
            url=reverse("manufacturing:bom", args=[bom.pk]),
            subtitle="active" if bom.is_active else "not active",
        )
        for bom in boms
    ]


PROVIDERS = (
    SearchProvider(
        key="manufacturing.orders",
        label="Manufacturing orders",
        area="manufacturing",
        search=search_orders,
        hint="number",
    ),
    SearchProvider(
        key="manufacturing.boms",
        label="Bills of materials",
        area="manufacturing",
        search=search_boms,
        hint="product SKU or name",
    ),
)
for provider in PROVIDERS:
    register(provider)
