"""The global search box finds products by SKU (prefix), barcode or name."""

from __future__ import annotations

from django.urls import reverse

from erp.search import SearchProvider, SearchResult, register
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
