"""The transactional outbox.

Services call ``emit()`` inside their transaction; the event row commits or
rolls back with the change it announces. After commit a task dispatches it to
the subscribers of its topic; a periodic sweep dispatches whatever a crash left
behind, or a broker that was down never got (the request that committed still
succeeds: see erp.scheduling). Dispatch is exactly-once per event: the event row
is locked, the subscribers run, and the row is marked dispatched, all in one
transaction. Subscribers must therefore only write to the database (e.g. Delivery
rows) and enqueue their own work on commit.
"""

from __future__ import annotations

import fnmatch
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models, transaction
from django.utils import timezone

from erp import actor, clock, scheduling
from erp.counters import upsert_increment
from erp.models import AggregateSequence, OutboxEvent

logger = logging.getLogger(__name__)

Subscriber = Callable[[OutboxEvent], None]

# By name: erp.tasks imports this module (tests/erp/test_scheduling.py checks the name).
DISPATCH_TASK = "erp.tasks.dispatch_event_task"
SWEEP_RECOVERY = "the outbox sweep (erp.events.sweep, every minute) dispatches the event"


@dataclass(frozen=True)
class Subscription:
    pattern: str
    handler: Subscriber
    name: str

    def matches(self, topic: str) -> bool:
        return fnmatch.fnmatchcase(topic, self.pattern)


_subscriptions: list[Subscription] = []


def subscribe(pattern: str, handler: Subscriber, *, name: str | None = None) -> Subscription:
    """Register ``handler`` for topics matching ``pattern`` ("sales.*", "*").

    Call from an AppConfig.ready(). Registering the same name twice replaces it.
    """
    sub = Subscription(pattern, handler, name or f"{handler.__module__}.{handler.__qualname__}")
    _subscriptions[:] = [s for s in _subscriptions if s.name != sub.name]
    _subscriptions.append(sub)
    return sub


def unsubscribe(name: str) -> None:
    _subscriptions[:] = [s for s in _subscriptions if s.name != name]


def subscribers_for(topic: str) -> list[Subscription]:
    return [s for s in _subscriptions if s.matches(topic)]


class OutboxError(RuntimeError):
    pass


def _aggregate_key(aggregate: models.Model | tuple[str, Any]) -> tuple[str, str]:
    if isinstance(aggregate, models.Model):
        return aggregate._meta.label_lower, str(aggregate.pk)
    aggregate_type, aggregate_id = aggregate
    return str(aggregate_type), str(aggregate_id)


def _next_sequence(aggregate_type: str, aggregate_id: str) -> int:
    """The next sequence number of the aggregate; its row lock orders concurrent emitters."""
    return upsert_increment(
        AggregateSequence._meta.db_table,
        {"aggregate_type": aggregate_type, "aggregate_id": aggregate_id},
        "last_sequence",
    )


def emit(
    topic: str,
    *,
    aggregate: models.Model | tuple[str, Any],
    payload: dict[str, Any] | None = None,
) -> OutboxEvent:
    """Record an event in the current transaction; dispatch it after commit.

    Refuses to run outside a transaction: an event must commit or roll back
    together with the change it announces.
    """
    if not connection.in_atomic_block:
        raise OutboxError(f"emit({topic!r}) must run inside transaction.atomic()")
    aggregate_type, aggregate_id = _aggregate_key(aggregate)
    # Round-trip through JSON so subscribers in this process see what others will read.
    clean_payload = json.loads(DjangoJSONEncoder().encode(payload or {}))
    who = actor.current()  # never queries: the request's user is already loaded
    event = OutboxEvent.objects.create(
        topic=topic,
        aggregate_type=aggregate_type,
        aggregate_id=aggregate_id,
        sequence=_next_sequence(aggregate_type, aggregate_id),
        payload=clean_payload,
        created_at=clock.now(),
        actor=who.name,
        actor_user_id=who.user_id,
    )
    scheduling.enqueue_on_commit(DISPATCH_TASK, event.pk, recovery=SWEEP_RECOVERY)
    return event


def dispatch_event(event_pk: int) -> bool:
    """Dispatch one event to its subscribers. True if this call dispatched it.

    Safe to call any number of times, concurrently: the row is locked (skipping
    rows another dispatcher holds) and an already-dispatched event is left alone.
    """
    try:
        with transaction.atomic():
            event = (
                OutboxEvent.objects.select_for_update(skip_locked=True)
                .filter(pk=event_pk, dispatched_at__isnull=True)
                .first()
            )
            if event is None:
                return False
            for sub in subscribers_for(event.topic):
                sub.handler(event)
            OutboxEvent.objects.filter(pk=event.pk).update(
                dispatched_at=timezone.now(), attempts=models.F("attempts") + 1, last_error=""
            )
            return True
    except Exception as exc:
        logger.exception("Dispatch of outbox event %s failed", event_pk)
        OutboxEvent.objects.filter(pk=event_pk, dispatched_at__isnull=True).update(
            attempts=models.F("attempts") + 1, last_error=f"{type(exc).__name__}: {exc}"[:2000]
        )
        return False


def pending_events(*, older_than: timedelta | None = None) -> models.QuerySet[OutboxEvent]:
    qs = OutboxEvent.objects.filter(dispatched_at__isnull=True, attempts__lt=settings.OUTBOX_MAX_ATTEMPTS)
    if older_than is not None:
        qs = qs.filter(created_at__lte=timezone.now() - older_than)
    return qs.order_by("id")


def sweep(*, limit: int = 1000, grace: timedelta | None = None) -> int:
    """Dispatch events that were committed but never dispatched (a crash, a lost task)."""
    if grace is None:
        grace = timedelta(seconds=settings.OUTBOX_SWEEP_GRACE_SECONDS)
    dispatched = 0
    for pk in pending_events(older_than=grace).values_list("pk", flat=True)[:limit]:
        dispatched += dispatch_event(pk)
    return dispatched


def prune(*, older_than: timedelta | None = None) -> int:
    """Delete dispatched events older than the retention window (settings.OUTBOX_RETENTION_DAYS:
    the events are also the documents' timelines, so the window is long)."""
    if older_than is None:
        older_than = timedelta(days=settings.OUTBOX_RETENTION_DAYS)
    deleted, _ = OutboxEvent.objects.filter(
        dispatched_at__isnull=False, created_at__lt=timezone.now() - older_than
    ).delete()
    return deleted
