"""Orders in: see the package's doc."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Any

from django.utils import timezone

from erp import events, formatting
from erp.exceptions import ValidationFailed
from erp.money import ZERO, round_money
from integrations import locations, registry
from integrations.appliers.edits import apply_edits, as_sold
from integrations.appliers.lines import line_products
from integrations.appliers.prices import (
    PENDING,
    can_price,
    hold_until_priced,
    price_order,
    release_priced,
    waiting_for_prices,
)
from integrations.appliers.refs import (
    CUSTOMER,
    GUEST,
    ORDER,
    ORDER_LINE,
    Applied,
    NotConfigured,
    TotalsMismatch,
    claim,
    ct,
    is_stale,
)
from integrations.appliers.refunds import apply_refunds
from integrations.appliers.shipments import apply_shipments
from integrations.canonical import content_hash
from integrations.contract import Action, Capability, InboundItem
from integrations.models import Connection, ExternalRef, SyncRun
from integrations.outbound_items import STOCK_RECHECK, forget_pushed
from integrations.records import OrderRecord
from inventory.models import Product
from sales import lifecycle
from sales.models import (
    Customer,
    CustomerKind,
    FulfilledBy,
    OrderLine,
    OrderStatus,
    PaymentTerms,
    SalesChannel,
    SalesOrder,
)
from sales.selectors import reserved_by_line
from sales.services import (
    LineSpec,
    TaxSpec,
    channel_update,
    customer_create,
    order_cancel,
    order_confirm,
    order_create,
    order_release,
    order_update,
)


def apply_order(connection: Connection, item: InboundItem, run: SyncRun) -> Applied:
    record = item.record
    if item.action == Action.DELETE or record is None:
        return Applied(ORDER, item.external_id, "skipped", "deleted in the tool: orders here are kept")
    if not isinstance(record, OrderRecord):
        raise ValueError(f"An order item carries a {type(record).__name__}.")
    ref, claimed = claim(connection, ORDER, record.external_id, SalesOrder)
    if claimed:
        applied = _create_order(connection, ref, item, record)
    else:
        applied = _update_order(connection, ref, item, record, run)
    if applied.outcome != "skipped" and applied.internal_id is not None:
        # The channel counted its own stock as it sold (or gave it back): what we last pushed of
        # these products is not what it shows now.
        forget_pushed(
            connection,
            OrderLine.objects.filter(order_id=applied.internal_id).values_list("product_id", flat=True),
        )
    return applied


def _channel(connection: Connection, record: OrderRecord) -> SalesChannel:
    channel = connection.sales_channel
    if channel is None:
        raise NotConfigured(
            f"{connection.name} has no sales channel: choose one to import orders into on the "
            "connection's page (Edit), then replay the waiting events.",
            value="sales channel",
        )
    currency = record.currency.upper()
    if currency and currency != channel.currency and not SalesOrder.objects.filter(channel=channel).exists():
        # A channel that has sold nothing yet takes the account's currency from its first order
        # (a new connection's own channel starts in the base currency).
        channel = channel_update(channel=channel, currency=currency)
        connection.sales_channel = channel
    if record.currency and record.currency.upper() != channel.currency:
        raise NotConfigured(
            f"Order {record.number} is in {record.currency} but channel {channel.code} sells in "
            f"{channel.currency}: map the connection to a channel in the shop's currency.",
            value=f"channel currency {record.currency.upper()}",
        )
    return channel


def _products(connection: Connection, record: OrderRecord) -> list[Product]:
    """The product of every line, in order; MissingDependency for the first that resolves to none."""
    return line_products(connection, record, list(enumerate(record.lines, start=1)))


def _address(values: Any) -> dict[str, str]:
    return {str(k): str(v or "") for k, v in dict(values or {}).items()}


def _customer(connection: Connection, record: OrderRecord, channel: SalesChannel) -> Customer:
    rec = record.customer
    external_id = rec.external_id if rec is not None and rec.external_id else ""
    if rec is None or not (external_id or rec.email):
        external_id = GUEST
    ref, claimed = claim(connection, CUSTOMER, external_id, Customer)
    if not claimed:
        return Customer.objects.get(pk=ref.object_id)
    customer = None
    if external_id != GUEST and rec is not None and rec.email:
        customer = (
            Customer.objects.filter(email__iexact=rec.email.strip(), is_active=True).order_by("pk").first()
        )
    if customer is None:
        customer = _new_customer(connection, record, channel, guest=external_id == GUEST)
    ref.object_id = customer.pk
    ref.content_type = ct(Customer)
    ref.save(update_fields=["object_id", "content_type"])
    return customer


def _new_customer(
    connection: Connection, record: OrderRecord, channel: SalesChannel, *, guest: bool
) -> Customer:
    rec = record.customer
    values: dict[str, Any] = {
        "name": f"{connection.name} guest" if guest or rec is None else (rec.name or rec.email),
        "kind": CustomerKind.COMPANY
        if rec is not None and rec.company and not guest
        else CustomerKind.PERSON,
        "email": "" if guest or rec is None else rec.email,
        "phone": "" if guest or rec is None else rec.phone[:40],
        "currency": channel.currency,
        "payment_terms": PaymentTerms.PREPAID,
        "notes": f"Created from {connection.name} ({connection.connector}).",
    }
    billing, shipping = _address(record.billing_address), _address(record.shipping_address)
    usable = all(billing.get(k) for k in ("line1", "city", "country")) and not guest
    if usable:
        try:
            return customer_create(**values, billing_address=billing, shipping_address=shipping or None)
        except ValidationFailed:
            pass  # an address the hub cannot store: the order keeps its own copy anyway
    return customer_create(**values)


def _tool_tags(record: OrderRecord) -> list[str]:
    tags = {t.strip() for t in record.tags if t.strip()}
    if record.financial_status:
        tags.add(record.financial_status.strip().lower())
    return sorted(tags)


def _create_order(
    connection: Connection, ref: ExternalRef, item: InboundItem, record: OrderRecord
) -> Applied:
    channel = _channel(connection, record)
    products = _products(connection, record)
    customer = _customer(connection, record, channel)
    specs = [
        LineSpec(
            product=product,
            quantity=line.quantity,
            unit_price=line.unit_price,
            description=line.title or product.name,
            discount_amount=line.discount,
            taxes=[TaxSpec(t.name[:60], t.rate, t.amount) for t in line.taxes],
            # A line the marketplace ships from its own stock (Amazon FBA) is sold here, reserves
            # nothing at confirmation and never goes out to a shipping tool.
            fulfilled_by=FulfilledBy(line.fulfilled_by.value),
        )
        for line, product in zip(record.lines, products, strict=True)
    ]
    ship_taxes = [t for s in record.shipping for t in s.taxes]
    order = order_create(
        channel=channel,
        customer=customer,
        lines=specs,
        order_date=record.created_at,
        billing_address=_address(record.billing_address) or None,
        shipping_address=_address(record.shipping_address) or None,
        shipping_amount=sum((s.amount - s.discount for s in record.shipping), ZERO),
        shipping_method=record.shipping[0].title if record.shipping else "",
        shipping_tax_rate=ship_taxes[0].rate if ship_taxes else ZERO,
        shipping_tax_amount=sum((t.amount for t in ship_taxes), ZERO) if ship_taxes else None,
        notes=record.note,
        tags=_tool_tags(record),
        external_reference=record.number[:100],
        prices_include_tax=record.prices_include_tax,
    )
    check_totals(order, record, connection)
    cancelled = item.action == Action.CANCEL or record.cancelled_at is not None
    if cancelled:
        order = order_cancel(order=order, reason=_cancel_reason(connection, record))
    else:
        order = order_confirm(order=order)
        _recheck_oversold(connection, order)
        if record.prices_pending:
            order = hold_until_priced(ref, order)
    _remember(ref, order, item, record)
    shipped = 0
    lines = list(OrderLine.objects.filter(order=order).order_by("position", "pk"))
    for line, line_record in zip(lines, record.lines, strict=True):
        if line_record.external_id:
            ExternalRef.objects.update_or_create(
                connection=connection,
                object_type=ORDER_LINE,
                external_id=line_record.external_id,
                defaults={
                    "content_type": ct(OrderLine),
                    "object_id": line.pk,
                    "extra": {"order": record.external_id},
                },
            )
    notes = ["cancelled in the tool"] if cancelled else []
    if not cancelled:
        # An update that arrives before its create: the order is created as it is now, edited,
        # shipped and refunded too.
        edits = apply_edits(connection, order, record)
        shipped, shipment_notes = apply_shipments(connection, order, record)
        refunded, refund_notes = apply_refunds(connection, order, record)
        notes += edits.notes + shipment_notes + refund_notes
        notes += ["edited as in the tool"] if edits.changed else []
        notes += [f"{shipped} shipment(s) recorded from the tool"] if shipped else []
        notes += [f"{refunded} refund(s) recorded from the tool"] if refunded else []
    return Applied(ORDER, record.external_id, "created", "; ".join(notes), order.pk, order.number)


def _recheck_oversold(connection: Connection, order: SalesOrder) -> None:
    """The tool sold more than is available here (its own count went below zero, the order is
    backordered here): nothing reserved means no level changed, so nothing would tell the tool.
    One ``STOCK_RECHECK`` per such product (and per mapped location) pushes our level to this
    connection again, forced."""
    try:
        tool = registry.get(connection.connector)
    except registry.UnknownConnector:
        return
    if Capability.INVENTORY_OUT not in tool.capabilities:
        return
    lines = list(
        OrderLine.objects.filter(OrderLine.USES_OUR_STOCK, order=order)
        .order_by("position", "pk")
        .values_list("pk", "product_id", "product__sku", "quantity")
    )
    held = reserved_by_line(pk for pk, *_ in lines)
    short = {product_id: sku for pk, product_id, sku, quantity in lines if held.get(pk, ZERO) < quantity}
    # A connection with mapped locations: one recheck per location (the tool's order does not say
    # which of them sold it), each coalescing with that warehouse's level changes.
    located: list[int | None] = [*sorted(locations.locations_of(connection))] if short else []
    for product_id, sku in short.items():
        for warehouse_id in located or [None]:
            where = {"warehouse_id": warehouse_id} if warehouse_id is not None else {}
            events.emit(
                STOCK_RECHECK,
                aggregate=("inventory.product", product_id),
                payload={
                    "connection_id": connection.pk,
                    "product_id": product_id,
                    "sku": sku,
                    "reason": f"sold in {tool.name} beyond what is available here",
                    **where,
                },
            )


def _remember(ref: ExternalRef, order: SalesOrder, item: InboundItem, record: OrderRecord) -> None:
    ref.content_type = ct(SalesOrder)
    ref.object_id = order.pk
    updated_at = item.updated_at or record.updated_at
    if ref.external_updated_at is None or (updated_at and updated_at > ref.external_updated_at):
        ref.external_updated_at = updated_at
    ref.content_hash = content_hash(record)
    ref.extra = {
        **ref.extra,
        "financial_status": record.financial_status,
        "tags": _tool_tags(record),
        PENDING: record.prices_pending,
    }
    ref.synced_at = timezone.now()
    ref.save()


def _cancel_reason(connection: Connection, record: OrderRecord) -> str:
    return f"cancelled in {connection.name}" + (f": {record.cancel_reason}" if record.cancel_reason else "")


def check_totals(order: SalesOrder, record: OrderRecord, connection: Connection) -> None:
    """Fail loudly when our arithmetic does not give the tool's totals (see the module doc)."""
    theirs = record.totals
    if theirs is None:
        return
    line_tax = sum((ln.tax_amount for ln in order.lines.all()), ZERO)
    ship_discount = sum((s.discount for s in record.shipping), ZERO)
    ours: dict[str, tuple[Decimal, ...]] = {
        "total": (order.total,),
        "tax": (order.tax_total,),
        "subtotal": (order.subtotal + (line_tax if order.prices_include_tax else ZERO),),
        "shipping": (order.shipping_amount,),
        "discount": (order.discount_total, order.discount_total + ship_discount),
    }
    expected = {
        "total": theirs.total,
        "tax": theirs.tax,
        "subtotal": theirs.subtotal,
        "shipping": theirs.shipping,
        "discount": theirs.discount,
    }
    # At the currency's minor unit: a tool may send more places (BigCommerce's "24.0000").
    currency = order.currency

    def same(value: Decimal, mine: Decimal) -> bool:
        return round_money(value, currency) == round_money(mine, currency)

    wrong = [
        f"{name} {ours[name][0]} here, {value} in {connection.connector}"
        for name, value in expected.items()
        if not any(same(Decimal(value), mine) for mine in ours[name])
    ]
    if wrong:
        raise TotalsMismatch(
            f"Order {record.number}: our totals differ from the tool's: {'; '.join(wrong)}.",
            value=record.number,
        )


def _update_order(
    connection: Connection, ref: ExternalRef, item: InboundItem, record: OrderRecord, run: SyncRun
) -> Applied:
    order = SalesOrder.objects.get(pk=ref.object_id)
    updated_at = item.updated_at or record.updated_at
    done = Applied(ORDER, record.external_id, "skipped", "", order.pk, order.number)
    if is_stale(ref, updated_at):
        return replace(done, reason=f"stale: {updated_at.isoformat()} is older than what is stored")
    cancel = item.action == Action.CANCEL or record.cancelled_at is not None
    digest = content_hash(record)
    if digest == ref.content_hash and (not cancel or order.status == OrderStatus.CANCELLED):
        return replace(done, reason="unchanged")
    notes: list[str] = []  # for a person to look at: run warnings too
    done_here: list[str] = []
    outcome = "skipped"
    closed = order.status in (OrderStatus.CANCELLED, OrderStatus.CLOSED)
    if cancel and order.status != OrderStatus.CANCELLED:
        if order.status == OrderStatus.ON_HOLD and lifecycle.can(order.held_from, OrderStatus.CANCELLED):
            # Held here (waiting for its prices, or by a person): the channel's cancellation still
            # ends it; a hold is released before a cancel.
            order = order_release(order=order)
        if lifecycle.can(order.status, OrderStatus.CANCELLED):
            order = order_cancel(order=order, reason=_cancel_reason(connection, record))
            outcome = "cancelled"
        else:
            notes.append(f"cancelled in the tool, but {order.number} is {order.status} here: not cancelled")
    elif closed:
        if _changes(order, ref, record) and not cancel:
            notes.append(f"{order.number} is {order.status} here: the tool's changes are not applied")
        if order.status == OrderStatus.CLOSED:  # a refund often comes after the order is closed
            refunded, refund_notes = apply_refunds(connection, order, record)
            notes += refund_notes
            if refunded:
                outcome = "updated"
                done_here.append(f"{refunded} refund(s) recorded from the tool")
    else:
        changes = _changes(order, ref, record)
        if changes:
            order = order_update(order=order, **changes)
            outcome = "updated"
        if waiting_for_prices(ref) and can_price(order, record):
            order = price_order(connection, order, record)
            if as_sold(record):
                check_totals(order, record, connection)
            order = release_priced(ref, order)
            outcome = "updated"
            done_here.append("priced as in the tool")
        edits = apply_edits(connection, order, record)
        notes += edits.notes
        if edits.changed:
            order.refresh_from_db()
            outcome = "updated"
            done_here.append("edited as in the tool")
        if edits.extended and as_sold(record):
            # Lines the tool added or grew are priced as it charged them: its totals are ours again,
            # or the event waits for a person (TotalsMismatch), with nothing of it applied.
            check_totals(order, record, connection)
        shipped, shipment_notes = apply_shipments(connection, order, record)
        notes += shipment_notes
        if shipped:
            order.refresh_from_db()
            outcome = "updated"
            done_here.append(f"{shipped} shipment(s) recorded from the tool")
        refunded, refund_notes = apply_refunds(connection, order, record)
        notes += refund_notes
        if refunded:
            outcome = "updated"
            done_here.append(f"{refunded} refund(s) recorded from the tool")
        if as_sold(record) and record.totals is not None and record.totals.total != order.total:
            theirs, ours = (formatting.money(t, order.currency) for t in (record.totals.total, order.total))
            notes.append(
                f"the tool's order totals {theirs}, here {ours}: prices, discounts or shipping changed in "
                "the tool are not followed here (its lines are)"
            )
    _remember(ref, order, item, record)
    for note in notes:
        run.errors.append({"level": "warning", "message": f"Order {record.number}: {note}."})
    return replace(
        done,
        outcome=outcome,
        reason="; ".join(done_here + notes) or ("" if outcome != "skipped" else "no change"),
    )


def _changes(order: SalesOrder, ref: ExternalRef, record: OrderRecord) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    previous_tags = set(ref.extra.get("tags", []))
    tags = sorted((set(order.tags) - previous_tags) | set(_tool_tags(record)))
    if tags != sorted(order.tags):
        changes["tags"] = tags
    if record.note != order.notes and record.note:
        changes["notes"] = record.note
    for name, value in (
        ("billing_address", record.billing_address),
        ("shipping_address", record.shipping_address),
    ):
        address = _address(value)
        if address and address != getattr(order, name):
            changes[name] = address
    return changes
