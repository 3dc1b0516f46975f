"""Outbound: the outbox fanned out to every target, and each delivery attempted until it lands.

Fan-out (an outbox subscriber on "*", installed by ``install()``): one Delivery per
(event, connection whose connector subscribes to the topic) and per (event, active
webhook subscription whose patterns match and whose owner may read the topic's
area). Connections that are paused get none; a level change of another warehouse
than a connection's own does not concern it. Inventory level changes to a
connection are coalesced: they carry ``coalesce_key`` "inventory.product:<id>" and
wait INTEGRATIONS_COALESCE_SECONDS, and the first of them that comes due collapses
the pending ones into the newest and pushes once the quantity read at push time.

An attempt (``delivery_attempt``) claims the delivery under its row lock (skipping
a row another worker holds) with a lease (``claimed_until``), does the network
call outside any transaction, then records the outcome only if it still holds the
claim. The attempt branches on the target: a connection gets ``connector.push`` of
an item resolved from hub state (ExternalRefs, availability, the shipment), a
subscription gets the signed event (``webhooks_out``). The outcome rules are the
same for both:

* success -> succeeded;  nothing to do (no mapping, no change) -> skipped;
* Throttled -> wait Retry-After, not counted as an attempt;
* TransientError or an unexpected error -> attempts + 1, exponential backoff with full
  jitter, dead letter after INTEGRATIONS_MAX_ATTEMPTS;
* PermanentError -> dead letter at once;
* AuthFailed -> stays failed, the connection needs re-authorisation, not counted; the
  connection's deliveries then wait INTEGRATIONS_REAUTH_RETRY_SECONDS between probes.

Retries are picked up by ``deliveries_due()`` (a periodic task); ``delivery_retry``
puts a dead or failed delivery back to pending now (the UI's Retry button).
"""

from __future__ import annotations

import dataclasses
import fnmatch
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from functools import partial
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from erp import events, retry
from erp.access import AREAS, user_can
from erp.exceptions import DomainError, InvalidTransition
from erp.models import OutboxEvent
from integrations import outbound_items, polling, queueing, registry, webhooks_out
from integrations.contract import Capability, Connector, PushContext, PushResult
from integrations.errors import (
    AlreadyExists,
    AuthFailed,
    CountMoved,
    MissingDependency,
    NeedsAPerson,
    PermanentError,
    StaleVersion,
    Throttled,
    TransientError,
)
from integrations.models import (
    Connection,
    ConnectionStatus,
    Delivery,
    DeliveryStatus,
    ExternalRef,
    RequestLog,
    SyncJob,
    SyncRun,
    SyncRunStatus,
    WebhookSubscription,
)
from integrations.outbound_items import LEVEL_CHANGED, warehouse_of
from integrations.records import InventoryOut

logger = logging.getLogger(__name__)

OPEN = (DeliveryStatus.PENDING, DeliveryStatus.FAILED)


def coalesce_seconds() -> float:
    return float(settings.INTEGRATIONS_COALESCE_SECONDS)


def max_attempts() -> int:
    return int(settings.INTEGRATIONS_MAX_ATTEMPTS)


def backoff_seconds(attempts: int) -> float:
    """The wait before the next attempt of a delivery (erp.retry: exponential, full jitter)."""
    return retry.backoff_seconds(
        attempts,
        base=float(settings.INTEGRATIONS_RETRY_BASE_SECONDS),
        cap=float(settings.INTEGRATIONS_RETRY_CAP_SECONDS),
    )


def _id(pk: int | None) -> int:
    if pk is None:
        raise ValueError("A delivery without this target.")
    return pk


def _matches(patterns: Iterable[str], topic: str) -> bool:
    return any(fnmatch.fnmatchcase(topic, p) for p in patterns)


# --- fan-out ----------------------------------------------------------------------------------


def install() -> None:
    """Subscribe the fan-out to the outbox (from IntegrationsConfig.ready)."""
    events.subscribe("*", fan_out, name="integrations.outbound.fan_out")


def _concerns(connection: Connection, event: OutboxEvent) -> bool:
    if event.topic != LEVEL_CHANGED:
        return True
    warehouse_id = warehouse_of(connection)
    return warehouse_id is None or event.payload.get("warehouse_id") == warehouse_id


def _may_read(user: Any, topic: str) -> bool:
    area = topic.split(".", 1)[0]
    return user_can(user, area if area in AREAS else "integrations", "read")


def fan_out(event: OutboxEvent) -> None:
    """Create the event's deliveries (idempotent) and enqueue their attempts after commit."""
    moment = timezone.now()
    rows: list[Delivery] = []
    for connection in Connection.objects.exclude(status=ConnectionStatus.PAUSED).select_related(
        "sales_channel"
    ):
        try:
            connector = registry.get(connection.connector)
        except registry.UnknownConnector:
            continue
        if not _matches(connector.topics, event.topic) or not _concerns(connection, event):
            continue
        key, due = "", moment
        if event.topic == LEVEL_CHANGED and event.payload.get("product_id") is not None:
            key = f"inventory.product:{event.payload['product_id']}"
            due = moment + timedelta(seconds=coalesce_seconds())
        rows.append(
            Delivery(
                event=event, connection=connection, topic=event.topic, coalesce_key=key, next_attempt_at=due
            )
        )
    for sub in WebhookSubscription.objects.filter(is_active=True).select_related("user"):
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


# --- attempting ---------------------------------------------------------------------------------


class Kind(Enum):
    SUCCESS = "success"
    SKIP = "skip"
    THROTTLED = "throttled"
    TRANSIENT = "transient"
    PERMANENT = "permanent"
    AUTH = "auth"
    BLOCKED = "blocked"


@dataclass
class Outcome:
    kind: Kind
    message: str = ""
    wait: float = 0.0
    log: RequestLog | None = None
    remember: Callable[[], None] | None = None
    blocked_on: int | None = None  # Kind.BLOCKED: the delivery that must land first


def outcome_of(exc: Exception, log: RequestLog | None = None) -> Outcome:
    """How the hub treats an error of a push or a webhook send."""
    log = log if log is not None else getattr(exc, "request_log", None)
    if isinstance(exc, Throttled):
        return Outcome(Kind.THROTTLED, f"Throttled: {exc}", wait=exc.retry_after, log=log)
    if isinstance(exc, AuthFailed):
        return Outcome(Kind.AUTH, str(exc), log=log)
    if isinstance(exc, PermanentError | NotImplementedError | NeedsAPerson | MissingDependency):
        # Deterministic (the tool refused it; a value with no mapping; a setting missing): retrying
        # the same push would fail the same way. Dead at once, with its message, for a person to
        # fix and retry.
        return Outcome(Kind.PERMANENT, str(exc) or type(exc).__name__, log=log)
    if isinstance(exc, TransientError):
        return Outcome(Kind.TRANSIENT, str(exc), log=log)
    logger.exception("Unexpected error in an outbound delivery", exc_info=exc)
    return Outcome(Kind.TRANSIENT, f"{type(exc).__name__}: {exc}", log=log)


def delivery_attempt(delivery_pk: int) -> Delivery | None:
    """Attempt one delivery if it is due and nobody else holds it. None if there was nothing to do."""
    delivery = _claim(delivery_pk)
    if delivery is None:
        return None
    try:
        outcome = _push(delivery) if delivery.connection_id else _send_webhook(delivery)
    except Exception as exc:  # resolving failed: recorded like any failed attempt, never left claimed
        outcome = outcome_of(exc)
    return _finish(delivery, outcome)


def _claim(delivery_pk: int) -> Delivery | None:
    moment = timezone.now()
    with transaction.atomic():
        delivery = Delivery.objects.select_for_update(skip_locked=True).filter(pk=delivery_pk).first()
        if (
            delivery is None
            or delivery.status not in OPEN
            or delivery.next_attempt_at > moment
            or (delivery.claimed_until is not None and delivery.claimed_until > moment)
        ):
            return None
        if delivery.connection_id is not None:
            status = (
                Connection.objects.filter(pk=delivery.connection_id).values_list("status", flat=True).get()
            )
            if status == ConnectionStatus.PAUSED:
                return None  # a paused connection's deliveries wait
        if delivery.coalesce_key and delivery.connection_id is not None:
            group = list(
                Delivery.objects.select_for_update(skip_locked=True)
                .filter(
                    connection_id=delivery.connection_id, coalesce_key=delivery.coalesce_key, status__in=OPEN
                )
                .order_by("pk")
            )
            if any(d.claimed_until is not None and d.claimed_until > moment for d in group):
                # A push of this key is in flight: look again once it has landed.
                delivery.next_attempt_at = moment + timedelta(seconds=max(1.0, coalesce_seconds()))
                delivery.save(update_fields=["next_attempt_at"])
                return None
            newest = group[-1] if group else delivery
            Delivery.objects.filter(pk__in=[d.pk for d in group if d.pk != newest.pk]).update(
                status=DeliveryStatus.SUPERSEDED, last_error=f"Coalesced into delivery {newest.pk}."
            )
            delivery = newest
        delivery.claimed_until = moment + timedelta(seconds=float(settings.INTEGRATIONS_CLAIM_SECONDS))
        delivery.save(update_fields=["claimed_until"])
        return delivery


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
        fan_out(event)
        made = (
            Delivery.objects.filter(event=event, connection=connection).values_list("pk", flat=True).first()
        )
    if made is None:
        raise PermanentError(f"{connection} does not take {blocked.topic}, which must be pushed first.")
    return made


def idempotency_key(delivery: Delivery) -> str:
    """Stable across the delivery's attempts (a retry after a lost answer is the same request)."""
    return f"erp-delivery-{delivery.pk}"


def _push(delivery: Delivery) -> Outcome:
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


def _send_webhook(delivery: Delivery) -> Outcome:
    subscription = WebhookSubscription.objects.get(pk=_id(delivery.subscription_id))
    if not subscription.is_active:
        return Outcome(Kind.SKIP, "The subscription is inactive.")
    event = OutboxEvent.objects.get(pk=delivery.event_id)
    try:
        exchange = webhooks_out.webhook_send(delivery=delivery, subscription=subscription, event=event)
    except Exception as exc:
        return outcome_of(exc)
    return Outcome(Kind.SUCCESS, "", log=exchange.log)


def _finish(claimed: Delivery, outcome: Outcome) -> Delivery:
    """Record the outcome, if this worker still holds the claim."""
    moment = timezone.now()
    with transaction.atomic():
        delivery = (
            Delivery.objects.select_for_update()
            .filter(pk=claimed.pk, claimed_until=claimed.claimed_until)
            .first()
        )
        if delivery is None:
            logger.warning("Delivery %s: the claim was lost before the outcome was recorded", claimed.pk)
            return Delivery.objects.get(pk=claimed.pk)
        delivery.claimed_until = None
        if outcome.log is not None:
            delivery.last_status_code = outcome.log.status_code
            delivery.response_excerpt = outcome.log.response_body
        kind = outcome.kind
        delivery.last_error = "" if kind is Kind.SUCCESS else outcome.message[:2000]
        if kind is Kind.SUCCESS:
            delivery.status, delivery.delivered_at = DeliveryStatus.SUCCEEDED, moment
            delivery.attempts += 1
            delivery.blocked_on_id = None
            if outcome.remember is not None:
                _remember(delivery, outcome.remember)
            _release_waiting(delivery, moment)
        elif kind is Kind.SKIP:
            delivery.status = DeliveryStatus.SKIPPED
        elif kind is Kind.BLOCKED:
            # Not an attempt: it waits for the other delivery (released when that one lands); the
            # hour is a safety net should the release be lost.
            delivery.status, delivery.blocked_on_id = DeliveryStatus.PENDING, outcome.blocked_on
            delivery.next_attempt_at = moment + timedelta(hours=1)
        elif kind is Kind.THROTTLED:
            delivery.next_attempt_at = moment + timedelta(seconds=outcome.wait)
        elif kind is Kind.AUTH:
            delivery.status = DeliveryStatus.FAILED
            delivery.next_attempt_at = moment + timedelta(seconds=_reauth_seconds())
        elif kind is Kind.PERMANENT:
            delivery.status = DeliveryStatus.DEAD
            delivery.attempts += 1
        else:
            delivery.attempts += 1
            if delivery.attempts >= max_attempts():
                delivery.status = DeliveryStatus.DEAD
                delivery.last_error = f"Gave up after {delivery.attempts} attempts: {delivery.last_error}"[
                    :2000
                ]
            else:
                delivery.status = DeliveryStatus.FAILED
                delivery.next_attempt_at = moment + timedelta(seconds=backoff_seconds(delivery.attempts))
        delivery.save()
        if delivery.connection_id is not None:
            _note_connection(delivery, outcome, moment)
    return delivery


def _release_waiting(delivery: Delivery, moment: datetime) -> None:
    """The deliveries waiting for this one are due now (attempted after commit)."""
    waiting = Delivery.objects.filter(blocked_on=delivery, status__in=OPEN)
    due = [(pk, moment) for pk in waiting.values_list("pk", flat=True)]
    if due:
        waiting.update(next_attempt_at=moment)
        queueing.attempt_deliveries_on_commit(due)


def _remember(delivery: Delivery, remember: Callable[[], None]) -> None:
    """Record what the tool took. A failure here must not undo the success (and push twice)."""
    try:
        with transaction.atomic():
            remember()
    except Exception:
        logger.exception("Delivery %s landed but its result could not be recorded", delivery.pk)


def _reauth_seconds() -> float:
    return float(settings.INTEGRATIONS_REAUTH_RETRY_SECONDS)


def _note_connection(delivery: Delivery, outcome: Outcome, moment: datetime) -> None:
    """Keep the connection's health in step with what its pushes meet."""
    connection_id = _id(delivery.connection_id)
    connection = Connection.objects.filter(pk=connection_id)
    failure = {"last_failure_at": moment, "last_error": outcome.message[:2000]}
    if outcome.kind is Kind.SUCCESS:
        connection.update(last_success_at=moment)
        connection.filter(status__in=[ConnectionStatus.FAILING, ConnectionStatus.NEEDS_REAUTH]).update(
            status=ConnectionStatus.ACTIVE
        )
    elif outcome.kind is Kind.THROTTLED:
        until = moment + timedelta(seconds=outcome.wait)
        connection.exclude(throttled_until__gte=until).update(throttled_until=until)
    elif outcome.kind is Kind.TRANSIENT:
        connection.update(**failure)
        connection.filter(status=ConnectionStatus.ACTIVE).update(status=ConnectionStatus.FAILING)
    elif outcome.kind is Kind.PERMANENT:
        connection.update(**failure)
    elif outcome.kind is Kind.AUTH:
        connection.update(**failure)
        connection.exclude(status=ConnectionStatus.PAUSED).update(status=ConnectionStatus.NEEDS_REAUTH)
        # One probe per interval, not one 401 per waiting delivery.
        Delivery.objects.filter(connection_id=connection_id, status__in=OPEN).exclude(pk=delivery.pk).filter(
            Q(claimed_until__isnull=True) | Q(claimed_until__lt=moment)
        ).update(next_attempt_at=delivery.next_attempt_at)


# --- due deliveries, manual retry ------------------------------------------------------------------


def deliveries_due() -> QuerySet[Delivery]:
    """Pending or failed deliveries whose time has come, unclaimed, not for a paused connection."""
    moment = timezone.now()
    return (
        Delivery.objects.filter(status__in=OPEN, next_attempt_at__lte=moment)
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lte=moment))
        .exclude(connection__status=ConnectionStatus.PAUSED)
        .order_by("next_attempt_at", "pk")
    )


def deliveries_enqueue_due(*, limit: int = 500) -> int:
    """Queue an attempt of each due delivery (the periodic task)."""
    due = list(deliveries_due().values_list("pk", "next_attempt_at")[:limit])
    queueing.attempt_deliveries(due)
    return len(due)


@transaction.atomic
def delivery_retry(*, delivery: Delivery, user: Any = None) -> Delivery:
    """A dead or failed delivery back to pending now, with a fresh run of attempts, and queued."""
    locked = Delivery.objects.select_for_update().get(pk=delivery.pk)
    if locked.status not in (DeliveryStatus.DEAD, DeliveryStatus.FAILED):
        raise InvalidTransition(document="delivery", current=locked.status, target=DeliveryStatus.PENDING)
    moment = timezone.now()
    if locked.claimed_until is not None and locked.claimed_until > moment:
        raise DomainError(f"Delivery {locked.pk} is being attempted right now.")
    who = getattr(user, "get_username", lambda: "")() if getattr(user, "is_authenticated", False) else ""
    previous = locked.last_error
    locked.status, locked.attempts, locked.next_attempt_at = DeliveryStatus.PENDING, 0, moment
    locked.last_error = (f"Retried by {who or 'the system'} after: {previous}" if previous else "")[:2000]
    locked.save(update_fields=["status", "attempts", "next_attempt_at", "last_error"])
    queueing.attempt_deliveries_on_commit([(locked.pk, moment)])
    return locked
