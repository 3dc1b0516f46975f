"""The project served by gunicorn for the HTTP scenarios, the clients that load it, and the
database's own counters.

Server: gunicorn on 127.0.0.1 (a free port), as docs/deploy.md runs it: ``BENCH_GUNICORN_WORKERS``
workers (two per CPU) of class ``BENCH_GUNICORN_CLASS`` (sync; ``gthread`` with
``BENCH_GUNICORN_THREADS`` threads each can be measured instead). Sync workers because they serve
more orders on the same CPUs: on 2 CPUs, three interleaved runs of ``orders_http`` at 8 clients
(2026-12-07, pgbench 3,449 tps) made 142 to 164 orders/s with 4 sync workers against 121 to 147
with 2 gthread workers of 4 threads (the better of each run's two measurements), at a median
9.5 ms of server CPU per order against 10.7: threads of one process take turns holding the GIL,
and every turn costs CPU. A sync worker closes each connection after its answer (the clients open
a new one), and the clients beyond the workers wait in the listen queue, as behind a proxy. DEBUG
off, the production settings, a Celery broker (``BENCH_BROKER_URL``, redis://127.0.0.1:6379/13: no
worker, the events stay in the outbox and their dispatch is only enqueued), gunicorn's default
30 s timeout, which kills a sync worker whose request runs longer. ``bench/gunicorn_conf.py``
counts the statements each worker runs. The requests say ``X-Forwarded-Proto: https``, as a TLS
proxy would (the production settings redirect plain HTTP).

Clients: threads of this process, each with one connection (http.client), kept alive as long as
the server keeps it, sending requests back to back; the process's own CPU time over the run is
reported, so that a client that ate the CPU the server needed would show.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.gunicorn_conf import COUNTS

ROOT = Path(__file__).resolve().parent.parent.parent
BROKER_URL = os.environ.get("BENCH_BROKER_URL", "redis://127.0.0.1:6379/13")
APPLICATION_NAME = "bench-gunicorn"  # PGAPPNAME of the server's connections

Request = tuple[str, str, bytes | None]  # method, path, body


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def check_broker() -> None:
    """The broker must answer, or every request would wait on it (and the figures be wrong)."""
    import redis

    try:
        redis.Redis.from_url(BROKER_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        raise RuntimeError(f"the Celery broker {BROKER_URL} does not answer ({exc}): start Redis") from exc


def queued_tasks() -> int:
    """The tasks waiting in the bench's broker (no worker takes them): the length of every queue."""
    import redis

    client = redis.Redis.from_url(BROKER_URL, socket_connect_timeout=2)
    return sum(int(client.llen(key)) for key in client.scan_iter() if client.type(key) == b"list")


def flush_broker() -> None:
    """Drop the dispatch tasks the requests enqueued (no worker runs them: the bench's own Redis db)."""
    import redis

    redis.Redis.from_url(BROKER_URL, socket_connect_timeout=2).flushdb()


class Server:
    """gunicorn serving erp.wsgi with the production settings; started and stopped per phase."""

    def __init__(self) -> None:
        self.workers = int(os.environ.get("BENCH_GUNICORN_WORKERS", str(2 * (os.cpu_count() or 1))))
        self.worker_class = os.environ.get("BENCH_GUNICORN_CLASS", "sync")
        self.threads = int(os.environ.get("BENCH_GUNICORN_THREADS", "4"))
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None
        self.stats_dir = tempfile.mkdtemp(prefix="bench-gunicorn-")
        self.log_path = Path(self.stats_dir) / "gunicorn.log"

    @property
    def label(self) -> str:
        threads = f"x{self.threads} threads" if self.worker_class == "gthread" else ""
        return f"gunicorn {self.workers} {self.worker_class} workers{threads}"

    def _threads(self) -> list[str]:
        """gthread's threads; nothing for sync: given threads, gunicorn would make it gthread."""
        if self.worker_class != "gthread":
            return []
        # A gthread worker accepts every connection it can (1,000 by default) and serves them on
        # its threads: 8 keep-alive clients all landed on ONE worker, and 1 -> 8 clients did not
        # scale. At most as many connections as threads spreads them over the workers.
        return ["--threads", str(self.threads), "--worker-connections", str(self.threads)]

    def command(self) -> list[str]:
        """The gunicorn command line of this server (on ``self.port``)."""
        return [
            str(Path(sys.executable).with_name("gunicorn")),
            "erp.wsgi:application",
            "--config",
            str(ROOT / "bench" / "gunicorn_conf.py"),
            "--bind",
            f"127.0.0.1:{self.port}",
            "--workers",
            str(self.workers),
            "--worker-class",
            self.worker_class,
            *self._threads(),
            "--keep-alive",
            "30",
            "--timeout",
            "30",
            "--log-level",
            "warning",
        ]

    def start(self) -> None:
        for stale in Path(self.stats_dir).glob("*.counts"):
            stale.unlink()
        self.port = _free_port()
        env = {
            **os.environ,
            "DEBUG": "0",
            "CELERY_BROKER_URL": BROKER_URL,
            "PGAPPNAME": APPLICATION_NAME,
            "BENCH_STATS_DIR": self.stats_dir,
            "PYTHONPATH": str(ROOT),
        }
        command = self.command()
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=log)
        log.close()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited ({self.process.returncode}):\n{self.log_tail()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"gunicorn did not listen within 60 s:\n{self.log_tail()}")

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None

    def remove_files(self) -> None:
        """The counts and the log, once read (the log is printed with any failure before)."""
        shutil.rmtree(self.stats_dir, ignore_errors=True)

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def statements(self) -> tuple[int, int, int]:
        """SQL statements, requests and write commits counted by the workers since this server
        started (bench/gunicorn_conf.py)."""
        statements = requests = commits = 0
        for path in Path(self.stats_dir).glob("*.counts"):
            data = path.read_bytes()
            if len(data) < COUNTS.size:  # a worker still starting: it has counted nothing yet
                continue
            s, r, c = COUNTS.unpack(data[: COUNTS.size])
            statements += s
            requests += r
            commits += c
        return statements, requests, commits


@dataclass
class Load:
    """What the clients saw: each request's latency, the wall time and this process's CPU time."""

    latencies: list[float] = field(default_factory=list)
    accepted: int = 0  # answers with an expected status, warm-up included (what was done)
    errors: list[str] = field(default_factory=list)
    answers: list[Any] = field(default_factory=list)  # the last answer of each client (JSON)
    wall: float = 0.0
    cpu: float = 0.0

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.wall if self.wall else 0.0

    @property
    def client_cpu_percent(self) -> float:
        return 100 * self.cpu / self.wall if self.wall else 0.0


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


CpuSnapshot = dict[int, tuple[str, int]]  # pid -> (kind, clock ticks of CPU so far)


def cpu_snapshot() -> CpuSnapshot:
    """Every process's CPU so far, by pid, with its kind: "gunicorn" (the server), "postgres" (every
    process of the cluster) or "other". Read from /proc (Linux); empty elsewhere."""
    found: CpuSnapshot = {}
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            command = (entry / "cmdline").read_bytes()
            stat = (entry / "stat").read_text()
        except OSError:  # it ended meanwhile
            continue
        fields = stat[stat.rfind(")") + 2 :].split()  # after "pid (comm) ": state, ppid, ...
        kind = "gunicorn" if b"gunicorn" in command else "postgres" if b"postgres" in command else "other"
        found[int(entry.name)] = (kind, int(fields[11]) + int(fields[12]))  # utime + stime
    return found


def cpu_used(before: CpuSnapshot, after: CpuSnapshot) -> dict[str, float]:
    """CPU seconds each kind of process used between two snapshots (a process started between
    them counts from nothing; one that ended is not counted)."""
    ticks = os.sysconf("SC_CLK_TCK")
    used: dict[str, float] = {}
    for pid, (kind, total) in after.items():
        was = before.get(pid)
        used[kind] = used.get(kind, 0.0) + (total - (was[1] if was and was[0] == kind else 0)) / ticks
    return used


class Client:
    """One keep-alive connection; reconnects once when the server closed it between requests."""

    def __init__(self, port: int, token: str, timeout: float = 60) -> None:
        self.port = port
        self.timeout = timeout
        self.headers = {
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json",
            "Accept": "application/json",
            "X-Forwarded-Proto": "https",
            "Host": "127.0.0.1",
        }
        self.connection: http.client.HTTPConnection | None = None

    def request(self, method: str, path: str, body: bytes | None = None) -> tuple[int, bytes]:
        for attempt in (1, 2):
            if self.connection is None:
                self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
            try:
                self.connection.request(method, path, body=body, headers=self.headers)
                response = self.connection.getresponse()
                return response.status, response.read()
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                self.close()
                if attempt == 2 or method != "GET":  # a POST is not sent twice: it may have been done
                    raise
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None


def run_load(
    port: int,
    token: str,
    make: Callable[[int], Request],
    *,
    clients: int,
    seconds: float,
    max_requests: int,
    expect: Sequence[int] = (200,),
    warmup: int = 0,
    warmed: Callable[[], None] | None = None,
) -> Load:
    """``clients`` threads sending ``make(k)`` (k = 0, 1, ... over all clients) back to back until
    ``max_requests`` are done or ``seconds`` have passed; each first sends ``warmup`` untimed
    requests (imports, caches, prepared plans), then ``warmed()`` is called (as the timed requests
    begin). Any status not in ``expect`` is an error."""
    load = Load()
    lock = threading.Lock()
    counter = iter(range(10**9))
    started = threading.Barrier(clients + 1)
    deadline = [0.0]

    def take() -> int | None:
        with lock:
            k = next(counter)
            if k >= max_requests + warmup * clients or (deadline[0] and time.perf_counter() > deadline[0]):
                return None
            return k

    def work() -> None:
        client = Client(port, token)
        last: Any = None
        try:
            for _ in range(warmup):
                k = take()
                if k is None:
                    break
                method, path, body = make(k)
                status, content = client.request(method, path, body)
                with lock:
                    if status in expect:
                        load.accepted += 1
                    else:
                        load.errors.append(f"{method} {path}: {status} {content[:300]!r}")
            started.wait()
            while True:
                k = take()
                if k is None:
                    break
                method, path, body = make(k)
                begin = time.perf_counter()
                status, content = client.request(method, path, body)
                elapsed = time.perf_counter() - begin
                with lock:
                    if status in expect:
                        load.latencies.append(elapsed)
                        load.accepted += 1
                    else:
                        load.errors.append(f"{method} {path}: {status} {content[:300]!r}")
                last = content
        except Exception as exc:
            with lock:
                load.errors.append(f"{type(exc).__name__}: {exc}")
            if started.n_waiting and not started.broken:
                started.abort()
        finally:
            client.close()
            if last is not None:
                with lock:
                    load.answers.append(json.loads(last) if last[:1] in (b"{", b"[") else last)

    threads = [threading.Thread(target=work, daemon=True) for _ in range(clients)]
    for thread in threads:
        thread.start()
    with contextlib.suppress(threading.BrokenBarrierError):
        started.wait(timeout=300)
    if warmed is not None:
        warmed()
    cpu = _cpu_seconds()
    begin = time.perf_counter()
    deadline[0] = begin + seconds
    for thread in threads:
        thread.join()
    load.wall = time.perf_counter() - begin
    load.cpu = _cpu_seconds() - cpu
    return load


def one_request(
    port: int, token: str, method: str, path: str, body: Any = None, timeout: float = 120
) -> tuple[int, Any, float]:
    """One request on a new connection: status, JSON answer (or text) and seconds."""
    client = Client(port, token, timeout=timeout)
    data = json.dumps(body).encode() if body is not None else None
    begin = time.perf_counter()
    try:
        status, content = client.request(method, path, data)
    except (OSError, http.client.HTTPException) as exc:
        return 0, f"{type(exc).__name__}: {exc}", time.perf_counter() - begin
    finally:
        client.close()
    elapsed = time.perf_counter() - begin
    try:
        return status, json.loads(content), elapsed
    except ValueError:
        return status, content[:300].decode(errors="replace"), elapsed


@dataclass(frozen=True)
class DatabaseCounters:
    commits: int
    rollbacks: int
    inserted: int
    updated: int
    deleted: int

    def __sub__(self, other: DatabaseCounters) -> DatabaseCounters:
        return DatabaseCounters(
            self.commits - other.commits,
            self.rollbacks - other.rollbacks,
            self.inserted - other.inserted,
            self.updated - other.updated,
            self.deleted - other.deleted,
        )


def database_counters() -> DatabaseCounters:
    """pg_stat_database for the bench database, once the server's connections have gone.

    A backend sends its counters when it ends (or, busy, at most once a second; idle, up to 10 s
    later): so the harness's own connection is closed first, and the figures are read only when
    no connection of the (stopped) server is left.
    """
    from django.db import connection, connections

    connections.close_all()
    deadline = time.monotonic() + 30
    with connection.cursor() as cursor:
        while True:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND application_name = %s",
                [APPLICATION_NAME],
            )
            if cursor.fetchone()[0] == 0 or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT xact_commit, xact_rollback, tup_inserted, tup_updated, tup_deleted "
            "FROM pg_stat_database WHERE datname = current_database()"
        )
        row = cursor.fetchone()
    connections.close_all()  # this connection's own counters are sent now, not later inside a window
    return DatabaseCounters(*row)


def superuser_token(username: str) -> tuple[Any, str]:
    """A superuser and an API key with every scope and no rate limit."""
    from django.contrib.auth import get_user_model

    from erp.services import api_key_create

    user = get_user_model().objects.create_superuser(username=username, email="", password=None)
    return user, api_key_create(user=user, name="bench", rate_limit_per_minute=0).raw_key


def remove_user(user: Any) -> None:
    from django.contrib.auth import get_user_model

    from erp.models import ApiKey

    if user is not None:
        ApiKey.objects.filter(user=user).delete()
        get_user_model().objects.filter(pk=user.pk).delete()
