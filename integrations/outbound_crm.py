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

Customers to a CRM with field rules (``integrations.field_owners``): ``crm_customer`` adds to the
CustomerOut what such a tool needs: the fields it owns (withheld once it has the contact), those
whose last writer wins with when each took its current value here (the customer's history, one
query; for a value taken from the tool, the tool's own time of it, kept on the link as ``TAKEN``),
payment terms, and the order history (lifetime value and last order date of the confirmed, not
cancelled, orders: one aggregate query).

The order history is kept current by an outbox subscriber (``order_history_changed``): when an
order of a customer is confirmed, updated, cancelled or paid, each connection with field rules
gets the customer pushed again (linked yet or not): a hub event addressed to it
(``CUSTOMER_AGAIN``, resolved as any change of the customer), unless a push of the customer to it
is waiting already and not yet claimed (that one reads the customer when it goes, so it carries
the new history too: one push for a burst of orders). A subscriber rather than the deal's
``then``: it holds for a CRM without deals, runs exactly once per event (in the dispatch's
transaction), and needs no push to land first. The inbound side heals the same way (``customer_again``).
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.db.models import Max, Q, Sum
from django.utils import timezone

from erp import events
from erp.models import OutboxEvent
from integrations import field_owners, outbound_items, ownership, registry
from integrations.contract import Capability
from integrations.field_owners import Owner
from integrations.models import Connection, ConnectionStatus, Delivery, DeliveryStatus, ExternalRef
from integrations.outbound_items import Blocked, Resolved
from integrations.records import CustomerOut, DealOut
from integrations.resolving import ref_of, remembering, unchanged
from sales.models import Customer, CustomerKind, InvoiceKind, InvoiceStatus, OrderStatus, SalesOrder
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


def deal_out(
    order: SalesOrder,
    external_id: str,
    version: str,
    customer_external_id: str,
    company_external_id: str = "",
) -> DealOut:
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
        company_external_id=company_external_id,
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
        str((customer_ref.extra or {}).get("company_id") or ""),
    )
    if unchanged(ref, item) and not force:
        return f"{connection} has deal {order.number} ({item.stage}) as it is already."
    return Resolved(DEAL, Capability.DEALS_OUT, item, remembering(connection, DEAL, order, item))


# --- customers to a CRM with field rules -------------------------------------------------------

# The hub's own topic: push a customer again to the one connection the payload names.
CUSTOMER_AGAIN = "integrations.customer_again"
# A customer's order history changes with these (its lifetime value, its last order date).
ORDER_HISTORY_TOPICS = frozenset(
    {"sales.order_confirmed", "sales.order_updated", "sales.order_cancelled", "sales.payment_received"}
)
# ExternalRef.extra keys of a customer's link: field -> {"at": the tool's time of the value we took
# from it, "here": when we took it}; field -> the value we last sent; the tool's values we last
# healed (a disagreement that comes back unchanged right after is not pushed again).
TAKEN, SENT, HEALED = "taken", "sent", "healed"
HISTORY_FIELDS = ("code", *field_owners.COLUMNS)
OPEN = (DeliveryStatus.PENDING, DeliveryStatus.FAILED)


def _moment(value: Any) -> datetime.datetime | None:
    try:
        return datetime.datetime.fromisoformat(str(value))
    except ValueError:
        return None


def field_times(customer: Customer, ref: ExternalRef | None) -> dict[str, datetime.datetime]:
    """When each field took its current value here: the oldest of the newest history rows that
    hold it (one query); the address, which keeps no time of its own, the customer's. A value taken
    from the CRM counts from the CRM's time of it, unless it changed here since."""
    rows = list(
        customer.history.order_by("-history_date", "-history_id").values("history_date", *HISTORY_FIELDS)
    )
    times: dict[str, datetime.datetime] = {}
    for name in HISTORY_FIELDS:
        current, since = getattr(customer, name), None
        for row in rows:
            if row[name] != current:
                break
            since = row["history_date"]
        times[name] = since or customer.updated_at
    times["address"] = customer.updated_at
    taken = ref.extra.get(TAKEN) if ref is not None and isinstance(ref.extra, dict) else None
    for name, mark in (taken or {}).items():
        tool_at, here = _moment(mark.get("at")), _moment(mark.get("here"))
        if name in times and tool_at is not None and here is not None and times[name] <= here:
            times[name] = tool_at
    return times


def order_history(customer_id: int) -> tuple[Decimal, datetime.date | None]:
    """The customer's lifetime value and last order date: its confirmed, not cancelled, orders (one
    aggregate query)."""
    found = (
        SalesOrder.objects.filter(customer_id=customer_id)
        .exclude(status__in=(OrderStatus.DRAFT, OrderStatus.CANCELLED))
        .aggregate(value=Sum("total"), last=Max("order_date"))
    )
    last = found["last"]
    return found["value"] or Decimal(0), _day(last) if last is not None else None


def crm_customer(
    item: CustomerOut, customer: Customer, owners: Mapping[str, Owner], ref: ExternalRef | None
) -> CustomerOut:
    """``item`` (``outbound_accounting.customer_out``) as a CRM with field rules takes it. A new
    contact gets every value we have; once the tool has it, the fields it owns are withheld."""
    times = field_times(customer, ref)
    value, last = order_history(customer.pk)
    extra = ref.extra if ref is not None and isinstance(ref.extra, dict) else {}
    return dataclasses.replace(
        item,
        withheld=field_owners.withheld(owners) if item.external_id else (),
        latest=field_owners.latest(owners),
        changed_at={name: at for name, at in times.items() if name in owners},
        payment_terms=customer.payment_terms,
        lifetime_value=value,
        last_order_date=last,
        company_external_id=str(extra.get("company_id") or ""),
    )


def sent_values(item: CustomerOut) -> dict[str, Any]:
    """What a push of ``item`` tells the tool, per field (kept on the link as ``SENT``): a value the
    tool reports back that is one we sent is our own echo, never a change of the tool's."""
    values: dict[str, Any] = {
        name: getattr(item, name) for name in field_owners.COLUMNS if name not in item.withheld
    }
    if "address" not in item.withheld:
        values["address"] = dict(item.billing_address)
    return values


def company_lags(customer: Customer, item: CustomerOut, ref: ExternalRef) -> bool:
    """Whether a company customer's company record in the CRM (``item.company_external_id``) may not
    show what we would send now. The tool tells the hub of the contact alone, so a contact that
    agrees with us says nothing of its company: that shows what we last sent (``SENT``, recorded
    with each push that landed; the connector sends a company every field the tool does not own).
    A value taken from the contact (a new name, a phone) is ours now, and its company still has the
    old one until a push carries it there."""
    if customer.kind != CustomerKind.COMPANY or not item.company_external_id:
        return False
    extra = ref.extra if isinstance(ref.extra, dict) else {}
    return bool(extra.get(SENT) != sent_values(item))


def customer_again(connection: Connection, customer: Customer, *, why: str) -> bool:
    """Push ``customer`` to ``connection`` again (a hub event addressed to it), unless a push of it
    is waiting there already, not claimed yet: that one reads the customer when it goes. In the
    caller's transaction; True if an event was emitted."""
    resolver = outbound_items.resolver_for(CUSTOMER_AGAIN, connection)
    if resolver is None:
        return False
    now = timezone.now()
    waiting = Delivery.objects.filter(
        connection=connection,
        topic__in=outbound_items.topics_resolved_by(resolver),
        status__in=OPEN,
        event__aggregate_type=Customer._meta.label_lower,
        event__aggregate_id=str(customer.pk),
    ).filter(Q(claimed_until__isnull=True) | Q(claimed_until__lte=now))
    if waiting.exists():
        return False
    events.emit(
        CUSTOMER_AGAIN,
        aggregate=customer,
        payload={"connection_id": connection.pk, "customer_id": customer.pk, "why": why},
    )
    return True


def _with_field_rules(connections: list[Connection]) -> list[Connection]:
    found = []
    for connection in connections:
        try:
            takes = registry.get(connection.connector).capabilities
        except registry.UnknownConnector:
            continue
        if Capability.CUSTOMERS_OUT in takes and ownership.field_owners_of(connection):
            found.append(connection)
    return found


def order_history_changed(event: OutboxEvent) -> None:
    """An outbox subscriber: an order confirmed, updated, cancelled or paid changes its customer's order
    history, so each connection with field rules gets the customer again. Whether the tool has the
    customer yet does not matter: a first push of it may be on its way with the history read before
    this order (the link is made only when its answer comes), and one the tool never had is made
    now, with its history."""
    if event.topic not in ORDER_HISTORY_TOPICS:
        return
    customer_id = event.payload.get("customer_id")
    if not isinstance(customer_id, int):
        return
    connections = _with_field_rules(list(Connection.objects.exclude(status=ConnectionStatus.PAUSED)))
    customer = Customer.objects.filter(pk=customer_id).first() if connections else None
    if customer is None:
        return
    number = event.payload.get("number", "")
    for connection in connections:
        customer_again(connection, customer, why=f"order history: {event.topic} {number}".strip())


def install() -> None:
    for topic in TOPICS:
        outbound_items.register_resolver(topic, Capability.DEALS_OUT, resolve_deal)
    for topic in sorted(ORDER_HISTORY_TOPICS):
        events.subscribe(
            topic, order_history_changed, name=f"integrations.outbound_crm.order_history:{topic}"
        )
