"""Reads of sales, with what pages and the API need at a constant number of queries."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TypedDict

from django.db.models import (
    Case,
    Count,
    DecimalField,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from erp.models import OutboxEvent
from erp.money import ZERO
from inventory.filters import search_products
from inventory.models import Barcode, Product
from inventory.selectors import (
    has_reservation_for_demand,
    product_list,
    reserved_by_demand,
    reserved_for_demand,
)
from sales import lifecycle
from sales.filters import OPEN
from sales.models import (
    Customer,
    Invoice,
    InvoiceKind,
    InvoicePolicy,
    InvoiceStatus,
    OrderLine,
    OrderStatus,
    Payment,
    Refund,
    ReturnLine,
    SalesChannel,
    SalesOrder,
    SalesReturn,
    Shipment,
    ShipmentLine,
)

DEMAND_TYPE = "sales.orderline"
MONEY: DecimalField[object, object] = DecimalField(max_digits=19, decimal_places=4)
OPEN_INVOICE = (InvoiceStatus.ISSUED, InvoiceStatus.PARTIALLY_PAID)
BACKORDERABLE = (OrderStatus.CONFIRMED, OrderStatus.PARTIALLY_SHIPPED)
# Where an order takes more lines or units after it was confirmed (sales.services.order_lines_extend).
EXTENDABLE = (OrderStatus.CONFIRMED, OrderStatus.PARTIALLY_SHIPPED)


def lines_can_be_added(status: str, held_from: str = "") -> bool:
    """An order confirmed or partially shipped, or on hold from either, takes new lines and more of
    a line (``order_lines_extend``); a draft is edited whole (``order_update``). The order page and
    the API offer it (the action ``add_line``) exactly when this says so."""
    return status in EXTENDABLE or (status == OrderStatus.ON_HOLD and held_from in EXTENDABLE)


def reserved_by_line(line_ids: Iterable[int]) -> dict[int, Decimal]:
    """Quantity still held in stock for each order line (active reservations), in one query."""
    return reserved_by_demand(DEMAND_TYPE, line_ids)


def order_list() -> QuerySet[SalesOrder]:
    return SalesOrder.objects.select_related("channel", "customer").order_by("-order_date", "-id")


def order_status_counts(orders: QuerySet[SalesOrder]) -> dict[str, int]:
    """How many of these orders are in each status, how many are open (``lifecycle.OPEN_STATUSES``,
    under the key ``"open"``) and how many there are (``"all"``): the order list's tabs. One query."""
    aggregates = {"all": Count("pk"), OPEN: Count("pk", filter=Q(status__in=lifecycle.OPEN_STATUSES))}
    for status in OrderStatus:
        aggregates[status.value] = Count("pk", filter=Q(status=status))
    counts: dict[str, int] = orders.order_by().aggregate(**aggregates)
    return counts


def orders_to_confirm() -> QuerySet[SalesOrder]:
    """Draft orders: taken, not confirmed yet (nothing reserved for them)."""
    return SalesOrder.objects.filter(status=OrderStatus.DRAFT)


def order_lines_with_reserved() -> QuerySet[OrderLine]:
    """Order lines by position, with product, unit and taxes, each with ``reserved``: what is still held
    for it (one subquery, whatever the number of lines)."""
    return (
        OrderLine.objects.select_related("product__stock_unit")
        .prefetch_related("taxes")
        .annotate(reserved=reserved_for_demand(DEMAND_TYPE))
        .order_by("position", "id")
    )


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


def active_customers() -> QuerySet[Customer]:
    """Customers an order can be taken for: the active ones."""
    return Customer.objects.filter(is_active=True)


def channel_list() -> QuerySet[SalesChannel]:
    return SalesChannel.objects.select_related("warehouse").order_by("name", "pk")


def active_channels() -> QuerySet[SalesChannel]:
    """Channels an order can be taken in (the active ones), with their warehouse, in their default order
    (the first is the order form's default)."""
    return SalesChannel.objects.filter(is_active=True).select_related("warehouse")


def product_options(query: str, *, warehouse_id: int | None, limit: int) -> list[Product]:
    """Active products matching what is typed (SKU prefix, barcode, name), best first: an exact SKU or
    barcode, then a SKU prefix, then the rest, by SKU; each with ``on_hand``, ``reserved`` and
    ``available`` in the warehouse (all of them without one). One query."""
    query = query.strip()
    if not query:
        return []
    exact_barcode = Barcode.objects.filter(product=OuterRef("pk"), code=query)
    products = search_products(product_list(warehouse_id=warehouse_id).filter(is_active=True), query)
    return list(
        products.annotate(
            available=F("on_hand") - F("reserved"),
            rank=Case(
                When(sku__iexact=query, then=Value(0)),
                When(Exists(exact_barcode), then=Value(0)),
                When(sku__istartswith=query, then=Value(1)),
                default=Value(2),
                output_field=IntegerField(),
            ),
        ).order_by("rank", "sku")[:limit]
    )


def invoice_list() -> QuerySet[Invoice]:
    return Invoice.objects.select_related("order", "customer").order_by("-created_at", "-id")


def invoice_detail(pk: int) -> Invoice:
    """An invoice (or credit note) with its order, customer, lines, payments and refunds (with their
    credit note): what the API answers. Four queries."""
    return (
        invoice_list()
        .prefetch_related(
            "lines", "payments", Prefetch("refunds", queryset=Refund.objects.select_related("credit_note"))
        )
        .get(pk=pk)
    )


class Receivable(TypedDict):
    """What is open on issued invoices in one currency, and what of it is overdue."""

    currency: str
    open: Decimal
    invoices: int
    overdue: Decimal
    overdue_count: int


def receivables(today: date | None = None) -> list[Receivable]:
    """Per currency: what is open on issued invoices (not credit notes) and what of it is overdue
    (due before ``today``, the local date unless given). One query."""
    today = today or timezone.localdate()
    balance = F("total") - F("amount_paid")
    rows = (
        Invoice.objects.filter(kind=InvoiceKind.INVOICE, status__in=OPEN_INVOICE)
        .order_by()
        .values("currency")
        .annotate(
            open=Sum(balance),
            invoices=Count("pk"),
            overdue=Sum(balance, filter=Q(due_date__lt=today)),
            overdue_count=Count("pk", filter=Q(due_date__lt=today)),
        )
        .order_by("currency")
    )
    return [
        Receivable(
            currency=r["currency"],
            open=r["open"],
            invoices=r["invoices"],
            overdue=r["overdue"] or Decimal(0),
            overdue_count=r["overdue_count"],
        )
        for r in rows
    ]


def shipment_list() -> QuerySet[Shipment]:
    return (
        Shipment.objects.select_related("order__customer")
        .prefetch_related("lines")
        .order_by("-shipped_at", "-id")
    )


def shipment_detail(pk: int) -> Shipment:
    """A shipment with its order (customer, channel) and its lines (order line, product, unit): what the
    API answers and the packing slip prints. Two queries."""
    lines = ShipmentLine.objects.select_related("order_line__product__stock_unit")
    return (
        Shipment.objects.select_related("order__customer", "order__channel")
        .prefetch_related(Prefetch("lines", queryset=lines))
        .get(pk=pk)
    )


def payment_list() -> QuerySet[Payment]:
    return Payment.objects.select_related("invoice__customer").order_by("-paid_at", "-id")


def return_list() -> QuerySet[SalesReturn]:
    return (
        SalesReturn.objects.select_related("order__customer", "credit_note")
        .prefetch_related("lines")
        .order_by("-created_at")
    )


def return_detail(pk: int) -> SalesReturn:
    """A return with its order, customer, credit note, lines (order line, product) and refunds (credit
    note): what the API answers. Three queries."""
    return (
        SalesReturn.objects.select_related("order__customer", "credit_note")
        .prefetch_related(
            Prefetch("lines", queryset=ReturnLine.objects.select_related("order_line__product")),
            Prefetch("refunds", queryset=Refund.objects.select_related("credit_note")),
        )
        .get(pk=pk)
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


def ready_to_ship() -> QuerySet[OrderLine]:
    """``fulfilment_queue`` narrowed to the lines with stock held for them (reserved > 0): what the
    fulfilment page and the API's queue list."""
    return fulfilment_queue().filter(has_reservation_for_demand(DEMAND_TYPE))


def backordered_line_count() -> int:
    """Open lines that take our stock (``OrderLine.USES_OUR_STOCK``) on confirmed (or partly shipped)
    orders with less held for them than is still to ship: the lines ``order_figures`` calls
    backordered. One query."""
    return (
        OrderLine.objects.filter(
            OrderLine.USES_OUR_STOCK,
            order__status__in=BACKORDERABLE,
            quantity__gt=F("quantity_shipped"),
        )
        .annotate(held=reserved_for_demand(DEMAND_TYPE))
        .filter(held__lt=F("quantity") - F("quantity_shipped"))
        .count()
    )


@dataclass(frozen=True)
class OrderFigures:
    """What the order page and the API both say about an order beyond its stored fields.

    Computed once, here, from an order read with ``order_detail`` (its lines and invoices
    prefetched), so that the page and the API never disagree on a figure or an action.
    """

    reserved: dict[int, Decimal]  # per line id: held in stock now
    # per line id: still to ship, neither shipped nor reserved; 0 for a line that takes none of our
    # stock (a service, or a line the marketplace fulfils): it never waits for stock here
    backordered: dict[int, Decimal]
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
        if backorderable and ln.uses_our_stock
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
    if lines_can_be_added(order.status, order.held_from):  # after ship, invoice, release; before the rest
        at = next((i for i, a in enumerate(actions) if a not in ("ship", "invoice", "release")), len(actions))
        actions.insert(at, "add_line")
    return OrderFigures(
        reserved=reserved,
        backordered=backordered,
        invoiceable=invoiceable,
        invoiced=sum((inv.total for inv in invoices if inv.status != InvoiceStatus.VOID), ZERO),
        paid=sum((inv.amount_paid for inv in invoices), ZERO),
        balance=sum((inv.balance for inv in invoices if inv.status in OPEN_INVOICE), ZERO),
        actions=tuple(actions),
    )
