"""Inbound events: a webhook is verified, stored raw and answered; a task processes it.

Receiving (``webhook_receive``): the connector checks the signature over the raw
body (in constant time); a bad one raises InvalidSignature and nothing is stored, and so
does a valid one that names another account of the tool than the connection's
(``Connector.account_id``: one app secret signs the webhooks of every shop).
Then exactly one write: the InboundEvent, unique per (connection, the tool's event
id). A duplicate hits the unique constraint (inside a savepoint, so concurrent
duplicates are safe) and the stored event is returned as it is. Only a new event
enqueues processing, after commit. A paused connection still stores its events;
they are processed once it is active again (the periodic ``inbound_retry_due``
picks up events left in "received").

Processing (``inbound_process``): the event's items come from the connector
(``parse_webhook``; a polled event's body is the canonical item itself, see
``integrations.canonical``); a thin item (record None) is re-read with
``connector.fetch`` first, outside any transaction (the request log commits). One fetch
covers the thin events of the same record that arrived before it began: they end skipped,
"covered by the fetch of event N" (``integrations.bursts``: claim, then settle). Then,
under the event's row lock (skip_locked: another worker has it), every item goes
through ``integrations.appliers`` in one savepoint, and the event ends:

* processed: something was created, updated or cancelled;
* skipped: every item was stale or unchanged;
* quarantined: MissingDependency (an unknown SKU): ``missing`` says what, a person
  maps it (``quarantine_map_sku``) and the event is replayed;
* failed: any other error, kept with the event; retried after exponential backoff
  with jitter (``next_attempt_at``); after INTEGRATIONS_MAX_ATTEMPTS (default 8)
  attempts it is dead. A Throttled tool is not a failed attempt: the event waits.

Each processing is recorded in a SyncRun (job webhook, or poll for polled events;
a poll processes its events in its own run).
"""

from __future__ import annotations

import datetime
import hashlib
import logging
from dataclasses import dataclass
from typing import Any

import httpx
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from erp import retry, scheduling
from erp.exceptions import ValidationFailed
from integrations import alerts, appliers, bursts, queueing, registry, retention
from integrations.canonical import decode_item
from integrations.contract import Action, Connector, InboundItem, WebhookEnvelope, WebhookRequest
from integrations.errors import InvalidSignature, MissingDependency, NeedsAPerson, Throttled, UntrustedUrl
from integrations.http import Redactor
from integrations.models import (
    Connection,
    ConnectionStatus,
    ExternalRef,
    InboundEvent,
    InboundStatus,
    SyncJob,
    SyncRun,
    SyncRunStatus,
)
from inventory.models import Product

logger = logging.getLogger(__name__)

FINAL = frozenset(
    {InboundStatus.PROCESSED, InboundStatus.SKIPPED, InboundStatus.QUARANTINED, InboundStatus.DEAD}
)
# Stored with every webhook, whatever the tool; the rest only when its connector names it.
STORED_HEADERS = frozenset({"content-type", "user-agent"})


def max_attempts() -> int:
    return int(settings.INTEGRATIONS_MAX_ATTEMPTS)


def backoff(attempts: int) -> datetime.timedelta:
    """The wait before an event's next processing (erp.retry: exponential, full jitter)."""
    seconds = retry.backoff_seconds(
        attempts,
        base=float(settings.INTEGRATIONS_INBOUND_BACKOFF_SECONDS),
        cap=float(settings.INTEGRATIONS_INBOUND_BACKOFF_MAX_SECONDS),
    )
    return datetime.timedelta(seconds=seconds)


# --- receiving ----------------------------------------------------------------------------------


def webhook_receive(*, connection: Connection, request: WebhookRequest) -> list[tuple[InboundEvent, bool]]:
    """Verify a delivery and store each of its events: [(event, created)], in the delivery's order.

    All or nothing: a bad signature, an unreadable delivery or an event for another account of
    the tool stores nothing. Each event is de-duplicated on its own id, so a redelivered batch
    stores only the events not seen before."""
    connector = registry.connector_for(connection)
    if not connector.verify_webhook(request):
        raise InvalidSignature(f"The signature of this webhook for {connection.name} is not valid.")
    envelopes = _events_of(connector, request, connection.name)
    expected = connector.account_id()
    for envelope in envelopes:
        if expected is not None and envelope.account != expected:
            # Validly signed with the app's secret, but for another account that installed the app.
            claimed = envelope.account or "no account"
            raise InvalidSignature(f"This webhook is for {claimed}, not for {connection.name} ({expected}).")
    with transaction.atomic():
        return [_store_webhook_event(connection, connector, request, envelope) for envelope in envelopes]


@dataclass(frozen=True)
class AppDelivery:
    """What the app-level endpoint did with a delivery: events stored per connection, and the
    events naming an account no connection is for (answered, not stored)."""

    stored: list[tuple[InboundEvent, bool]]
    unrouted: list[str]  # the accounts named by events no connection takes


def webhook_receive_for_app(*, connector_key: str, request: WebhookRequest) -> AppDelivery:
    """A delivery to the tool's one app-level address: verified with the app's secret (any of its
    connections holds it), then each event is stored on the connection of the account it names."""
    cls = registry.get(connector_key)
    if not cls.app_webhooks:
        raise registry.UnknownConnector(f"{cls.name} sends its webhooks to each connection's own address.")
    connectors = [
        registry.connector_for(c) for c in Connection.objects.filter(connector=cls.key).order_by("pk")
    ]
    verifier = next((c for c in connectors if c.verify_webhook(request)), None)
    if verifier is None:
        raise InvalidSignature(f"The signature of this {cls.name} webhook is not valid for any connection.")
    envelopes = _events_of(verifier, request, cls.name)
    by_account = {c.account_id(): c for c in connectors if c.account_id() is not None}
    stored: list[tuple[InboundEvent, bool]] = []
    unrouted: list[str] = []
    with transaction.atomic():
        for envelope in envelopes:
            target = by_account.get(envelope.account)
            if target is None:
                unrouted.append(envelope.account or "no account")
                continue
            stored.append(_store_webhook_event(target.connection, target, request, envelope))
    if unrouted:
        logger.warning("%s webhook: events for accounts no connection is for: %s", cls.name, unrouted)
    return AppDelivery(stored, unrouted)


def _events_of(connector: Connector, request: WebhookRequest, name: str) -> list[WebhookEnvelope]:
    try:
        envelopes = connector.webhook_events(request)
    except ValueError as exc:
        raise ValidationFailed(f"Not a webhook {name} can read: {exc}") from exc
    if not envelopes:
        raise ValidationFailed(f"This webhook for {name} carries no event.")
    return envelopes


def _store_webhook_event(
    connection: Connection, connector: Connector, request: WebhookRequest, envelope: WebhookEnvelope
) -> tuple[InboundEvent, bool]:
    body = request.body if envelope.body is None else envelope.body
    event_id = envelope.event_id or "sha256:" + hashlib.sha256(body).hexdigest()
    keep = STORED_HEADERS | {name.lower() for name in connector.webhook_headers}
    stored = {  # as the tool wrote them (httpx.Headers.items() would lower-case the names)
        name.decode("latin-1"): value.decode("latin-1")
        for name, value in request.headers.raw
        if name.decode("latin-1").lower() in keep
    }
    stored = Redactor.of(personal_fields=connector.personal_fields).personal_headers(stored)
    return store_event(
        connection=connection,
        source=InboundEvent.Source.WEBHOOK,
        external_id=event_id,
        topic=envelope.topic,
        headers=stored,
        body=body,
        settle_seconds=float(getattr(connector, "settle_seconds", 0.0)),
    )


def store_event(
    *,
    connection: Connection,
    source: str,
    external_id: str,
    topic: str,
    headers: dict[str, Any],
    body: bytes,
    enqueue: bool = True,
    settle_seconds: float = 0.0,
) -> tuple[InboundEvent, bool]:
    """Insert the event unless (connection, external_id) exists: (event, created). One write.

    Processed after commit, or ``settle_seconds`` later (the connector's settle window: the rest
    of a burst arrives first, and one fetch covers it all; ``integrations.bursts``)."""
    try:
        with transaction.atomic():
            event = InboundEvent.objects.create(
                connection=connection,
                external_id=external_id[:255],
                source=source,
                topic=topic[:100],
                headers=headers,
                body=body,
            )
    except IntegrityError:
        stored = InboundEvent.objects.get(connection=connection, external_id=external_id[:255])
        return retention.refill(stored, headers=headers, body=body), False
    if enqueue and connection.is_active and settle_seconds > 0:
        scheduling.enqueue_on_commit(
            queueing.PROCESS_INBOUND, event.pk, countdown=settle_seconds, recovery=queueing.INBOUND_RECOVERY
        )
    elif enqueue and connection.is_active:
        queueing.process_inbound_on_commit(event.pk)
    return event, True


# --- processing ---------------------------------------------------------------------------------


def run_start(connection: Connection, job: str, object_type: str = "") -> SyncRun:
    return SyncRun.objects.create(connection=connection, job=job, object_type=object_type[:40])


def run_finish(run: SyncRun) -> SyncRun:
    if run.status == SyncRunStatus.RUNNING:
        done = run.created + run.updated + run.skipped
        if not run.failed:
            run.status = SyncRunStatus.PARTIAL if _has_warnings(run) else SyncRunStatus.SUCCEEDED
        else:
            run.status = SyncRunStatus.PARTIAL if done else SyncRunStatus.FAILED
    run.finished_at = timezone.now()
    run.save()
    return run


def _has_warnings(run: SyncRun) -> bool:
    return any(isinstance(e, dict) and e.get("level") == "warning" for e in run.errors)


def items_of(event: InboundEvent, connector: Connector) -> list[InboundItem]:
    """The event's items, thin ones re-read from the tool."""
    return read(parsed_items(event, connector), connector)


def parsed_items(event: InboundEvent, connector: Connector) -> list[InboundItem]:
    """The event's items as it carries them (thin ones not read yet)."""
    body = bytes(event.body)
    if event.source == InboundEvent.Source.POLL:
        return [decode_item(body)]
    return connector.parse_webhook(event.topic, httpx.Headers(event.headers), body)


def read(items: list[InboundItem], connector: Connector) -> list[InboundItem]:
    """The items, thin ones re-read from the tool (``fetch``, or ``fetch_url`` on a trusted host)."""
    out: list[InboundItem] = []
    for item in items:
        if item.record is not None or item.action == Action.DELETE:
            out.append(item)
        elif item.url:
            out.extend(connector.fetch_url(item.object_type, _trusted(connector, item.url)))
        else:
            out.append(connector.fetch(item.object_type, item.external_id))
    return out


def _trusted(connector: Connector, url: str) -> str:
    """A URL taken from a request is followed only on one of the connector's hosts."""
    host = (httpx.URL(url).host or "").lower()
    if host not in connector.hosts():
        raise UntrustedUrl(
            f"A {connector.name} event points at {url}: {host or 'no host'} is not one of the tool's hosts "
            f"({', '.join(sorted(connector.hosts()))}); it was not followed.",
            value=host or url[:100],
        )
    return url


def inbound_process(event_pk: int, *, run: SyncRun | None = None) -> InboundEvent:
    """Process one stored event (idempotent: a finished event is returned as it is).

    A thin item read with ``fetch`` is claimed first (``integrations.bursts``): an event a fetch
    in flight covers is left waiting and settled by it; the fetch settles the waiting events it
    covers when its event's outcome is recorded."""
    event = InboundEvent.objects.select_related("connection").get(pk=event_pk)
    connection = event.connection
    if event.status in FINAL or not connection.is_active:
        return event
    own_run = run is None
    job = SyncJob.POLL if event.source == InboundEvent.Source.POLL else SyncJob.WEBHOOK
    active_run = run or run_start(connection, job, event.topic)
    connector = registry.connector_for(connection, sync_run_id=active_run.pk)
    items: list[InboundItem] | Exception
    claim: bursts.Claim | None = None
    try:
        items = parsed_items(event, connector)
    except Exception as exc:  # recorded on the event below
        items = exc
    if not isinstance(items, Exception) and (keys := bursts.thin_keys(items)):
        claimed = bursts.claim(event, keys, only_thin=all(bursts.fetched_by_id(i) for i in items))
        if not isinstance(claimed, bursts.Claim):  # another fetch covers it, or it ended meanwhile
            if isinstance(claimed, bursts.Covered):
                logger.info("Inbound event %s waits for the fetch of event %s", event_pk, claimed.by)
            return _leave(event_pk, active_run, own_run)
        claim = claimed
    if not isinstance(items, Exception):
        try:
            items = read(items, connector)
        except Exception as exc:  # recorded on the event below
            items = exc
    with alerts.acting(connection), transaction.atomic():  # the connection's doing (erp.actor)
        locked = InboundEvent.objects.select_for_update(skip_locked=True).filter(pk=event_pk).first()
        if locked is None or locked.status in FINAL:
            return _leave(event_pk, active_run, own_run, locked)
        locked.connection = connection
        bursts.release(locked)
        _apply(locked, items, active_run)
        locked.save()
        if claim is not None and locked.status in (InboundStatus.PROCESSED, InboundStatus.SKIPPED):
            active_run.skipped += len(bursts.settle(locked, claim, connector))
        if own_run:
            run_finish(active_run)
    return locked


def _leave(event_pk: int, run: SyncRun, own_run: bool, locked: InboundEvent | None = None) -> InboundEvent:
    """Not processed here (another worker has it, or a fetch covered it): drop our run if it sent
    nothing, else close it."""
    if own_run and not run.requests.exists():
        run.delete()
    elif own_run:
        run_finish(run)
    return locked or InboundEvent.objects.get(pk=event_pk)


def _apply(event: InboundEvent, items: list[InboundItem] | Exception, run: SyncRun) -> None:
    try:
        if isinstance(items, Exception):
            raise items
        with transaction.atomic():
            results = [appliers.apply(event.connection, item, run) for item in items]
    except (MissingDependency, NeedsAPerson) as exc:
        # Deterministic: the same input fails the same way until a person maps or fixes something.
        event.status = InboundStatus.QUARANTINED
        event.missing = {"kind": exc.kind, "value": exc.value}
        event.last_error = str(exc)
        event.next_attempt_at = None
        run.failed += 1
        run.errors.append({"level": "error", "event": event.pk, "message": f"Quarantined: {exc}"})
    except Throttled as exc:
        event.status = InboundStatus.FAILED
        event.next_attempt_at = timezone.now() + datetime.timedelta(seconds=exc.retry_after)
        event.last_error = f"Throttled (not counted as an attempt): {exc}"
        run.errors.append({"level": "warning", "event": event.pk, "message": str(exc)})
    except Exception as exc:
        _fail(event, exc, run)
    else:
        _done(event, results, run)


def _fail(event: InboundEvent, exc: Exception, run: SyncRun) -> None:
    event.attempts += 1
    event.last_error = f"{type(exc).__name__}: {exc}"[:5000]
    if event.attempts >= max_attempts():
        event.status, event.next_attempt_at = InboundStatus.DEAD, None
    else:
        event.status = InboundStatus.FAILED
        event.next_attempt_at = timezone.now() + backoff(event.attempts)
    run.failed += 1
    run.errors.append({"level": "error", "event": event.pk, "message": event.last_error})
    if not isinstance(exc, ValidationFailed | ValueError) and not hasattr(exc, "title"):
        logger.exception("Inbound event %s of connection %s failed", event.pk, event.connection_id)


def _done(event: InboundEvent, results: list[appliers.Applied], run: SyncRun) -> None:
    changed = [r for r in results if r.outcome != "skipped"]
    event.status = InboundStatus.PROCESSED if changed else InboundStatus.SKIPPED
    event.result = {"items": [r.as_dict() for r in results]}
    event.last_error, event.missing, event.next_attempt_at = "", {}, None
    event.processed_at = timezone.now()
    event.attempts += 1
    run.created += sum(r.outcome == "created" for r in results)
    run.updated += sum(r.outcome in ("updated", "cancelled") for r in results)
    run.skipped += sum(r.outcome == "skipped" for r in results)


# --- replay, quarantine, retries -----------------------------------------------------------------


def _reset(event: InboundEvent) -> None:
    event.status = InboundStatus.RECEIVED
    event.attempts = 0
    event.next_attempt_at = None
    event.last_error = ""
    event.missing = {}
    event.result = {}
    event.processed_at = None


@transaction.atomic
def reset_for_replay(event_pk: int) -> InboundEvent:
    """Put an event back to received, as new (its result and error cleared); the caller processes it."""
    locked = InboundEvent.objects.select_for_update().select_related("connection").get(pk=event_pk)
    retention.check_replayable(locked)  # a purged body: nothing left to process
    _reset(locked)
    locked.save()
    return locked


@transaction.atomic
def inbound_replay(*, event: InboundEvent, user: Any = None) -> InboundEvent:
    """Reset any event to received and process it again (after commit)."""
    locked = reset_for_replay(event.pk)
    if locked.connection.is_active:
        queueing.process_inbound_on_commit(locked.pk)
    return locked


@transaction.atomic
def quarantine_map_sku(*, connection: Connection, sku: str, product: Product, user: Any = None) -> int:
    """Map the tool's SKU to a product, then replay every event quarantined for it; how many."""
    sku = sku.strip()
    if not sku:
        raise ValidationFailed("A SKU is required.", field_errors={"sku": ["Required."]})
    if not product.is_active:
        raise ValidationFailed(f"{product.sku} is archived.", field_errors={"product": ["Archived."]})
    ExternalRef.objects.update_or_create(
        connection=connection,
        object_type=appliers.SKU,
        external_id=sku,
        defaults={
            "content_type": ContentType.objects.get_for_model(Product),
            "object_id": product.pk,
            "synced_at": timezone.now(),
        },
    )
    return _replay_waiting(connection, "sku", sku)


@transaction.atomic
def quarantine_replay(*, connection: Connection, kind: str, value: str, user: Any = None) -> int:
    """Replay every event quarantined for ``kind`` ``value`` (a person fixed the cause: chose a
    channel, corrected a price in the tool); how many. One that fails again waits again."""
    return _replay_waiting(connection, kind, value)


def _replay_waiting(connection: Connection, kind: str, value: str) -> int:
    waiting = list(
        InboundEvent.objects.select_for_update()
        .filter(connection=connection, status=InboundStatus.QUARANTINED)
        .filter(missing__kind=kind, missing__value=value)
    )
    for event in waiting:
        _reset(event)
        event.save()
        if connection.is_active:
            queueing.process_inbound_on_commit(event.pk)
    return len(waiting)


def inbound_retry_due(*, limit: int = 500) -> int:
    """Enqueue failed events whose time has come, and received ones left behind; how many.

    "Left behind": received more than INTEGRATIONS_INBOUND_STALE_SECONDS (120) ago on an
    active connection, e.g. stored while it was paused, or whose task was lost.
    """
    now = timezone.now()
    stale = now - datetime.timedelta(seconds=float(settings.INTEGRATIONS_INBOUND_STALE_SECONDS))
    due = (
        InboundEvent.objects.filter(connection__status=ConnectionStatus.ACTIVE)
        .filter(
            Q(status=InboundStatus.FAILED, next_attempt_at__lte=now)
            | Q(status=InboundStatus.RECEIVED, received_at__lte=stale)
        )
        .order_by("received_at")
        .values_list("pk", flat=True)[:limit]
    )
    ids = list(due)
    for pk in ids:
        queueing.process_inbound(pk)
    return len(ids)
