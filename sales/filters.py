"""Filters of sales, shared by the API and the UI (django-filter)."""

from __future__ import annotations

import datetime
import json

import django_filters
from django.db import connection
from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.utils import timezone

from inventory.selectors import reserved_for_demand
from sales.lifecycle import OPEN_STATUSES
from sales.models import (
    ChannelKind,
    Customer,
    CustomerKind,
    Invoice,
    InvoiceKind,
    InvoiceStatus,
    OrderLine,
    OrderStatus,
    Payment,
    ReturnStatus,
    SalesChannel,
    SalesOrder,
    SalesReturn,
    Shipment,
)

OPEN = "open"
ORDER_STATUS_CHOICES = [(OPEN, "Open"), *OrderStatus.choices]
OPEN_INVOICE_STATUSES = (InvoiceStatus.ISSUED, InvoiceStatus.PARTIALLY_PAID)
# Orders have no promised date: one confirmed (or partly shipped) is late once it has waited more
# than this many whole days after the day it was ordered (the home's "late", ``?late=true``).
SHIP_WITHIN_DAYS = 2
NOT_BOOKED = (OrderStatus.DRAFT, OrderStatus.CANCELLED)
TO_SHIP = (OrderStatus.CONFIRMED, OrderStatus.PARTIALLY_SHIPPED)


def backordered_lines() -> QuerySet[OrderLine]:
    """Open lines that take our stock on confirmed (or partly shipped) orders with less held for them
    than is still to ship: what ``sales.selectors.backordered_line_count`` counts, as a queryset."""
    return (
        OrderLine.objects.filter(OrderLine.USES_OUR_STOCK, order__status__in=TO_SHIP)
        .filter(quantity__gt=F("quantity_shipped"))
        .annotate(held=reserved_for_demand(OrderLine._meta.label_lower))
        .filter(held__lt=F("quantity") - F("quantity_shipped"))
    )


def late_cutoff() -> datetime.datetime:
    """Orders to ship that were ordered before this moment are late: the start of the local day
    ``SHIP_WITHIN_DAYS`` days ago."""
    day = timezone.localdate() - datetime.timedelta(days=SHIP_WITHIN_DAYS)
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


class OrderFilter(django_filters.FilterSet):
    """Orders. ``status=open`` is a pseudo-status: confirmed, partially shipped or on hold."""

    status = django_filters.ChoiceFilter(choices=ORDER_STATUS_CHOICES, method="filter_status")
    channel = django_filters.ModelChoiceFilter(queryset=SalesChannel.objects.all())
    customer = django_filters.NumberFilter(field_name="customer_id")
    since = django_filters.IsoDateTimeFilter(field_name="order_date", lookup_expr="gte")
    until = django_filters.IsoDateTimeFilter(field_name="order_date", lookup_expr="lte")
    product = django_filters.NumberFilter(method="filter_product", label="Product id")
    q = django_filters.CharFilter(method="filter_q", label="Search")
    tag = django_filters.CharFilter(method="filter_tag")
    updated_since = django_filters.IsoDateTimeFilter(field_name="updated_at", lookup_expr="gte")
    booked = django_filters.BooleanFilter(method="filter_booked", label="Booked (not draft or cancelled)")
    to_ship = django_filters.BooleanFilter(method="filter_to_ship", label="To ship (confirmed, part shipped)")
    late = django_filters.BooleanFilter(method="filter_late", label="Late to ship")
    backordered = django_filters.BooleanFilter(method="filter_backordered", label="Waiting for stock")
    ordering = django_filters.OrderingFilter(
        fields=(("order_date", "date"), ("number", "number"), ("total", "total")),
    )

    class Meta:
        model = SalesOrder
        fields = ["status", "channel", "customer"]

    def filter_status(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        if not value:
            return queryset
        if value == OPEN:
            return queryset.filter(status__in=OPEN_STATUSES)
        return queryset.filter(status=value)

    def filter_product(self, queryset: QuerySet, name: str, value: int | None) -> QuerySet:
        if value is None:
            return queryset
        return queryset.filter(Exists(OrderLine.objects.filter(order=OuterRef("pk"), product_id=value)))

    def filter_booked(self, queryset: QuerySet, name: str, value: bool | None) -> QuerySet:
        if value is None:
            return queryset
        return queryset.exclude(status__in=NOT_BOOKED) if value else queryset.filter(status__in=NOT_BOOKED)

    def filter_to_ship(self, queryset: QuerySet, name: str, value: bool | None) -> QuerySet:
        if value is None:
            return queryset
        return queryset.filter(status__in=TO_SHIP) if value else queryset.exclude(status__in=TO_SHIP)

    def filter_late(self, queryset: QuerySet, name: str, value: bool | None) -> QuerySet:
        """To ship and ordered before ``late_cutoff()`` (the (status, order_date) index)."""
        if value is None:
            return queryset
        late = Q(status__in=TO_SHIP, order_date__lt=late_cutoff())
        return queryset.filter(late) if value else queryset.exclude(late)

    def filter_backordered(self, queryset: QuerySet, name: str, value: bool | None) -> QuerySet:
        """Orders with a line waiting for stock (``backordered_lines``)."""
        if value is None:
            return queryset
        waiting = Exists(backordered_lines().filter(order=OuterRef("pk")))
        return queryset.filter(waiting) if value else queryset.exclude(waiting)

    def filter_q(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip()
        if not value:
            return queryset
        # A tool's order number is found with or without its "#": "1042" and "#1042" find "#1042".
        bare = value.lstrip("#").strip() or value
        return queryset.filter(
            Q(number__istartswith=value)
            | Q(external_reference__istartswith=bare)
            | Q(external_reference__istartswith=f"#{bare}")
            | Q(customer__name__icontains=value)
        )

    def filter_tag(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip()
        if not value:
            return queryset
        if connection.features.supports_json_field_contains:
            return queryset.filter(tags__contains=[value])
        # SQLite has no JSON containment: match the tag as a whole JSON string in the list's text.
        return queryset.filter(tags__icontains=json.dumps(value))


class CustomerFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="filter_q", label="Search")
    kind = django_filters.ChoiceFilter(choices=CustomerKind.choices)
    is_active = django_filters.BooleanFilter(label="Active")

    class Meta:
        model = Customer
        fields = ["q", "kind", "is_active"]

    def filter_q(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(name__icontains=value) | Q(code__istartswith=value) | Q(email__iexact=value))


class InvoiceFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=InvoiceStatus.choices)
    kind = django_filters.ChoiceFilter(choices=InvoiceKind.choices)
    customer = django_filters.NumberFilter(field_name="customer_id")
    order = django_filters.NumberFilter(field_name="order_id")
    overdue = django_filters.BooleanFilter(method="filter_overdue")
    open = django_filters.BooleanFilter(method="filter_open", label="Open (issued or partly paid)")
    due_before = django_filters.DateFilter(field_name="due_date", lookup_expr="lte")
    due_after = django_filters.DateFilter(field_name="due_date", lookup_expr="gte")

    class Meta:
        model = Invoice
        fields = ["status", "kind", "customer", "order"]

    def filter_overdue(self, queryset: QuerySet, name: str, value: bool | None) -> QuerySet:
        """Overdue: issued or partly paid with a due date before today (not overdue: everything else)."""
        if value is None:
            return queryset
        today: datetime.date = timezone.localdate()
        overdue = Q(status__in=OPEN_INVOICE_STATUSES, due_date__lt=today)
        return queryset.filter(overdue) if value else queryset.exclude(overdue)

    def filter_open(self, queryset: QuerySet, name: str, value: bool | None) -> QuerySet:
        if value is None:
            return queryset
        is_open = Q(status__in=OPEN_INVOICE_STATUSES)
        return queryset.filter(is_open) if value else queryset.exclude(is_open)


class ShipmentFilter(django_filters.FilterSet):
    order = django_filters.NumberFilter(field_name="order_id")
    carrier = django_filters.CharFilter(lookup_expr="iexact")
    since = django_filters.IsoDateTimeFilter(field_name="shipped_at", lookup_expr="gte")
    until = django_filters.IsoDateTimeFilter(field_name="shipped_at", lookup_expr="lte")

    class Meta:
        model = Shipment
        fields = ["order", "carrier"]


class ReturnFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=ReturnStatus.choices)
    order = django_filters.NumberFilter(field_name="order_id")

    class Meta:
        model = SalesReturn
        fields = ["status", "order"]


class ChannelFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=ChannelKind.choices)
    warehouse = django_filters.NumberFilter(field_name="warehouse_id")
    is_active = django_filters.BooleanFilter(label="Active")

    class Meta:
        model = SalesChannel
        fields = ["kind", "warehouse", "is_active"]


class PaymentFilter(django_filters.FilterSet):
    invoice = django_filters.NumberFilter(field_name="invoice_id")
    customer = django_filters.NumberFilter(field_name="invoice__customer_id")
    since = django_filters.DateFilter(field_name="paid_at", lookup_expr="gte")
    until = django_filters.DateFilter(field_name="paid_at", lookup_expr="lte")

    class Meta:
        model = Payment
        fields = ["invoice", "customer"]
