"""Real processes for tests: a Celery worker, a Redis server, a gunicorn server, free ports.

Shared by the tests that go through real processes (tests/erp/test_worker.py,
tests/erp/test_broker_down.py). Each helper is a context manager that stops what it
started, even when the test fails.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import pytest
from django.db import connection

from erp.celery import app

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent


def worker_database_url() -> str:
    """The URL of the database this test process uses (the test database), for other processes."""
    s = connection.settings_dict
    user = s["USER"] or "postgres"
    return f"postgres://{user}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def reset_connection_pools() -> None:
    """Make the app connect anew with its current broker_url.

    kombu keeps connection and producer pools in global registries that the app's
    pools come from (even eager tasks acquire a producer in Celery 5.7): reset those,
    not just the app's handles, or later tests acquire from a closed pool.
    """
    from kombu import pools

    pools.reset()
    app._pool = None  # type: ignore[attr-defined]
    app.amqp._producer_pool = None  # type: ignore[attr-defined]


@contextmanager
def broker_for_this_process(broker_url: str) -> Iterator[str]:
    """Point this process's Celery app at ``broker_url`` (no eager mode) until the block ends."""
    saved = {"broker_url": app.conf.broker_url, "task_always_eager": app.conf.task_always_eager}
    app.conf.update(broker_url=broker_url, task_always_eager=False)
    reset_connection_pools()
    try:
        yield broker_url
    finally:
        app.conf.update(**saved)
        reset_connection_pools()


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on (closed again at once: nothing will answer)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until(check: Callable[[], bool], *, timeout: float, what: str, interval: float = 0.2) -> None:
    """Poll ``check`` until it is true; fail the test with ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


def stop(process: subprocess.Popen[str], *, timeout: float = 20) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=timeout)


def _wait_for_line(process: subprocess.Popen[str], marker: str, *, timeout: float, what: str) -> None:
    assert process.stdout is not None
    deadline = time.monotonic() + timeout
    seen: list[str] = []
    for line in process.stdout:
        seen.append(line)
        if marker in line:
            return
        if time.monotonic() > deadline or process.poll() is not None:
            break
    pytest.fail(f"{what} did not start:\n{''.join(seen[-30:])}")


@contextmanager
def celery_worker(broker_url: str, **extra_env: str) -> Iterator[subprocess.Popen[str]]:
    """A real Celery worker (solo pool, both queues) on ``broker_url`` and the test database."""
    env = {
        **os.environ,
        "DATABASE_URL": worker_database_url(),
        "CELERY_BROKER_URL": broker_url,
        "DJANGO_SETTINGS_MODULE": "erp.settings",
        **extra_env,
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
            f"--hostname=test-worker-{os.getpid()}-{time.monotonic_ns()}@%h",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        _wait_for_line(process, "ready.", timeout=60, what="the Celery worker")
        yield process
    finally:
        stop(process)


@contextmanager
def redis_server(port: int) -> Iterator[subprocess.Popen[str]]:
    """A throw-away redis-server on 127.0.0.1:``port`` (no persistence), stopped at the end."""
    process = subprocess.Popen(
        [
            "redis-server",
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--daemonize",
            "no",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        _wait_for_line(process, "Ready to accept connections", timeout=30, what=f"redis-server on {port}")
        yield process
    finally:
        stop(process)


@dataclass
class Server:
    url: str
    process: subprocess.Popen[str]
    log: IO[str]

    def output(self) -> str:
        """What the server printed so far (its error tracebacks among it)."""
        self.log.flush()
        self.log.seek(0)
        return self.log.read()


@contextmanager
def gunicorn_server(*, workers: int = 2, **extra_env: str) -> Iterator[Server]:
    """The project served by gunicorn (erp.wsgi) on a free loopback port, on the test database.

    ``extra_env`` sets or overrides its environment (e.g. CELERY_BROKER_URL).
    """
    import httpx

    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": worker_database_url(),
        "DJANGO_SETTINGS_MODULE": "erp.settings",
        **extra_env,
    }
    with tempfile.TemporaryFile("w+") as log:
        process = subprocess.Popen(
            [
                str(VENV_BIN / "gunicorn"),
                "erp.wsgi",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                str(workers),
                "--timeout",
                "60",
                "--no-control-socket",  # gunicorn 27 would share one socket in $HOME between servers
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
        )
        server = Server(f"http://127.0.0.1:{port}", process, log)

        def answers() -> bool:
            if process.poll() is not None:
                pytest.fail(f"gunicorn exited with {process.returncode}:\n{server.output()[-3000:]}")
            try:
                httpx.get(f"{server.url}/api/v1/health", timeout=10)  # 503 while a service is down
            except httpx.TransportError:
                return False
            return True

        try:
            wait_until(answers, timeout=60, what="gunicorn to answer HTTP")
            yield server
        finally:
            stop(process)
