"""Admin of the sales documents: orders, shipments, invoices, payments, returns, refunds and their
lines, all read-only. What changes them are the actions (confirm, cancel), which call the services.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from erp.access import user_can
from erp.admin_readonly import ReadOnlyAdmin, ReadOnlyHistoryAdmin, ReadOnlyInline
from erp.exceptions import DomainError
from sales.models import (
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    OrderLine,
    OrderLineTax,
    Payment,
    Refund,
    ReturnLine,
    SalesOrder,
    SalesReturn,
    Shipment,
    ShipmentLine,
)
from sales.services import order_cancel, order_confirm

# --- orders ------------------------------------------------------------------------------


class OrderLineInline(ReadOnlyInline):
    model = OrderLine
    fields = (
        "position",
        "product",
        "description",
        "quantity",
        "unit_price",
        "discount_percent",
        "line_subtotal",
        "tax_amount",
        "taxes",
        "line_total",
        "quantity_shipped",
        "quantity_invoiced",
        "quantity_returned",
        "fulfilled_by",
    )
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[OrderLine]:
        return super().get_queryset(request).select_related("product").prefetch_related("taxes")

    @admin.display(description="taxes")
    def taxes(self, line: OrderLine) -> str:
        return ", ".join(f"{t.name} {t.rate * 100:.2f} %: {t.amount}" for t in line.taxes.all()) or "—"


class ShipmentInline(ReadOnlyInline):
    model = Shipment
    fields = ("number", "shipped_at", "carrier", "service", "tracking_number")
    readonly_fields = fields
    show_change_link = True


class InvoiceInline(ReadOnlyInline):
    model = Invoice
    fk_name = "order"
    fields = ("number", "kind", "status", "issue_date", "due_date", "total", "amount_paid")
    readonly_fields = fields
    show_change_link = True


class ReturnInline(ReadOnlyInline):
    model = SalesReturn
    fields = ("number", "status", "reason", "received_at")
    readonly_fields = fields
    show_change_link = True


def _run_on_each(
    modeladmin: admin.ModelAdmin,
    request: HttpRequest,
    queryset: QuerySet[SalesOrder],
    service: Callable[..., SalesOrder],
    done: str,
) -> None:
    """Call a service per order, each in its own transaction; report what worked and why the rest did not."""
    succeeded: list[str] = []
    for order in queryset.order_by("pk"):
        try:
            service(order=order, user=request.user)
        except DomainError as exc:
            modeladmin.message_user(request, f"{order.number}: {exc.message}", messages.ERROR)
        else:
            succeeded.append(order.number)
    if succeeded:
        modeladmin.message_user(
            request,
            f"{done.capitalize()} {len(succeeded)} order(s): {', '.join(succeeded)}.",
            messages.SUCCESS,
        )


@admin.register(SalesOrder)
class SalesOrderAdmin(ReadOnlyHistoryAdmin):
    list_display = (
        "number",
        "order_date",
        "channel",
        "customer",
        "status",
        "total",
        "currency",
        "external_reference",
    )
    list_filter = ("status", "channel", "currency", "order_date")
    search_fields = (
        "number",
        "external_reference",
        "customer__name",
        "customer__code",
        "customer__email",
        "lines__product__sku",
    )
    list_select_related = ("channel", "customer")
    date_hierarchy = "order_date"
    inlines = [OrderLineInline, ShipmentInline, InvoiceInline, ReturnInline]
    actions = ("confirm_drafts", "cancel_orders")

    def has_sales_write_permission(self, request: HttpRequest) -> bool:
        return user_can(request.user, "sales", "write")

    @admin.action(description="Confirm selected draft orders", permissions=["sales_write"])
    def confirm_drafts(self, request: HttpRequest, queryset: QuerySet[SalesOrder]) -> None:
        _run_on_each(self, request, queryset, order_confirm, "confirmed")

    @admin.action(description="Cancel selected orders", permissions=["sales_write"])
    def cancel_orders(self, request: HttpRequest, queryset: QuerySet[SalesOrder]) -> None:
        def cancel(*, order: SalesOrder, user: Any) -> SalesOrder:
            return order_cancel(order=order, reason=f"cancelled in the admin by {user}", user=user)

        _run_on_each(self, request, queryset, cancel, "cancelled")


class OrderLineTaxInline(ReadOnlyInline):
    model = OrderLineTax
    fields = ("name", "rate", "amount")
    readonly_fields = fields


@admin.register(OrderLine)
class OrderLineAdmin(ReadOnlyAdmin):
    list_display = (
        "order",
        "position",
        "product",
        "quantity",
        "unit_price",
        "line_total",
        "quantity_shipped",
        "quantity_invoiced",
        "quantity_returned",
    )
    list_filter = ("order__status", "order__channel", "fulfilled_by")
    search_fields = ("order__number", "product__sku", "product__name", "description")
    list_select_related = ("order", "product")
    inlines = [OrderLineTaxInline]


@admin.register(OrderLineTax)
class OrderLineTaxAdmin(ReadOnlyAdmin):
    list_display = ("order", "line", "name", "rate", "amount")
    list_filter = ("name",)
    search_fields = ("line__order__number", "line__product__sku", "name")
    list_select_related = ("line__order",)

    @admin.display(description="order", ordering="line__order__number")
    def order(self, tax: OrderLineTax) -> str:
        return tax.line.order.number


# --- shipments ---------------------------------------------------------------------------


class ShipmentLineInline(ReadOnlyInline):
    model = ShipmentLine
    fields = ("order_line", "product", "quantity")
    readonly_fields = fields
    select_related = ("order_line__product",)

    @admin.display(description="product")
    def product(self, line: ShipmentLine) -> str:
        return str(line.order_line.product)


@admin.register(Shipment)
class ShipmentAdmin(ReadOnlyAdmin):
    list_display = ("number", "shipped_at", "order", "customer", "carrier", "service", "tracking_number")
    list_filter = ("carrier", "shipped_at")
    search_fields = ("number", "tracking_number", "order__number", "order__customer__name")
    list_select_related = ("order__customer",)
    date_hierarchy = "shipped_at"
    inlines = [ShipmentLineInline]

    @admin.display(description="customer", ordering="order__customer__name")
    def customer(self, shipment: Shipment) -> str:
        return str(shipment.order.customer)


@admin.register(ShipmentLine)
class ShipmentLineAdmin(ReadOnlyAdmin):
    list_display = ("shipment", "order", "product", "quantity")
    search_fields = ("shipment__number", "order_line__order__number", "order_line__product__sku")
    list_select_related = ("shipment", "order_line__order", "order_line__product")

    @admin.display(description="order")
    def order(self, line: ShipmentLine) -> str:
        return line.order_line.order.number

    @admin.display(description="product")
    def product(self, line: ShipmentLine) -> str:
        return str(line.order_line.product)


# --- invoices, payments ------------------------------------------------------------------


class OverdueFilter(admin.SimpleListFilter):
    title = "overdue"
    parameter_name = "overdue"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("yes", "Overdue"), ("no", "Not overdue")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Invoice]) -> QuerySet[Invoice]:
        overdue = {
            "status__in": [InvoiceStatus.ISSUED, InvoiceStatus.PARTIALLY_PAID],
            "due_date__lt": timezone.localdate(),
        }
        if self.value() == "yes":
            return queryset.filter(**overdue)
        if self.value() == "no":
            return queryset.exclude(**overdue)
        return queryset


class InvoiceLineInline(ReadOnlyInline):
    model = InvoiceLine
    fields = ("description", "quantity", "unit_price", "discount_amount", "subtotal", "tax_amount", "total")
    readonly_fields = fields


class PaymentInline(ReadOnlyInline):
    model = Payment
    fields = ("paid_at", "amount", "method", "reference")
    readonly_fields = fields


class RefundOfNoteInline(ReadOnlyInline):
    model = Refund
    fk_name = "credit_note"
    fields = ("refunded_at", "amount", "method", "reference")
    readonly_fields = fields


@admin.register(Invoice)
class InvoiceAdmin(ReadOnlyHistoryAdmin):
    list_display = (
        "__str__",
        "kind",
        "status",
        "customer",
        "order",
        "issue_date",
        "due_date",
        "total",
        "amount_paid",
        "currency",
    )
    list_filter = ("status", "kind", OverdueFilter, "currency", "issue_date")
    search_fields = ("number", "order__number", "customer__name", "customer__code")
    list_select_related = ("customer", "order")
    date_hierarchy = "issue_date"
    inlines = [InvoiceLineInline, PaymentInline, RefundOfNoteInline]


@admin.register(InvoiceLine)
class InvoiceLineAdmin(ReadOnlyAdmin):
    list_display = ("invoice", "description", "quantity", "unit_price", "subtotal", "tax_amount", "total")
    search_fields = ("invoice__number", "description")
    list_filter = ("invoice__kind",)
    list_select_related = ("invoice",)


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    list_display = ("paid_at", "invoice", "customer", "amount", "method", "reference")
    list_filter = ("method", "paid_at")
    search_fields = ("invoice__number", "reference", "invoice__customer__name", "invoice__order__number")
    list_select_related = ("invoice__customer",)
    date_hierarchy = "paid_at"

    @admin.display(description="customer", ordering="invoice__customer__name")
    def customer(self, payment: Payment) -> str:
        return str(payment.invoice.customer)


# --- returns, refunds --------------------------------------------------------------------


class ReturnLineInline(ReadOnlyInline):
    model = ReturnLine
    fields = ("order_line", "product", "quantity", "disposition", "reason")
    readonly_fields = fields
    select_related = ("order_line__product",)

    @admin.display(description="product")
    def product(self, line: ReturnLine) -> str:
        return str(line.order_line.product)


class RefundOfReturnInline(ReadOnlyInline):
    model = Refund
    fk_name = "sales_return"
    fields = ("refunded_at", "amount", "method", "reference", "credit_note")
    readonly_fields = fields
    select_related = ("credit_note",)


@admin.register(SalesReturn)
class SalesReturnAdmin(ReadOnlyAdmin):
    list_display = ("number", "order", "customer", "status", "reason", "received_at", "credit_note")
    list_filter = ("status", "received_at")
    search_fields = ("number", "reason", "order__number", "order__customer__name", "credit_note__number")
    list_select_related = ("order__customer", "credit_note")
    inlines = [ReturnLineInline, RefundOfReturnInline]

    @admin.display(description="customer", ordering="order__customer__name")
    def customer(self, sales_return: SalesReturn) -> str:
        return str(sales_return.order.customer)


@admin.register(ReturnLine)
class ReturnLineAdmin(ReadOnlyAdmin):
    list_display = ("sales_return", "product", "quantity", "disposition", "reason")
    list_filter = ("disposition",)
    search_fields = ("sales_return__number", "order_line__product__sku", "reason")
    list_select_related = ("sales_return", "order_line__product")

    @admin.display(description="product")
    def product(self, line: ReturnLine) -> str:
        return str(line.order_line.product)


@admin.register(Refund)
class RefundAdmin(ReadOnlyAdmin):
    list_display = ("refunded_at", "credit_note", "sales_return", "amount", "method", "reference")
    list_filter = ("method", "refunded_at")
    search_fields = ("credit_note__number", "sales_return__number", "reference")
    list_select_related = ("credit_note", "sales_return")
    date_hierarchy = "refunded_at"
