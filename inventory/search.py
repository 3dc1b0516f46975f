"""The global search box finds products by SKU (prefix), barcode or name, and lots and serial
numbers by code (a result opens the stock levels of that lot). One query each; on PostgreSQL a
trigram index serves the lot code match (migration 0008)."""

from __future__ import annotations

from django.urls import reverse

from erp.search import SearchProvider, SearchResult, register
from inventory.models import Lot, Tracking
from inventory.selectors import product_find


def search_products(query: str, limit: int) -> list[SearchResult]:
    products = product_find(query).select_related("category", "stock_unit").order_by("sku")[:limit]
    return [
        SearchResult(
            title=f"{product.sku} · {product.name}",
            url=reverse("inventory:product", args=[product.pk]),
            subtitle=" · ".join(
                part
                for part in (
                    product.category.name if product.category else "",
                    "" if product.is_active else "archived",
                )
                if part
            ),
        )
        for product in products
    ]


register(
    SearchProvider(
        key="inventory.products",
        label="Products",
        area="inventory",
        search=search_products,
        hint="SKU, barcode or name",
    )
)


def search_lots(query: str, limit: int) -> list[SearchResult]:
    lots = (
        Lot.objects.select_related("product")
        .filter(code__icontains=query.strip())
        .order_by("code", "product__sku")[:limit]
    )
    levels = reverse("inventory:levels")
    return [
        SearchResult(
            title=f"{lot.code} · {lot.product.sku}",
            url=f"{levels}?product={lot.product_id}&lot={lot.pk}",
            subtitle=" · ".join(
                part
                for part in (
                    "serial number" if lot.product.tracking == Tracking.SERIAL else "lot",
                    lot.product.name,
                    f"expires {lot.expiry_date:%Y-%m-%d}" if lot.expiry_date else "",
                )
                if part
            ),
        )
        for lot in lots
    ]


register(
    SearchProvider(
        key="inventory.lots",
        label="Lots and serial numbers",
        area="inventory",
        search=search_lots,
        hint="lot or serial number",
    )
)
