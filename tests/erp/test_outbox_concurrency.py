"""The outbox under real concurrency (PostgreSQL, threads, separate transactions)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import close_old_connections, connection, transaction

from erp import events
from erp.models import OutboxEvent

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def in_thread(fn):
    def run(*args):
        try:
            return fn(*args)
        finally:
            connection.close()

    return run


def test_concurrent_emits_on_one_aggregate_get_gapless_unique_sequences():
    start = threading.Barrier(10)

    @in_thread
    def emit_one(i: int) -> int:
        start.wait()
        with transaction.atomic():
            return events.emit("test.race", aggregate=("order", 1), payload={"i": i}).sequence

    with ThreadPoolExecutor(max_workers=10) as pool:
        sequences = sorted(pool.map(emit_one, range(10)))

    assert sequences == list(range(1, 11))
    assert OutboxEvent.objects.filter(aggregate_id="1").count() == 10


def test_concurrent_dispatchers_deliver_each_event_once():
    # given: 30 committed events whose after-commit dispatch never ran
    seen: list[int] = []
    lock = threading.Lock()

    def handler(event: OutboxEvent) -> None:
        with lock:
            seen.append(event.pk)

    events.subscribe("test.*", handler, name="test-once")
    try:
        with transaction.atomic():
            for i in range(30):
                events.emit("test.once", aggregate=("thing", i))
        connection.run_on_commit = []  # nothing was dispatched after commit: the "crash"
        OutboxEvent.objects.update(dispatched_at=None, attempts=0)
        seen.clear()
        ids = list(OutboxEvent.objects.values_list("pk", flat=True))

        # when: four dispatchers race over all of them
        start = threading.Barrier(4)

        @in_thread
        def dispatcher(_: int) -> int:
            close_old_connections()
            start.wait()
            return sum(events.dispatch_event(pk) for pk in ids)

        with ThreadPoolExecutor(max_workers=4) as pool:
            total = sum(pool.map(dispatcher, range(4)))

        # then
        assert total == 30
        assert sorted(seen) == sorted(ids)
        assert not OutboxEvent.objects.filter(dispatched_at__isnull=True).exists()
    finally:
        events.unsubscribe("test-once")
