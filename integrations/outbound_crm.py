"""Deals out: a CRM follows each sales order as a deal, from its confirmation to its payment.

For connections whose connector takes ``DEALS_OUT``, every outbox event of an order
(``TOPICS``: confirmed, updated, shipped, invoiced, paid, cancelled, closed) resolves to the
order's ``DealOut`` read now: its number, total and currency, and its stage in our words
(``stage_of``: "confirmed", "shipped", "invoiced", "paid", "cancelled", "closed"; the connector
maps them to the CRM's pipeline). The deal names the customer's id in the CRM
(ExternalRef("customer")); a customer the CRM does not have yet is pushed first (``Blocked``). A
deal the CRM has exactly as we would send it is not sent again (ExternalRef("deal").pushed_hash),
so an event that changes nothing the deal shows pushes nothing. Draft orders are not deals yet;
an order cancelled before the CRM had it is not sent.

These topics mean other records to other tools (an order to ship, a fulfilment, an invoice); the
hub picks the resolver by what the connection's connector takes (``outbound_items.resolver_for``).
"""

from __future__ import annotations

import datetime

from django.utils import timezone

from erp.models import OutboxEvent
from integrations import outbound_items
from integrations.contract import Capability
from integrations.models import Connection
from integrations.outbound_items import Blocked, Resolved
from integrations.records import DealOut
from integrations.resolving import ref_of, remembering, unchanged
from sales.models import Customer, InvoiceKind, InvoiceStatus, OrderStatus, SalesOrder
from sales.services.masterdata import customer_payload

DEAL, CUSTOMER = "deal", "customer"
TOPICS = (
    "sales.order_confirmed",
    "sales.order_updated",
    "sales.shipment_shipped",
    "sales.invoice_issued",
    "sales.payment_received",
    "sales.order_cancelled",
    "sales.order_closed",
)
CONFIRMED, SHIPPED, INVOICED, PAID = "confirmed", "shipped", "invoiced", "paid"
CANCELLED, CLOSED = "cancelled", "closed"
STAGES = (CONFIRMED, SHIPPED, INVOICED, PAID, CANCELLED, CLOSED)
ISSUED = (InvoiceStatus.ISSUED, InvoiceStatus.PARTIALLY_PAID, InvoiceStatus.PAID)


def stage_of(order: SalesOrder) -> str:
    """Where an order stands, in our words (its invoices and lines loaded): cancelled or closed as
    the order says; else paid (every issued invoice paid, nothing left to invoice), invoiced (an
    invoice issued), shipped (all of it), or confirmed (on hold and partly shipped included)."""
    if order.status == OrderStatus.CANCELLED:
        return CANCELLED
    if order.status == OrderStatus.CLOSED:
        return CLOSED
    invoices = [i for i in order.invoices.all() if i.kind == InvoiceKind.INVOICE and i.status in ISSUED]
    if invoices:
        left = any(line.quantity_invoiced < line.quantity for line in order.lines.all())
        everything_paid = all(i.status == InvoiceStatus.PAID for i in invoices)
        return PAID if everything_paid and not left else INVOICED
    if order.status == OrderStatus.SHIPPED:
        return SHIPPED
    return CONFIRMED


def _day(moment: datetime.datetime) -> datetime.date:
    return timezone.localdate(moment) if timezone.is_aware(moment) else moment.date()


def deal_out(order: SalesOrder, external_id: str, version: str, customer_external_id: str) -> DealOut:
    """The DealOut of a confirmed order (customer, invoices and lines loaded). Its close date is
    the day it was won (confirmed), or lost (cancelled)."""
    stage = stage_of(order)
    closed_at = order.cancelled_at if stage == CANCELLED else order.confirmed_at
    return DealOut(
        reference=order.number,
        external_id=external_id,
        version=version,
        name=f"{order.number} {order.customer.name}",
        amount=order.total,
        currency=order.currency,
        stage=stage,
        close_date=_day(closed_at or order.order_date),
        customer_external_id=customer_external_id,
    )


def _customer_first(connection: Connection, customer: Customer) -> Blocked:
    return Blocked(
        reason=f"customer {customer.name} is not in {connection} yet",
        topic="sales.customer_updated",
        aggregate=customer,
        payload=customer_payload(customer),
    )


def resolve_deal(connection: Connection, event: OutboxEvent, force: bool) -> Resolved | Blocked | str:
    order = (
        SalesOrder.objects.select_related("customer")
        .prefetch_related("invoices", "lines")
        .filter(pk=event.payload.get("order_id"))
        .first()
    )
    if order is None:
        return "The order no longer exists."
    if order.status == OrderStatus.DRAFT:
        return f"{order.number} is not confirmed yet: it becomes a deal when it is."
    ref = ref_of(connection, DEAL, order)
    if order.status == OrderStatus.CANCELLED and ref is None:
        return f"{order.number} was cancelled before {connection} had it."
    customer_ref = ref_of(connection, CUSTOMER, order.customer)
    if customer_ref is None:
        return _customer_first(connection, order.customer)
    item = deal_out(
        order,
        ref.external_id if ref else "",
        ref.external_version if ref else "",
        customer_ref.external_id,
    )
    if unchanged(ref, item) and not force:
        return f"{connection} has deal {order.number} ({item.stage}) as it is already."
    return Resolved(DEAL, Capability.DEALS_OUT, item, remembering(connection, DEAL, order, item))


def install() -> None:
    for topic in TOPICS:
        outbound_items.register_resolver(topic, Capability.DEALS_OUT, resolve_deal)
