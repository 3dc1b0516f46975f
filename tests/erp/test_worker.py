"""An event dispatched by a real Celery worker process, through a real Redis broker."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator

import pytest
from django.db import transaction

from erp import events
from erp.celery import app
from erp.models import OutboxEvent
from tests.erp.services import broker_for_this_process, celery_worker

BROKER_URL = os.environ.get("CELERY_TEST_BROKER_URL", "redis://127.0.0.1:6379/15")

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


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
    with broker_for_this_process(BROKER_URL):
        yield BROKER_URL
    client.flushdb()


@pytest.fixture
def worker(broker: str) -> Iterator[subprocess.Popen[str]]:
    with celery_worker(broker) as process:
        yield process


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
