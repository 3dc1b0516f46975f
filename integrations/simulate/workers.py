"""The simulated day with real parts: PostgreSQL, a broker, a Celery worker process, fakes on ports.

``run_with_workers(day)`` (``manage.py simulate_day --workers``, what CI runs):

* each tool's fake is served over HTTP on a free port in this process (a threading WSGI server, as
  ``manage.py run_fake`` serves it) and the connection's ``base_url`` points there; the fakes run
  on the wall clock, their webhook retry schedules shortened to seconds;
* this process plays the web tier: the fakes' webhooks reach the hook view in process and the
  events are handed to the broker on commit; it also plays Celery beat, calling the same sweeps
  on the same schedule;
* a Celery worker (``celery -A erp worker`` on the default and integrations queues) does the
  rest: inbound events, deliveries, pushes to the fakes;
* the day's minutes pass ``SCALE`` times faster (a customer every 0.3 to 3 s), and the hub's
  retry, lease and backoff settings are shortened to match (``FAST``), in this process
  and the worker's;
* with ``Faults.kill_worker`` the worker is killed once with SIGKILL while it is pushing stock to
  a tool (the tool answers that push slowly, so the kill lands mid-task), then started again: the
  delivery's claim lease runs out and the beat hands it to the new worker (tasks are acked late).
  The report says which delivery was in flight and how it ended.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any
from wsgiref.simple_server import WSGIServer

from django.conf import settings
from django.db import connection as db_connection
from django.db.models import Max
from django.test.utils import override_settings
from django.utils import timezone

from integrations.fakes import serve
from integrations.fakes.clock import WallClock
from integrations.models import Delivery, DeliveryStatus
from integrations.outbound import OPEN
from integrations.simulate.consistency import Change
from integrations.simulate.day import Day
from integrations.simulate.pace import SCALE
from integrations.simulate.report import Report

# The hub's timings for a day that runs SCALE times faster (environment variables of the worker too).
FAST = {
    "INTEGRATIONS_CLAIM_SECONDS": 20,
    "INTEGRATIONS_RETRY_BASE_SECONDS": 1,
    "INTEGRATIONS_RETRY_CAP_SECONDS": 15,
    "INTEGRATIONS_INBOUND_BACKOFF_SECONDS": 2,
    "INTEGRATIONS_INBOUND_BACKOFF_MAX_SECONDS": 30,
    "INTEGRATIONS_INBOUND_STALE_SECONDS": 10,
    "INTEGRATIONS_REAUTH_RETRY_SECONDS": 5,
    "INTEGRATIONS_COALESCE_SECONDS": 1.0,
    "INTEGRATIONS_JOB_POLL_SECONDS": 2.0,
    "OUTBOX_SWEEP_GRACE_SECONDS": 5,
    # a poll looks back over what it may have missed: 5 minutes of a real day, 1 s of this one
    "INTEGRATIONS_POLL_OVERLAP_SECONDS": 1,
    # the tools' rate limits pass as fast as the day (their fakes' too: ChannelTool.setup)
    "INTEGRATIONS_RATE_SCALE": SCALE,
}
SLOW_PUSH_SECONDS = 8.0  # how long the tool takes to answer the push the worker is killed in
KILL_WAIT_SECONDS = 120.0  # how long the push to kill the worker in may wait behind the backlog
KILL_TRIES = 3  # units booked in, one after the other, until a push is seen in flight


class WorkersUnavailable(Exception):
    """The real-worker mode cannot run here (no broker, SQLite, or the worker never came up)."""


class Worker:
    """One Celery worker process (and its pool), started, killed with SIGKILL, started again."""

    def __init__(self, log: Path) -> None:
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0
        self.name = ""

    def start(self, timeout: float = 60.0) -> None:
        from erp.celery import app

        self.name = f"simday-{uuid.uuid4().hex[:8]}@%h"
        env = os.environ | {key: str(value) for key, value in FAST.items()}
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [
                    sys.executable, "-m", "celery", "-A", "erp", "worker",
                    "-Q", f"{settings.CELERY_TASK_DEFAULT_QUEUE},integrations",
                    "-c", "2", "--loglevel", "WARNING", "-n", self.name,
                    "--without-mingle", "--without-gossip",
                ],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: SIGKILL reaches the pool too
            )  # fmt: skip
        self.starts += 1
        deadline = time.monotonic() + timeout
        hostname = self.name.replace("%h", os.uname().nodename)
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise WorkersUnavailable(
                    f"The Celery worker exited with {self.process.returncode}; see {self.log}."
                )
            if app.control.ping(destination=[hostname], timeout=1.0):
                return
        raise WorkersUnavailable(f"The Celery worker did not answer within {timeout:.0f} s; see {self.log}.")

    def kill(self) -> None:
        """SIGKILL the worker and its pool at once: nothing gets to clean up or ack."""
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)


class WorkersDay(Day):
    """The day on the wall clock, with a worker it may kill once."""

    # The hub's retries here wait seconds at most (FAST): six simulated hours (six minutes of wall
    # time) outlast them, and a day that never settles fails in minutes instead of holding CI for
    # half an hour.
    evening_rounds = 12

    def __init__(self, *, worker: Worker, **kwargs: Any) -> None:
        super().__init__(clock=WallClock(), **kwargs)
        self.worker = worker
        self._kill_at = (
            self.rng.randrange(max(self.n // 3, 1), max(self.n * 2 // 3, 2))
            if self.faults.kill_worker
            else -1
        )

    def wait(self, seconds: float) -> None:
        time.sleep(seconds / SCALE)

    def after_step(self, index: int) -> None:
        if index != self._kill_at:
            return
        self.report.worker |= self._kill_mid_push(next(iter(self.tools.values())))
        self.worker.start()
        self.report.worker["restarts"] = self.worker.starts - 1

    def _kill_mid_push(self, tool: Any) -> dict[str, Any]:
        """Book in a unit found in the warehouse (its level goes out to the tool, which answers
        slowly), wait until a worker has claimed that push, and SIGKILL the worker.

        The push waits its turn behind the worker's backlog (at the day's busiest, over half a
        minute), so the wait is long; a push that ended without being seen in flight (coalesced
        into another, or skipped) is tried again with another unit. CI once killed the worker
        after 30 s with no push in flight."""
        from inventory import availability
        from inventory.models import Product
        from inventory.services import stock_receive, warehouse_default_location

        assert tool.connection is not None
        products = list(Product.objects.filter(sku__in=tool.skus()))
        # the SKU with the most in stock: a unit booked in changes what the tool is told
        product = max(products, key=lambda p: availability.of(p.pk, self._warehouse.pk).available)
        for _ in range(KILL_TRIES):
            seen = Delivery.objects.filter(connection=tool.connection).aggregate(m=Max("pk"))["m"] or 0
            tool.fake.slow_next(1, seconds=SLOW_PUSH_SECONDS, match=tool.stock_resource)
            stock_receive(
                product=product,
                location=warehouse_default_location(self._warehouse),
                quantity=1,
                unit_cost=Decimal("10.00"),
            )
            self.watcher.watch(Change(tool.key, "received_here", self.clock(), (), (product.sku,)))
            pushes = Delivery.objects.filter(
                connection=tool.connection,
                topic__in=tool.stock_topics(),
                coalesce_key=f"inventory.product:{product.pk}",
                pk__gt=seen,
            )
            deadline = time.monotonic() + KILL_WAIT_SECONDS
            while time.monotonic() < deadline:
                claimed = pushes.filter(claimed_until__gt=timezone.now()).order_by("-pk").first()
                if claimed is not None:
                    time.sleep(0.5)  # the request is on the wire
                    self.worker.kill()
                    return {
                        "killed": 1,
                        "killed_at": timezone.now().isoformat(),
                        "in_flight_delivery": claimed.pk,
                        "in_flight_topic": claimed.topic,
                    }
                if pushes.exists() and not pushes.filter(status__in=OPEN).exists():
                    break  # done without being seen in flight: another unit
                time.sleep(0.05)
        self.worker.kill()
        return {"killed": 1, "killed_at": timezone.now().isoformat(), "in_flight_delivery": None}

    def settled(self) -> bool:
        from erp.models import OutboxEvent

        return super().settled() and not OutboxEvent.objects.filter(dispatched_at__isnull=True).exists()

    def _end(self, started: float) -> None:
        super()._end(started)
        self.report.simulated_minutes = int(self.report.seconds * SCALE // 60)
        pk = self.report.worker.get("in_flight_delivery")
        if pk is None:
            if self.faults.kill_worker:
                self.report.problems.append("the worker was killed, but no push was in flight at the time")
            return
        killed = Delivery.objects.get(pk=pk)
        self.report.worker["in_flight_delivery_ended"] = killed.status
        # Taken up again and finished: its push landed (or the level it carried was there already),
        # or a later push of the same stock, which it was coalesced into, did. The day's check has
        # compared that stock with the tool's by now.
        done = (DeliveryStatus.SUCCEEDED, DeliveryStatus.SKIPPED)
        landed = killed.status in done or (
            killed.status == DeliveryStatus.SUPERSEDED
            and Delivery.objects.filter(
                connection=killed.connection,
                coalesce_key=killed.coalesce_key,
                pk__gt=killed.pk,
                status__in=done,
            ).exists()
        )
        if not landed:
            self.report.problems.append(
                f"the push in flight when the worker was killed (delivery #{pk}) never landed: "
                f"{killed.status}"
            )


@contextmanager
def _served(day: Day) -> Iterator[None]:
    """Each tool's fake on a free port of 127.0.0.1, in a thread of this process."""
    servers: list[WSGIServer] = []
    try:
        for tool in day.participants():
            key = tool.key
            server = serve.server(tool.wsgi_app())
            servers.append(server)
            threading.Thread(target=server.serve_forever, daemon=True).start()
            day.served_at[key] = f"http://127.0.0.1:{server.server_port}"
            if hasattr(tool.fake, "retry_schedule"):  # a tool that sends webhooks retries them
                tool.fake.retry_schedule = tuple(
                    d / 60 for d in tool.fake.retry_schedule
                )  # minutes -> seconds
        yield
    finally:
        for server in servers:
            server.shutdown()
            server.server_close()


def check_environment() -> None:
    """What a day with real workers needs: a database of its own, a broker, PostgreSQL.

    Its events go to every active connection of the database, and its worker sends them to each
    one's address: a connection the day did not make (a real tool's) would be sent the day's
    orders. In process, the fakes' mount refuses every other address (``runner.NOWHERE``); a worker
    is another process, so the day does not start at all."""
    from integrations.models import Connection, ConnectionStatus

    active = list(
        Connection.objects.exclude(status=ConnectionStatus.PAUSED).values_list("name", flat=True)[:4]
    )
    if active:
        raise WorkersUnavailable(
            "A day with real workers needs a database of its own (make simulate-workers makes one): "
            f"this one has active connections ({', '.join(active)}), which its worker would send the "
            "day's changes to."
        )
    if settings.CELERY_TASK_ALWAYS_EAGER:
        raise WorkersUnavailable("Real workers need a broker: set CELERY_BROKER_URL.")
    if db_connection.vendor != "postgresql":
        raise WorkersUnavailable("Real workers need PostgreSQL: set DATABASE_URL.")


def run_with_workers(day_kwargs: dict[str, Any], *, log: Path) -> Report:
    """Run a day with a real worker (started here, killed once if the faults say so, stopped at the end)."""
    from erp.celery import app

    check_environment()
    app.control.purge()  # a previous run's leftovers are not this day's work
    worker = Worker(log)
    day = WorkersDay(worker=worker, **day_kwargs)
    day.report.mode = "workers"
    with ExitStack() as stack:
        stack.enter_context(override_settings(**FAST))
        stack.enter_context(_served(day))
        worker.start()
        stack.callback(worker.stop)
        report = day.run()
    report.worker.setdefault("killed", 0)
    report.worker["processes"] = "celery worker -c 2 (prefork), acks late"
    return report
