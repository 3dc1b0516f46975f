"""Background jobs: long work (an import, MRP, a reconciliation, the simulated day) started from a
page, run elsewhere, with its progress on a page that anyone allowed may leave and come back to.

The apps register their kinds from AppConfig.ready() (their ``registrations``)::

    register_kind("mrp", run_mrp, area="manufacturing", label="MRP run")

A runner is ``(job, progress) -> dict``: it does the work through the app's services (which keep
their own transactions: all or nothing where they were) and reports with ``progress.total(n)``,
``progress.advance()`` and ``progress.step("what it does now")``. What it returns is kept as the
job's ``result``; a ``"result_url"`` key in it becomes the link to the page that shows the outcome.
The job's page shows these keys of a result: ``summary`` (a sentence), ``counts`` (label ->
number), ``links`` (``[{"label", "url"}]``) and ``errors`` (``[{"where", "message"}]``).
An exception fails the job: its message is kept (a domain error's own message, else the
exception's type and text), the traceback is logged; ``JobFailed(message, result=...)`` fails it
with a result too (the rows an import refused).

Where a job runs (``job_start`` writes the row, then hands it over once that commits):

* ``JOBS_INLINE`` (the tests): in the caller, at once, before ``job_start`` returns, as the
  embedded mode's eager tasks run; the page it redirects to shows the outcome.
* A broker (``CELERY_BROKER_URL``): the Celery task ``erp.tasks.run_job_task`` (the integrations
  queue for the kinds registered with ``queue="integrations"``), sent after the commit through
  ``erp.scheduling``. A send that finds the broker down is left to the sweep, which sends queued
  jobs again: ``run_job`` claims a job once (``queued`` -> ``running`` in one UPDATE), so a second
  send of the same job does nothing.
* No broker (the embedded mode, where tasks would run eagerly inside the request): a daemon
  thread of the process that started it, which closes its database connections when done.
* Kinds registered ``isolated=True`` (the simulated day: it sets the process's clock and mounts
  fakes on the HTTP client for its whole run) never share a process with anything: unless inline,
  they run in a child process, ``manage.py run_job <id>``, with no broker (its tasks run in that
  process, on its clock).

Progress must be seen while the runner's own transaction is still open (a CSV import applies its
rows all or nothing, in one transaction). ``Progress`` writes the row at most every
``JOBS_PROGRESS_INTERVAL`` seconds (0.3) and at the end, through the database alias
``JOBS_PROGRESS_DATABASE``:

* PostgreSQL: the alias ``jobs`` (erp/settings.py), a second connection to the same database in
  autocommit, so another connection sees each write at once whatever the runner's transaction
  holds. The row is never locked by the runner's transaction (it is marked running before the
  work and done after it), so these writes never wait on it.
* SQLite allows one writer at a time: a second connection would wait for the runner's
  transaction, so the alias is ``default`` there. Writes made inside the runner's transaction
  become visible when it commits; until then the process running the job also keeps its
  progress in memory (``live``), which the pages and the API read first. In the embedded mode
  the job runs in a thread of the web process, so its pages see every step.

``sweep`` (beat, every minute; also when a job starts, as the embedded mode has no beat): a
running job with no progress for ``JOBS_STALE_SECONDS`` (its worker died) fails as
"interrupted"; a queued job is sent again after ``JOBS_REQUEUE_SECONDS`` with a broker, and
fails as "never started" after ``JOBS_STALE_SECONDS`` without one.
"""

from __future__ import annotations

import datetime
import logging
import os
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from celery import current_app
from django.conf import settings
from django.db import connections, transaction
from django.db.models import Q, QuerySet

from erp import actor, scheduling
from erp.access import AREAS, user_can
from erp.exceptions import DomainError, NotFound, ValidationFailed
from erp.models import Job

logger = logging.getLogger(__name__)

Runner = Callable[[Job, "Progress"], dict[str, Any]]
DEFAULT_QUEUE = "default"
INTEGRATIONS_QUEUE = "integrations"
ACTIVE = (Job.State.QUEUED, Job.State.RUNNING)


class JobRefused(DomainError):
    """The user may not start (or see) this kind of job."""

    status_code = 403
    title = "Forbidden"


class JobFailed(DomainError):
    """Raised by a runner: the job fails with this message, and keeps ``result`` (e.g. per-row errors)."""

    def __init__(self, message: str, *, result: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.result = result or {}


@dataclass(frozen=True)
class Kind:
    kind: str
    runner: Runner
    area: str
    label: str
    queue: str = DEFAULT_QUEUE
    isolated: bool = False


_KINDS: dict[str, Kind] = {}


def register_kind(
    kind: str,
    runner: Runner,
    *,
    area: str,
    label: str,
    queue: str = DEFAULT_QUEUE,
    isolated: bool = False,
) -> None:
    """Declare a kind of job (from an AppConfig.ready()); registering a kind again replaces it."""
    if area not in AREAS:
        raise ValueError(f"Unknown area {area!r}")
    if queue not in (DEFAULT_QUEUE, INTEGRATIONS_QUEUE):
        raise ValueError(f"Unknown queue {queue!r}")
    _KINDS[kind] = Kind(kind, runner, area, label, queue, isolated)


def kind_of(kind: str) -> Kind:
    try:
        return _KINDS[kind]
    except KeyError:
        raise ValidationFailed(
            f"Unknown kind of job “{kind}”.", field_errors={"kind": ["Unknown."]}
        ) from None


def kinds() -> dict[str, Kind]:
    return dict(_KINDS)


def _now() -> datetime.datetime:
    # The wall clock, not django.utils.timezone.now: the simulated day replaces that one with its
    # own clock for its whole run, and the sweep compares these stamps with real time.
    return datetime.datetime.now(tz=datetime.UTC)


# --- progress ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Snapshot:
    done: int
    total: int | None
    step: str


_live: dict[int, Snapshot] = {}
_live_lock = threading.Lock()


def live(job: Job) -> Job:
    """The job with the progress this process holds for it in memory, if it runs here and that is
    newer than its row (SQLite: see the module's docstring). Changes ``job`` in place, returns it."""
    if job.state != Job.State.RUNNING:
        return job
    with _live_lock:
        snapshot = _live.get(job.pk)
    if snapshot is not None and snapshot.done >= job.done:
        job.done, job.total, job.step = snapshot.done, snapshot.total, snapshot.step
    return job


def progress_database() -> str:
    alias = str(getattr(settings, "JOBS_PROGRESS_DATABASE", "default"))
    return alias if alias in connections else "default"


class Progress:
    """What a runner reports: ``total(n)``, ``advance(k)``, ``step(text)``. The row is written at
    most every ``interval`` seconds, and by ``flush()`` (which ``run_job`` calls at the end)."""

    def __init__(self, job_id: int, *, interval: float | None = None) -> None:
        self.job_id = job_id
        self.interval = float(settings.JOBS_PROGRESS_INTERVAL if interval is None else interval)
        self.done = 0
        self.count: int | None = None
        self.text = ""
        self.writes = 0
        self._written_at: float | None = None

    def total(self, n: int | None) -> None:
        self.count = None if n is None else max(int(n), 0)
        self._maybe_flush()

    def advance(self, k: int = 1) -> None:
        self.done += max(int(k), 0)
        self._maybe_flush()

    def step(self, text: str) -> None:
        self.text = str(text)[:300]
        self._maybe_flush()

    def _maybe_flush(self) -> None:
        if self._written_at is None or time.monotonic() - self._written_at >= self.interval:
            self.flush()
        else:  # the row waits for the interval; this process's pages see every step (``live``)
            self._remember(self.snapshot())

    def _remember(self, snapshot: Snapshot) -> None:
        with _live_lock:
            _live[self.job_id] = snapshot

    def snapshot(self) -> Snapshot:
        total = None if self.count is None else max(self.count, self.done)  # done never exceeds total
        return Snapshot(self.done, total, self.text)

    def flush(self) -> None:
        snapshot = self.snapshot()
        self._remember(snapshot)
        Job.objects.using(progress_database()).filter(pk=self.job_id, state=Job.State.RUNNING).update(
            done=snapshot.done, total=snapshot.total, step=snapshot.step, updated_at=_now()
        )
        self.writes += 1
        self._written_at = time.monotonic()


# --- starting a job ------------------------------------------------------------------------------


def job_start(kind: str, *, user: Any, label: str = "", params: dict[str, Any] | None = None) -> Job:
    """Write a queued job and hand it over once that commits (see the module's docstring).

    Refused (nothing written) for an unknown kind or a user without write on the kind's area."""
    spec = kind_of(kind)
    if not user_can(user, spec.area, "write"):
        raise JobRefused(f"You may not start “{spec.label}”: it needs {AREAS[spec.area]} (write).")
    sweep()
    with transaction.atomic():
        job = Job.objects.create(
            kind=kind,
            label=(label or spec.label)[:200],
            area=spec.area,
            user=user if getattr(user, "is_authenticated", False) else None,
            params=params or {},
        )
        if not settings.JOBS_INLINE:
            scheduling.run_on_commit(_hand_over, job.pk, what=f"starting job {job.pk} ({kind})")
    if settings.JOBS_INLINE:
        run_job(job.pk)
        job.refresh_from_db()
    return job


def _hand_over(job_id: int) -> None:
    spec = _KINDS.get(Job.objects.filter(pk=job_id).values_list("kind", flat=True).first() or "")
    if spec is not None and spec.isolated:
        _start_process(job_id)
    elif not has_broker():
        _start_thread(job_id)
    else:
        _send(job_id, spec.queue if spec else DEFAULT_QUEUE)


def has_broker() -> bool:
    """Tasks go to a broker; without one (``task_always_eager``) they would run in the request."""
    return not current_app.conf.task_always_eager


def _send(job_id: int, queue: str) -> bool:
    task = "erp.tasks.run_integrations_job_task" if queue == INTEGRATIONS_QUEUE else "erp.tasks.run_job_task"
    return scheduling.enqueue(
        task, job_id, recovery="the jobs sweep (erp.jobs.sweep, every minute) sends queued jobs again"
    )


def _start_thread(job_id: int) -> threading.Thread:
    def work() -> None:
        try:
            run_job(job_id)
        finally:
            connections.close_all()

    thread = threading.Thread(target=work, name=f"job-{job_id}", daemon=True)
    thread.start()
    return thread


def _start_process(job_id: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "CELERY_BROKER_URL": ""}
    command = [sys.executable, str(settings.BASE_DIR / "manage.py"), "run_job", str(job_id)]
    return subprocess.Popen(command, env=env, stdin=subprocess.DEVNULL, start_new_session=True)


# --- running a job -------------------------------------------------------------------------------


def run_job(job_id: int) -> bool:
    """Run a queued job to its end: False when it is not queued (already run, running, gone)."""
    now = _now()
    claimed = Job.objects.filter(pk=job_id, state=Job.State.QUEUED).update(
        state=Job.State.RUNNING, started_at=now, updated_at=now
    )
    if not claimed:
        logger.info("Job %s is not queued (already run, running elsewhere, or gone): not run.", job_id)
        return False
    job = Job.objects.get(pk=job_id)
    progress = Progress(job.pk)
    try:
        spec = kind_of(job.kind)
        with actor.acting_for(job.user):  # what the job records is done for who started it
            result = dict(spec.runner(job, progress) or {})
    except Exception as exc:
        if isinstance(exc, DomainError):  # refused by a rule: the message says it all
            logger.info("Job %s (%s) refused: %s", job.pk, job.kind, exc)
        else:
            logger.error("Job %s (%s) failed:\n%s", job.pk, job.kind, traceback.format_exc())
        kept = exc.result if isinstance(exc, JobFailed) else None
        _finish(job, progress, Job.State.FAILED, result=kept, error=_describe(exc))
    else:
        result_url = str(result.pop("result_url", "") or "")
        _finish(job, progress, Job.State.DONE, result=result, result_url=result_url)
    return True


def _describe(exc: Exception) -> str:
    if isinstance(exc, DomainError):
        return exc.message
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def _finish(
    job: Job,
    progress: Progress,
    state: str,
    *,
    result: dict[str, Any] | None = None,
    result_url: str = "",
    error: str = "",
) -> None:
    try:
        progress.flush()
    except Exception:  # the job's end matters more than its last progress
        logger.exception("Could not write the last progress of job %s", job.pk)
    snapshot = progress.snapshot()
    done = snapshot.done
    if state == Job.State.DONE and snapshot.total is not None:
        done = snapshot.total  # a finished job is complete, whatever the runner counted
    if result and isinstance(result.get("counts"), dict):
        # PostgreSQL's jsonb keeps no key order: the page shows the counts in the runner's
        result = {**result, "counts_order": list(result["counts"])}
    now = _now()
    Job.objects.filter(pk=job.pk).update(
        state=state,
        done=done,
        total=snapshot.total,
        step="" if state == Job.State.DONE else snapshot.step,
        result=result or {},
        result_url=result_url[:500],
        error=error,
        finished_at=now,
        updated_at=now,
    )
    with _live_lock:
        _live.pop(job.pk, None)


# --- the sweep -----------------------------------------------------------------------------------


def sweep() -> int:
    """Fail running jobs with no progress for JOBS_STALE_SECONDS ("interrupted") and queued ones
    never started; with a broker, send queued jobs again after JOBS_REQUEUE_SECONDS. Returns how
    many jobs it changed or sent."""
    now = _now()
    stale = now - datetime.timedelta(seconds=float(settings.JOBS_STALE_SECONDS))
    minutes = max(1, round(float(settings.JOBS_STALE_SECONDS) / 60))
    interrupted = Job.objects.filter(state=Job.State.RUNNING, updated_at__lt=stale).update(
        state=Job.State.FAILED,
        error=f"Interrupted: no progress for {minutes} minutes (its worker stopped). Start it again.",
        finished_at=now,
        updated_at=now,
    )
    never = Job.objects.filter(state=Job.State.QUEUED, created_at__lt=stale).update(
        state=Job.State.FAILED,
        error=f"Never started within {minutes} minutes (no worker took it). Start it again.",
        finished_at=now,
        updated_at=now,
    )
    sent = 0
    if has_broker() and not settings.JOBS_INLINE:
        due = now - datetime.timedelta(seconds=float(settings.JOBS_REQUEUE_SECONDS))
        waiting = Job.objects.filter(state=Job.State.QUEUED, created_at__lt=due).values_list("pk", "kind")
        for pk, kind in waiting:
            spec = _KINDS.get(kind)
            if spec is not None and spec.isolated:
                continue  # a child process of the web server: nothing else could start it
            sent += _send(pk, spec.queue if spec else DEFAULT_QUEUE)
    if interrupted or never:
        logger.warning("Jobs sweep: %d interrupted, %d never started.", interrupted, never)
    return interrupted + never + sent


# --- reading -------------------------------------------------------------------------------------


def readable_areas(user: Any) -> list[str]:
    return [area for area in AREAS if user_can(user, area, "read")]


def job_list(*, user: Any) -> QuerySet[Job]:
    """The user's own jobs and those of the areas they may read, newest first."""
    return (
        Job.objects.filter(Q(user=user) | Q(area__in=readable_areas(user)))
        .select_related("user")
        .order_by("-created_at", "-id")
    )


def job_get(*, user: Any, job_id: int) -> Job:
    """One job the user may see (their own, or of an area they may read), with its live progress."""
    job = Job.objects.select_related("user").filter(pk=job_id).first()
    if job is None or not (job.user_id == getattr(user, "pk", None) or user_can(user, job.area, "read")):
        raise NotFound(f"No job #{job_id} that you may see.")
    return live(job)


def elapsed(job: Job) -> datetime.timedelta:
    """How long it has run (or ran); zero while queued."""
    if job.started_at is None:
        return datetime.timedelta(0)
    return (job.finished_at or _now()) - job.started_at


def percent(job: Job) -> int | None:
    if job.state == Job.State.DONE:
        return 100
    if not job.total:
        return None
    return min(100, job.done * 100 // job.total)


def elapsed_text(job: Job) -> str:
    """ "4 s", "2 min 05 s", "1 h 03 min": for people."""
    seconds = int(elapsed(job).total_seconds())
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"
