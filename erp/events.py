"""The transactional outbox.

Services call ``emit()`` inside their transaction; the event row commits or
rolls back with the change it announces. After commit a task dispatches it to
the subscribers of its topic; a periodic sweep dispatches whatever a crash left
behind, or a broker that was down never got (the request that committed still
succeeds: see erp.scheduling). Dispatch is exactly-once per event: the event row
is locked, the subscribers run, and the row is marked dispatched, all in one
transaction.

What a transaction costs stays constant however many events it records: its events
leave in ONE task after commit (``dispatch_events``, all their ids; under load, with the other
transactions' of the process's ``OUTBOX_DISPATCH_WINDOW_SECONDS``: ``scheduling.Coalesced``), and inside
``batched()`` they are written in one multi-row INSERT, numbered by one multi-row
upsert of their aggregates' sequences. Subscribers must therefore only write to the database (e.g. Delivery
rows) and enqueue their own work on commit.
"""

from __future__ import annotations

import fnmatch
import functools
import json
import logging
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models, transaction
from django.utils import timezone

from erp import actor, clock, pipeline, scheduling, statements
from erp.counters import upsert_add_many, upsert_increment
from erp.models import AggregateSequence, OutboxEvent

logger = logging.getLogger(__name__)

Subscriber = Callable[[OutboxEvent], None]

# By name: erp.tasks imports this module (tests/erp/test_scheduling.py checks the name). One task
# per transaction, carrying the ids of all its events (erp.tasks.dispatch_events_task).
DISPATCH_TASK = "erp.tasks.dispatch_events_task"
SWEEP_RECOVERY = "the outbox sweep (erp.events.sweep, every minute) dispatches the event"
# The transactions' dispatch tasks of one process, merged per OUTBOX_DISPATCH_WINDOW_SECONDS under load.
_dispatches = scheduling.Coalesced(
    DISPATCH_TASK, window=lambda: float(settings.OUTBOX_DISPATCH_WINDOW_SECONDS), recovery=SWEEP_RECOVERY
)


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


# --- one transaction's events: written together, dispatched together ------------------------
#
# State lives on the connection object (Django keeps one per thread), so threads never share it.
# Whether an event or a dispatch callback survived a rolled-back savepoint is read from Django's
# own list of on-commit callbacks: a savepoint rollback drops the callbacks registered inside it.


class _Dispatch:
    """The dispatch of one transaction's events: ONE task for all of them, sent after commit."""

    def __init__(self, scope: object) -> None:
        self.pks: list[int] = []
        self.sent = False
        self.scope = scope
        self.__qualname__ = f"{DISPATCH_TASK}(...)"  # Django names a failing callback by it

    def __call__(self) -> None:
        self.sent = True
        pks = list(dict.fromkeys(self.pks))  # in emit order, once each
        if pks:
            _dispatches.send(pks)


class _Kept:
    """A marker registered on commit with a buffered event: gone if its savepoint rolled back."""

    def __call__(self) -> None:
        pass


@dataclass
class _Buffer:
    """Events emitted inside ``batched()``, written when the outermost block ends."""

    depth: int = 0
    events: list[tuple[OutboxEvent, _Kept]] = field(default_factory=list)


def _registered(conn: Any, callback: object) -> bool:
    return any(func is callback for _, func, _ in conn.run_on_commit)


def _scope(conn: Any) -> object | None:
    """What commits the events, for their after-commit dispatch: the outermost atomic block. Under
    a test case's own blocks (which never commit: tests run what is registered on commit inside
    one of their blocks, django_capture_on_commit_callbacks) it is the first block of the code
    under test, identified by its savepoint; None (one dispatch per call) without one."""
    for i, block in enumerate(conn.atomic_blocks):
        if not block._from_testcase:
            return "outermost" if i == 0 else conn.savepoint_ids[i - 1]
    return None


def _schedule_dispatch(pks: list[int]) -> None:
    """Add the events to their transaction's one dispatch task (registering it on the first)."""
    conn = transaction.get_connection()
    batch: _Dispatch | None = getattr(conn, "_erp_outbox_dispatch", None)
    scope = _scope(conn)
    # A new transaction, or the callback was dropped with a rolled-back savepoint, or has run.
    if batch is None or batch.sent or scope is None or batch.scope != scope or not _registered(conn, batch):
        batch = _Dispatch(scope)
        conn._erp_outbox_dispatch = batch
        transaction.on_commit(batch, robust=True)  # after commit, an error is logged, never raised
    batch.pks.extend(pks)


def _buffer() -> _Buffer | None:
    return getattr(transaction.get_connection(), "_erp_outbox_buffer", None)


@contextmanager
def batched() -> Iterator[None]:
    """Write the events emitted inside the block in one go when it ends: one multi-row upsert of
    the aggregates' sequence numbers and one multi-row INSERT, whatever their number.

    Inside the block ``emit`` returns the event unsaved; it gets its ``pk`` and ``sequence`` when
    the outermost ``batched()`` ends (nested blocks join the outer one). Events emitted inside a
    savepoint that rolled back are left out. An exception leaving the block discards its events
    (the transaction they belong to is failing). Use it inside ``transaction.atomic()``, around a
    business operation that emits several events and does not read their ids.
    """
    conn = transaction.get_connection()
    buffer = _buffer()
    if buffer is None:
        buffer = _Buffer()
        conn._erp_outbox_buffer = buffer
    buffer.depth += 1
    try:
        yield
    except BaseException:
        buffer.depth -= 1
        if buffer.depth == 0:
            conn._erp_outbox_buffer = None
        raise
    buffer.depth -= 1
    if buffer.depth == 0:
        conn._erp_outbox_buffer = None
        registered = {id(func) for _, func, _ in conn.run_on_commit}  # once: 5,000 events, not 5,000²
        kept = [event for event, marker in buffer.events if id(marker) in registered]
        _write(kept)


def _write(pending: list[OutboxEvent]) -> None:
    """Number the events per aggregate and INSERT them: one statement on PostgreSQL, two elsewhere."""
    if not pending:
        return
    counts: dict[tuple[str, ...], int] = Counter((e.aggregate_type, e.aggregate_id) for e in pending)
    if connection.vendor == "postgresql":
        _insert_numbered(pending, counts)
    else:
        last = upsert_add_many(
            AggregateSequence._meta.db_table, ("aggregate_type", "aggregate_id"), "last_sequence", counts
        )
        # The aggregate's events take the numbers just handed out, in the order they were emitted.
        nxt = {key: last[key] - count + 1 for key, count in counts.items()}
        for event in pending:
            key = (event.aggregate_type, event.aggregate_id)
            event.sequence = nxt[key]
            nxt[key] += 1
        OutboxEvent.objects.bulk_create(pending)  # sets each pk (RETURNING)
        _schedule_dispatch([e.pk for e in pending])


@functools.cache
def _event_fields() -> tuple[models.Field[Any, Any], ...]:
    """The columns an event is inserted with (all but its id and its sequence), from the model."""
    return tuple(
        f for f in OutboxEvent._meta.concrete_fields if not f.primary_key and f.attname != "sequence"
    )


@functools.cache
def _numbered_insert_sql() -> str:
    """The statement of ``_insert_numbered``. Each column comes as ONE array (``unnest``), not as a
    parameter per event and column: 5,000 events were 80,000 parameters, which the driver spliced
    into the text and PostgreSQL parsed one by one (0.8 s of a bulk count's 4 s); the statement is
    also the same text for any number of events."""
    qn = connection.ops.quote_name
    seq_table, table = qn(AggregateSequence._meta.db_table), qn(OutboxEvent._meta.db_table)
    key_types = [
        AggregateSequence._meta.get_field(n).db_type(connection)  # type: ignore[union-attr]  # columns
        for n in ("aggregate_type", "aggregate_id")
    ]
    fields = _event_fields()
    # %b: each array is sent in binary (it runs on a server-binding cursor, erp.prepared): as text,
    # every quote of every JSON payload would be escaped for the array literal, one by one.
    arrays = ", ".join([f"%b::{f.db_type(connection)}[]" for f in fields] + ["%b::int[]"] * 2)
    columns = ", ".join(qn(f.column) for f in fields)
    return (
        f"WITH seq AS (INSERT INTO {seq_table} (aggregate_type, aggregate_id, last_sequence) "
        f"SELECT k.aggregate_type, k.aggregate_id, k.added "
        f"FROM unnest(%b::{key_types[0]}[], %b::{key_types[1]}[], %b::bigint[]) WITH ORDINALITY "
        f"AS k (aggregate_type, aggregate_id, added, _order) ORDER BY k._order "
        f"ON CONFLICT (aggregate_type, aggregate_id) DO UPDATE "
        f"SET last_sequence = {seq_table}.last_sequence + EXCLUDED.last_sequence "
        f"RETURNING aggregate_type, aggregate_id, last_sequence) "
        f"INSERT INTO {table} ({columns}, sequence) "
        f"SELECT {', '.join('v.' + qn(f.column) for f in fields)}, seq.last_sequence - v._later "
        f"FROM unnest({arrays}) AS v ({columns}, _later, _order) "
        f"JOIN seq ON seq.aggregate_type = v.aggregate_type AND seq.aggregate_id = v.aggregate_id "
        f"ORDER BY v._order RETURNING id, event_id, sequence"
    )


@functools.cache
def _event_binders() -> tuple[Callable[[Any], Any] | None, ...]:
    """How each column of ``_event_fields`` binds a value without its field (``erp.statements``)."""
    return tuple(statements.binder(f, connection) for f in _event_fields())


def _insert_numbered(pending: list[OutboxEvent], counts: dict[tuple[str, ...], int]) -> None:
    """The upsert of the aggregates' sequences and the INSERT of the events as ONE statement (a
    data-modifying CTE): each event's sequence is its aggregate's new last value, less the number of
    its aggregate's events emitted after it. The columns and their types come from the model."""
    fields = _event_fields()
    keys = sorted(counts)  # the sequence rows are locked in one order by every writer
    later = dict(counts)
    columns: list[list[Any]] = [[] for _ in fields]
    laters: list[int] = []
    plan = tuple(zip(columns, fields, _event_binders(), strict=True))
    for event in pending:
        key = (event.aggregate_type, event.aggregate_id)
        later[key] -= 1
        for values, f, bind in plan:
            values.append(statements.prepare(f, bind, getattr(event, f.attname), connection))
        laters.append(later[key])
    params: list[Any] = [
        [key[0] for key in keys],
        [key[1] for key in keys],
        [counts[key] for key in keys],
        *columns,
        laters,
        list(range(len(pending))),
    ]

    def read(rows: list[tuple[Any, ...]]) -> None:
        written = {event_id: (pk, sequence) for pk, event_id, sequence in rows}
        for event in pending:
            event.pk, event.sequence = written[event.event_id]
            event._state.adding, event._state.db = False, connection.alias
        _schedule_dispatch([e.pk for e in pending])

    # The same text every time: PostgreSQL plans it once. Inside erp.pipeline.pipelined(), the
    # events get their keys and their dispatch when the pipeline ends.
    pipeline.send(_numbered_insert_sql(), params, read)


_ENCODER = DjangoJSONEncoder()  # keeps no state between calls: one for every payload


def emit(
    topic: str,
    *,
    aggregate: models.Model | tuple[str, Any],
    payload: dict[str, Any] | None = None,
) -> OutboxEvent:
    """Record an event in the current transaction; dispatch it after commit.

    Refuses to run outside a transaction: an event must commit or roll back
    together with the change it announces. Inside ``batched()`` the event is written when the
    block ends (and is returned without its pk and sequence until then).
    """
    if not connection.in_atomic_block:
        raise OutboxError(f"emit({topic!r}) must run inside transaction.atomic()")
    aggregate_type, aggregate_id = _aggregate_key(aggregate)
    # Round-trip through JSON so subscribers in this process see what others will read.
    clean_payload = json.loads(_ENCODER.encode(payload or {}))
    who = actor.current()  # never queries: the request's user is already loaded
    event = OutboxEvent(
        topic=topic,
        aggregate_type=aggregate_type,
        aggregate_id=aggregate_id,
        payload=clean_payload,
        created_at=clock.now(),
        actor=who.name,
        actor_user_id=who.user_id,
    )
    buffer = _buffer()
    if buffer is not None:
        marker = _Kept()
        transaction.on_commit(marker)
        buffer.events.append((event, marker))
        return event
    event.sequence = _next_sequence(aggregate_type, aggregate_id)
    event.save(force_insert=True)
    _schedule_dispatch([event.pk])
    return event


def _failed(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}"[:2000]


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
            attempts=models.F("attempts") + 1, last_error=_failed(exc)
        )
        return False


def dispatch_events(event_pks: Iterable[int]) -> int:
    """Dispatch a transaction's events, in order, in one transaction; return how many this call did.

    The same guarantees as ``dispatch_event`` for each: the rows are locked in one statement,
    skipping those another dispatcher holds; one already dispatched is left alone; an event whose
    subscriber fails has its subscribers' writes rolled back (a savepoint of its own), its attempt
    and error recorded, and stays pending for the sweep, while the others are marked dispatched.
    """
    pks = sorted(set(event_pks))
    if not pks:
        return 0
    if len(pks) == 1:  # the same, without a savepoint: the only event's failure rolls back its own
        return int(dispatch_event(pks[0]))
    try:
        with transaction.atomic():
            locked = list(
                OutboxEvent.objects.select_for_update(skip_locked=True)
                .filter(pk__in=pks, dispatched_at__isnull=True)
                .order_by("pk")
            )
            done: list[int] = []
            failed: list[tuple[int, str]] = []
            for event in locked:
                subs = subscribers_for(event.topic)
                try:
                    if subs:
                        with transaction.atomic():
                            for sub in subs:
                                sub.handler(event)
                except Exception as exc:
                    logger.exception("Dispatch of outbox event %s failed", event.pk)
                    failed.append((event.pk, _failed(exc)))
                else:
                    done.append(event.pk)
            if done:
                OutboxEvent.objects.filter(pk__in=done).update(
                    dispatched_at=timezone.now(), attempts=models.F("attempts") + 1, last_error=""
                )
            for pk, error in failed:
                OutboxEvent.objects.filter(pk=pk).update(attempts=models.F("attempts") + 1, last_error=error)
            return len(done)
    except Exception:
        # The batch's own transaction failed (not a subscriber): one by one, each recording its error.
        logger.exception("Dispatch of outbox events %s failed as a batch; dispatching one by one", pks)
        return sum(dispatch_event(pk) for pk in pks)


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
        dispatched += dispatch_event(pk)  # one by one: a failing event holds up no other
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
