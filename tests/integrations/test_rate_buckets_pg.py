"""Per-operation buckets on PostgreSQL with two workers never exceed the declared rate: real
threads, each with its own database connection, hammering the buckets of one connection against a
fake that timestamps every request; and a concurrency cap that holds across workers."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from django.db import connection as db

from integrations import http
from integrations.contract import Bucket
from integrations.errors import Throttled
from integrations.models import Connection, RateBucket
from tests.integrations.ratelimit_support import (  # noqa: F401  (fixture)
    FakeOps,
    OpsConnector,
    max_in_window,
    ops_client,
    ops_connection,
    ops_fixture,
)

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
logger = logging.getLogger(__name__)  # the figures: run with --log-cli-level=INFO

# Rates low enough that a thread stalled between its turn and the fake's timestamp (a GC pause, a
# busy machine) would have to stall for 1/rate (125 ms, 250 ms) to push one more into a window.
ORDERS = Bucket(rate=8.0, burst=5)
ITEMS = Bucket(rate=4.0, burst=3)
UPLOADS = Bucket(rate=0, burst=1, concurrency=2)


def workers(n: int, fn: Callable[[int], int]) -> list[int]:
    """Run fn(i) in n threads released at once, each closing its own database connection."""
    start = threading.Barrier(n)

    def worker(i: int) -> int:
        try:
            start.wait()
            return fn(i)
        finally:
            db.close()

    with ThreadPoolExecutor(max_workers=n) as pool:
        return list(pool.map(worker, range(n)))


def hammer(connection_id: int, paths: list[str], seconds: float) -> Callable[[int], int]:
    """Worker i sends to paths[i % len(paths)] as fast as it is let, for ``seconds``."""

    def run(i: int) -> int:
        api = ops_client(Connection.objects.get(pk=connection_id))
        sent = 0
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                api.request("GET", paths[i % len(paths)])
                sent += 1
            except Throttled:
                continue  # waited longer than the inline wait: ask again
        return sent

    return run


def test_per_operation_buckets_with_two_workers_never_exceed_the_declared_rate(ops: FakeOps, monkeypatch):
    monkeypatch.setattr(OpsConnector, "rate_buckets", {"orders": ORDERS, "items": ITEMS})
    connection = ops_connection()
    seconds = 2.5

    # when: two workers on getOrders and two on getOrderItems, as fast as they are let
    sent = workers(4, hammer(connection.pk, ["/orders", "/orders/1/items"], seconds))

    # then: every sliding window of each bucket holds at most rate * window + burst requests
    report = []
    for path, bucket in (("/orders", ORDERS), ("/orders/1/items", ITEMS)):
        times = sorted(t for t, sent_to in ops.seen if sent_to == path)
        for window in (0.25, 0.5, 1.0, 2.0):
            most = max_in_window(times, window)
            allowed = bucket.rate * window + bucket.burst
            report.append(f"{path} {window} s: {most} (allowed {allowed:g})")
            assert most <= allowed, report
        # and not starved: each bucket's own rate went out, whatever the other's
        assert len(times) >= bucket.burst + bucket.rate * seconds * 0.6, (len(times), report)
        span = times[-1] - times[0]
        rate = (len(times) - bucket.burst) / span
        report.append(f"{path}: {len(times)} requests in {span:.2f} s, {rate:.2f}/s after the burst")
    logger.info("Observed per bucket:\n%s", "\n".join(report))
    assert sum(sent) == len(ops.seen)
    # one row per bucket, created once though both workers asked for it at the same moment
    names = sorted(RateBucket.objects.filter(connection=connection).values_list("name", flat=True))
    assert names == ["items", "orders"]


def test_a_concurrency_cap_holds_across_workers(monkeypatch):
    monkeypatch.setattr(OpsConnector, "rate_buckets", {"uploads": UPLOADS})
    tool = FakeOps(delay=0.05)
    connection = ops_connection()

    def upload(i: int) -> int:
        api = ops_client(Connection.objects.get(pk=connection.pk))
        done = 0
        while done < 5:
            try:
                api.request("POST", f"/uploads/{i}")
                done += 1
            except Throttled:
                continue
        return done

    with http.mounted("https://ops.test", httpx.MockTransport(tool.handle)):
        assert workers(4, upload) == [5, 5, 5, 5]

    logger.info("uploads: at most %s in flight at once (cap 2)", tool.max_in_flight)
    assert tool.max_in_flight == 2
    assert RateBucket.objects.get(connection=connection, name="uploads").in_flight == 0
