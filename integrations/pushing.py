"""Pushing a delivery to a connection: resolve the item from hub state, hand it to the connector.

* The topic's resolver (``outbound_items.resolvers``) answers the item, a reason there is nothing
  to push (skipped), or ``Blocked`` on what must reach the tool first: that gets a delivery of its
  own (``_delivery_first``) and this one waits for it.
* ``connector.push(item, PushContext)``: the context's idempotency key is the delivery's, the same
  for every attempt, so a retry after a lost answer never makes a second record in the tool.
* ``AlreadyExists`` (the tool has it: a duplicate name) links ours to the tool's record;
  ``StaleVersion`` (the tool's copy changed since we read it) reads the tool's version, resolves
  again and pushes once more, under a key of its own; ``CountMoved`` (a compare-and-set stock push
  found the tool's count moved) pulls the recent orders of every channel selling the same stock,
  then pushes against the tool's count.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from functools import partial
from typing import Any

from django.db import transaction
from django.utils import timezone

from erp import events
from erp.models import OutboxEvent
from integrations import fanout, outbound_items, polling, registry
from integrations.contract import Capability, Connector, PushContext, PushResult
from integrations.errors import AlreadyExists, CountMoved, PermanentError, StaleVersion
from integrations.models import (
    Connection,
    ConnectionStatus,
    Delivery,
    DeliveryStatus,
    ExternalRef,
    SyncJob,
    SyncRun,
    SyncRunStatus,
)
from integrations.outbound_items import warehouse_of
from integrations.outcomes import Kind, Outcome, outcome_of
from integrations.records import InventoryOut

logger = logging.getLogger(__name__)

OPEN = (DeliveryStatus.PENDING, DeliveryStatus.FAILED)


def _id(pk: int | None) -> int:
    if pk is None:
        raise ValueError("A delivery without a connection.")
    return pk


def _after_count_moved(
    connection: Connection, resolved: outbound_items.Resolved, moved: CountMoved
) -> outbound_items.Resolved:
    """The tool's count moved since our last push: it sold what the hub may not know yet, and so
    may every other channel selling the same stock (their webhooks can be late too). Import the
    recent orders of each of them first, then push what is available now, against the count the
    tool has. A second CountMoved is left to the retry (somebody is writing right now)."""
    if not isinstance(resolved.item, InventoryOut):
        raise moved
    for channel in _channels_sharing_stock(connection):
        try:
            polling.poll(connection=channel, object_type="order")
        except Exception:  # one channel that cannot be read must not keep the others stale
            logger.warning("Could not pull the orders of %s before a push", channel, exc_info=True)
    product_id = resolved.product_id
    fresh = outbound_items.resolve_inventory(connection, product_id, force=True) if product_id else resolved
    if isinstance(fresh, str) or not isinstance(fresh.item, InventoryOut):
        raise moved
    return dataclasses.replace(fresh, item=dataclasses.replace(fresh.item, previous=moved.current))


def _channels_sharing_stock(connection: Connection) -> list[Connection]:
    """Active connections that bring orders in and sell from the same warehouse as ``connection``
    (itself first), whose orders can be pulled."""
    warehouse = warehouse_of(connection)
    found = [connection]
    others = (
        Connection.objects.filter(status=ConnectionStatus.ACTIVE).exclude(pk=connection.pk).order_by("pk")
    )
    for other in others.select_related("sales_channel"):
        if warehouse is not None and warehouse_of(other) not in (warehouse, None):
            continue
        found.append(other)
    pullable = []
    for candidate in found:
        try:
            cls = registry.get(candidate.connector)
        except registry.UnknownConnector:
            continue
        if Capability.ORDERS_IN in cls.capabilities and "order" in cls.poll_object_types:
            pullable.append(candidate)
    return pullable


def _delivery_first(connection: Connection, blocked: outbound_items.Blocked) -> int:
    """The open delivery to ``connection`` of what must be pushed first: the one on its way, or
    one made now from a new outbox event (``fan_out`` is idempotent: the dispatcher's later run of
    the same event creates nothing twice)."""
    aggregate_type = blocked.aggregate._meta.label_lower
    aggregate_id = str(blocked.aggregate.pk)
    # Any open delivery that pushes the same record counts ("customer created" as well as
    # "customer updated"): its resolver is the same.
    resolver = outbound_items.resolvers.get(blocked.topic)
    family = [t for t, r in outbound_items.resolvers.items() if r is resolver] or [blocked.topic]
    with transaction.atomic():
        waiting = (
            Delivery.objects.filter(connection=connection, topic__in=family, status__in=OPEN)
            .filter(event__aggregate_type=aggregate_type, event__aggregate_id=aggregate_id)
            .order_by("pk")
            .values_list("pk", flat=True)
            .first()
        )
        if waiting is not None:
            return waiting
        event = events.emit(blocked.topic, aggregate=blocked.aggregate, payload=blocked.payload)
        fanout.fan_out(event)
        made = (
            Delivery.objects.filter(event=event, connection=connection).values_list("pk", flat=True).first()
        )
    if made is None:
        raise PermanentError(f"{connection} does not take {blocked.topic}, which must be pushed first.")
    return made


def idempotency_key(delivery: Delivery) -> str:
    """Stable across the delivery's attempts (a retry after a lost answer is the same request)."""
    return f"erp-delivery-{delivery.pk}"


def push(delivery: Delivery) -> Outcome:
    """Resolve what a delivery pushes from hub state, and push it to its connection's tool."""
    connection = Connection.objects.select_related("sales_channel").get(pk=_id(delivery.connection_id))
    try:
        connector_cls = registry.get(connection.connector)
    except registry.UnknownConnector as exc:
        return Outcome(Kind.PERMANENT, str(exc))
    resolver = outbound_items.resolvers.get(delivery.topic)
    if resolver is None:
        return Outcome(Kind.SKIP, f"The hub pushes nothing for {delivery.topic}.")
    event = OutboxEvent.objects.get(pk=delivery.event_id)
    resolved = resolver(connection, event, delivery.replay_of_id is not None)
    if isinstance(resolved, str):
        return Outcome(Kind.SKIP, resolved)
    if isinstance(resolved, outbound_items.Blocked):
        first = _delivery_first(connection, resolved)
        return Outcome(Kind.BLOCKED, f"Waiting for delivery {first}: {resolved.reason}", blocked_on=first)
    if resolved.capability not in connector_cls.capabilities:
        return Outcome(Kind.SKIP, f"{connector_cls.name} does not take {resolved.capability.value}.")
    run = SyncRun.objects.create(connection=connection, job=SyncJob.PUSH, object_type=resolved.object_type)
    http_client: Any = None
    try:
        connector = registry.connector_for(connection, sync_run_id=run.pk, delivery_id=delivery.pk)
        http_client = connector.http
        context = PushContext(idempotency_key=idempotency_key(delivery), attempt=delivery.attempts + 1)
        try:
            result = _push_or_link(connector, resolved, context)
        except CountMoved as moved:
            resolved = _after_count_moved(connection, resolved, moved)
            result = _push_or_link(connector, resolved, context)
        except StaleVersion as stale:
            again = _after_stale(
                connection, connector, resolved, stale, lambda: resolver(connection, event, True)
            )
            if isinstance(again, str):
                return _closed(run, Outcome(Kind.SKIP, again))
            resolved = again
            # A new request (the version it carries is new): a tool that answers a repeated key
            # with its first answer would repeat the conflict. Still the same for every retry of
            # this delivery against this version.
            version = getattr(resolved.item, "version", "")
            retry_context = dataclasses.replace(
                context, idempotency_key=f"{context.idempotency_key}-v{version}"
            )
            result = _push_or_link(connector, resolved, retry_context)
    except Exception as exc:
        outcome = outcome_of(exc, getattr(http_client, "last_log", None))
    else:
        outcome = Outcome(
            Kind.SUCCESS,
            result.detail or f"Pushed {resolved.object_type}.",
            log=getattr(http_client, "last_log", None),
            remember=partial(resolved.remember, result),
        )
    _close_run(run, outcome)
    return outcome


def _push_or_link(
    connector: Connector, resolved: outbound_items.Resolved, context: PushContext
) -> PushResult:
    """Push; a tool that answers "I have it already" (a duplicate name, a 409 naming its id) gets
    ours linked to its record instead of a failure."""
    try:
        return connector.push(resolved.item, context)
    except AlreadyExists as exists:
        return PushResult(
            external_id=exists.external_id,
            version=exists.version,
            detail=f"Linked to {resolved.object_type} {exists.external_id}, which the tool had: {exists}",
        )


def _after_stale(
    connection: Connection,
    connector: Connector,
    resolved: outbound_items.Resolved,
    stale: StaleVersion,
    resolve_again: Callable[[], outbound_items.Resolved | str | outbound_items.Blocked],
) -> outbound_items.Resolved | str:
    """The tool's copy changed since we read its version: read the version it has now, keep it on
    the ExternalRef, and resolve the item again (with our values and the tool's version)."""
    current = (
        stale.current
        if stale.current is not None
        else connector.read_version(resolved.object_type, stale.external_id)
    )
    ExternalRef.objects.filter(
        connection=connection, object_type=resolved.object_type, external_id=stale.external_id
    ).update(external_version=current)
    again = resolve_again()
    if isinstance(again, outbound_items.Blocked):
        raise stale  # what it needs went missing meanwhile: the retry sorts it out
    return again


def _closed(run: SyncRun, outcome: Outcome) -> Outcome:
    _close_run(run, outcome)
    return outcome


def _close_run(run: SyncRun, outcome: Outcome) -> None:
    run.finished_at = timezone.now()
    if outcome.kind is Kind.SUCCESS:
        run.status, run.updated = SyncRunStatus.SUCCEEDED, 1
    elif outcome.kind is Kind.THROTTLED:
        run.status, run.skipped = SyncRunStatus.SUCCEEDED, 1
    else:
        run.status, run.failed, run.errors = SyncRunStatus.FAILED, 1, [outcome.message[:1000]]
    run.save(update_fields=["finished_at", "status", "updated", "skipped", "failed", "errors"])
