"""The global search box finds orders (number, external reference, customer) and customers
(name, code, email), with the same filters as the lists and the API."""

from __future__ import annotations

from django.urls import reverse

from erp import formatting
from erp.search import SearchProvider, SearchResult, register
from sales import selectors
from sales.filters import CustomerFilter, OrderFilter
from sales.models import Customer


def search_orders(query: str, limit: int) -> list[SearchResult]:
    orders = OrderFilter({"q": query}, queryset=selectors.order_list()).qs[:limit]
    return [
        SearchResult(
            title=f"{order.number} · {order.customer.name}",
            url=reverse("sales:order", args=[order.pk]),
            subtitle=" · ".join(
                part
                for part in (
                    order.get_status_display(),
                    formatting.money(order.total, order.currency),
                    order.external_reference,
                    order.channel.name,
                )
                if part
            ),
        )
        for order in orders
    ]


def search_customers(query: str, limit: int) -> list[SearchResult]:
    customers = CustomerFilter({"q": query}, queryset=Customer.objects.order_by("name")).qs[:limit]
    return [
        SearchResult(
            title=f"{customer.name} ({customer.code})",
            url=reverse("sales:customer", args=[customer.pk]),
            subtitle=" · ".join(
                part for part in (customer.email, "" if customer.is_active else "archived") if part
            ),
        )
        for customer in customers
    ]


register(
    SearchProvider(
        key="sales.orders",
        label="Orders",
        area="sales",
        search=search_orders,
        hint="number, external reference or customer name",
    )
)
register(
    SearchProvider(
        key="sales.customers",
        label="Customers",
        area="sales",
        search=search_customers,
        hint="name, code or email",
    )
)
