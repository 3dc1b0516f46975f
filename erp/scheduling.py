"""The one seam through which code hands work to Celery.

Work handed over after a commit must never fail the request that committed: the
change is in the database, and a 5xx would make the client retry (a 5xx is not
remembered by Idempotency-Key) and duplicate it. So a send that finds the broker
down (Celery raises ``kombu.exceptions.OperationalError``) is logged and dropped,
and the periodic sweep of that kind of work sends it later: the outbox sweep
(``erp.events.sweep``), the inbound retry (``integrations.inbound.inbound_retry_due``),
the due deliveries (``integrations.outbound.deliveries_enqueue_due``). Callers say
which in ``recovery``, for the log.

A short circuit breaker: after a failed send, no send is attempted in this process
for ``CELERY_ENQUEUE_BACKOFF_SECONDS`` (5), so that a request emitting five events
while the broker is down waits on one failed connection, not five; it is logged once
per opening, not once per task. How long one failed send blocks is bounded by the
publish retry policy and timeouts in erp/settings.py.

With no broker (``CELERY_TASK_ALWAYS_EAGER``) tasks run in process, as before; the
breaker is not involved.

This module imports no app: callers pass the task object (or its registered name).
"""

from __future__ import annotations

import atexit
import logging
import math
import os
import threading
import time
from collections.abc import Callable
from typing import Any

from celery import Task, current_app
from celery.result import AsyncResult
from django.conf import settings
from django.db import transaction
from kombu.exceptions import OperationalError

logger = logging.getLogger(__name__)

TaskRef = Task[Any, Any] | str

NO_RECOVERY = "nothing resends it automatically"

_lock = threading.Lock()
_open_until = 0.0  # monotonic time until which no send is attempted (the breaker is open)
_unsent = 0  # sends that failed or were skipped since the last one that went through


def _now() -> float:
    return time.monotonic()


def backoff_seconds() -> float:
    return float(settings.CELERY_ENQUEUE_BACKOFF_SECONDS)


def breaker_open() -> bool:
    """True while sends are skipped because one failed moments ago."""
    return _now() < _open_until


def reset() -> None:
    """Close the breaker and forget what it counted (tests; an operator's shell)."""
    global _open_until, _unsent
    with _lock:
        _open_until, _unsent = 0.0, 0


def _resolve(task: TaskRef) -> Task[Any, Any]:
    if not isinstance(task, str):
        return task
    registry = current_app.tasks
    if task not in registry:
        current_app.loader.import_default_modules()  # the web process autodiscovers lazily
    return registry[task]


def _describe(name: str, args: tuple[Any, ...]) -> str:
    shown = ", ".join(repr(a) for a in args)
    return f"{name}({shown[:200]})"


def _skip(call: str, recovery: str) -> None:
    global _unsent
    with _lock:
        _unsent += 1
    logger.debug("Not sending %s: the task queue was unreachable moments ago; %s.", call, recovery)


def _trip(call: str, recovery: str, exc: Exception) -> None:
    """A send failed: open the breaker and say so, once per opening."""
    global _open_until, _unsent
    with _lock:
        _unsent += 1
        already_open = _now() < _open_until
        if not already_open:
            _open_until = _now() + backoff_seconds()
    if already_open:  # another thread opened it meanwhile, and has said so
        logger.debug("Not sent %s: the task queue cannot be reached (%s); %s.", call, exc, recovery)
        return
    logger.warning(
        "The task queue cannot be reached (%s): %s was not sent; the change it follows is committed "
        "and %s. No task is sent from this process for the next %g s: each one skipped is likewise "
        "left to the periodic sweep of its kind of work.",
        exc,
        call,
        recovery,
        backoff_seconds(),
    )


def _went_through() -> None:
    global _open_until, _unsent
    if not _unsent:
        return
    with _lock:
        unsent, _open_until, _unsent = _unsent, 0.0, 0
    if unsent:
        logger.info(
            "The task queue is reachable again; %d task(s) were not sent while it was not: the "
            "periodic sweeps send their work.",
            unsent,
        )


def submit(
    task: TaskRef, *args: Any, countdown: float | None = None, recovery: str = NO_RECOVERY
) -> AsyncResult[Any] | None:
    """Send ``task(*args)`` now: its result handle, or None if the broker could not be reached.

    ``recovery`` says what sends the work later if this send fails (for the log), e.g.
    "the outbox sweep (erp.events.sweep, every minute) dispatches it". Errors other than
    a broker failure (a bug: an argument that does not serialize) propagate.
    """
    resolved = _resolve(task)
    call = _describe(resolved.name, args)
    eager = bool(resolved.app.conf.task_always_eager)
    if not eager and breaker_open():
        _skip(call, recovery)
        return None
    try:
        if countdown is None:  # delay(), as the callers did before (tests patch it)
            result = resolved.delay(*args)
        else:
            result = resolved.apply_async(args, countdown=countdown)
    except OperationalError as exc:
        _trip(call, recovery, exc)
        return None
    if not eager:
        _went_through()
    return result


def enqueue(task: TaskRef, *args: Any, countdown: float | None = None, recovery: str = NO_RECOVERY) -> bool:
    """Send ``task(*args)`` now; False (and a warning in the log) if the broker could not be reached."""
    return submit(task, *args, countdown=countdown, recovery=recovery) is not None


def enqueue_on_commit(
    task: TaskRef,
    *args: Any,
    countdown: float | None = None,
    recovery: str = NO_RECOVERY,
    using: str | None = None,
) -> None:
    """Send ``task(*args)`` once the current transaction commits (at once outside one).

    Never raises after the commit: a broker failure is logged by ``enqueue``, anything else
    by Django (see ``run_on_commit``).
    """
    name = task if isinstance(task, str) else task.name
    run_on_commit(
        enqueue, task, *args, countdown=countdown, recovery=recovery, using=using, what=_describe(name, args)
    )


def run_on_commit(
    func: Callable[..., object], *args: Any, using: str | None = None, what: str = "", **kwargs: Any
) -> None:
    """Call ``func(*args, **kwargs)`` once the current transaction commits; log, never raise, its errors.

    For code that hands work over after a commit in its own way (e.g. many tasks at once).
    Registered ``robust``: an exception is logged by Django ("Error calling <what> in
    on_commit()") instead of reaching the request that committed.
    """

    def after_commit() -> None:
        func(*args, **kwargs)

    # Django names the callback by its __qualname__ when it logs an error (a partial has none).
    after_commit.__qualname__ = what or getattr(func, "__qualname__", repr(func))
    transaction.on_commit(after_commit, using=using, robust=True)


class Coalesced:
    """One task whose one argument is a list of ids, sent from this process at most once per
    ``window()`` seconds: a send that comes when none went out for a window goes at once; the sends
    within the window after it wait for its end and go together, as ONE task carrying all their
    ids (in order, each once).

    For work whose tasks are cheap to merge and costly to send one by one: the outbox's dispatch
    (``erp.events``), one task per transaction, was a broker publish (0.75 ms of the web process's
    CPU) and a task for a worker per order; under load the orders of a window now share both. A
    lone transaction waits for nothing; one inside a busy window waits at most the window.

    Nothing is lost that is not already recovered: the ids name rows committed before the send,
    and a process that dies with ids still waiting leaves them to the periodic sweep named in
    ``recovery``, as a broker that is down does (``enqueue``). Waiting ids are sent when the
    process exits normally. With no window (``window() <= 0``) or eager tasks (no broker: tests
    and ``make run``), each send goes at once, in the caller's thread.
    """

    def __init__(self, task: str, *, window: Callable[[], float], recovery: str) -> None:
        self.task = task
        self.window = window
        self.recovery = recovery
        self._reset()
        os.register_at_fork(after_in_child=self._reset)  # a worker forked from a parent holding ids
        atexit.register(self.flush)

    def _reset(self) -> None:
        self._lock = threading.Lock()
        self._waiting: list[int] = []
        self._timer: threading.Timer | None = None
        self._last = -math.inf  # monotonic time of the last send

    def send(self, ids: list[int]) -> None:
        window = self.window()
        if window <= 0 or _resolve(self.task).app.conf.task_always_eager:
            enqueue(self.task, ids, recovery=self.recovery)
            return
        with self._lock:
            moment = _now()
            now = self._timer is None and moment - self._last >= window
            if now:
                self._last = moment
            else:
                self._waiting.extend(ids)
                if self._timer is None:
                    self._timer = threading.Timer(max(0.0, self._last + window - moment), self.flush)
                    self._timer.daemon = True
                    self._timer.start()
        if now:
            enqueue(self.task, ids, recovery=self.recovery)

    def flush(self) -> None:
        """Send the waiting ids now, as one task (the timer's end of a window; the process's exit)."""
        with self._lock:
            ids, self._waiting = self._waiting, []
            if self._timer is not None:
                self._timer.cancel()  # no-op when the timer itself is flushing
                self._timer = None
            self._last = _now()
        if ids:
            enqueue(self.task, list(dict.fromkeys(ids)), recovery=self.recovery)
