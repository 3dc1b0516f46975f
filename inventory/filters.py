"""Filters of inventory, shared by the API and the UI (django-filter). Every filter is indexed."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import BooleanField, Exists, F, Func, OuterRef, Q, QuerySet, Subquery, Sum

from inventory.models import (
    Barcode,
    Category,
    CountSheet,
    CountStatus,
    Location,
    LocationKind,
    MoveKind,
    Product,
    ProductKind,
    ReorderRule,
    Reservation,
    ReservationStatus,
    StockLevel,
    StockMove,
    Tracking,
    Transfer,
    TransferStatus,
    Warehouse,
)


class AnyOf(Func):
    """``value IN (subquery)``, written ``value = ANY(ARRAY(subquery))`` on PostgreSQL.

    There the subquery runs once, before the scan (an InitPlan), so an OR of it and indexed
    conditions is one BitmapOr of index scans; ``IN (subquery)`` or ``EXISTS`` in an OR would be
    checked row by row over the whole table instead."""

    output_field = BooleanField()
    conditional = True

    def __init__(self, value: Any, subquery: QuerySet) -> None:
        super().__init__(value, Subquery(subquery))

    def as_sql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list[Any]]:  # type: ignore[override]
        value, subquery = self.get_source_expressions()
        value_sql, value_params = compiler.compile(value)
        subquery_sql, subquery_params = compiler.compile(subquery)
        if connection.vendor == "postgresql":
            return f"{value_sql} = ANY(ARRAY{subquery_sql})", [*value_params, *subquery_params]
        return f"{value_sql} IN {subquery_sql}", [*value_params, *subquery_params]


def product_matches(value: str) -> Q:
    """SKU (prefix, any case), name (contains, any case) or barcode (exact), as PostgreSQL serves it
    from indexes: ``UPPER(sku) LIKE 'V%'`` and ``UPPER(name) LIKE '%V%'`` from the trigram GIN
    indexes on exactly those expressions (migration 0003), the barcode from its unique index,
    the three OR-ed into one BitmapOr."""
    barcode = Barcode.objects.filter(code=value).order_by().values("product_id")
    return Q(sku__istartswith=value) | Q(name__icontains=value) | Q(AnyOf(F("pk"), barcode))


def search_products(queryset: QuerySet, value: str, prefix: str = "") -> QuerySet:
    """SKU (prefix, any case), barcode (exact) or name (contains). Through a relation (``prefix``,
    as levels and moves search their product) the ids of the matching products are found first,
    once, with their indexes (``AnyOf``: an InitPlan on PostgreSQL), and the rows are then read by
    their index on the product (``product_id = ANY(...)``).

    A semi-join (``IN (subquery)``) left the order to the planner, which, misjudging a small
    table it joins (the locations of the levels' ``kind`` filter), ran the trigram search once per
    stock bin: 15 times at 100k products (issue #22)."""
    value = value.strip()
    if not value:
        return queryset
    if not prefix:
        return queryset.filter(product_matches(value))
    products = Product.objects.filter(product_matches(value)).order_by().values("pk")
    return queryset.filter(AnyOf(F(f"{prefix}pk"), products))


class ProductFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="filter_q", label="Search")
    category = django_filters.ModelChoiceFilter(queryset=Category.objects.all())
    kind = django_filters.ChoiceFilter(choices=ProductKind.choices)
    tracking = django_filters.ChoiceFilter(choices=Tracking.choices)
    is_active = django_filters.BooleanFilter(label="Active")
    template = django_filters.NumberFilter(field_name="template_id", label="Template id")
    stock = django_filters.ChoiceFilter(
        choices=[("out", "Out of stock (none on hand)")], method="filter_stock", label="Stock"
    )
    updated_since = django_filters.IsoDateTimeFilter(field_name="updated_at", lookup_expr="gte")
    ordering = django_filters.OrderingFilter(
        fields=(
            ("sku", "sku"),
            ("name", "name"),
            ("sale_price", "price"),
            ("updated_at", "updated"),
            ("on_hand", "on_hand"),
        ),
    )

    class Meta:
        model = Product
        fields = ["q", "category", "kind", "tracking", "is_active", "template"]

    def filter_q(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return search_products(queryset, value)

    def filter_stock(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        if value != "out":
            return queryset
        return queryset.filter(is_active=True, kind=ProductKind.STOCKED).exclude(Exists(stocked_somewhere()))


def stocked_somewhere() -> QuerySet[StockLevel]:
    """Levels with stock on a shelf of the outer query's product (``Exists``: the product is not out of
    stock). The (product, warehouse) index, then the location's kind."""
    return StockLevel.objects.filter(
        product=OuterRef("pk"), on_hand__gt=0, location__kind=LocationKind.INTERNAL
    )


class LocationFilter(django_filters.FilterSet):
    warehouse = django_filters.ModelChoiceFilter(queryset=Warehouse.objects.all())
    kind = django_filters.ChoiceFilter(choices=LocationKind.choices)
    q = django_filters.CharFilter(field_name="path", lookup_expr="icontains", label="Path")
    is_active = django_filters.BooleanFilter()

    class Meta:
        model = Location
        fields = ["warehouse", "kind", "q", "is_active"]


class LevelFilter(django_filters.FilterSet):
    product = django_filters.NumberFilter(field_name="product_id")
    q = django_filters.CharFilter(method="filter_q", label="Product")
    warehouse = django_filters.ModelChoiceFilter(queryset=Warehouse.objects.all())
    location = django_filters.NumberFilter(field_name="location_id")
    lot = django_filters.NumberFilter(field_name="lot_id")
    nonzero = django_filters.BooleanFilter(method="filter_nonzero", label="Non-zero only")
    below_min = django_filters.BooleanFilter(method="filter_below_min", label="Below minimum")

    class Meta:
        model = StockLevel
        fields = ["product", "warehouse", "location", "lot"]

    def filter_q(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return search_products(queryset, value, prefix="product__")

    def filter_nonzero(self, queryset: QuerySet, name: str, value: bool | None) -> QuerySet:
        if value:
            return queryset.filter(Q(on_hand__gt=0) | Q(on_hand__lt=0) | Q(reserved__gt=0))
        return queryset

    def filter_below_min(self, queryset: QuerySet, name: str, value: bool | None) -> QuerySet:
        """Levels of (product, warehouse) pairs whose on-hand total is under their rule's minimum."""
        if not value:
            return queryset
        warehouse_total = (
            StockLevel.objects.filter(
                product=OuterRef("product"),
                warehouse=OuterRef("warehouse"),
                location__kind=LocationKind.INTERNAL,
            )
            .order_by()
            .values("product")
            .annotate(total=Sum("on_hand"))
            .values("total")
        )
        below = ReorderRule.objects.filter(
            product=OuterRef("product"), warehouse=OuterRef("warehouse")
        ).filter(min_quantity__gt=Subquery(warehouse_total))
        return queryset.filter(Exists(below), location__kind=LocationKind.INTERNAL)


class MoveFilter(django_filters.FilterSet):
    product = django_filters.NumberFilter(field_name="product_id")
    q = django_filters.CharFilter(method="filter_q", label="Product")
    warehouse = django_filters.ModelChoiceFilter(queryset=Warehouse.objects.all(), method="filter_warehouse")
    location = django_filters.NumberFilter(method="filter_location")
    kind = django_filters.ChoiceFilter(choices=MoveKind.choices)
    reference = django_filters.CharFilter(lookup_expr="istartswith")
    document_type = django_filters.CharFilter()
    document_id = django_filters.CharFilter()
    lot = django_filters.NumberFilter(field_name="lot_id")
    since = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    until = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lte")

    class Meta:
        model = StockMove
        fields = ["product", "kind", "reference", "document_type", "document_id", "lot"]

    def filter_q(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return search_products(queryset, value, prefix="product__")

    def filter_warehouse(self, queryset: QuerySet, name: str, value: Warehouse | None) -> QuerySet:
        if value is None:
            return queryset
        return queryset.filter(Q(from_location__warehouse=value) | Q(to_location__warehouse=value))

    def filter_location(self, queryset: QuerySet, name: str, value: int | None) -> QuerySet:
        if value is None:
            return queryset
        return queryset.filter(Q(from_location_id=value) | Q(to_location_id=value))


class ReservationFilter(django_filters.FilterSet):
    product = django_filters.NumberFilter(field_name="product_id")
    warehouse = django_filters.ModelChoiceFilter(
        queryset=Warehouse.objects.all(), field_name="location__warehouse"
    )
    demand_type = django_filters.CharFilter()
    demand_id = django_filters.CharFilter()
    status = django_filters.ChoiceFilter(choices=ReservationStatus.choices)

    class Meta:
        model = Reservation
        fields = ["product", "demand_type", "demand_id", "status"]


class ReorderRuleFilter(django_filters.FilterSet):
    product = django_filters.NumberFilter(field_name="product_id")
    warehouse = django_filters.ModelChoiceFilter(queryset=Warehouse.objects.all())

    class Meta:
        model = ReorderRule
        fields = ["product", "warehouse"]


class TransferFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=TransferStatus.choices)

    class Meta:
        model = Transfer
        fields = ["status"]


class CountSheetFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=CountStatus.choices)
    location = django_filters.NumberFilter(field_name="location_id")
    warehouse = django_filters.ModelChoiceFilter(
        queryset=Warehouse.objects.all(), field_name="location__warehouse"
    )

    class Meta:
        model = CountSheet
        fields = ["status", "location", "warehouse"]


class WarehouseFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="filter_q", label="Search")
    is_active = django_filters.BooleanFilter(label="Active")

    class Meta:
        model = Warehouse
        fields = ["q", "is_active"]

    def filter_q(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(code__istartswith=value) | Q(name__icontains=value))
