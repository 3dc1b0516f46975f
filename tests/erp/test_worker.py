"""An event dispatched by a real Celery worker process, through a real Redis broker."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import connection, transaction

from erp import events
from erp.celery import app
from erp.models import OutboxEvent

ROOT = Path(__file__).resolve().parents[2]
BROKER_URL = os.environ.get("CELERY_TEST_BROKER_URL", "redis://127.0.0.1:6379/15")

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def worker_database_url() -> str:
    s = connection.settings_dict
    user = s["USER"] or "postgres"
    return f"postgres://{user}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


@pytest.fixture
def broker() -> Iterator[str]:
    """Point this process's Celery app at Redis (no eager mode) for the test."""
    import redis

    client = redis.Redis.from_url(BROKER_URL, socket_connect_timeout=3)
    try:
        client.ping()
    except redis.ConnectionError as exc:
        if os.environ.get("ERP_REQUIRE_SERVICES") == "1":
            pytest.fail(f"Redis is required at {BROKER_URL}: {exc}")
        pytest.skip(f"no Redis at {BROKER_URL}")
    client.flushdb()
    saved = {"broker_url": app.conf.broker_url, "task_always_eager": app.conf.task_always_eager}
    app.conf.update(broker_url=BROKER_URL, task_always_eager=False)
    reset_connection_pools()
    yield BROKER_URL
    app.conf.update(**saved)
    reset_connection_pools()
    client.flushdb()


def reset_connection_pools() -> None:
    """Make the app connect anew with its current broker_url.

    kombu keeps connection and producer pools in global registries that the app's
    pools come from (even eager tasks acquire a producer in Celery 5.7): reset those,
    not just the app's handles, or later tests acquire from a closed pool.
    """
    from kombu import pools

    pools.reset()
    app._pool = None
    app.amqp._producer_pool = None


@pytest.fixture
def worker(broker: str) -> Iterator[subprocess.Popen[str]]:
    env = {
        **os.environ,
        "DATABASE_URL": worker_database_url(),
        "CELERY_BROKER_URL": broker,
        "DJANGO_SETTINGS_MODULE": "erp.settings",
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "erp",
            "worker",
            "--pool=solo",
            "--queues=default,integrations",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "--loglevel=INFO",
            f"--hostname=test-worker-{os.getpid()}@%h",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        assert process.stdout is not None
        for line in process.stdout:
            if "ready." in line:
                break
            if time.monotonic() > deadline or process.poll() is not None:
                pytest.fail(f"the worker did not start: {line}")
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


def test_event_is_dispatched_by_a_worker_through_redis(worker: subprocess.Popen[str]):
    # given: this process does not run tasks itself
    assert app.conf.task_always_eager is False

    # when: a business transaction commits an event
    with transaction.atomic():
        event = events.emit("test.worker", aggregate=("thing", 1), payload={"via": "redis"})

    # then: the worker, another process reading the same database, dispatches it
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        event.refresh_from_db()
        if event.dispatched_at is not None:
            break
        time.sleep(0.2)
    assert event.dispatched_at is not None, "the worker never dispatched the event"
    assert OutboxEvent.objects.get(pk=event.pk).attempts == 1
