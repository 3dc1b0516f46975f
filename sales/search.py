"""The global search box finds orders (number, the channel's order number with or without its "#",
customer), customers (name, code, email), invoices and credit notes (number, customer, the order's
channel number), shipments (number, tracking number) and returns (number). Each provider is one
query; on PostgreSQL trigram indexes serve the substring matches (migration 0005)."""

from __future__ import annotations

from django.db.models import Q
from django.urls import reverse

from erp import formatting
from erp.search import SearchProvider, SearchResult, register
from sales import selectors
from sales.filters import CustomerFilter, OrderFilter
from sales.models import Customer, Invoice, InvoiceKind, SalesReturn, Shipment


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


def bare_number(query: str) -> str:
    """A tool's order number without its "#": "#1042" -> "1042"."""
    return query.lstrip("#").strip() or query


def channel_number(field: str, query: str) -> Q:
    """A channel's order number, typed with or without its "#"."""
    bare = bare_number(query)
    return Q(**{f"{field}__istartswith": bare}) | Q(**{f"{field}__istartswith": f"#{bare}"})


def search_invoices(query: str, limit: int) -> list[SearchResult]:
    invoices = (
        Invoice.objects.select_related("customer", "order")
        .filter(
            Q(number__icontains=query)
            | Q(customer__name__icontains=query)
            | channel_number("order__external_reference", query)
        )
        .order_by("-created_at", "-id")[:limit]
    )
    return [
        SearchResult(
            title=f"{invoice.number or 'Draft'} · {invoice.customer.name}",
            url=reverse("sales:invoice", args=[invoice.pk]),
            subtitle=" · ".join(
                part
                for part in (
                    "Credit note" if invoice.kind == InvoiceKind.CREDIT_NOTE else "Invoice",
                    invoice.get_status_display(),
                    formatting.money(invoice.total, invoice.currency),
                    invoice.order.number,
                    invoice.order.external_reference,
                )
                if part
            ),
        )
        for invoice in invoices
    ]


def search_shipments(query: str, limit: int) -> list[SearchResult]:
    shipments = (
        Shipment.objects.select_related("order__customer")
        .filter(Q(number__icontains=query) | Q(tracking_number__icontains=query.replace(" ", "")))
        .order_by("-shipped_at", "-id")[:limit]
    )
    return [
        SearchResult(
            title=f"{shipment.number} · {shipment.order.number} · {shipment.order.customer.name}",
            url=reverse("sales:order", args=[shipment.order_id]) + "#shipments",
            subtitle=" · ".join(
                part
                for part in (
                    f"shipped {shipment.shipped_at:%Y-%m-%d}",
                    shipment.carrier,
                    f"tracking {shipment.tracking_number}" if shipment.tracking_number else "",
                )
                if part
            ),
        )
        for shipment in shipments
    ]


def search_returns(query: str, limit: int) -> list[SearchResult]:
    returns = (
        SalesReturn.objects.select_related("order__customer")
        .filter(number__icontains=query)
        .order_by("-created_at", "-id")[:limit]
    )
    return [
        SearchResult(
            title=f"{ret.number} · {ret.order.number} · {ret.order.customer.name}",
            url=reverse("sales:order", args=[ret.order_id]) + "#returns",
            subtitle=" · ".join(part for part in (ret.get_status_display(), ret.reason) if part),
        )
        for ret in returns
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
for provider in (
    SearchProvider(
        key="sales.invoices",
        label="Invoices and credit notes",
        area="sales",
        search=search_invoices,
        hint="number, customer or the channel's order number",
    ),
    SearchProvider(
        key="sales.shipments",
        label="Shipments",
        area="sales",
        search=search_shipments,
        hint="shipment or tracking number",
    ),
    SearchProvider(key="sales.returns", label="Returns", area="sales", search=search_returns, hint="number"),
):
    register(provider)
