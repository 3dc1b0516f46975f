"""Orders out: an order to be shipped from a warehouse goes to the shipping tool or 3PL that ships
for that warehouse (``integrations.routing``), and follows the order: an update (address, hold)
and a cancellation reach it, and so does a change of route.

Each connection that takes ``ORDERS_OUT`` resolves, per outbox event of the order, whether the
order is its to ship (its rule names it, and the order did not come from it):

* its to ship, confirmed, partially shipped or on hold: ``OrderOut`` with what is still to ship of
  each line (on hold: ``on_hold`` set, so the tool holds it too) once its stock is reserved: all of
  it, or any of it when the connection's setting ``partial_orders`` says so (then each line goes
  with what is reserved of it). Skipped when the tool has exactly this already
  (ExternalRef("order").pushed_hash). While another tool still holds the order (the route moved),
  it waits (``Blocked``) for that tool to let go first;
* not its to ship (any more), or cancelled here, while the tool has it or may have it (a push of it
  was attempted and its answer lost): ``OrderCancelOut`` by our key; else nothing;
* shipped or closed: nothing left for the tool.

The tool's id of the order is ExternalRef("order"), whose ``extra`` says whether we sent it
(``sent``), whether it was cancelled there (``cancelled``), whether the tool shipped from it
(``shipped``: set by ``appliers.shipments``; the tool takes no more changes of it) and under which
key (``generation``: an order sent again after the tool cancelled its first one goes under a new
key, as a tool never reopens a cancelled order). Each line we sent is ExternalRef("order_line")
keyed by the line reference we gave it (our line id), with the tool's order id in ``extra``, so the
shipment the tool sends back finds our lines (``appliers.shipments``).
"""

from __future__ import annotations

from decimal import Decimal

from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from erp.models import OutboxEvent
from integrations import outbound_items, routing
from integrations.contract import Capability, PushResult
from integrations.models import Connection, Delivery, ExternalRef
from integrations.outbound_items import Blocked, Resolved
from integrations.records import OrderCancelOut, OrderLineOut, OrderOut
from integrations.resolving import ref_of, remembering, unchanged
from sales.models import OrderLine, OrderStatus, SalesOrder
from sales.selectors import reserved_by_line

ZERO = Decimal(0)

ORDER, ORDER_LINE = "order", "order_line"
TOPICS = (
    "sales.order_confirmed",
    "sales.order_updated",
    "sales.order_held",
    "sales.order_released",
    "sales.order_cancelled",
)
TO_SHIP = (OrderStatus.CONFIRMED, OrderStatus.PARTIALLY_SHIPPED, OrderStatus.ON_HOLD)


def _came_from(connection: Connection, order: SalesOrder) -> bool:
    """The order was brought in by this very connection (a channel ships its own orders)."""
    ref = ref_of(connection, ORDER, order)
    return ref is not None and not ref.extra.get("sent")


def _maybe_sent(connection: Connection, order: SalesOrder) -> bool:
    """The order may be in the tool though the hub never learned its id: a push of it was attempted
    and its answer lost (the delivery failed, or is being retried)."""
    return (
        Delivery.objects.filter(
            connection=connection,
            topic__in=(*TOPICS, routing.ROUTED),
            attempts__gt=0,
            event__aggregate_type=SalesOrder._meta.label_lower,
            event__aggregate_id=str(order.pk),
        )
        .exclude(topic="sales.order_cancelled")
        .exists()
    )


def _live(ref: ExternalRef | None) -> bool:
    """The tool has the order, open or shipped, as far as the hub knows (sent and not cancelled)."""
    return ref is not None and bool(ref.extra.get("sent")) and not ref.extra.get("cancelled")


def key_of(order: SalesOrder, generation: int) -> str:
    return order.number if generation <= 1 else f"{order.number}/{generation}"


def _held_elsewhere(connection: Connection, order: SalesOrder) -> Connection | None:
    """Another shipping connection that still has the order (the route moved away from it)."""
    refs = ExternalRef.objects.filter(
        object_type=ORDER,
        content_type=ContentType.objects.get_for_model(SalesOrder),
        object_id=order.pk,
        extra__sent=True,
    ).exclude(connection=connection)
    for ref in refs.select_related("connection"):
        if _live(ref):
            return ref.connection
    return None


def _to_send(order: SalesOrder, partial: bool) -> dict[int, Decimal] | str:
    """Line id -> the quantity to send, or why the order cannot go yet (its stock not reserved)."""
    open_lines = [
        ln
        for ln in order.lines.all()
        if ln.quantity > ln.quantity_shipped and not ln.fulfilled_by_marketplace
    ]
    stocked = [ln for ln in open_lines if ln.uses_our_stock]
    reserved = reserved_by_line([ln.pk for ln in stocked])
    wanted = {ln.pk: ln.quantity - ln.quantity_shipped for ln in open_lines}
    short = [ln for ln in stocked if reserved.get(ln.pk, ZERO) < wanted[ln.pk]]
    if not short:
        return wanted
    if not partial:
        return f"{order.number} waits for its stock ({short[0].product.sku} is not all reserved)."
    if stocked and not any(reserved.get(ln.pk, ZERO) > 0 for ln in stocked):
        return f"{order.number} waits for its stock (nothing of it is reserved yet)."
    sendable = {pk: q for pk, q in wanted.items() if all(ln.pk != pk for ln in stocked)}
    sendable.update({ln.pk: reserved[ln.pk] for ln in stocked if reserved.get(ln.pk, ZERO) > 0})
    return sendable


def order_out(
    order: SalesOrder, external_id: str, quantities: dict[int, Decimal] | None = None, key: str = ""
) -> OrderOut:
    """The order as a tool ships it: each open line with ``quantities`` of it (default: all that is
    still to ship), lines the marketplace fulfils left out."""
    lines = tuple(
        OrderLineOut(
            line_id=str(line.pk),
            sku=line.product.sku,
            title=line.description or line.product.name,
            quantity=(
                quantities[line.pk] if quantities is not None else line.quantity - line.quantity_shipped
            ),
            unit_price=line.unit_price,
        )
        for line in order.lines.all()
        if line.quantity > line.quantity_shipped
        and not line.fulfilled_by_marketplace
        and (quantities is None or line.pk in quantities)
    )
    return OrderOut(
        reference=order.number,
        external_id=external_id,
        created_at=order.order_date,
        currency=order.currency,
        customer_name=order.customer.name,
        customer_email=order.customer.email,
        ship_to=dict(order.shipping_address or order.billing_address or {}),
        lines=lines,
        channel=order.channel.name,
        service=order.shipping_method,
        note=order.notes,
        on_hold=order.status == OrderStatus.ON_HOLD,
        key=key,
    )


def _withdraw(connection: Connection, order: SalesOrder, ref: ExternalRef | None, why: str) -> Resolved:
    """Take the order back from the tool: cancelled there, by its key."""
    generation = int(ref.extra.get("generation") or 1) if ref is not None else 1
    cancel = OrderCancelOut(
        reference=order.number,
        external_id=ref.external_id if ref is not None else "",
        reason=why,
        key=key_of(order, generation),
    )
    remember = remembering(connection, ORDER, order, cancel, extra={"sent": True, "cancelled": True})
    return Resolved(ORDER, Capability.ORDERS_OUT, cancel, remember)


def resolve_order(connection: Connection, event: OutboxEvent, force: bool) -> Resolved | str | Blocked:
    order = (
        SalesOrder.objects.select_related("channel", "customer")
        .prefetch_related("lines__product")
        .filter(pk=event.payload.get("order_id"))
        .first()
    )
    if order is None:
        return "The order no longer exists."
    if _came_from(connection, order):
        return f"{order.number} came from {connection}: it ships it itself."
    ref = ref_of(connection, ORDER, order)
    has_it = _live(ref) or (ref is None and _maybe_sent(connection, order))
    if order.status == OrderStatus.CANCELLED:
        if not has_it:
            if ref is not None and ref.extra.get("cancelled") and force:
                return _withdraw(connection, order, ref, "cancelled")
            return f"{order.number} was cancelled, and {connection} does not have it."
        return _withdraw(connection, order, ref, "cancelled")
    shipper = routing.shipper_of(order)
    if shipper != connection.pk:
        if has_it and order.status in TO_SHIP:
            return _withdraw(connection, order, ref, "shipped by another")
        return f"{order.number} is not {connection}'s to ship."
    if order.status not in TO_SHIP:
        return f"{order.number} is {order.get_status_display().lower()}: nothing for {connection} to ship."
    if all(ln.fulfilled_by_marketplace for ln in order.lines.all()):
        return f"{order.number} is shipped by the marketplace it was sold on: nothing for {connection}."
    quantities = _to_send(order, bool(connection.settings.get("partial_orders")))
    if isinstance(quantities, str):
        return quantities
    if not quantities:
        return f"Everything of {order.number} has shipped."
    other = _held_elsewhere(connection, order)
    if other is not None:
        return Blocked(
            reason=f"{order.number} is still with {other}: it is cancelled there first.",
            topic=routing.ROUTED,
            aggregate=order,
            payload={"order_id": order.pk, "connection_id": other.pk, "from": other.pk, "to": connection.pk},
            connection=other,
        )
    if _live(ref) and ref is not None and ref.extra.get("shipped"):
        # what is left ships there as the tool's staff decide; the tool takes no changes of an
        # order it shipped from (ShipStation refuses them)
        return f"{connection} has shipped part of {order.number}: the rest ships from there."
    generation = int(ref.extra.get("generation") or 1) if ref is not None else 1
    closed_there = ref is not None and bool(ref.extra.get("cancelled"))
    if closed_there:
        generation += 1  # the tool never reopens an order it cancelled: a new one, under a new key
    external_id = "" if closed_there or ref is None else ref.external_id
    item = order_out(order, external_id, quantities, key=key_of(order, generation))
    if not closed_there and unchanged(ref, item) and not force:
        return f"{connection} has {order.number} as it is already."

    def link_lines(result: PushResult) -> None:
        tool_id = result.external_id or external_id
        if not tool_id:
            return
        content_type = ContentType.objects.get_for_model(OrderLine)
        for line in item.lines:
            ExternalRef.objects.update_or_create(
                connection=connection,
                object_type=ORDER_LINE,
                external_id=line.line_id,
                defaults={
                    "content_type": content_type,
                    "object_id": int(line.line_id),
                    "extra": {"order": tool_id},
                    "synced_at": timezone.now(),
                },
            )

    extra = {"sent": True, "cancelled": False, "shipped": False, "generation": generation}
    remember = remembering(connection, ORDER, order, item, extra=extra, then=link_lines)
    return Resolved(ORDER, Capability.ORDERS_OUT, item, remember)


def install() -> None:
    for topic in (*TOPICS, "sales.order_allocated", routing.ROUTED):
        outbound_items.register_resolver(topic, Capability.ORDERS_OUT, resolve_order)
