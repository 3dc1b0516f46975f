"""Named rate-limit buckets: each request counts against its own bucket (rate and burst, a
concurrency cap with a lease, a daily quota), a 429 holds that bucket for the longer of Retry-After
and the tool's headers; kept in the database, or in Redis (run against 127.0.0.1:6379 when it is up).
"""

from __future__ import annotations

import datetime
import os
import uuid
from collections.abc import Iterator

import httpx
import pytest

from integrations import ratelimits
from integrations.contract import Bucket
from integrations.errors import Throttled, TransientError
from integrations.models import Connection, RateBucket
from tests.integrations.ratelimit_support import (  # noqa: F401  (fixtures)
    Clock,
    OpsConnector,
    clock_fixture,
    ops_client,
    ops_connection,
    ops_fixture,
)

pytestmark = pytest.mark.django_db

REDIS_URL = os.environ.get("ERP_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def redis_or_skip() -> None:
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.RedisError as exc:
        pytest.skip(f"Redis is not reachable at {REDIS_URL}: {exc}")


@pytest.fixture(params=["database", pytest.param("redis", marks=pytest.mark.real_server)])
def backend(request: pytest.FixtureRequest, settings) -> Iterator[str]:
    """Every test taking this fixture runs on both backends."""
    if request.param == "database":
        settings.INTEGRATIONS_RATE_LIMIT_BACKEND = "database"
        yield "database"
        return
    redis_or_skip()
    import redis

    prefix = f"test-ratelimit:{uuid.uuid4().hex}"
    settings.CELERY_BROKER_URL = REDIS_URL
    settings.INTEGRATIONS_RATE_LIMIT_BACKEND = "redis"
    settings.INTEGRATIONS_RATE_LIMIT_REDIS_PREFIX = prefix
    yield "redis"
    client = redis.Redis.from_url(REDIS_URL)
    for key in client.scan_iter(f"{prefix}:*"):
        client.delete(key)


def limiter(connection: Connection) -> ratelimits.Limiter:
    return ratelimits.Limiter(connection, OpsConnector)


# --- choosing the bucket ---------------------------------------------------------------------------


def test_each_request_counts_against_its_own_bucket(ops, clock, backend):
    connection = ops_connection()
    api = ops_client(connection)

    # the orders bucket's burst (2) and the items bucket's (3), spent side by side
    api.request("GET", "/orders")
    api.request("GET", "/orders")
    for _ in range(3):
        api.request("GET", "/orders/1/items")
    assert clock.slept == []

    # the third order request waits for the orders bucket only (1 a second)
    api.request("GET", "/orders")
    assert clock.slept == [pytest.approx(1.0)]
    # the items bucket is empty too, and refills at 0.5 a second: 1 s already passed, 1 s to go
    api.request("GET", "/orders/2/items")
    assert clock.slept == [pytest.approx(1.0), pytest.approx(1.0)]

    state = limiter(connection).state
    assert state("orders").used_today == 3
    assert state("items").used_today == 4
    assert state("default").used_today == 0  # nothing else was sent
    if backend == "database":
        assert set(RateBucket.objects.filter(connection=connection).values_list("name", flat=True)) == {
            "orders",
            "items",
        }


def test_the_bucket_a_request_names_wins_and_the_rest_go_to_default(ops, clock, backend):
    connection = ops_connection()
    api = ops_client(connection)

    api.request("GET", "/orders", bucket="items")  # named: wins over bucket_for
    api.request("GET", "/ping")  # bucket_for says nothing: "default", from rate_limit_per_second

    state = limiter(connection).state
    assert state("items").used_today == 1
    assert state("orders").used_today == 0
    assert state("default").used_today == 1
    assert state("default").tokens == pytest.approx(OpsConnector.rate_limit_burst - 1)


def test_a_bucket_nobody_declared_is_refused_before_anything_is_sent(ops):
    with pytest.raises(ValueError, match="declares no rate-limit bucket 'nope'"):
        ops_client(ops_connection()).request("GET", "/orders", bucket="nope")
    assert ops.seen == []


def test_default_may_be_declared_with_limits_of_its_own(ops, clock, monkeypatch):
    monkeypatch.setattr(OpsConnector, "rate_buckets", {"default": Bucket(rate=5, burst=1, daily=1)})
    api = ops_client(ops_connection())
    api.request("GET", "/ping")
    with pytest.raises(Throttled, match="1 requests of the day"):
        api.request("GET", "/ping")
    assert len(ops.seen) == 1


def test_a_day_run_faster_than_the_wall_clock_scales_every_rate(ops, settings):
    """INTEGRATIONS_RATE_SCALE (the simulated day with real workers: 60) multiplies the declared
    rates; bursts, caps and quotas stay."""
    declared = limiter(ops_connection()).spec("default")
    settings.INTEGRATIONS_RATE_SCALE = 60

    scaled = limiter(ops_connection(name="ops 2")).spec("default")

    assert scaled.rate == declared.rate * 60
    assert (scaled.burst, scaled.concurrency, scaled.daily) == (
        declared.burst,
        declared.concurrency,
        declared.daily,
    )


# --- rate and burst ---------------------------------------------------------------------------------


def test_a_burst_then_a_wait_then_throttled(ops, clock, backend, monkeypatch):
    connection = ops_connection()
    api = ops_client(connection)
    api.request("GET", "/orders")
    api.request("GET", "/orders")
    assert clock.slept == []  # the burst
    api.request("GET", "/orders")
    assert clock.slept == [pytest.approx(1.0)]  # a token refills in a second: waited in-process

    # a token every 10 s: too long to wait in-process (INTEGRATIONS_MAX_INLINE_WAIT_SECONDS = 2)
    monkeypatch.setattr(OpsConnector, "rate_buckets", {**OpsConnector.rate_buckets, "orders": Bucket(0.1, 2)})
    with pytest.raises(Throttled) as caught:
        api.request("GET", "/orders")
    assert caught.value.retry_after == pytest.approx(10.0)
    assert len(ops.seen) == 3  # the throttled one was never sent
    assert limiter(connection).state("orders").tokens == pytest.approx(0.0)

    clock.advance(10)
    api.request("GET", "/orders")
    assert len(ops.seen) == 4


# --- concurrency ------------------------------------------------------------------------------------


def test_a_concurrency_cap_holds_a_slot_for_the_exchange_only(ops, clock, backend):
    connection = ops_connection()
    api = ops_client(connection)
    limits = limiter(connection)
    inside: list[float] = []

    def nested(depth: int):
        def answer(request: httpx.Request) -> httpx.Response:
            inside.append(limits.state("uploads").in_flight)
            if depth < 3:
                ops.then(nested(depth + 1))
                try:
                    api.request("POST", f"/uploads/{depth + 1}")
                except Throttled as exc:
                    inside.append(-exc.retry_after)
            return httpx.Response(200, json={"ok": True})

        return answer

    # when: an upload whose answer starts a second, whose answer starts a third (cap: 2)
    ops.then(nested(1))
    api.request("POST", "/uploads/1")

    # then: one slot, then two; the third waited for a slot (in-process, 2 s) and was throttled
    assert inside == [1, 2, -ratelimits.SLOT_RETRY_SECONDS]
    assert ops.paths() == ["/uploads/1", "/uploads/2"]
    assert sum(clock.slept) == pytest.approx(2.0)
    assert limits.state("uploads").in_flight == 0  # every slot given back


def test_a_slot_is_given_back_when_the_exchange_fails(ops, clock, backend):
    connection = ops_connection()

    def refused(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    ops.then(refused)
    with pytest.raises(TransientError):
        ops_client(connection).request("POST", "/uploads/1")
    assert limiter(connection).state("uploads").in_flight == 0


def test_a_slot_a_crashed_worker_held_is_freed_by_its_lease(ops, clock, backend, settings):
    settings.INTEGRATIONS_RATE_LIMIT_LEASE_SECONDS = 60
    connection = ops_connection()
    limits = limiter(connection)
    # given: two workers took the two slots and died holding them (their turns never ended)
    key, spec = limits.key("uploads"), limits.spec("uploads")
    for worker in ("dead-1", "dead-2"):
        assert limits.backend.take(key, spec, worker).granted
    with pytest.raises(Throttled, match="2 requests in flight"):
        ops_client(connection).request("POST", "/uploads/1")

    # when: a lease has passed
    clock.advance(61)

    # then: the slots are free again
    ops_client(connection).request("POST", "/uploads/1")
    assert ops.paths() == ["/uploads/1"]
    assert limits.state("uploads").in_flight == 0


# --- the daily quota ------------------------------------------------------------------------------


def test_a_spent_daily_quota_throttles_until_midnight_utc(ops, clock, backend):
    clock.moment = datetime.datetime(2026, 3, 14, 22, 0, tzinfo=datetime.UTC)
    connection = ops_connection()
    api = ops_client(connection)
    for _ in range(3):
        api.request("GET", "/reports")

    with pytest.raises(Throttled, match="3 requests of the day") as caught:
        api.request("GET", "/reports")
    assert caught.value.retry_after == pytest.approx(2 * 3600)  # midnight UTC
    assert len(ops.seen) == 3
    api.request("GET", "/orders")  # another bucket is not held by it

    clock.moment = datetime.datetime(2026, 3, 15, 0, 0, 1, tzinfo=datetime.UTC)
    api.request("GET", "/reports")
    state = limiter(connection).state("reports")
    assert (state.day, state.used_today) == (datetime.date(2026, 3, 15), 1)


# --- what the tool says: 429 and its headers ------------------------------------------------------


def test_a_429_holds_the_requests_bucket_only(ops, clock, backend):
    connection = ops_connection()
    api = ops_client(connection)
    ops.then(httpx.Response(429, headers={"Retry-After": "30"}))

    with pytest.raises(Throttled) as caught:
        api.request("GET", "/orders")

    assert caught.value.retry_after == pytest.approx(30)
    # the other operations go on
    api.request("GET", "/orders/1/items")
    # the throttled one waits, without sending
    with pytest.raises(Throttled) as again:
        api.request("GET", "/orders")
    assert again.value.retry_after == pytest.approx(30)
    assert ops.paths() == ["/orders", "/orders/1/items"]
    # the connection's summary, for the health pages
    connection.refresh_from_db()
    assert connection.throttled_until == clock.moment + datetime.timedelta(seconds=30)
    assert connection.last_failure_at is None

    clock.advance(31)
    api.request("GET", "/orders")
    assert ops.paths()[-1] == "/orders"


@pytest.mark.parametrize(
    ("retry_after", "reset", "expected"),
    [
        ("5", "40", 40.0),  # the tool's headers say longer
        ("60", "10", 60.0),  # Retry-After says longer
        (None, "40", 40.0),  # no Retry-After (QuickBooks): the headers alone
        ("7", None, 7.0),  # no headers: Retry-After alone
    ],
)
def test_a_429_waits_the_longer_of_retry_after_and_the_tools_headers(
    ops, clock, backend, retry_after, reset, expected
):
    connection = ops_connection()
    headers = {"x-ops-limit": "40/40"}
    if retry_after is not None:
        headers["Retry-After"] = retry_after
    if reset is not None:
        headers["x-ops-reset"] = reset
    ops.then(httpx.Response(429, headers=headers))

    with pytest.raises(Throttled) as caught:
        ops_client(connection).request("GET", "/orders")

    assert caught.value.retry_after == pytest.approx(expected)
    until = limiter(connection).state("orders").throttled_until
    assert until is not None
    assert (until - clock.moment).total_seconds() == pytest.approx(expected, abs=1e-3)


def test_a_spent_window_in_the_headers_waits_for_its_reset(ops, clock, backend):
    connection = ops_connection()
    api = ops_client(connection)
    ops.then(
        httpx.Response(200, headers={"x-ops-limit": "39/40", "x-ops-reset": "30"}),  # one left: go on
        httpx.Response(200, headers={"x-ops-limit": "40/40", "x-ops-reset": "1.5"}),  # spent
    )
    api.request("GET", "/orders/1/items")
    api.request("GET", "/orders/1/items")
    api.request("GET", "/orders/1/items")  # waits out the reset in-process
    assert clock.slept == [pytest.approx(1.5)]


def test_a_hint_may_name_another_bucket(ops, clock, backend):
    connection = ops_connection()
    api = ops_client(connection)
    ops.then(
        httpx.Response(200, headers={"x-ops-limit": "3/3", "x-ops-reset": "600", "x-ops-bucket": "reports"})
    )
    api.request("GET", "/orders")
    api.request("GET", "/orders")  # its own bucket is free
    with pytest.raises(Throttled):
        api.request("GET", "/reports")


def test_clearing_the_connections_wait_lifts_its_buckets(ops, clock, backend):
    connection = ops_connection()
    api = ops_client(connection)
    ops.then(httpx.Response(429, headers={"Retry-After": "30"}))
    with pytest.raises(Throttled):
        api.request("GET", "/orders")

    # a person clears the wait on the connection (the admin)
    Connection.objects.filter(pk=connection.pk).update(throttled_until=None)

    api.request("GET", "/orders")
    assert ops.paths() == ["/orders", "/orders"]
    assert limiter(connection).state("orders").throttled_until is None


# --- the backend ----------------------------------------------------------------------------------


def test_redis_is_used_only_when_the_broker_is_a_redis(settings):
    settings.INTEGRATIONS_RATE_LIMIT_BACKEND = "redis"
    settings.CELERY_BROKER_URL = ""
    assert ratelimits.backend() is ratelimits.DATABASE
    settings.INTEGRATIONS_RATE_LIMIT_BACKEND = "database"
    settings.CELERY_BROKER_URL = REDIS_URL
    assert ratelimits.backend() is ratelimits.DATABASE


@pytest.mark.real_server
def test_a_redis_that_is_down_is_a_transient_error(ops, settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"  # nothing listens there
    settings.INTEGRATIONS_RATE_LIMIT_BACKEND = "redis"
    with pytest.raises(TransientError, match="Redis is unavailable"):
        ops_client(ops_connection()).request("GET", "/orders")
    assert ops.seen == []
