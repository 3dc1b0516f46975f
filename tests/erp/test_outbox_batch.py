"""The outbox at a constant cost per transaction: events written together (``batched``), one
dispatch task per transaction (``dispatch_events``), with each event's guarantees kept."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from celery import Task, current_app
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from erp import events
from erp.models import AggregateSequence, OutboxEvent


@pytest.fixture
def recorder():
    seen: list[tuple[str, int]] = []

    def handler(event: OutboxEvent) -> None:
        seen.append((event.topic, event.sequence))

    events.subscribe("batch.*", handler, name="test-batch-recorder")
    yield seen
    events.unsubscribe("test-batch-recorder")


@pytest.fixture
def broker(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, tuple[Any, ...]]]:
    """A broker is configured: tasks are published (recorded here), not run."""
    published: list[tuple[str, tuple[Any, ...]]] = []
    monkeypatch.setitem(current_app.conf, "task_always_eager", False)
    monkeypatch.setattr(Task, "delay", lambda task, *args, **kw: published.append((task.name, args)))
    return published


def _emit_then_fail(topic: str) -> None:
    """A step in a savepoint of its own that emits, then fails."""
    with transaction.atomic():
        events.emit(topic, aggregate=("thing", 1))
        raise RuntimeError


@pytest.mark.django_db
def test_batched_events_are_numbered_and_written_in_a_constant_number_of_statements(
    django_capture_on_commit_callbacks,
):
    # given: an aggregate that has had an event already
    with django_capture_on_commit_callbacks(execute=False), transaction.atomic():
        events.emit("batch.first", aggregate=("order", 1))

    # when: ten events of three aggregates, batched
    with (
        django_capture_on_commit_callbacks(execute=False),
        transaction.atomic(),
        CaptureQueriesContext(connection) as ctx,
        events.batched(),
    ):
        emitted = [events.emit("batch.many", aggregate=("order", i % 3), payload={"i": i}) for i in range(10)]
        assert all(e.pk is None for e in emitted)  # not written yet

    # then: written at the end of the block, in one statement (PostgreSQL) or two (SQLite)
    assert len(ctx.captured_queries) == (1 if connection.vendor == "postgresql" else 2)
    assert all(e.pk is not None for e in emitted)
    stored = {e.pk: e.sequence for e in OutboxEvent.objects.filter(topic="batch.many")}
    assert stored == {e.pk: e.sequence for e in emitted}
    assert [e.sequence for e in emitted if e.aggregate_id == "1"] == [2, 3, 4]  # after the first
    assert [e.sequence for e in emitted if e.aggregate_id == "0"] == [1, 2, 3, 4]
    assert [e.sequence for e in emitted if e.aggregate_id == "2"] == [1, 2, 3]
    assert [e.pk for e in emitted] == sorted(e.pk for e in emitted)  # in the order emitted
    assert AggregateSequence.objects.get(aggregate_type="order", aggregate_id="0").last_sequence == 4


@pytest.mark.django_db
def test_a_batched_event_of_a_rolled_back_savepoint_is_not_written(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False), transaction.atomic(), events.batched():
        kept = events.emit("batch.kept", aggregate=("thing", 1))
        with pytest.raises(RuntimeError):
            _emit_then_fail("batch.dropped")
        after = events.emit("batch.after", aggregate=("thing", 1))

    assert list(OutboxEvent.objects.values_list("topic", "sequence")) == [
        ("batch.kept", 1),
        ("batch.after", 2),
    ]
    assert (kept.sequence, after.sequence) == (1, 2)


@pytest.mark.django_db
def test_an_exception_leaving_the_batch_writes_nothing(django_capture_on_commit_callbacks):
    def business_operation() -> None:
        with transaction.atomic(), events.batched():
            events.emit("batch.lost", aggregate=("thing", 1))
            raise RuntimeError

    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(RuntimeError):
        business_operation()

    assert not OutboxEvent.objects.exists()
    assert not [c for c in callbacks if "dispatch" in getattr(c, "__qualname__", "")]
    # and the connection is left without a batch: the next event is written at once
    with django_capture_on_commit_callbacks(execute=False), transaction.atomic():
        assert events.emit("batch.next", aggregate=("thing", 1)).pk is not None


@pytest.mark.django_db
def test_nested_batches_are_written_once_by_the_outer_one(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False), transaction.atomic(), events.batched():
        with events.batched():
            inner = events.emit("batch.inner", aggregate=("thing", 1))
        assert inner.pk is None  # the inner block ended: still waiting for the outer one
        outer = events.emit("batch.outer", aggregate=("thing", 1))

    assert (inner.sequence, outer.sequence) == (1, 2)
    assert inner.pk is not None


@pytest.mark.django_db
def test_a_transactions_events_leave_in_one_task_after_commit(
    broker: list[tuple[str, tuple[Any, ...]]], django_capture_on_commit_callbacks
):
    # when: a transaction emits events one by one, in nested services, and some batched
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        a = events.emit("batch.a", aggregate=("thing", 1))
        with transaction.atomic():
            b = events.emit("batch.b", aggregate=("thing", 2))
        with events.batched():
            c = events.emit("batch.c", aggregate=("thing", 1))
        assert broker == []  # nothing before commit

    # then: one task with all of them, in order
    assert broker == [("erp.tasks.dispatch_events_task", ([a.pk, b.pk, c.pk],))]


@pytest.mark.django_db
def test_events_of_a_rolled_back_savepoint_are_not_dispatched(
    recorder: list[tuple[str, int]], django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        with pytest.raises(RuntimeError):
            _emit_then_fail("batch.gone")
        events.emit("batch.stays", aggregate=("thing", 2))

    assert recorder == [("batch.stays", 1)]


@pytest.mark.django_db
def test_dispatching_a_batch_keeps_each_events_guarantees(django_capture_on_commit_callbacks):
    # given: three committed events, whose dispatch has not run; the second one's subscriber fails
    # after writing
    written: list[int] = []

    def handler(event: OutboxEvent) -> None:
        AggregateSequence.objects.create(aggregate_type="side-effect", aggregate_id=str(event.pk))
        written.append(event.pk)
        if event.topic == "batch.fails":
            raise ConnectionError("downstream is down")

    events.subscribe("batch.*", handler, name="test-batch-flaky")
    try:
        with django_capture_on_commit_callbacks(execute=False), transaction.atomic():
            first = events.emit("batch.ok", aggregate=("thing", 1))
            failing = events.emit("batch.fails", aggregate=("thing", 1))
            last = events.emit("batch.ok", aggregate=("thing", 2))
        events.dispatch_event(first.pk)  # one was dispatched already (a racing dispatcher)

        # when
        done = events.dispatch_events([last.pk, failing.pk, first.pk])
    finally:
        events.unsubscribe("test-batch-flaky")

    # then: the others dispatched once, in order; the failing one pending with its error, and what
    # its subscriber wrote rolled back
    assert done == 1
    assert written == [first.pk, failing.pk, last.pk]
    rows = {e.pk: e for e in OutboxEvent.objects.all()}
    assert rows[last.pk].dispatched_at is not None
    assert rows[last.pk].attempts == 1
    assert rows[failing.pk].dispatched_at is None
    assert rows[failing.pk].attempts == 1
    assert "downstream is down" in rows[failing.pk].last_error
    side_effects = set(
        AggregateSequence.objects.filter(aggregate_type="side-effect").values_list("aggregate_id", flat=True)
    )
    assert side_effects == {str(first.pk), str(last.pk)}
    assert events.dispatch_events([first.pk, last.pk]) == 0  # already dispatched: left alone


@pytest.mark.django_db
def test_a_lone_event_is_dispatched_with_its_guarantees_and_no_savepoint(django_capture_on_commit_callbacks):
    # given: a transaction's only event, whose subscriber writes, then fails once
    calls: list[int] = []

    def handler(event: OutboxEvent) -> None:
        AggregateSequence.objects.create(aggregate_type="side-effect", aggregate_id=str(len(calls)))
        calls.append(event.pk)
        if len(calls) == 1:
            raise ConnectionError("downstream is down")

    events.subscribe("batch.*", handler, name="test-batch-lone")
    try:
        with django_capture_on_commit_callbacks(execute=False), transaction.atomic():
            lone = events.emit("batch.alone", aggregate=("thing", 1))

        # when: dispatched twice, the first time failing
        assert events.dispatch_events([lone.pk]) == 0
        after_failure = OutboxEvent.objects.get(pk=lone.pk)
        with CaptureQueriesContext(connection) as ctx:
            assert events.dispatch_events([lone.pk]) == 1
    finally:
        events.unsubscribe("test-batch-lone")

    # then: the failure was recorded and rolled back what its subscriber wrote; the second run
    # dispatched it with one savepoint (the test's transaction makes its atomic block one), where a
    # batch takes one more per event
    assert after_failure.dispatched_at is None
    assert after_failure.attempts == 1
    assert "downstream is down" in after_failure.last_error
    row = OutboxEvent.objects.get(pk=lone.pk)
    assert row.dispatched_at is not None
    assert row.attempts == 2
    assert list(
        AggregateSequence.objects.filter(aggregate_type="side-effect").values_list("aggregate_id", flat=True)
    ) == ["1"]
    savepoints = [q["sql"] for q in ctx.captured_queries if q["sql"].startswith("SAVEPOINT")]
    assert len(savepoints) == 1


def in_thread(fn):
    def run(*args):
        try:
            return fn(*args)
        finally:
            connection.close()

    return run


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_batches_on_one_aggregate_get_gapless_unique_sequences():
    start = threading.Barrier(8)

    @in_thread
    def emit_three(i: int) -> list[int]:
        start.wait()
        with transaction.atomic(), events.batched():
            emitted = [events.emit("batch.race", aggregate=("order", 1), payload={"i": i}) for _ in range(3)]
            other = events.emit("batch.race", aggregate=("order", 100 + i))
        assert other.sequence == 1
        return [e.sequence for e in emitted]

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(emit_three, range(8)))

    assert sorted(s for r in results for s in r) == list(range(1, 25))
    assert all(r == list(range(r[0], r[0] + 3)) for r in results)  # each batch's are consecutive
    assert OutboxEvent.objects.filter(aggregate_id="1").count() == 24


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_batch_dispatchers_deliver_each_event_once():
    seen: list[int] = []
    lock = threading.Lock()

    def handler(event: OutboxEvent) -> None:
        with lock:
            seen.append(event.pk)

    events.subscribe("batch.*", handler, name="test-batch-once")
    try:
        with transaction.atomic():
            for i in range(30):
                events.emit("batch.once", aggregate=("thing", i))
        connection.run_on_commit = []
        OutboxEvent.objects.update(dispatched_at=None, attempts=0)
        seen.clear()
        ids = list(OutboxEvent.objects.values_list("pk", flat=True))
        start = threading.Barrier(4)

        @in_thread
        def dispatcher(n: int) -> int:
            start.wait()
            return events.dispatch_events(ids[n:] + ids[:n])  # each in its own order of ids

        with ThreadPoolExecutor(max_workers=4) as pool:
            total = sum(pool.map(dispatcher, range(4)))

        assert total == 30
        assert sorted(seen) == sorted(ids)
        assert not OutboxEvent.objects.filter(dispatched_at__isnull=True).exists()
    finally:
        events.unsubscribe("test-batch-once")
