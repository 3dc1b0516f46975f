"""The outbox's dispatch tasks, merged per window (erp.scheduling.Coalesced): under load a process
sends one task for the transactions of a window instead of one each; a lone transaction's task goes
at once; nothing waits past the window, and nothing is sent twice."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from celery import Task, current_app
from django.db import transaction

from erp import events, scheduling
from erp.models import OutboxEvent

WINDOW = 1.0  # long enough that the sends a test makes in a row all fall inside it


class Published:
    """The tasks "published" (Task.delay, recorded), and a way to wait for the next one."""

    def __init__(self) -> None:
        self.tasks: list[tuple[str, tuple[Any, ...], str]] = []
        self.arrived = threading.Condition()

    def record(self, task: Task[Any, Any], *args: Any, **_: Any) -> None:
        with self.arrived:
            self.tasks.append((task.name, args, threading.current_thread().name))
            self.arrived.notify_all()

    def wait_for(self, count: int, timeout: float = 10.0) -> None:
        with self.arrived:
            assert self.arrived.wait_for(lambda: len(self.tasks) >= count, timeout), self.tasks

    @property
    def ids(self) -> list[list[int]]:
        return [list(args[0]) for _, args, _ in self.tasks]


@pytest.fixture
def published(monkeypatch: pytest.MonkeyPatch) -> Iterator[Published]:
    """A broker is configured (tasks are published, recorded here, never run in process)."""
    found = Published()
    monkeypatch.setitem(current_app.conf, "task_always_eager", False)
    monkeypatch.setattr(Task, "delay", lambda task, *args, **kw: found.record(task, *args))
    scheduling.reset()
    yield found
    scheduling.reset()


def coalesced(window: float = WINDOW) -> scheduling.Coalesced:
    return scheduling.Coalesced(events.DISPATCH_TASK, window=lambda: window, recovery="the test's sweep")


def test_a_lone_send_goes_at_once_and_those_within_its_window_go_together_at_its_end(published):
    sender = coalesced()
    started = time.monotonic()

    sender.send([1, 2])
    assert published.ids == [[1, 2]]  # at once, in the caller's thread
    sender.send([3])
    sender.send([4, 3])
    sender.send([5])
    assert published.ids == [[1, 2]]  # waiting for the window's end

    published.wait_for(2)

    assert published.ids == [[1, 2], [3, 4, 5]]  # one task, in order, each id once
    assert time.monotonic() - started >= WINDOW * 0.9
    assert published.tasks[1][2] != threading.current_thread().name  # sent by the window's timer


def test_a_send_after_a_quiet_window_goes_at_once_again(published):
    sender = coalesced(window=0.05)
    sender.send([1])
    time.sleep(0.1)

    sender.send([2])

    assert published.ids == [[1], [2]]


def test_flushing_sends_what_waits_once_and_the_timer_then_sends_nothing(published):
    sender = coalesced()
    sender.send([1])
    sender.send([2])

    sender.flush()  # what the process's exit does
    time.sleep(WINDOW * 1.2)

    assert published.ids == [[1], [2]]


def test_no_window_or_no_broker_sends_each_at_once(published, monkeypatch):
    coalesced(window=0).send([1])
    coalesced(window=0).send([2])
    assert published.ids == [[1], [2]]

    monkeypatch.setitem(current_app.conf, "task_always_eager", True)
    ran: list[list[int]] = []
    monkeypatch.setattr(scheduling, "enqueue", lambda task, ids, **_: ran.append(ids) or True)
    sender = coalesced()
    sender.send([3])
    sender.send([4])
    assert ran == [[3], [4]]  # in process, as each commits


def test_a_forked_child_forgets_the_ids_its_parent_was_holding(published):
    sender = coalesced()
    sender.send([1])
    sender.send([2])  # waiting in the parent

    sender._reset()  # what os.register_at_fork runs in the child

    assert sender._waiting == []
    sender.send([3])
    assert published.ids == [[1], [3]]  # a fresh window: at once


@pytest.mark.django_db(transaction=True)
def test_transactions_committing_within_a_window_share_one_dispatch_task(published, settings):
    settings.OUTBOX_DISPATCH_WINDOW_SECONDS = WINDOW
    events._dispatches._reset()
    written = []
    for n in range(3):
        with transaction.atomic():
            written.append(events.emit("window.test", aggregate=("thing", n)).pk)
    first = published.ids[:]

    published.wait_for(2)

    assert first == [[written[0]]]
    assert published.ids == [[written[0]], written[1:]]
    assert published.tasks[0][0] == events.DISPATCH_TASK
    assert OutboxEvent.objects.filter(pk__in=written).count() == 3  # committed before any send
    events._dispatches._reset()
