"""Filters of sales, shared by the API and the UI (django-filter)."""

from __future__ import annotations

import datetime
import json

import django_filters
from django.db import connection
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

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
