"""Pushing a delivery to a connection: resolve the item from hub state, hand it to the connector.

* The topic's resolver for what the connector takes (``outbound_items.resolver_for``) answers the
  item, a reason there is nothing to push (skipped), or ``Blocked`` on what must reach the tool
  first: that gets a delivery of its own (``_delivery_first``) and this one waits for it.
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
from dataclasses import dataclass
from functools import partial
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from erp import events
from erp.models import OutboxEvent
from integrations import fanout, locations, outbound_items, polling, registry
from integrations.contract import Capability, Connector, JobStatus, PushContext, PushResult
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
    for channel in _channels_sharing_stock(connection, resolved.warehouse_id):
        try:
            polling.poll(connection=channel, object_type="order")
        except Exception:  # one channel that cannot be read must not keep the others stale
            logger.warning("Could not pull the orders of %s before a push", channel, exc_info=True)
    product_id = resolved.product_id
    fresh = (
        outbound_items.resolve_inventory(
            connection, product_id, force=True, warehouse_id=resolved.warehouse_id
        )
        if product_id
        else resolved
    )
    if isinstance(fresh, str) or not isinstance(fresh.item, InventoryOut):
        raise moved
    return dataclasses.replace(fresh, item=dataclasses.replace(fresh.item, previous=moved.current))


def _channels_sharing_stock(connection: Connection, warehouse_id: int | None = None) -> list[Connection]:
    """Active connections that bring orders in and sell from the same warehouse as ``connection``
    (``warehouse_id``, one of its mapped locations', else its own; itself first), whose orders can
    be pulled."""
    warehouse = warehouse_id if warehouse_id is not None else warehouse_of(connection)
    found = [connection]
    others = (
        Connection.objects.filter(status=ConnectionStatus.ACTIVE).exclude(pk=connection.pk).order_by("pk")
    )
    for other in others.select_related("sales_channel"):
        if warehouse is not None and not locations.sells(other, warehouse):
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
    """The open delivery to ``connection`` (or to the one ``blocked`` names) of what must be pushed
    first: the one on its way, or one made now from a new outbox event (``fan_out`` is idempotent:
    the dispatcher's later run of the same event creates nothing twice)."""
    connection = blocked.connection or connection
    aggregate_type = blocked.aggregate._meta.label_lower
    aggregate_id = str(blocked.aggregate.pk)
    # Any open delivery that pushes the same record counts ("customer created" as well as
    # "customer updated"): its resolver is the same.
    resolver = outbound_items.resolver_for(blocked.topic, connection)
    family = (outbound_items.topics_resolved_by(resolver) if resolver else []) or [blocked.topic]
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


@dataclass(frozen=True)
class Prepared:
    """A delivery resolved and ready to push, with what its push needs."""

    delivery: Delivery
    resolved: outbound_items.Resolved
    again: Callable[[], outbound_items.Resolved | str | outbound_items.Blocked]  # resolve it again

    @property
    def context(self) -> PushContext:
        return PushContext(idempotency_key=idempotency_key(self.delivery), attempt=self.delivery.attempts + 1)


def _connection(delivery: Delivery) -> Connection:
    return Connection.objects.select_related("sales_channel").get(pk=_id(delivery.connection_id))


def _prepare(delivery: Delivery, connection: Connection) -> Prepared | Outcome:
    """The item a delivery pushes, or the outcome that makes pushing it moot (nothing to push, it
    waits for another delivery, the connector cannot take it)."""
    try:
        connector_cls = registry.get(connection.connector)
    except registry.UnknownConnector as exc:
        return Outcome(Kind.PERMANENT, str(exc))
    resolver = outbound_items.resolver_for(delivery.topic, connection)
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
    return Prepared(delivery, resolved, partial(resolver, connection, event, True))


def _landed(prepared: Prepared, result: PushResult, log: Any) -> Outcome:
    """The outcome of a push the tool took: done, or accepted as a job to poll."""
    if result.job_id:
        wait = float(settings.INTEGRATIONS_JOB_POLL_SECONDS)
        message = f"The tool runs it as job {result.job_id}: checked again in {wait:g} s."
        return Outcome(Kind.WAITING, message, wait=wait, log=log, job_id=result.job_id)
    return Outcome(
        Kind.SUCCESS,
        result.detail or f"Pushed {prepared.resolved.object_type}.",
        log=log,
        remember=partial(prepared.resolved.remember, result),
    )


def push(delivery: Delivery) -> Outcome:
    """Resolve what a delivery pushes from hub state, and push it to its connection's tool."""
    connection = _connection(delivery)
    prepared = _prepare(delivery, connection)
    if isinstance(prepared, Outcome):
        return prepared
    resolved = prepared.resolved
    run = SyncRun.objects.create(connection=connection, job=SyncJob.PUSH, object_type=resolved.object_type)
    http_client: Any = None
    try:
        connector = registry.connector_for(connection, sync_run_id=run.pk, delivery_id=delivery.pk)
        http_client = connector.http
        pushed = push_resolved(connection, connector, resolved, prepared.context, prepared.again)
        if isinstance(pushed, str):
            return _closed(run, Outcome(Kind.SKIP, pushed))
        resolved, result = pushed
    except Exception as exc:
        outcome = outcome_of(exc, getattr(http_client, "last_log", None))
    else:
        outcome = _landed(
            dataclasses.replace(prepared, resolved=resolved), result, getattr(http_client, "last_log", None)
        )
    _close_run(run, outcome)
    return outcome


# --- batches and jobs ----------------------------------------------------------------------------


def batch_size(delivery: Delivery) -> int:
    """How many deliveries of this one's connection go to its tool in one request (coalesced stock
    pushes too: each key collapses to its newest first, ``outbound._claim_more``)."""
    if delivery.connection_id is None:
        return 1
    connector = (
        Connection.objects.filter(pk=delivery.connection_id).values_list("connector", flat=True).first()
    )
    try:
        return max(1, registry.get(connector or "").batch_size)
    except registry.UnknownConnector:
        return 1


def push_batch(deliveries: list[Delivery]) -> list[Outcome]:
    """Push several deliveries of one connection in batches of the tool's size: one outcome each.

    Each is resolved on its own (one may be skipped or wait for another while the rest go); the
    tool's answer is one result per item, so a batch the tool took in part (a 207) records what
    landed and retries or kills only what failed. An error of the whole request counts for each."""
    connection = _connection(deliveries[0])
    outcomes: list[Outcome | None] = []
    ready: list[tuple[int, Prepared]] = []
    for index, delivery in enumerate(deliveries):
        try:
            prepared = _prepare(delivery, connection)
        except Exception as exc:  # resolving one failed: that one fails, the rest go on
            prepared = outcome_of(exc)
        if isinstance(prepared, Outcome):
            outcomes.append(prepared)
        else:
            outcomes.append(None)
            ready.append((index, prepared))
    if ready:
        run = SyncRun.objects.create(
            connection=connection, job=SyncJob.PUSH, object_type=ready[0][1].resolved.object_type
        )
        connector = registry.connector_for(connection, sync_run_id=run.pk)
        size = max(1, type(connector).batch_size)
        for start in range(0, len(ready), size):
            chunk = ready[start : start + size]
            try:
                results = connector.push_batch([(p.resolved.item, p.context) for _, p in chunk])
                if len(results) != len(chunk):
                    raise PermanentError(f"The tool answered {len(results)} results for {len(chunk)} items.")
            except Exception as exc:
                for index, _ in chunk:
                    outcomes[index] = outcome_of(exc, getattr(connector.http, "last_log", None))
                continue
            log = getattr(connector.http, "last_log", None)
            for (index, prepared), result in zip(chunk, results, strict=True):
                if isinstance(result, CountMoved):  # as push_resolved: import the orders, push again
                    prepared, result = _moved_in_batch(connection, connector, prepared, result)
                outcomes[index] = _result_outcome(prepared, result, log)
        _close_batch_run(run, [o for o in outcomes if o is not None])
    return [o if o is not None else Outcome(Kind.TRANSIENT, "Not attempted.") for o in outcomes]


def _moved_in_batch(
    connection: Connection, connector: Connector, prepared: Prepared, moved: CountMoved
) -> tuple[Prepared, PushResult | Exception]:
    """An item of a batch whose count moved in the tool: the recent orders imported, then pushed on
    its own against the tool's count (a second move is left to the retry)."""
    try:
        resolved = _after_count_moved(connection, prepared.resolved, moved)
        return dataclasses.replace(prepared, resolved=resolved), _push_or_link(
            connector, resolved, prepared.context
        )
    except Exception as exc:
        return prepared, exc


def _result_outcome(prepared: Prepared, result: PushResult | Exception, log: Any) -> Outcome:
    if isinstance(result, AlreadyExists):
        result = PushResult(
            external_id=result.external_id,
            version=result.version,
            detail=f"Linked to {prepared.resolved.object_type} {result.external_id}, which the tool had.",
        )
    if isinstance(result, Exception):
        # the item's own request, when its error carries it; else the batch's last
        return outcome_of(result, getattr(result, "request_log", None) or log)
    return _landed(prepared, result, log)


def poll_job(deliveries: list[Delivery]) -> list[Outcome]:
    """Ask the tool where the job of these deliveries (one job, one connection) stands."""
    job_id = deliveries[0].job_id
    connection = _connection(deliveries[0])
    run = SyncRun.objects.create(connection=connection, job=SyncJob.PUSH, object_type="job")
    try:
        connector = registry.connector_for(connection, sync_run_id=run.pk)
        status = connector.job_status(job_id)
    except Exception as exc:
        outcomes = [outcome_of(exc) for _ in deliveries]
        if outcomes[0].kind is Kind.TRANSIENT:  # a failed poll is not a failed push: ask again
            outcomes = [
                dataclasses.replace(o, kind=Kind.WAITING, wait=_poll_seconds(), job_id=job_id)
                for o in outcomes
            ]
        _close_batch_run(run, outcomes)
        return outcomes
    if not status.done:
        wait = status.wait_seconds
        outcomes = [
            Outcome(Kind.WAITING, f"Job {job_id} is still running.", wait=wait, job_id=job_id)
            for _ in deliveries
        ]
    elif status.error:
        outcomes = [Outcome(Kind.PERMANENT, f"Job {job_id} failed: {status.error}") for _ in deliveries]
    else:
        outcomes = [_job_result(connection, d, job_id, status) for d in deliveries]
    _close_batch_run(run, outcomes)
    return outcomes


def _job_result(connection: Connection, delivery: Delivery, job_id: str, status: JobStatus) -> Outcome:
    prepared = _prepare(delivery, connection)  # what to record, read now
    result = status.results.get(idempotency_key(delivery))
    if result is None and not isinstance(prepared, Outcome):
        result = status.by_external_id.get(str(getattr(prepared.resolved.item, "external_id", "")))
    if result is None:
        result = PushResult(detail=f"Done in job {job_id}.")
    if isinstance(result, Exception):
        return outcome_of(result)
    if isinstance(prepared, Outcome):
        return Outcome(Kind.SUCCESS, result.detail or f"Done in job {job_id}.")
    return _landed(prepared, dataclasses.replace(result, job_id=""), None)


def _poll_seconds() -> float:
    return float(settings.INTEGRATIONS_JOB_POLL_SECONDS)


def _close_batch_run(run: SyncRun, outcomes: list[Outcome]) -> None:
    run.finished_at = timezone.now()
    run.updated = sum(1 for o in outcomes if o.kind is Kind.SUCCESS)
    run.skipped = sum(
        1 for o in outcomes if o.kind in (Kind.SKIP, Kind.THROTTLED, Kind.WAITING, Kind.BLOCKED)
    )
    failed = [o.message[:300] for o in outcomes if o.kind in (Kind.TRANSIENT, Kind.PERMANENT, Kind.AUTH)]
    run.failed, run.errors = len(failed), failed[:20]
    run.status = (
        SyncRunStatus.SUCCEEDED
        if not failed
        else SyncRunStatus.PARTIAL
        if run.updated
        else SyncRunStatus.FAILED
    )
    run.save(update_fields=["finished_at", "status", "updated", "skipped", "failed", "errors"])


def push_resolved(
    connection: Connection,
    connector: Connector,
    resolved: outbound_items.Resolved,
    context: PushContext,
    again: Callable[[], outbound_items.Resolved | str | outbound_items.Blocked],
) -> tuple[outbound_items.Resolved, PushResult] | str:
    """Push one resolved item, answering what the tool says about it: a record it has already is
    linked; a stale version is read again, the item resolved ``again`` and pushed once more; a
    moved count imports the recent orders first. Returns what was pushed and the tool's answer, or
    why there is nothing to push any more."""
    try:
        return resolved, _push_or_link(connector, resolved, context)
    except CountMoved as moved:
        resolved = _after_count_moved(connection, resolved, moved)
        return resolved, _push_or_link(connector, resolved, context)
    except StaleVersion as stale:
        fresh = _after_stale(connection, connector, resolved, stale, again)
        if isinstance(fresh, str):
            return fresh
        # A new request (the version it carries is new): a tool that answers a repeated key with
        # its first answer would repeat the conflict. Still the same for every retry of this
        # delivery against this version.
        version = getattr(fresh.item, "version", "")
        retry_context = dataclasses.replace(context, idempotency_key=f"{context.idempotency_key}-v{version}")
        return fresh, _push_or_link(connector, fresh, retry_context)


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
