"""Filters of manufacturing, shared by the API and the UI."""

from __future__ import annotations

import django_filters
from django.db.models import Exists, OuterRef, Q, QuerySet

from inventory.models import Warehouse
from manufacturing.models import BillOfMaterials, ManufacturingOrder, MOStatus, MrpSuggestion, SuggestionKind
from manufacturing.selectors import short_component_lines


class BomFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="filter_q", label="Product")
    product = django_filters.NumberFilter(field_name="product_id")
    is_active = django_filters.BooleanFilter(label="Active")
    component = django_filters.NumberFilter(
        field_name="components__product_id", label="Uses product", distinct=True
    )

    class Meta:
        model = BillOfMaterials
        fields = ["product", "is_active"]

    def filter_q(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip()
        return (
            queryset.filter(Q(product__sku__istartswith=value) | Q(product__name__icontains=value))
            if value
            else queryset
        )


class ManufacturingOrderFilter(django_filters.FilterSet):
    STATUS_CHOICES = [*MOStatus.choices, ("open", "Open (draft, confirmed, in progress)")]

    status = django_filters.ChoiceFilter(choices=STATUS_CHOICES, method="filter_status")
    product = django_filters.NumberFilter(field_name="product_id")
    warehouse = django_filters.ModelChoiceFilter(queryset=Warehouse.objects.all())
    q = django_filters.CharFilter(method="filter_q", label="Number or product")
    starts_after = django_filters.DateFilter(field_name="planned_start", lookup_expr="gte")
    starts_before = django_filters.DateFilter(field_name="planned_start", lookup_expr="lte")
    updated_since = django_filters.IsoDateTimeFilter(field_name="updated_at", lookup_expr="gte")
    short = django_filters.BooleanFilter(method="filter_short", label="Short of a component")
    ordering = django_filters.OrderingFilter(
        fields=(("planned_start", "start"), ("number", "number"), ("quantity", "quantity"))
    )

    class Meta:
        model = ManufacturingOrder
        fields = ["product", "warehouse"]

    def filter_short(self, queryset: QuerySet, name: str, value: bool | None) -> QuerySet:
        """Open orders (draft, confirmed, in progress) with a component line not all held for them."""
        if value is None:
            return queryset
        short = Exists(short_component_lines().filter(order=OuterRef("pk")))
        if not value:
            return queryset.exclude(short)
        return queryset.filter(short, status__in=[MOStatus.DRAFT, MOStatus.CONFIRMED, MOStatus.IN_PROGRESS])

    def filter_status(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        if value == "open":
            return queryset.filter(status__in=[MOStatus.DRAFT, MOStatus.CONFIRMED, MOStatus.IN_PROGRESS])
        return queryset.filter(status=value) if value else queryset

    def filter_q(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(number__istartswith=value)
            | Q(product__sku__istartswith=value)
            | Q(product__name__icontains=value)
        )


class SuggestionFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=SuggestionKind.choices)
    warehouse = django_filters.ModelChoiceFilter(queryset=Warehouse.objects.all())
    open = django_filters.BooleanFilter(method="filter_open", label="Not converted yet")

    class Meta:
        model = MrpSuggestion
        fields = ["kind", "warehouse"]

    def filter_open(self, queryset: QuerySet, name: str, value: bool | None) -> QuerySet:
        if value is None:
            return queryset
        return queryset.filter(converted_to="") if value else queryset.exclude(converted_to="")
