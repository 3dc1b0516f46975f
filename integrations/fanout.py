"""Fan-out: each outbox event becomes one Delivery per target that takes it.

An outbox subscriber on "*" (``outbound.install``): one Delivery per (event, connection whose
connector subscribes to the topic) and per (event, active webhook subscription whose patterns
match and whose owner may read the topic's area). Connections that are paused get none; a level
change of another warehouse than a connection's own does not concern it (a connection that maps
several of our warehouses to its tool's locations takes the level changes of each mapped one:
``integrations.locations``). Inventory level changes to a connection are coalesced: they carry
``coalesce_key`` "inventory.product:<id>" ("inventory.product:<id>:wh:<warehouse id>" for a
connection with mapped locations) and wait INTEGRATIONS_COALESCE_SECONDS (see ``outbound._claim``).
An order's event goes to a shipping tool or 3PL only when the order concerns it
(``_order_shippers``: its warehouse's rule names it, or it had the order or may have it), so the
other tools get no delivery to skip; a purchase order's, to a 3PL only when it holds the PO's
warehouse or has the PO (``outbound_receiving.concerns``). Attempts are queued after commit.

An event of the hub's own ("integrations.*") whose payload names a ``connection_id`` (a stock
recheck) is addressed to that connection alone: one delivery, whatever its connector's ``topics``,
as long as the hub resolves the topic for what the connector takes; never to a webhook
subscription (it is internal). A stock recheck coalesces with the product's level changes.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone

from erp.access import AREAS, user_can
from erp.models import OutboxEvent
from integrations import locations, outbound_items, outbound_receiving, queueing, registry, routing
from integrations.contract import Capability
from integrations.models import (
    Connection,
    ConnectionStatus,
    Delivery,
    DeliveryStatus,
    ExternalRef,
    WebhookSubscription,
)
from integrations.outbound_items import LEVEL_CHANGED, STOCK_RECHECK

HUB_TOPICS = "integrations."  # the hub's own topics: an event of one naming a connection goes to it alone
COALESCED = (LEVEL_CHANGED, STOCK_RECHECK)  # pushes of a product's level: one key per product (and location)
ORDER_TOPICS = "sales.order_"  # an order's events: to a shipping tool only if the order concerns it


def coalesce_seconds() -> float:
    return float(settings.INTEGRATIONS_COALESCE_SECONDS)


def _matches(patterns: Iterable[str], topic: str) -> bool:
    return any(fnmatch.fnmatchcase(topic, p) for p in patterns)


def _located(connection: Connection, event: OutboxEvent) -> dict[int, str]:
    """The connection's mapped locations, read only for a push of a product's level."""
    return locations.locations_of(connection) if event.topic in COALESCED else {}


def _concerns(connection: Connection, event: OutboxEvent, located: dict[int, str]) -> bool:
    if event.topic != LEVEL_CHANGED:
        return True
    return locations.sells(connection, event.payload.get("warehouse_id"), located)


def _may_read(user: Any, topic: str) -> bool:
    area = topic.split(".", 1)[0]
    return user_can(user, area if area in AREAS else "integrations", "read")


def addressed_to(event: OutboxEvent) -> int | None:
    """The one connection a hub event is for (its payload's ``connection_id``); None: for every target."""
    connection_id = event.payload.get("connection_id") if event.topic.startswith(HUB_TOPICS) else None
    return connection_id if isinstance(connection_id, int) else None


def _targets(event: OutboxEvent) -> list[tuple[Connection, dict[int, str]]]:
    """The connections the event goes to (each with its mapped locations, for a stock push): those
    whose connector subscribes to its topic, or the one it is addressed to if the hub pushes
    something of it to that connector."""
    connections = Connection.objects.exclude(status=ConnectionStatus.PAUSED).select_related("sales_channel")
    addressee = addressed_to(event)
    if addressee is not None:
        return [
            (c, _located(c, event))
            for c in connections.filter(pk=addressee)
            if outbound_items.resolver_for(event.topic, c)
        ]
    found = []
    shippers: set[int] | None = None
    for connection in connections:
        try:
            connector = registry.get(connection.connector)
        except registry.UnknownConnector:
            continue
        if not _matches(connector.topics, event.topic):
            continue
        if Capability.ORDERS_OUT in connector.capabilities and event.topic.startswith(ORDER_TOPICS):
            shippers = _order_shippers(event) if shippers is None else shippers
            if connection.pk not in shippers:
                continue
        if event.topic in outbound_receiving.TOPICS and not outbound_receiving.concerns(connection, event):
            continue  # a purchase order to a warehouse this 3PL does not hold
        located = _located(connection, event)
        if _concerns(connection, event, located):
            found.append((connection, located))
    return found


def _order_shippers(event: OutboxEvent) -> set[int]:
    """The shipping connections an order's event concerns: the one its warehouse's rule names, and
    any that had it or may have it (a ref of it, or a delivery of it). The others would only skip
    it ("not its to ship"); the resolver still decides for those that get it. Three queries."""
    from sales.models import SalesOrder

    order = (
        SalesOrder.objects.filter(pk=event.payload.get("order_id"))
        .values("pk", "channel_id", "channel__warehouse_id")
        .first()
    )
    if order is None:
        return set()
    concerned = {routing.shipper_id(order["channel__warehouse_id"], order["channel_id"])}
    concerned |= set(
        ExternalRef.objects.filter(
            object_type="order",
            content_type__model="salesorder",
            content_type__app_label="sales",
            object_id=order["pk"],
        ).values_list("connection_id", flat=True)
    )
    concerned |= set(
        Delivery.objects.filter(
            event__aggregate_type=event.aggregate_type, event__aggregate_id=event.aggregate_id
        ).values_list("connection_id", flat=True)
    )
    return {pk for pk in concerned if pk is not None}


def fan_out(event: OutboxEvent) -> None:
    """Create the event's deliveries (idempotent) and enqueue their attempts after commit."""
    moment = timezone.now()
    rows: list[Delivery] = []
    for connection, located in _targets(event):
        key, due = "", moment
        if event.topic in COALESCED and event.payload.get("product_id") is not None:
            key = locations.coalesce_key(
                event.payload["product_id"], event.payload.get("warehouse_id"), located
            )
            due = moment + timedelta(seconds=coalesce_seconds())
        rows.append(
            Delivery(
                event=event, connection=connection, topic=event.topic, coalesce_key=key, next_attempt_at=due
            )
        )
    subscriptions = WebhookSubscription.objects.filter(is_active=True).select_related("user")
    for sub in subscriptions if addressed_to(event) is None else []:  # internal: to its connection only
        if _matches(sub.topics, event.topic) and _may_read(sub.user, event.topic):
            rows.append(Delivery(event=event, subscription=sub, topic=event.topic, next_attempt_at=moment))
    if not rows:
        return
    Delivery.objects.bulk_create(rows, ignore_conflicts=True)  # a re-dispatch creates nothing twice
    created = list(
        Delivery.objects.filter(
            event=event, replay_of__isnull=True, status=DeliveryStatus.PENDING
        ).values_list("pk", "next_attempt_at")
    )
    queueing.attempt_deliveries_on_commit(created)
