"""Reads of sales, with what pages and the API need at a constant number of queries."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import DecimalField, F, OuterRef, Prefetch, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from erp.models import OutboxEvent
from erp.money import ZERO
from inventory.selectors import reserved_by_demand
from sales import lifecycle
from sales.models import (
    Customer,
    Invoice,
    InvoiceKind,
    InvoicePolicy,
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
    return reserved_by_demand(DEMAND_TYPE, line_ids)


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


OPEN_INVOICE = (InvoiceStatus.ISSUED, InvoiceStatus.PARTIALLY_PAID)
BACKORDERABLE = (OrderStatus.CONFIRMED, OrderStatus.PARTIALLY_SHIPPED)


@dataclass(frozen=True)
class OrderFigures:
    """What the order page and the API both say about an order beyond its stored fields.

    Computed once, here, from an order read with ``order_detail`` (its lines and invoices
    prefetched), so that the page and the API never disagree on a figure or an action.
    """

    reserved: dict[int, Decimal]  # per line id: held in stock now
    backordered: dict[int, Decimal]  # per line id: still to ship, neither shipped nor reserved
    invoiceable: bool  # some quantity waits for an invoice (by the channel's invoice policy)
    invoiced: Decimal  # total of the order's invoices that are not void
    paid: Decimal
    balance: Decimal  # still to be paid on its open invoices
    actions: tuple[str, ...]  # what can be done next, in the order the buttons show

    def backordered_lines(self) -> int:
        return sum(1 for quantity in self.backordered.values() if quantity > 0)


def order_figures(order: SalesOrder) -> OrderFigures:
    """The figures and allowed actions of an order read with ``order_detail`` (one more query:
    the reservations)."""
    lines = list(order.lines.all())
    reserved = reserved_by_line([ln.pk for ln in lines])
    backorderable = order.status in BACKORDERABLE
    backordered = {
        ln.pk: max(ln.quantity - ln.quantity_shipped - reserved.get(ln.pk, ZERO), ZERO)
        if backorderable and ln.product.is_stocked
        else ZERO
        for ln in lines
    }
    by_shipped = order.channel.invoice_policy == InvoicePolicy.SHIPPED
    invoiceable = any(
        (ln.quantity_shipped if by_shipped else ln.quantity) > ln.quantity_invoiced for ln in lines
    )
    invoices = [inv for inv in order.invoices.all() if inv.kind == InvoiceKind.INVOICE]
    actions = lifecycle.allowed_actions(order.status, order.held_from)
    if not invoiceable:
        actions = [a for a in actions if a != "invoice"]  # it would only be refused: not offered
    return OrderFigures(
        reserved=reserved,
        backordered=backordered,
        invoiceable=invoiceable,
        invoiced=sum((inv.total for inv in invoices if inv.status != InvoiceStatus.VOID), ZERO),
        paid=sum((inv.amount_paid for inv in invoices), ZERO),
        balance=sum((inv.balance for inv in invoices if inv.status in OPEN_INVOICE), ZERO),
        actions=tuple(actions),
    )
