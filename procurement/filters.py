"""Filters of procurement, shared by the API and the UI (django-filter)."""

from __future__ import annotations

import django_filters
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from inventory.models import Warehouse
from procurement.lifecycle import OPEN_STATUSES
from procurement.models import (
    Bill,
    BillStatus,
    PurchaseOrder,
    PurchaseOrderLine,
    PurchaseOrderStatus,
    Receipt,
    Supplier,
    SupplierItem,
    SupplierPayment,
)
from procurement.thresholds import above_threshold

OPEN = "open"
PO_STATUS_CHOICES = [(OPEN, "Open (sent or partially received)"), *PurchaseOrderStatus.choices]
UNPAID_BILL_STATUSES = (BillStatus.OPEN, BillStatus.PARTIALLY_PAID, BillStatus.NEEDS_REVIEW)


class SupplierFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="filter_q", label="Search")
    is_active = django_filters.BooleanFilter(label="Active")

    class Meta:
        model = Supplier
        fields = ["q", "is_active"]

    def filter_q(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(code__istartswith=value) | Q(name__icontains=value) | Q(email__istartswith=value)
        )


class SupplierItemFilter(django_filters.FilterSet):
    supplier = django_filters.NumberFilter(field_name="supplier_id")
    product = django_filters.NumberFilter(field_name="product_id")
    preferred = django_filters.BooleanFilter(field_name="is_preferred", label="Preferred")

    class Meta:
        model = SupplierItem
        fields = ["supplier", "product", "preferred"]


class PurchaseOrderFilter(django_filters.FilterSet):
    """Purchase orders. ``status=open`` is a pseudo-status: sent or partially received."""

    status = django_filters.ChoiceFilter(choices=PO_STATUS_CHOICES, method="filter_status")
    supplier = django_filters.NumberFilter(field_name="supplier_id")
    warehouse = django_filters.ModelChoiceFilter(queryset=Warehouse.objects.all())
    product = django_filters.NumberFilter(method="filter_product", label="Product id")
    since = django_filters.DateFilter(field_name="order_date", lookup_expr="gte")
    until = django_filters.DateFilter(field_name="order_date", lookup_expr="lte")
    expected_before = django_filters.DateFilter(field_name="expected_date", lookup_expr="lte")
    expected_after = django_filters.DateFilter(field_name="expected_date", lookup_expr="gte")
    needs_approval = django_filters.BooleanFilter(method="filter_needs_approval", label="Awaiting approval")
    q = django_filters.CharFilter(method="filter_q", label="Number")
    updated_since = django_filters.IsoDateTimeFilter(field_name="updated_at", lookup_expr="gte")
    ordering = django_filters.OrderingFilter(
        fields=(
            ("order_date", "date"),
            ("expected_date", "expected"),
            ("number", "number"),
            ("total", "total"),
            ("updated_at", "updated"),
        ),
    )

    class Meta:
        model = PurchaseOrder
        fields = ["status", "supplier", "warehouse"]

    def filter_needs_approval(self, queryset: QuerySet, name: str, value: bool | None) -> QuerySet:
        """Drafts above the approval threshold that nobody has approved yet."""
        if not value:
            return queryset
        return queryset.filter(above_threshold(), status="draft", approved_at__isnull=True)

    def filter_status(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        if not value:
            return queryset
        if value == OPEN:
            return queryset.filter(status__in=OPEN_STATUSES)
        return queryset.filter(status=value)

    def filter_product(self, queryset: QuerySet, name: str, value: int | None) -> QuerySet:
        if value is None:
            return queryset
        return queryset.filter(
            Exists(PurchaseOrderLine.objects.filter(order=OuterRef("pk"), product_id=value))
        )

    def filter_q(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        """A number prefix, any case. Numbers are upper case (PO-00012), so a case-sensitive prefix on
        the upper-cased input uses the number's unique index (its LIKE index on PostgreSQL)."""
        value = value.strip()
        return queryset.filter(number__startswith=value.upper()) if value else queryset


class ReceiptFilter(django_filters.FilterSet):
    order = django_filters.NumberFilter(field_name="order_id")
    since = django_filters.IsoDateTimeFilter(field_name="received_at", lookup_expr="gte")
    until = django_filters.IsoDateTimeFilter(field_name="received_at", lookup_expr="lte")

    class Meta:
        model = Receipt
        fields = ["order"]


class BillFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=BillStatus.choices)
    supplier = django_filters.NumberFilter(field_name="supplier_id")
    order = django_filters.NumberFilter(field_name="order_id")
    match_ok = django_filters.BooleanFilter(label="Match OK")
    overdue = django_filters.BooleanFilter(method="filter_overdue", label="Overdue")
    due_before = django_filters.DateFilter(field_name="due_date", lookup_expr="lte", label="Due by")
    due_after = django_filters.DateFilter(field_name="due_date", lookup_expr="gte", label="Due from")
    unpaid = django_filters.BooleanFilter(method="filter_unpaid", label="Unpaid")

    class Meta:
        model = Bill
        fields = ["status", "supplier", "order", "match_ok"]

    def filter_overdue(self, queryset: QuerySet, name: str, value: bool | None) -> QuerySet:
        """Unpaid (open, partially paid or under review) and due before today."""
        if value is None:
            return queryset
        overdue = Q(status__in=UNPAID_BILL_STATUSES, due_date__lt=timezone.localdate())
        return queryset.filter(overdue) if value else queryset.exclude(overdue)

    def filter_unpaid(self, queryset: QuerySet, name: str, value: bool | None) -> QuerySet:
        """Open, partially paid or under review: what the payables ageing counts."""
        if value is None:
            return queryset
        unpaid = Q(status__in=UNPAID_BILL_STATUSES)
        return queryset.filter(unpaid) if value else queryset.exclude(unpaid)


class PaymentFilter(django_filters.FilterSet):
    bill = django_filters.NumberFilter(field_name="bill_id")
    supplier = django_filters.NumberFilter(field_name="bill__supplier_id")
    since = django_filters.DateFilter(field_name="paid_at", lookup_expr="gte")
    until = django_filters.DateFilter(field_name="paid_at", lookup_expr="lte")

    class Meta:
        model = SupplierPayment
        fields = ["bill", "supplier"]
