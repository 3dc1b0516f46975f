"""What a delivery to a connection pushes: an outbound item resolved from hub state.

The hub, not the connector, turns an outbox event into the tool's terms: the
variant's id from its ExternalRef, the quantity available now at the
connection's warehouse, the order's and lines' ids for a fulfilment. Nothing to
push (no mapping, nothing changed since the last push, an order that came from
elsewhere) is a reason string, and the delivery is skipped with it. A resolver
per topic and capability; ``register_resolver`` adds more (invoices out, ...).

A stock recheck (``STOCK_RECHECK``) is addressed to one connection: a tool sold what is not here
(its own count went below zero, the order is backordered here, so no level changed), and the
level is pushed to it again, forced, even though it equals what was pushed last.

A connection that maps several of our warehouses to its tool's locations (``integrations.locations``)
gets the level of the event's warehouse, for the location mapped to it (``InventoryOut.location_id``),
and what was pushed is remembered per location (the variant's ExternalRef.extra ``PUSHED_AT``:
location -> quantity); ``pushed_hash`` and ``PUSHED_AVAILABLE`` stay the one-location connection's.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import ROUND_FLOOR
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db.models import Model
from django.utils import timezone

from erp.models import OutboxEvent
from integrations import in_flight, locations, ownership, registry
from integrations.contract import Capability, PushResult
from integrations.models import Connection, ExternalRef
from integrations.records import FulfilmentLineOut, FulfilmentOut, InventoryOut, OutboundItem
from inventory import availability
from inventory.models import Product, Warehouse
from sales.models import OrderLine, SalesOrder, Shipment

LEVEL_CHANGED = "inventory.level_changed"
SHIPMENT_SHIPPED = "sales.shipment_shipped"
SHIPMENT_UPDATED = "sales.shipment_updated"
# The hub's own: push a product's level again to the one connection the payload names (connection_id).
STOCK_RECHECK = "integrations.stock_recheck"
PUSHED_AVAILABLE = "pushed_available"  # ExternalRef.extra key: the quantity we last pushed
PUSHED_AT = "pushed_at_location"  # ExternalRef.extra key: {tool location: quantity last pushed there}
HUB_KEYS = frozenset({PUSHED_AVAILABLE, PUSHED_AT})  # the hub's own keys, never handed to a connector


def warehouse_of(connection: Connection) -> int | None:
    """The warehouse whose stock a connection sells: its own, else its sales channel's (None: all)."""
    return ownership.home_warehouse(connection)


# --- resolving what to push from hub state ---------------------------------------------------


@dataclass(frozen=True)
class Resolved:
    object_type: str
    capability: Capability
    item: OutboundItem
    remember: Callable[[PushResult], None]  # what the hub records once the tool took the item
    product_id: int | None = None  # the product of an inventory item (to read it again)
    warehouse_id: int | None = None  # the warehouse of an inventory item with a mapped location


@dataclass(frozen=True)
class Blocked:
    """The item cannot go yet: something it refers to is not in the tool (a customer before its
    invoice, an invoice before its payment). The hub pushes that first: an outbox event of
    ``topic`` for ``aggregate`` (emitted unless one is already on its way to the connection), and
    this delivery waits for it."""

    reason: str
    topic: str
    aggregate: Model
    payload: dict[str, Any]
    # Where that first push goes: the same connection (None), or another one (an order moving
    # from one shipping tool to another waits until the old tool has cancelled it).
    connection: Connection | None = None


# (connection, event, force) -> the item, why there is nothing to push, or what must go first
Resolver = Callable[[Connection, OutboxEvent, bool], Resolved | str | Blocked]


def available_for(connection: Connection, product_id: int, warehouse_id: int | None = None) -> int:
    """What the connection's tool should show as available: whole units at its warehouse (or at
    ``warehouse_id``, one of its mapped locations), never < 0."""
    where = warehouse_id if warehouse_id is not None else warehouse_of(connection)
    available = availability.of(product_id, where).available
    return max(0, int(available.to_integral_value(rounding=ROUND_FLOOR)))


def pushed_at(extra: Any, location_id: str) -> int | None:
    """What was last pushed to ``location_id`` (from a variant ref's extra), or None."""
    found = (extra.get(PUSHED_AT) or {}).get(location_id) if isinstance(extra, dict) else None
    return found if isinstance(found, int) else None


def remembered(extra: dict[str, Any], available: int, location_id: str | None) -> dict[str, Any]:
    """A variant ref's extra once ``available`` was pushed (to ``location_id``, if located)."""
    if location_id is None:
        return {**extra, PUSHED_AVAILABLE: available}
    found = extra.get(PUSHED_AT)
    by_location: dict[str, Any] = found if isinstance(found, dict) else {}
    return {**extra, PUSHED_AT: {**by_location, location_id: available}}


def tool_extra(extra: Any) -> dict[str, Any]:
    """A variant ref's extra as the connector sees it (without what the hub keeps there)."""
    return {k: v for k, v in extra.items() if k not in HUB_KEYS}


def _compares(connection: Connection) -> bool:
    try:
        return registry.get(connection.connector).compare_and_set
    except registry.UnknownConnector:
        return False


def inventory_hash(available: int) -> str:
    return hashlib.sha256(f"inventory:available={available}".encode()).hexdigest()


def resolve_inventory(
    connection: Connection, product_id: int, *, force: bool = False, warehouse_id: int | None = None
) -> Resolved | str:
    """The InventoryOut of one product for a connection, read now (``force``: push even if unchanged).

    ``warehouse_id``: the warehouse whose level changed; it matters only to a connection with mapped
    locations (``integrations.locations``), which gets that warehouse's level for its location
    (and nothing for a warehouse it does not map). Never the level of stock the tool owns
    (``integrations.ownership``): the tool's count is the truth there, and a level set here from
    that count must not echo back to it, even forced."""
    product = Product.objects.filter(pk=product_id).only("pk", "sku").first()
    if product is None:
        return f"Product {product_id} no longer exists."
    located = locations.locations_of(connection)
    location_id: str | None = None
    if located:
        where_id = warehouse_id if warehouse_id is not None else warehouse_of(connection)
        if where_id is None or where_id not in located:
            code = (
                Warehouse.objects.filter(pk=where_id).values_list("code", flat=True).first()
                if where_id
                else None
            )
            return f"{product.sku} is not pushed: {connection.name} maps no location for {code or 'it'}."
        location_id = located[where_id]
    else:
        where_id = warehouse_of(connection)
    if ownership.owner_of(connection, ownership.INVENTORY, where_id) == ownership.Owner.TOOL:
        where = (
            Warehouse.objects.filter(pk=where_id).values_list("code", flat=True).first()
            if where_id is not None
            else None
        )
        return (
            f"{product.sku} is not pushed: {connection.name} owns the stock at {where or 'every location'}."
        )
    ref = (
        ExternalRef.objects.filter(
            connection=connection,
            object_type="variant",
            content_type=ContentType.objects.get_for_model(Product),
            object_id=product_id,
        )
        .order_by("pk")
        .first()
    )
    if ref is None:
        return f"{product.sku} is not mapped to a variant in {connection}."
    available = available_for(connection, product_id, where_id)
    if not _compares(connection):  # no compare-and-set: leave out what is sold but not imported yet
        sold = in_flight.sold_not_imported(where_id, {product.sku})
        available = max(0, available - int(sold.get(product.sku.casefold(), 0)))
    digest = inventory_hash(available)
    if location_id is None:
        previous = ref.extra.get(PUSHED_AVAILABLE)
        unchanged = ref.pushed_hash == digest
    else:
        previous = pushed_at(ref.extra, location_id)
        unchanged = previous == available
    if unchanged and not force:
        at = f" at location {location_id}" if location_id is not None else ""
        return f"No change: {available} available for {product.sku}{at} was pushed already."
    item = InventoryOut(
        sku=product.sku,
        external_id=ref.external_id,
        extra=tool_extra(ref.extra),
        available=available,
        previous=previous if isinstance(previous, int) else None,
        location_id=location_id,
    )

    def remember(result: PushResult) -> None:
        locked = ExternalRef.objects.select_for_update().get(pk=ref.pk)
        fields = ["extra", "synced_at"]
        if location_id is None:
            locked.pushed_hash = digest
            fields.append("pushed_hash")
        locked.extra = remembered(locked.extra, available, location_id)
        locked.synced_at = timezone.now()
        locked.save(update_fields=fields)

    located_in = where_id if location_id is not None else None
    return Resolved(
        "inventory", Capability.INVENTORY_OUT, item, remember, product_id=product_id, warehouse_id=located_in
    )


def forget_pushed(connection: Connection, product_ids: Iterable[int]) -> None:
    """A channel counts its own stock down as it sells (and up again on some cancellations): once
    an order of the channel is taken in, what the hub last pushed to it no longer says what it
    shows. Its "unchanged" memory of these products is dropped, so that the next level is pushed
    whatever it is. Kept, it let a push be skipped as "pushed already" once the level came back to
    the pushed figure (an order reserved one, a count gave it back) while the channel showed one
    less. What a compare-and-set push compares with (``PUSHED_AVAILABLE``) is kept: the tool
    answers a count that moved, and the hub reads it then."""
    refs = ExternalRef.objects.select_for_update().filter(
        connection=connection,
        object_type="variant",
        content_type=ContentType.objects.get_for_model(Product),
        object_id__in=product_ids,
    )
    for ref in refs:
        fields = []
        if ref.pushed_hash:
            ref.pushed_hash = ""
            fields.append("pushed_hash")
        if isinstance(ref.extra, dict) and ref.extra.get(PUSHED_AT):
            ref.extra = {k: v for k, v in ref.extra.items() if k != PUSHED_AT}
            fields.append("extra")
        if fields:
            ref.save(update_fields=fields)


def _warehouse(event: OutboxEvent) -> int | None:
    found = event.payload.get("warehouse_id")
    return found if isinstance(found, int) else None


def _resolve_level_change(connection: Connection, event: OutboxEvent, force: bool) -> Resolved | str:
    return resolve_inventory(
        connection, int(event.payload["product_id"]), force=force, warehouse_id=_warehouse(event)
    )


def _resolve_stock_recheck(connection: Connection, event: OutboxEvent, force: bool) -> Resolved | str:
    """The level of the product, forced, to the connection the recheck names; nothing to any other."""
    if event.payload.get("connection_id") != connection.pk:
        return f"The stock recheck is for connection {event.payload.get('connection_id')}, not {connection}."
    return resolve_inventory(
        connection, int(event.payload["product_id"]), force=True, warehouse_id=_warehouse(event)
    )


def _resolve_shipment_update(connection: Connection, event: OutboxEvent, force: bool) -> Resolved | str:
    """A shipment's new carrier or tracking (a label voided and printed again): the fulfilment the
    channel has of it is updated; a channel that never got the shipment gets it whole."""
    done = (
        ExternalRef.objects.filter(
            connection=connection,
            object_type="fulfilment",
            content_type=ContentType.objects.get_for_model(Shipment),
            object_id=event.payload.get("shipment_id"),
        )
        .order_by("pk")
        .first()
    )
    if done is None:
        return _resolve_shipment(connection, event, force)
    return _resolve_shipment(connection, event, force, update=done.external_id)


def _resolve_shipment(
    connection: Connection, event: OutboxEvent, force: bool, update: str = ""
) -> Resolved | str:
    """A shipment to the channel the order came from, as a fulfilment (``update``: the channel's id
    of the fulfilment it has already, whose carrier and tracking change)."""
    shipment = Shipment.objects.filter(pk=event.payload.get("shipment_id")).prefetch_related("lines").first()
    if shipment is None:
        return "The shipment no longer exists."
    refs = ExternalRef.objects.filter(connection=connection)
    cts = ContentType.objects.get_for_models(SalesOrder, OrderLine, Shipment)
    order_ref = refs.filter(
        object_type="order", content_type=cts[SalesOrder], object_id=shipment.order_id
    ).first()
    if order_ref is None:
        return f"Order {event.payload.get('number', shipment.order_id)} did not come from {connection}."
    done = refs.filter(object_type="fulfilment", content_type=cts[Shipment], object_id=shipment.pk).first()
    if done is not None and not force and not update:
        return f"Shipment {shipment.number} was pushed already (fulfilment {done.external_id})."
    lines = list(shipment.lines.all())
    line_ids = dict(
        refs.filter(
            object_type="order_line",
            content_type=cts[OrderLine],
            object_id__in=[ln.order_line_id for ln in lines],
        ).values_list("object_id", "external_id")
    )
    out = tuple(
        FulfilmentLineOut(line_ids[ln.order_line_id], int(ln.quantity))
        for ln in lines
        if ln.order_line_id in line_ids
    )
    if not out:
        return f"No line of shipment {shipment.number} is mapped to {connection}."
    item = FulfilmentOut(
        order_external_id=order_ref.external_id,
        shipment_number=shipment.number,
        lines=out,
        carrier=shipment.carrier,
        tracking_number=shipment.tracking_number,
        external_id=update,
    )

    def remember(result: PushResult) -> None:
        if result.external_id:
            ExternalRef.objects.update_or_create(
                connection=connection,
                object_type="fulfilment",
                external_id=result.external_id,
                defaults={
                    "content_type": cts[Shipment],
                    "object_id": shipment.pk,
                    "synced_at": timezone.now(),
                },
            )

    return Resolved("fulfilment", Capability.FULFILMENT_OUT, item, remember)


# topic -> the capability a resolver serves -> the resolver. One event can mean different records to
# different tools ("order confirmed": an order to ship for a shipping tool, a deal for a CRM): the
# connection's connector picks by what it takes.
resolvers: dict[str, dict[Capability, Resolver]] = {
    LEVEL_CHANGED: {Capability.INVENTORY_OUT: _resolve_level_change},
    STOCK_RECHECK: {Capability.INVENTORY_OUT: _resolve_stock_recheck},
    SHIPMENT_SHIPPED: {Capability.FULFILMENT_OUT: _resolve_shipment},
    SHIPMENT_UPDATED: {Capability.FULFILMENT_OUT: _resolve_shipment_update},
}


def register_resolver(topic: str, capability: Capability, resolver: Resolver) -> None:
    """Teach the hub to push a topic to the connections that take ``capability`` (invoices out...)."""
    resolvers.setdefault(topic, {})[capability] = resolver


def unregister_resolver(topic: str, capability: Capability) -> None:
    resolvers.get(topic, {}).pop(capability, None)


def resolver_for(topic: str, connection: Connection) -> Resolver | None:
    """The resolver of ``topic`` for what the connection's connector takes (None: nothing to push).
    A connector that takes two records of one topic gets the first registered (one delivery, one
    item)."""
    by_capability = resolvers.get(topic) or {}
    try:
        takes = registry.get(connection.connector).capabilities
    except registry.UnknownConnector:
        return None
    return next((r for capability, r in by_capability.items() if capability in takes), None)


def topics_resolved_by(resolver: Resolver) -> list[str]:
    """Every topic ``resolver`` answers: deliveries of any of them push the same record."""
    return sorted(t for t, by_capability in resolvers.items() if resolver in by_capability.values())
