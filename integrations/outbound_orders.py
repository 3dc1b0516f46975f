"""Orders out: an order to be shipped from a warehouse goes to the shipping tool or 3PL that ships
for that warehouse, and follows the order: an update (address, hold) and a cancellation reach it.

A connection that takes ``ORDERS_OUT`` ships for its warehouse (``warehouse_of``): every order
sold from that warehouse is its to ship, whichever channel sold it, except orders the connection
itself brought in. The resolver, per outbox event of the order:

* draft: not yet ("not confirmed");
* confirmed, partially shipped or on hold: ``OrderOut`` with what is still to ship of each line
  (on hold: ``on_hold`` set, so the tool holds it too); skipped when the tool has exactly this
  already (ExternalRef("order").pushed_hash);
* shipped or closed: nothing left for the tool;
* cancelled: ``OrderCancelOut`` if the tool has the order, or may have it (a push of it was
  attempted and its answer lost: cancelled by our reference, the connector finds it), else nothing.

The tool's id of the order is ExternalRef("order"); each line we sent is ExternalRef("order_line")
keyed by the line reference we gave it (our line id), with the tool's order id in ``extra``, so
the shipment the tool sends back finds our lines (``appliers.shipments``).
"""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from erp.models import OutboxEvent
from integrations import outbound_items
from integrations.contract import Capability, PushResult
from integrations.models import Connection, Delivery, ExternalRef
from integrations.outbound_items import Resolved, warehouse_of
from integrations.records import OrderCancelOut, OrderLineOut, OrderOut
from integrations.resolving import ref_of, remembering, unchanged
from sales.models import OrderLine, OrderStatus, SalesOrder

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
            topic__in=TOPICS,
            attempts__gt=0,
            event__aggregate_type=SalesOrder._meta.label_lower,
            event__aggregate_id=str(order.pk),
        )
        .exclude(topic="sales.order_cancelled")
        .exists()
    )


def order_out(order: SalesOrder, external_id: str) -> OrderOut:
    lines = tuple(
        OrderLineOut(
            line_id=str(line.pk),
            sku=line.product.sku,
            title=line.description or line.product.name,
            quantity=line.quantity - line.quantity_shipped,
            unit_price=line.unit_price,
        )
        for line in order.lines.all()
        if line.quantity > line.quantity_shipped and not line.fulfilled_by_marketplace
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
        note=order.notes,
        on_hold=order.status == OrderStatus.ON_HOLD,
    )


def resolve_order(connection: Connection, event: OutboxEvent, force: bool) -> Resolved | str:
    order = (
        SalesOrder.objects.select_related("channel", "customer")
        .prefetch_related("lines__product")
        .filter(pk=event.payload.get("order_id"))
        .first()
    )
    if order is None:
        return "The order no longer exists."
    warehouse_id = warehouse_of(connection)
    if warehouse_id is not None and order.channel.warehouse_id != warehouse_id:
        return f"{order.number} ships from another warehouse than {connection}'s."
    if _came_from(connection, order):
        return f"{order.number} came from {connection}: it ships it itself."
    ref = ref_of(connection, ORDER, order)
    if order.status == OrderStatus.CANCELLED:
        if ref is None and not _maybe_sent(connection, order):
            return f"{order.number} was cancelled before {connection} had it."
        if ref is None:  # sent, but its answer was lost: cancel it by our reference
            cancel = OrderCancelOut(reference=order.number, external_id="")
            remember = remembering(connection, ORDER, order, cancel, extra={"sent": True, "cancelled": True})
            return Resolved(ORDER, Capability.ORDERS_OUT, cancel, remember)
        if ref.extra.get("cancelled") and not force:
            return f"{order.number} was cancelled in {connection} already."
        cancel = OrderCancelOut(reference=order.number, external_id=ref.external_id)
        remember = remembering(connection, ORDER, order, cancel, extra={"sent": True, "cancelled": True})
        return Resolved(ORDER, Capability.ORDERS_OUT, cancel, remember)
    if order.status not in TO_SHIP:
        return f"{order.number} is {order.get_status_display().lower()}: nothing for {connection} to ship."
    item = order_out(order, ref.external_id if ref is not None else "")
    if not item.lines:
        if all(ln.fulfilled_by_marketplace for ln in order.lines.all()):
            return f"{order.number} is shipped by the marketplace it was sold on: nothing for {connection}."
        return f"Everything of {order.number} has shipped."
    if unchanged(ref, item) and not force:
        return f"{connection} has {order.number} as it is already."

    def link_lines(result: PushResult) -> None:
        tool_id = result.external_id or (ref.external_id if ref is not None else "")
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

    remember = remembering(connection, ORDER, order, item, extra={"sent": True}, then=link_lines)
    return Resolved(ORDER, Capability.ORDERS_OUT, item, remember)


def install() -> None:
    for topic in TOPICS:
        outbound_items.register_resolver(topic, Capability.ORDERS_OUT, resolve_order)
