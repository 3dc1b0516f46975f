"""Admin: BOMs are edited here or in the BOM editor; orders and MRP results are read-only."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from erp import formatting
from erp.admin_readonly import HistoryAdmin, ReadOnlyMixin
from erp.exceptions import DomainError
from manufacturing.models import (
    BillOfMaterials,
    BomComponent,
    BomOperation,
    ManufacturingOrder,
    MOComponent,
    MrpRun,
    MrpSuggestion,
    WorkCentre,
)
from manufacturing.services import bom_activate, mo_confirm


@admin.register(WorkCentre)
class WorkCentreAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "cost_per_hour")
    search_fields = ("code", "name")


class BomComponentInline(admin.TabularInline):
    model = BomComponent
    extra = 0
    raw_id_fields = ("product",)


class BomOperationInline(admin.TabularInline):
    model = BomOperation
    extra = 0


@admin.register(BillOfMaterials)
class BillOfMaterialsAdmin(HistoryAdmin):
    list_display = ("product", "version", "is_active", "output_quantity", "lead_time_days", "updated_at")
    list_filter = ("is_active",)
    search_fields = ("product__sku", "product__name", "components__product__sku")
    list_select_related = ("product",)
    raw_id_fields = ("product",)
    readonly_fields = ("is_active",)
    inlines = [BomComponentInline, BomOperationInline]
    actions = ("activate",)

    @admin.action(description="Activate the selected versions")
    def activate(self, request: HttpRequest, queryset: QuerySet[BillOfMaterials]) -> None:
        for bom in queryset:
            try:
                bom_activate(bom=bom, user=request.user)
            except DomainError as exc:
                self.message_user(request, f"{bom}: {exc.message}", messages.ERROR)


class MOComponentInline(ReadOnlyMixin, admin.TabularInline):
    model = MOComponent
    extra = 0
    readonly_fields = ("product", "quantity_required", "quantity_consumed")


@admin.register(ManufacturingOrder)
class ManufacturingOrderAdmin(ReadOnlyMixin, HistoryAdmin):
    list_display = (
        "number",
        "product",
        "quantity",
        "quantity_produced",
        "status",
        "warehouse",
        "planned_start",
    )
    list_filter = ("status", "warehouse")
    search_fields = ("number", "product__sku")
    list_select_related = ("product", "warehouse")
    date_hierarchy = "planned_start"
    inlines = [MOComponentInline]
    actions = ("confirm",)

    @admin.action(description="Confirm the selected draft orders (reserve components)")
    def confirm(self, request: HttpRequest, queryset: QuerySet[ManufacturingOrder]) -> None:
        for mo in queryset:
            try:
                _, shortages = mo_confirm(mo=mo, user=request.user)
                if shortages:
                    missing = ", ".join(f"{sku} {formatting.number(q)}" for sku, q in shortages.items())
                    self.message_user(request, f"{mo.number}: short of {missing}", messages.WARNING)
            except DomainError as exc:
                self.message_user(request, f"{mo.number}: {exc.message}", messages.ERROR)


class MrpSuggestionInline(ReadOnlyMixin, admin.TabularInline):
    model = MrpSuggestion
    extra = 0
    fields = ("level", "kind", "product", "warehouse", "quantity", "due_date", "release_date", "converted_to")
    readonly_fields = fields


@admin.register(MrpRun)
class MrpRunAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("started_at", "horizon", "user")
    inlines = [MrpSuggestionInline]
