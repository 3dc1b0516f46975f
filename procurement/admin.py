"""Admin: every procurement model, searchable and filterable.

Documents whose state the services drive (purchase orders, receipts, bills,
payments and their lines) are read-only here. Suppliers and supplier items are
master data that admins edit; their saves go through the services too.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from erp.admin_readonly import HistoryAdmin, ReadOnlyAdmin, ReadOnlyHistoryAdmin, ReadOnlyInline
from procurement.models import (
    Bill,
    BillLine,
    PriceBreak,
    PurchaseOrder,
    PurchaseOrderLine,
    Receipt,
    ReceiptLine,
    Supplier,
    SupplierContact,
    SupplierItem,
    SupplierPayment,
)
from procurement.selectors import supplier_list
from procurement.services import supplier_create, supplier_item_set, supplier_update
from procurement.services.suppliers import SUPPLIER_FIELDS

AUDIT_FIELDS = ("created_at", "updated_at", "created_by", "updated_by")


def _sync_instance(target: Any, saved: Any) -> None:
    """Make the form's instance the row a service saved, so that inlines attach to it."""
    for f in saved._meta.concrete_fields:
        setattr(target, f.attname, getattr(saved, f.attname))
    target._state.adding = False
    target._state.db = saved._state.db


# --- suppliers -------------------------------------------------------------------------------


class SupplierContactInline(admin.TabularInline):
    model = SupplierContact
    extra = 0
    fields = ("name", "role", "email", "phone")


class SupplierItemInline(ReadOnlyInline):
    """What the supplier sells; edited on the supplier item's own page (with its price breaks)."""

    model = SupplierItem
    fields = ("product", "supplier_sku", "purchase_unit", "factor", "unit_price", "is_preferred")
    readonly_fields = fields
    select_related = ("product", "purchase_unit")
    show_change_link = True


class SupplierForm(forms.ModelForm):
    class Meta:
        model = Supplier
        fields = ("code", *sorted(SUPPLIER_FIELDS))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "code" in self.fields:
            self.fields["code"].required = False
            self.fields["code"].help_text = "Left empty: the next number (S-0001...)."


@admin.register(Supplier)
class SupplierAdmin(HistoryAdmin):
    form = SupplierForm
    list_display = (
        "code",
        "name",
        "email",
        "currency",
        "payment_terms_days",
        "lead_time_days",
        "open_orders",
        "open_balance",
        "is_active",
    )
    list_filter = ("is_active", "currency")
    search_fields = ("code", "name", "email", "phone", "tax_id", "contacts__name", "contacts__email")
    readonly_fields = AUDIT_FIELDS
    inlines = [SupplierContactInline, SupplierItemInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Supplier]:
        return supplier_list()  # with open orders and open balance, in one query

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        return ("code", *AUDIT_FIELDS) if obj else AUDIT_FIELDS

    @admin.display(description="open orders", ordering="open_orders")
    def open_orders(self, obj: Supplier) -> Any:
        return getattr(obj, "open_orders", None)

    @admin.display(description="open balance", ordering="open_balance")
    def open_balance(self, obj: Supplier) -> Any:
        return getattr(obj, "open_balance", None)

    def save_model(self, request: HttpRequest, obj: Supplier, form: forms.ModelForm, change: bool) -> None:
        values = {f: v for f, v in form.cleaned_data.items() if f in SUPPLIER_FIELDS}
        if change:
            changed = {f: values[f] for f in form.changed_data if f in values}
            if changed:
                _sync_instance(obj, supplier_update(supplier=obj, user=request.user, **changed))
            return
        name = values.pop("name")
        _sync_instance(
            obj,
            supplier_create(name=name, code=form.cleaned_data.get("code", ""), user=request.user, **values),
        )


@admin.register(SupplierContact)
class SupplierContactAdmin(admin.ModelAdmin):
    list_display = ("name", "supplier", "role", "email", "phone")
    search_fields = ("name", "email", "phone", "supplier__name", "supplier__code")
    list_select_related = ("supplier",)
    raw_id_fields = ("supplier",)


# --- supplier items --------------------------------------------------------------------------


class PriceBreakInline(admin.TabularInline):
    model = PriceBreak
    extra = 1
    fields = ("min_quantity", "unit_price")


ITEM_FIELDS = (
    "supplier_sku",
    "purchase_unit",
    "factor",
    "unit_price",
    "min_order_quantity",
    "lead_time_days",
    "is_preferred",
)


class SupplierItemForm(forms.ModelForm):
    """supplier_item_set takes the preference from the product's other supplier, so a second
    preferred item is not an error here: the wish is kept aside from the table's constraint check."""

    class Meta:
        model = SupplierItem
        fields = ("supplier", "product", *ITEM_FIELDS)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        self.wants_preferred = bool(cleaned.get("is_preferred"))
        cleaned["is_preferred"] = False
        return cleaned


@admin.register(SupplierItem)
class SupplierItemAdmin(HistoryAdmin):
    """Saved through supplier_item_set: one item per (supplier, product), one preferred per product."""

    form = SupplierItemForm

    list_display = (
        "supplier",
        "product",
        "supplier_sku",
        "purchase_unit",
        "factor",
        "unit_price",
        "min_order_quantity",
        "lead_time_days",
        "is_preferred",
    )
    list_filter = ("is_preferred", "supplier", "purchase_unit")
    search_fields = ("supplier__name", "supplier__code", "product__sku", "product__name", "supplier_sku")
    list_select_related = ("supplier", "product", "purchase_unit")
    raw_id_fields = ("product",)
    readonly_fields = AUDIT_FIELDS
    inlines = [PriceBreakInline]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        # supplier and product identify the item: changing them would be another item
        return ("supplier", "product", *AUDIT_FIELDS) if obj else AUDIT_FIELDS

    def _set(self, request: HttpRequest, obj: SupplierItem, **extra: Any) -> SupplierItem:
        return supplier_item_set(
            supplier=obj.supplier,
            product=obj.product,
            user=request.user,
            **{f: getattr(obj, f) for f in ITEM_FIELDS},
            **extra,
        )

    def save_model(
        self, request: HttpRequest, obj: SupplierItem, form: forms.ModelForm, change: bool
    ) -> None:
        obj.is_preferred = getattr(form, "wants_preferred", obj.is_preferred)
        _sync_instance(obj, self._set(request, obj))

    def save_formset(self, request: HttpRequest, form: forms.ModelForm, formset: Any, change: bool) -> None:
        if formset.model is not PriceBreak:
            super().save_formset(request, form, formset, change)
            return
        breaks = [
            (f.cleaned_data["min_quantity"], f.cleaned_data["unit_price"])
            for f in formset.forms
            if f.cleaned_data
            and not f.cleaned_data.get("DELETE")
            and f.cleaned_data.get("min_quantity") is not None
        ]
        self._set(request, form.instance, price_breaks=breaks)
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []


@admin.register(PriceBreak)
class PriceBreakAdmin(ReadOnlyAdmin):
    list_display = ("item", "min_quantity", "unit_price")
    search_fields = ("item__supplier__name", "item__product__sku")
    list_select_related = ("item__supplier", "item__product")


# --- purchase orders -------------------------------------------------------------------------


class PurchaseOrderLineInline(ReadOnlyInline):
    model = PurchaseOrderLine
    fields = (
        "position",
        "product",
        "description",
        "purchase_unit",
        "factor",
        "quantity",
        "unit_cost",
        "tax_rate",
        "line_total",
        "quantity_received",
        "quantity_billed",
    )
    readonly_fields = fields
    select_related = ("product", "purchase_unit")


class ReceiptInline(ReadOnlyInline):
    model = Receipt
    fields = ("number", "received_at", "location", "note")
    readonly_fields = fields
    select_related = ("location",)
    show_change_link = True


class BillInline(ReadOnlyInline):
    model = Bill
    fields = ("number", "supplier_reference", "status", "bill_date", "due_date", "total", "amount_paid")
    readonly_fields = fields
    show_change_link = True


@admin.register(PurchaseOrder)
class PurchaseOrderAdmin(ReadOnlyHistoryAdmin):
    list_display = (
        "number",
        "supplier",
        "warehouse",
        "status",
        "order_date",
        "expected_date",
        "total",
        "currency",
        "approved_by",
        "sent_at",
    )
    list_filter = ("status", "warehouse", "supplier", "order_date")
    search_fields = ("number", "supplier__name", "supplier__code", "lines__product__sku")
    list_select_related = ("supplier", "warehouse", "approved_by")
    date_hierarchy = "order_date"
    inlines = [PurchaseOrderLineInline, ReceiptInline, BillInline]


@admin.register(PurchaseOrderLine)
class PurchaseOrderLineAdmin(ReadOnlyAdmin):
    list_display = (
        "order",
        "position",
        "product",
        "purchase_unit",
        "factor",
        "quantity",
        "unit_cost",
        "quantity_received",
        "quantity_billed",
    )
    list_filter = ("order__status",)
    search_fields = ("order__number", "product__sku", "product__name")
    list_select_related = ("order", "product", "purchase_unit")


# --- receipts --------------------------------------------------------------------------------


class ReceiptLineInline(ReadOnlyInline):
    model = ReceiptLine
    fields = ("order_line", "quantity", "lot_code", "expiry_date")
    readonly_fields = fields
    select_related = ("order_line__product", "order_line__purchase_unit")


@admin.register(Receipt)
class ReceiptAdmin(ReadOnlyAdmin):
    list_display = ("number", "order", "supplier", "location", "received_at", "created_by")
    list_filter = ("received_at", "location__warehouse")
    search_fields = ("number", "order__number", "order__supplier__name", "lines__lot_code")
    list_select_related = ("order__supplier", "location", "created_by")
    date_hierarchy = "received_at"
    inlines = [ReceiptLineInline]

    @admin.display(description="supplier", ordering="order__supplier__name")
    def supplier(self, obj: Receipt) -> Supplier:
        return obj.order.supplier


@admin.register(ReceiptLine)
class ReceiptLineAdmin(ReadOnlyAdmin):
    list_display = ("receipt", "order_line", "quantity", "lot_code", "expiry_date")
    search_fields = ("receipt__number", "order_line__product__sku", "lot_code")
    list_filter = ("expiry_date",)
    list_select_related = ("receipt", "order_line__product", "order_line__purchase_unit")


# --- bills and payments ----------------------------------------------------------------------


class BillLineInline(ReadOnlyInline):
    model = BillLine
    fields = ("order_line", "quantity", "unit_cost", "subtotal", "tax_amount", "total")
    readonly_fields = fields
    select_related = ("order_line__product", "order_line__purchase_unit")


class SupplierPaymentInline(ReadOnlyInline):
    model = SupplierPayment
    fields = ("amount", "paid_at", "method", "reference")
    readonly_fields = fields


@admin.register(Bill)
class BillAdmin(ReadOnlyHistoryAdmin):
    list_display = (
        "number",
        "supplier",
        "order",
        "supplier_reference",
        "status",
        "match_ok",
        "bill_date",
        "due_date",
        "total",
        "amount_paid",
        "currency",
    )
    list_filter = ("status", "match_ok", "due_date", "supplier")
    search_fields = ("number", "supplier_reference", "supplier__name", "supplier__code", "order__number")
    list_select_related = ("supplier", "order")
    date_hierarchy = "bill_date"
    inlines = [BillLineInline, SupplierPaymentInline]


@admin.register(BillLine)
class BillLineAdmin(ReadOnlyAdmin):
    list_display = ("bill", "order_line", "quantity", "unit_cost", "total")
    search_fields = ("bill__number", "order_line__product__sku")
    list_select_related = ("bill", "order_line__product", "order_line__purchase_unit")


@admin.register(SupplierPayment)
class SupplierPaymentAdmin(ReadOnlyAdmin):
    list_display = ("bill", "supplier", "amount", "paid_at", "method", "reference")
    list_filter = ("paid_at", "method")
    search_fields = ("bill__number", "bill__supplier__name", "reference")
    list_select_related = ("bill__supplier",)
    date_hierarchy = "paid_at"

    @admin.display(description="supplier", ordering="bill__supplier__name")
    def supplier(self, obj: SupplierPayment) -> Supplier:
        return obj.bill.supplier
