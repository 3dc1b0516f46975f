"""Sales in flight: orders a tool has told the hub about that are not imported yet.

A stock push to a tool without compare-and-set (``Connector.compare_and_set`` False) sets the
count outright: if a channel has sold units whose order event is stored but not processed yet (a
backlog, a retry waiting, a quarantined order), pushing what the hub has available would hand
those units out a second time. So the push subtracts them: every order of an unprocessed inbound
event of a connection selling from the same warehouse, read from the stored event itself (never
from the tool: a push must not wait on another tool's API), that the hub has not recorded yet (a
channel with several mapped locations counts for each warehouse it maps: the tool's order does not
say which location sold it).
Thin events (only "order 123 changed") carry no lines and cannot be counted; compare-and-set and
reconciliation cover those.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from decimal import Decimal

import httpx

from erp.money import ZERO
from integrations import locations, registry
from integrations.canonical import decode_item
from integrations.contract import Action, Capability
from integrations.models import Connection, ConnectionStatus, ExternalRef, InboundEvent, InboundStatus
from integrations.records import FulfilledBy, OrderRecord

logger = logging.getLogger(__name__)

WAITING = (InboundStatus.RECEIVED, InboundStatus.FAILED, InboundStatus.QUARANTINED)
LIMIT = 500  # events read per push at most: a backlog larger than this is the reconciliation's


def _order_channels(warehouse_id: int | None) -> list[Connection]:
    found = []
    for connection in Connection.objects.exclude(status=ConnectionStatus.PAUSED).select_related(
        "sales_channel"
    ):
        if warehouse_id is not None and not locations.sells(connection, warehouse_id):
            continue  # sells another warehouse's stock (its own, or the ones it maps to locations)
        try:
            cls = registry.get(connection.connector)
        except registry.UnknownConnector:
            continue
        if Capability.ORDERS_IN in cls.capabilities:
            found.append(connection)
    return found


def _records(connection: Connection, event: InboundEvent) -> list[OrderRecord]:
    body = bytes(event.body)
    try:
        if event.source == InboundEvent.Source.POLL:
            items = [decode_item(body)]
        else:
            connector = registry.connector_for(connection)
            items = connector.parse_webhook(event.topic, httpx.Headers(event.headers), body)
    except Exception:  # an event the hub cannot read is the inbound side's to report
        logger.debug("In-flight: event %s cannot be read", event.pk, exc_info=True)
        return []
    return [
        i.record
        for i in items
        if isinstance(i.record, OrderRecord) and i.action != Action.CANCEL and i.record.cancelled_at is None
    ]


def sold_not_imported(warehouse_id: int | None, skus: set[str]) -> dict[str, Decimal]:
    """Units of each SKU (case-insensitive) on orders waiting to be imported from any channel
    selling from ``warehouse_id`` (None: every channel)."""
    wanted = {s.casefold() for s in skus}
    channels = {c.pk: c for c in _order_channels(warehouse_id)}
    if not channels or not wanted:
        return {}
    events = list(
        InboundEvent.objects.filter(connection_id__in=channels, status__in=WAITING).order_by("pk")[:LIMIT]
    )
    records = [(channels[e.connection_id], r) for e in events for r in _records(channels[e.connection_id], e)]
    if not records:
        return {}
    imported = set(
        ExternalRef.objects.filter(
            object_type="order",
            connection_id__in=channels,
            external_id__in=[r.external_id for _, r in records],
        ).values_list("connection_id", "external_id")
    )
    sold: dict[str, Decimal] = defaultdict(lambda: ZERO)
    seen: set[tuple[int, str]] = set()
    for connection, record in records:
        key = (connection.pk, record.external_id)
        if key in imported or key in seen:  # recorded here (and reserved) already, or counted
            continue
        seen.add(key)
        for line in record.lines:
            if line.sku.casefold() in wanted and line.fulfilled_by == FulfilledBy.MERCHANT:
                sold[line.sku.casefold()] += (
                    line.current_quantity if line.current_quantity is not None else line.quantity
                )
    return dict(sold)
