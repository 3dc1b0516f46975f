"""Reads of sales, with what pages and the API need at a constant number of queries."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from django.db.models import DecimalField, F, OuterRef, Prefetch, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from erp.models import OutboxEvent
from erp.money import ZERO
from inventory.models import Reservation, ReservationStatus
from sales.models import (
    Customer,
    Invoice,
    InvoiceStatus,
    OrderLine,
    OrderStatus,
    Payment,
    SalesChannel,
    SalesOrder,
    SalesReturn,
    Shipment,
)

DEMAND_TYPE = "sales.orderline"
MONEY: DecimalField[object, object] = DecimalField(max_digits=19, decimal_places=4)


def reserved_by_line(line_ids: Iterable[int]) -> dict[int, Decimal]:
    """Quantity still held in stock for each order line (active reservations), in one query."""
    ids = [str(i) for i in line_ids]
    if not ids:
        return {}
    rows = (
        Reservation.objects.filter(
            demand_type=DEMAND_TYPE, demand_id__in=ids, status=ReservationStatus.ACTIVE
        )
        .values("demand_id")
        .annotate(total=Sum("quantity"))
    )
    return {int(r["demand_id"]): r["total"] for r in rows}


def order_list() -> QuerySet[SalesOrder]:
    return SalesOrder.objects.select_related("channel", "customer").order_by("-order_date", "-id")


def order_detail(pk: int) -> SalesOrder:
    return (
        SalesOrder.objects.select_related("channel__warehouse", "customer", "created_by")
        .prefetch_related(
            Prefetch(
                "lines",
                queryset=OrderLine.objects.select_related("product__stock_unit").prefetch_related("taxes"),
            ),
            Prefetch("shipments", queryset=Shipment.objects.prefetch_related("lines__order_line__product")),
            Prefetch("invoices", queryset=Invoice.objects.prefetch_related("payments")),
            Prefetch("returns", queryset=SalesReturn.objects.prefetch_related("lines__order_line__product")),
        )
        .get(pk=pk)
    )


def order_timeline(order: SalesOrder) -> QuerySet[OutboxEvent]:
    """Everything announced about the order, in its own sequence."""
    return OutboxEvent.objects.filter(aggregate_type="sales.salesorder", aggregate_id=str(order.pk)).order_by(
        "sequence"
    )


def customer_list() -> QuerySet[Customer]:
    open_balance = (
        Invoice.objects.filter(
            customer=OuterRef("pk"),
            kind="invoice",
            status__in=[InvoiceStatus.ISSUED, InvoiceStatus.PARTIALLY_PAID],
        )
        .order_by()
        .values("customer")
        .annotate(total=Sum(F("total") - F("amount_paid")))
        .values("total")
    )
    return Customer.objects.annotate(
        open_balance=Coalesce(Subquery(open_balance, output_field=MONEY), Value(ZERO), output_field=MONEY)
    ).order_by("name")


def channel_list() -> QuerySet[SalesChannel]:
    return SalesChannel.objects.select_related("warehouse").order_by("name", "pk")


def invoice_list() -> QuerySet[Invoice]:
    return Invoice.objects.select_related("order", "customer").order_by("-created_at", "-id")


def shipment_list() -> QuerySet[Shipment]:
    return (
        Shipment.objects.select_related("order__customer")
        .prefetch_related("lines")
        .order_by("-shipped_at", "-id")
    )


def payment_list() -> QuerySet[Payment]:
    return Payment.objects.select_related("invoice__customer").order_by("-paid_at", "-id")


def return_list() -> QuerySet[SalesReturn]:
    return (
        SalesReturn.objects.select_related("order__customer", "credit_note")
        .prefetch_related("lines")
        .order_by("-created_at")
    )


def fulfilment_queue() -> QuerySet[OrderLine]:
    """Open lines of confirmed orders with stock held for them: what can ship today, oldest first."""
    # What is held for each line comes from reserved_by_line() over the page's lines (one query).
    return (
        OrderLine.objects.filter(
            order__status__in=[OrderStatus.CONFIRMED, OrderStatus.PARTIALLY_SHIPPED],
            quantity__gt=F("quantity_shipped"),
        )
        .select_related("order__customer", "order__channel", "product__stock_unit")
        .order_by("order__order_date", "order_id", "position")
    )
