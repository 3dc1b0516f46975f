"""Admin: every inventory model, searchable and filterable. The ledger is read-only here."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest

from erp.admin_readonly import HistoryAdmin, ReadOnlyAdmin
from inventory.models import (
    Attribute,
    AttributeValue,
    Barcode,
    Category,
    CountLine,
    CountSheet,
    Location,
    Lot,
    Product,
    ProductTemplate,
    ProductUnit,
    ReorderRule,
    Reservation,
    StockCheckRun,
    StockLevel,
    StockMove,
    Transfer,
    TransferLine,
    UnitOfMeasure,
    Warehouse,
)
from inventory.services.warehouses import location_create, location_errors


@admin.register(UnitOfMeasure)
class UnitOfMeasureAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "allows_fractions")
    search_fields = ("code", "name")


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ("name", "parent")
    search_fields = ("name",)
    list_select_related = ("parent",)


class AttributeValueInline(admin.TabularInline):
    model = AttributeValue
    extra = 0


@admin.register(Attribute)
class AttributeAdmin(admin.ModelAdmin):
    search_fields = ("name",)
    inlines = [AttributeValueInline]


class BarcodeInline(admin.TabularInline):
    model = Barcode
    extra = 0


class ProductUnitInline(admin.TabularInline):
    model = ProductUnit
    extra = 0


@admin.register(Product)
class ProductAdmin(HistoryAdmin):
    list_display = (
        "sku",
        "name",
        "category",
        "kind",
        "tracking",
        "stock_unit",
        "sale_price",
        "average_cost",
        "is_active",
    )
    list_filter = ("is_active", "kind", "tracking", "category", "stock_unit")
    search_fields = ("sku", "name", "barcodes__code")
    list_select_related = ("category", "stock_unit")
    readonly_fields = ("average_cost", "created_at", "updated_at", "created_by", "updated_by")
    raw_id_fields = ("template",)
    filter_horizontal = ("attribute_values",)
    inlines = [BarcodeInline, ProductUnitInline]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        """An existing product's SKU changes on its page (``product_update``), never here: the
        service also rewrites its stock levels' copy of it (their list's sort), which a save here
        would leave stale."""
        fields = tuple(super().get_readonly_fields(request, obj))
        return (*fields, "sku") if obj is not None else fields


@admin.register(ProductTemplate)
class ProductTemplateAdmin(HistoryAdmin):
    list_display = ("name", "category", "is_active")
    list_filter = ("is_active", "category")
    search_fields = ("name", "variants__sku")
    filter_horizontal = ("attributes",)


@admin.register(Lot)
class LotAdmin(admin.ModelAdmin):
    list_display = ("code", "product", "expiry_date", "created_at")
    list_filter = ("expiry_date",)
    search_fields = ("code", "product__sku")
    list_select_related = ("product",)
    raw_id_fields = ("product",)


@admin.register(Warehouse)
class WarehouseAdmin(HistoryAdmin):
    list_display = ("code", "name", "allow_negative_stock", "is_active")
    list_filter = ("is_active", "allow_negative_stock")
    search_fields = ("code", "name")


class LocationAddForm(forms.ModelForm):
    """A new location, checked as the warehouse page's form checks it (``location_errors``)."""

    class Meta:
        model = Location
        fields = ("parent", "name", "kind", "barcode")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.errors:  # a field is missing or malformed: said beside it already
            return data
        found = location_errors(
            parent=data.get("parent"),
            name=data.get("name") or "",
            kind=data.get("kind") or "",
            barcode=data.get("barcode") or None,
        )
        for field, messages in found.items():
            for message in messages:
                self.add_error(field, message)
        return data


@admin.register(Location)
class LocationAdmin(admin.ModelAdmin):
    list_display = ("path", "kind", "warehouse", "barcode", "is_active")
    list_filter = ("kind", "warehouse", "is_active")
    search_fields = ("path", "barcode")
    list_select_related = ("warehouse",)
    readonly_fields = ("path",)
    raw_id_fields = ("parent",)

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        """A new location is given its place (the zone it goes under) and its name: its warehouse
        and path follow from them, as on the warehouse's page (``location_create``)."""
        if obj is None:
            kwargs["form"] = LocationAddForm
            kwargs["fields"] = LocationAddForm.Meta.fields
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return LocationAddForm.Meta.fields if obj is None else super().get_fields(request, obj)

    def save_model(self, request: HttpRequest, obj: Location, form: Any, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        assert obj.parent is not None  # the form requires it
        created = location_create(parent=obj.parent, name=obj.name, kind=obj.kind, barcode=obj.barcode)
        # The admin goes on with ``obj`` (its message, its log entry, the redirect): it is the row.
        obj.pk, obj.warehouse, obj.name, obj.path = created.pk, created.warehouse, created.name, created.path
        obj._state.adding, obj._state.db = False, created._state.db

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        """An existing location is renamed on the warehouse's page (``location_update``), never
        here: the service recomputes its path and its children's, and the stock levels' copies of
        them, which a save here would leave stale."""
        fields = tuple(super().get_readonly_fields(request, obj))
        return (*fields, "name", "parent", "warehouse") if obj is not None else fields


@admin.register(StockMove)
class StockMoveAdmin(ReadOnlyAdmin):
    list_display = (
        "created_at",
        "kind",
        "product",
        "quantity",
        "from_location",
        "to_location",
        "lot",
        "unit_cost",
        "reference",
        "user",
    )
    list_filter = ("kind", "created_at")
    search_fields = ("product__sku", "reference", "document_id", "reason")
    list_select_related = ("product", "from_location", "to_location", "lot", "user")
    date_hierarchy = "created_at"


@admin.register(StockLevel)
class StockLevelAdmin(ReadOnlyAdmin):
    list_display = ("product", "location", "lot", "on_hand", "reserved", "updated_at")
    list_filter = ("warehouse", "location__kind")
    search_fields = ("product__sku", "location__path", "lot__code")
    list_select_related = ("product", "location", "lot")


@admin.register(Reservation)
class ReservationAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "product",
        "location",
        "lot",
        "quantity",
        "consumed_quantity",
        "released_quantity",
        "status",
        "reference",
    )
    list_filter = ("status", "demand_type")
    search_fields = ("product__sku", "reference", "demand_id")
    list_select_related = ("product", "location", "lot")


@admin.register(ReorderRule)
class ReorderRuleAdmin(HistoryAdmin):
    list_display = ("product", "warehouse", "min_quantity", "max_quantity", "multiple")
    list_filter = ("warehouse",)
    search_fields = ("product__sku",)
    list_select_related = ("product", "warehouse")
    raw_id_fields = ("product",)


class TransferLineInline(admin.TabularInline):
    model = TransferLine
    extra = 0
    can_delete = False
    readonly_fields = ("product", "lot", "quantity")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Transfer)
class TransferAdmin(ReadOnlyAdmin):
    list_display = ("number", "from_location", "to_location", "status", "shipped_at", "received_at")
    list_filter = ("status",)
    search_fields = ("number",)
    inlines = [TransferLineInline]


class CountLineInline(admin.TabularInline):
    model = CountLine
    extra = 0
    can_delete = False
    readonly_fields = ("product", "lot", "expected_quantity", "counted_quantity")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(CountSheet)
class CountSheetAdmin(ReadOnlyAdmin):
    list_display = ("number", "location", "status", "created_at", "applied_at")
    list_filter = ("status",)
    search_fields = ("number", "location__path")
    inlines = [CountLineInline]


@admin.register(StockCheckRun)
class StockCheckRunAdmin(ReadOnlyAdmin):
    list_display = ("started_at", "levels_checked", "drift_count", "repaired", "triggered_by")
    list_filter = ("repaired",)
