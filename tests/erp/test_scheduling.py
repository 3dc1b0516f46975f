"""erp.scheduling: handing work to Celery never fails the request that committed.

The broker is "down" by pointing this process's Celery app at a loopback port nothing
listens on: every publish is refused, as in production when Redis is gone.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from celery import Celery
from django.db import transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from kombu.exceptions import OperationalError

from erp import events, scheduling
from erp.models import OutboxEvent
from erp.tasks import dispatch_event_task
from integrations.models import Connection, SyncRun
from tests.erp.services import broker_for_this_process, free_port
from tests.integrations.ui_support import (
    admin_fixture,  # noqa: F401  (a fixture)
    connection_fixture,  # noqa: F401  (a fixture)
)

pytestmark = pytest.mark.real_server  # publishes go to a closed port on 127.0.0.1


@pytest.fixture(autouse=True)
def closed_breaker() -> Iterator[None]:
    scheduling.reset()
    yield
    scheduling.reset()


@pytest.fixture
def broker_down() -> Iterator[str]:
    """This process sends tasks to a broker that is not there (no eager mode)."""
    with broker_for_this_process(f"redis://127.0.0.1:{free_port()}/0") as url:
        yield url


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """The breaker's time, moved by the test (no sleeping)."""
    fake = Clock()
    monkeypatch.setattr(scheduling, "_now", lambda: fake.now)
    return fake


@pytest.fixture
def publishes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The name of every task this process tries to publish (the attempts still happen)."""
    seen: list[str] = []
    original = Celery.send_task

    def spy(self: Celery, name: str, *args: Any, **kwargs: Any) -> Any:
        seen.append(name)
        return original(self, name, *args, **kwargs)

    monkeypatch.setattr(Celery, "send_task", spy)
    return seen


def warnings_of(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage() for r in caplog.records if r.name == "erp.scheduling" and r.levelno >= logging.WARNING
    ]


# --- the seam ---------------------------------------------------------------------------------------


def test_enqueue_answers_false_and_says_what_will_recover_the_work(
    broker_down: str, caplog: pytest.LogCaptureFixture
):
    # when
    with caplog.at_level(logging.INFO, logger="erp.scheduling"):
        sent = scheduling.enqueue(dispatch_event_task, 42, recovery="the test sweep sends it later")

    # then: nothing raised; one warning naming the task, its arguments and the recovery
    assert sent is False
    (warning,) = warnings_of(caplog)
    assert "The task queue cannot be reached" in warning
    assert "erp.tasks.dispatch_event_task(42)" in warning
    assert "the test sweep sends it later" in warning
    assert scheduling.breaker_open()


@pytest.mark.django_db
def test_an_enqueue_after_commit_never_fails_the_transaction_that_committed(
    broker_down: str, django_capture_on_commit_callbacks, caplog: pytest.LogCaptureFixture
):
    # when: a transaction that emits an event commits while the broker is down
    with (
        caplog.at_level(logging.INFO, logger="erp.scheduling"),
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        transaction.atomic(),
    ):
        event = events.emit("test.scheduling", aggregate=("thing", 1), payload={"n": 1})
        scheduling.enqueue_on_commit(dispatch_event_task, event.pk, recovery="the outbox sweep")

    # then: no exception; the event is committed and waits for the sweep, which the log names
    assert len(callbacks) == 2
    event.refresh_from_db()
    assert event.dispatched_at is None
    assert any("erp.events.sweep" in w for w in warnings_of(caplog))


@pytest.mark.django_db
def test_an_unexpected_error_after_commit_is_logged_not_raised(
    django_capture_on_commit_callbacks, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
):
    # given: a send that fails in a way nobody planned for
    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("not a broker failure")

    monkeypatch.setattr(dispatch_event_task, "delay", broken)

    # when
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        scheduling.enqueue_on_commit(dispatch_event_task, 7)

    # then: Django logs it (the callback is robust), naming the task
    (record,) = [r for r in caplog.records if "Error calling" in r.getMessage()]
    assert "erp.tasks.dispatch_event_task(7)" in record.getMessage()
    # ... while a direct enqueue lets such a bug through
    with pytest.raises(RuntimeError):
        scheduling.enqueue(dispatch_event_task, 7)


def test_the_breaker_skips_sends_while_open_and_tries_again_once_it_closes(
    broker_down: str, clock: Clock, publishes: list[str], settings, caplog: pytest.LogCaptureFixture
):
    settings.CELERY_ENQUEUE_BACKOFF_SECONDS = 5
    with caplog.at_level(logging.INFO, logger="erp.scheduling"):
        # when: a send fails
        assert scheduling.enqueue(dispatch_event_task, 1) is False
        assert len(publishes) == 1

        # then: for 5 s nothing is even tried (a request emitting several events waits once)
        clock.now += 4.9
        assert [scheduling.enqueue(dispatch_event_task, n) for n in (2, 3, 4, 5)] == [False] * 4
        assert len(publishes) == 1
        assert len(warnings_of(caplog)) == 1  # once per opening, not once per task

        # when: the breaker closes, the next send is tried again (and, still refused, reopens it)
        clock.now += 0.2
        assert scheduling.enqueue(dispatch_event_task, 6) is False
        assert len(publishes) == 2
        assert len(warnings_of(caplog)) == 2


def test_a_send_that_goes_through_closes_the_breaker_and_counts_what_was_not_sent(
    broker_down: str, clock: Clock, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
):
    # given: a broker that refuses once, then takes messages again
    answers: list[Any] = [OperationalError("Connection refused.")]

    def send_task(self: Celery, name: str, *args: Any, **kwargs: Any) -> Any:
        if answers:
            raise answers.pop()
        return "sent"

    monkeypatch.setattr(Celery, "send_task", send_task)
    with caplog.at_level(logging.INFO, logger="erp.scheduling"):
        assert scheduling.enqueue(dispatch_event_task, 1) is False  # refused
        assert scheduling.enqueue(dispatch_event_task, 2) is False  # skipped
        clock.now += 6

        # when
        result = scheduling.submit(dispatch_event_task, 3)

    # then
    assert result == "sent"
    assert not scheduling.breaker_open()
    infos = [
        r.getMessage() for r in caplog.records if r.name == "erp.scheduling" and r.levelno == logging.INFO
    ]
    assert any("reachable again; 2 task(s) were not sent" in m for m in infos), infos


@pytest.mark.django_db
def test_with_no_broker_tasks_run_in_process_after_commit_whatever_the_breaker(
    django_capture_on_commit_callbacks, monkeypatch: pytest.MonkeyPatch
):
    # given: the embedded mode (CELERY_TASK_ALWAYS_EAGER), and a breaker left open
    from erp.celery import app

    assert app.conf.task_always_eager is True
    monkeypatch.setattr(scheduling, "_open_until", scheduling._now() + 60)

    # when
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        event = events.emit("test.scheduling", aggregate=("thing", 2))

    # then: dispatched in process, as before
    event.refresh_from_db()
    assert event.dispatched_at is not None


@pytest.mark.django_db
def test_a_task_may_be_named(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False), transaction.atomic():
        event = events.emit("test.scheduling", aggregate=("thing", 3))

    assert scheduling.enqueue("erp.tasks.dispatch_event_task", event.pk) is True

    assert OutboxEvent.objects.get(pk=event.pk).dispatched_at is not None


# --- the sites that hand work over ------------------------------------------------------------------


@pytest.fixture
def hub_tasks_loaded() -> None:
    """The hub's task modules imported before the test's call phase: the first import of them runs
    Celery's Django fixup, whose django.setup() configures logging again and takes off the handler
    that pytest attached for the call (caplog would then see nothing)."""
    from integrations import queueing

    scheduling._resolve(queueing.ATTEMPT_DELIVERY)


def test_deliveries_the_broker_did_not_take_are_left_to_the_due_sweep(
    hub_tasks_loaded: None, broker_down: str, caplog: pytest.LogCaptureFixture
):
    from integrations import queueing

    with caplog.at_level(logging.INFO, logger="erp.scheduling"):
        queued = queueing.attempt_deliveries(
            [(1, timezone.now()), (2, timezone.now() + timedelta(minutes=1))]
        )

    assert queued == 0
    assert any("deliveries_enqueue_due" in w for w in warnings_of(caplog))


def test_inbound_events_the_broker_did_not_take_are_left_to_the_inbound_retry(
    broker_down: str, caplog: pytest.LogCaptureFixture
):
    from integrations import queueing

    with caplog.at_level(logging.INFO, logger="erp.scheduling"):
        assert queueing.process_inbound(1) is False

    assert any("inbound_retry_due" in w for w in warnings_of(caplog))


@pytest.mark.django_db
def test_a_dispatch_whose_subscriber_cannot_enqueue_still_commits(
    broker_down: str, django_capture_on_commit_callbacks, caplog: pytest.LogCaptureFixture
):
    # given: stock went up (sales allocates backorders in a task after the dispatch commits)
    with django_capture_on_commit_callbacks(execute=False), transaction.atomic():
        event = events.emit(
            "inventory.level_changed",
            aggregate=("inventory.product", 1),
            payload={"product_id": 1, "warehouse_id": 1, "available": "5", "available_change": "5"},
        )

    # when: it is dispatched while the broker is down
    with (
        caplog.at_level(logging.INFO, logger="erp.scheduling"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert events.dispatch_event(event.pk) is True

    # then: dispatched once, and the lost allocation is in the log with what makes up for it
    assert OutboxEvent.objects.get(pk=event.pk).dispatched_at is not None
    assert any("sales.tasks.allocate_backorders_task(1, 1)" in w for w in warnings_of(caplog))


@pytest.mark.django_db
def test_importing_products_with_the_task_queue_down_leaves_the_job_queued_for_the_sweep(
    broker_down: str,
    admin: Client,
    connection: Connection,
    settings,
    caplog,
    django_capture_on_commit_callbacks,
):
    from erp.models import Job

    settings.JOBS_INLINE = False  # as in production: the job is sent to the broker after the commit
    runs = SyncRun.objects.count()

    with caplog.at_level(logging.WARNING), django_capture_on_commit_callbacks(execute=True):
        response = admin.post(
            reverse("integrations:connection-action", args=[connection.pk, "import-products"])
        )

    # the request committed the job and answers with its page; nothing ran, the sweep sends it again
    job = Job.objects.get(kind="product_import")
    assert response.status_code == 302
    assert response["Location"] == f"/jobs/{job.pk}/"
    assert job.state == Job.State.QUEUED
    assert SyncRun.objects.count() == runs
    assert any(
        f"erp.tasks.run_integrations_job_task({job.pk})" in w and "jobs sweep" in w
        for w in warnings_of(caplog)
    )
    assert "Waiting for a worker" in admin.get(response["Location"]).content.decode()


def test_the_tasks_named_by_the_seams_are_registered():
    """erp.events and integrations.queueing name their tasks (to stay free of import cycles):
    a renamed task must fail here, not in production."""
    from erp import events
    from erp.celery import app
    from integrations import queueing

    app.loader.import_default_modules()
    for name in (events.DISPATCH_TASK, queueing.PROCESS_INBOUND, queueing.ATTEMPT_DELIVERY):
        assert name in app.tasks, name
