#!/usr/bin/env python
"""Profile order ingest in process: where the CPU of ``POST /api/v1/sales/orders`` goes.

    .venv/bin/python bench/profile_orders.py [--n 300] [--warmup 20] [--top 30] [--keep-db]
                                             [--no-profile] [--sql] [--floor] [--stages]

The same orders as the ``orders_http`` scenario (its fixture and body: 3 lines by SKU with 20 %
VAT, ``"confirm": true``, a superuser's API key without rate limit), sent through Django's WSGI
handler in this process, as gunicorn calls it: the production settings (DEBUG off, the request
says ``X-Forwarded-Proto: https``), every middleware, authentication, django-ninja, the services,
the answer, and ``request_finished`` (the connection's end-of-request checks). A Celery broker is
configured (``PROFILE_BROKER_URL``, default redis://127.0.0.1:6379/12, flushed at the end), so the
events' dispatch is only enqueued, as in the bench's server.

Database: ``PROFILE_DATABASE_URL`` (default postgres://postgres@127.0.0.1:5432/erp_profile_bench;
the name must contain "bench": it is dropped) is created and migrated, or with ``--keep-db`` kept
between runs (migrated only when it is new or behind). The fixture is removed at the end.

Printed: CPU ms per order (this process's ``time.process_time``, which is Django's and the
driver's work, not PostgreSQL's), wall ms per order, SQL statements and write commits per order
(counted as bench/gunicorn_conf.py counts them), all without the profiler; then, under cProfile,
the top functions by cumulative and by own time. ``--sql`` prints the statements of one order.

``--stages`` prints the CPU of each stage of the request (``STAGES``: the API key, the body, the
reads, ``order_place``, the answer) and what is left around them (WSGI, middleware, URL, the
connection's checks), each timed by wrapping its function with ``time.process_time``: its own
figures, not cProfile's, which inflate code made of many small calls (on 2026-12-07: 8.1 ms per
order, of which order_place 4.8, the reads 1.1, the answer 0.95, bench/README.md).

``--floor`` prints the driver's floor beside the order's CPU: the statements of one order,
captured as the app ran them, replayed through a plain psycopg connection (prepared, bound on the
server, every row fetched) in a transaction that is rolled back, and the CPU of one replay. It is
what these statements cost this process below Django and the app's code, whoever writes them: on
2026-12-07, 3.9 ms of an order's 12.5 ms (an empty transaction of one statement: 0.28 ms).
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import functools
import io
import os
import pstats
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import database, run  # noqa: E402  (after the path is set)

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/erp_profile_bench"
DEFAULT_BROKER_URL = "redis://127.0.0.1:6379/12"
BLOCK = 25  # orders per block of the CPU figures


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--n", type=int, default=300, help="orders measured, then profiled (default 300)")
    parser.add_argument("--warmup", type=int, default=20, help="untimed orders first (default 20)")
    parser.add_argument("--top", type=int, default=30, help="functions shown per table (default 30)")
    parser.add_argument("--keep-db", action="store_true", help="keep the database (reused when it exists)")
    parser.add_argument("--no-profile", action="store_true", help="only the figures, no cProfile pass")
    parser.add_argument("--sql", action="store_true", help="print the SQL statements of one order")
    parser.add_argument(
        "--floor", action="store_true", help="also replay one order's statements through plain psycopg"
    )
    parser.add_argument("--wall", action="store_true", help="profile wall time, not CPU time")
    parser.add_argument("--stages", action="store_true", help="also time each stage of the request")
    parser.add_argument("--dump", type=Path, help="also write the raw cProfile stats there (pstats file)")
    return parser.parse_args(argv)


def prepare_database(db: database.BenchDatabase, *, keep: bool) -> None:
    """Create the database (dropped first unless kept and present), then migrate it if needed."""
    import psycopg

    exists = False
    with psycopg.connect(db.admin_url, autocommit=True) as conn:
        exists = (
            conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [db.name]).fetchone() is not None
        )
    if not (keep and exists):
        database.recreate_database(db)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    if executor.migration_plan(executor.loader.graph.leaf_nodes()):
        print(f"migrating {db.name} ...", file=sys.stderr)
        call_command("migrate", verbosity=0, interactive=False)


def call(application: Any, method: str, url: str, token: str, body: bytes = b"") -> tuple[str, bytes]:
    """One request through Django's WSGI handler, as gunicorn calls it (the production settings'
    ``X-Forwarded-Proto: https``, an API key): its status line and its body."""
    path, _, query = url.partition("?")
    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SCRIPT_NAME": "",
        "SERVER_NAME": "localhost",
        "SERVER_PORT": "443",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": str(len(body)),
        "HTTP_HOST": "localhost",
        "HTTP_AUTHORIZATION": f"Bearer {token}",
        "HTTP_X_FORWARDED_PROTO": "https",
        "HTTP_ACCEPT": "application/json",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.url_scheme": "http",
        "wsgi.version": (1, 0),
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    status: list[str] = []

    def start_response(code: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        status.append(code)
        return lambda data: None

    response = application(environ, start_response)
    try:
        content = b"".join(response)
    finally:
        response.close()  # request_finished: what gunicorn's worker triggers after each request
    return (status[0] if status else ""), content


class Poster:
    """POST one order through Django's WSGI handler, as gunicorn would."""

    def __init__(self, token: str, body: Callable[[int], bytes], url: str) -> None:
        from django.core.wsgi import get_wsgi_application

        self.application = get_wsgi_application()
        self.token = token
        self.body = body
        self.url = url

    def __call__(self, i: int) -> None:
        status, content = call(self.application, "POST", self.url, self.token, self.body(i))
        if not status.startswith("201"):
            raise AssertionError(f"POST {self.url}: {status} {content[:500]!r}")


_commits_counted: list[bool] = []


def figures(post: Poster, first: int, n: int) -> dict[str, float | str]:
    """CPU and wall ms per order, statements and commits per order, without the profiler."""
    from django.db import connection

    from bench import gunicorn_conf

    if not _commits_counted:
        gunicorn_conf._count_commits()  # patches the connection's commit to count, once per process
        _commits_counted.append(True)
    counts = gunicorn_conf._counts
    before = dict(counts)
    blocks: list[float] = []  # CPU ms per order of each block of BLOCK orders
    with connection.execute_wrapper(gunicorn_conf._count):
        cpu, wall, system = time.process_time(), time.perf_counter(), os.times().system
        block = cpu
        for k, i in enumerate(range(first, first + n), 1):
            post(i)
            if k % BLOCK == 0:
                now = time.process_time()
                blocks.append((now - block) / BLOCK * 1000)
                block = now
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        system = os.times().system - system
    return {
        "cpu ms/order": cpu / n * 1000,
        # The kernel's share of it: the system calls of each round trip to PostgreSQL.
        "of which system ms/order": system / n * 1000,
        # On a shared machine other work slows this one down in bursts: the best blocks say what
        # an order costs when it has a core to itself.
        "cpu ms/order, median block": statistics.median(blocks) if blocks else cpu / n * 1000,
        # each block's figure, in order: how much the machine moved during the run
        "blocks": " ".join(f"{b:.1f}" for b in blocks),
        "cpu ms/order, best block": min(blocks) if blocks else cpu / n * 1000,
        "wall ms/order": wall / n * 1000,
        "statements/order": (counts["statements"] - before["statements"]) / n,
        "commits/order": (counts["commits"] - before["commits"]) / n,
    }


# The stages of an order's request: (module, attribute, what it does). Each is timed by wrapping
# the attribute the request's code calls it by (``sales.api.orders`` calls ``services.order_place``
# and its own ``get_or_404``), its outermost call only (``_constructed`` calls itself).
STAGES = (
    ("ninja.operation", "Operation._run_checks", "the API key (ninja's checks)"),
    ("ninja.operation", "Operation._get_values", "the body, parsed and validated"),
    ("sales.api.orders", "get_or_404", "the channel and the customer, read"),
    ("sales.api.orders", "_line_specs", "the products, read"),
    ("sales.services", "order_place", "order_place: validated, priced, written, reserved"),
    ("sales.api.orders", "_placed_detail", "the answer: the rows as stored"),
    ("sales.api.orders", "_constructed", "the answer: its schema built"),
    ("ninja.operation", "Operation._result_to_response", "the answer: dumped and rendered"),
)


@contextlib.contextmanager
def timed_stages(spent: dict[str, float]) -> Iterator[None]:
    """Add the CPU seconds of each of ``STAGES`` to ``spent`` while the block runs."""
    import importlib

    undo: list[tuple[Any, str, Any]] = []

    def wrap(label: str, function: Callable[..., Any]) -> Callable[..., Any]:
        depth = [0]

        @functools.wraps(function)
        def timed(*args: Any, **kwargs: Any) -> Any:
            if depth[0]:
                return function(*args, **kwargs)
            depth[0] += 1
            started = time.process_time()
            try:
                return function(*args, **kwargs)
            finally:
                spent[label] = spent.get(label, 0.0) + time.process_time() - started
                depth[0] -= 1

        return timed

    try:
        for module_name, path, label in STAGES:
            owner: Any = importlib.import_module(module_name)
            *parents, name = path.split(".")
            for parent in parents:
                owner = getattr(owner, parent)
            original = owner.__dict__[name] if isinstance(owner, type) else getattr(owner, name)
            undo.append((owner, name, original))
            setattr(owner, name, wrap(label, original))
        yield
    finally:
        for owner, name, original in reversed(undo):
            setattr(owner, name, original)


def stages(post: Poster, first: int, n: int) -> dict[str, float]:
    """CPU ms per order of each stage, and of the whole request, over ``n`` orders."""
    spent: dict[str, float] = {}
    with timed_stages(spent):
        started = time.process_time()
        for i in range(first, first + n):
            post(i)
        total = time.process_time() - started
    by_stage = {label: spent.get(label, 0.0) / n * 1000 for _, _, label in STAGES}
    by_stage["the rest: WSGI, middleware, URL, the connection's checks"] = total / n * 1000 - sum(
        by_stage.values()
    )
    by_stage["the whole request"] = total / n * 1000
    return by_stage


def print_sql(post: Poster, i: int) -> None:
    from django.db import connection

    statements: list[str] = []

    def keep(execute: Any, sql: str, params: Any, many: bool, context: dict[str, Any]) -> Any:
        statements.append(sql if len(sql) < 400 else sql[:400] + " ...")
        return execute(sql, params, many, context)

    with connection.execute_wrapper(keep):
        post(i)
    print(f"\nSQL of one order ({len(statements)} statements):")
    for k, sql in enumerate(statements, 1):
        print(f"{k:3}. {sql}")


def driver_floor(post: Poster, i: int, n: int, conninfo: str) -> dict[str, float]:
    """CPU ms of one replay of order ``i``'s statements through plain psycopg, and of an empty
    transaction of one statement, the better of three blocks of ``n`` each (see the module). Each
    replay gives the order's number and the events' UUIDs new values: they are unique."""
    import re
    import uuid

    import psycopg
    from django.db import connection

    captured: list[tuple[str, Any]] = []

    def keep(execute: Any, sql: str, params: Any, many: bool, context: dict[str, Any]) -> Any:
        captured.append((sql, params))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(keep):
        post(i)
    number = re.compile(r"SO-\d+")
    run_no = [0]

    def fresh(value: Any) -> Any:
        if isinstance(value, str) and number.fullmatch(value):
            return f"FLOOR-{run_no[0]}"
        if isinstance(value, uuid.UUID):
            return uuid.uuid4()
        if isinstance(value, list):
            return [fresh(item) for item in value]
        return value

    keyed = re.compile(r'INSERT INTO "\w+" \(("id", [^)]*)\)')
    new_key = [0]

    def fresh_row_keys(sql: str, params: list[Any]) -> list[Any]:
        """The rows an INSERT writes with their keys (erp.statements.assign_keys) take keys of their
        own (negative: no row has one), as the app's would: the order's rows are committed."""
        found = keyed.match(sql)
        if found is None:
            return params
        width = found.group(1).count(",") + 1
        for at in range(0, len(params), width):
            new_key[0] -= 1
            params[at] = new_key[0]
        return params

    with psycopg.connect(conninfo, autocommit=True, prepare_threshold=0) as raw:

        def replay() -> None:
            run_no[0] += 1
            with raw.transaction(force_rollback=True), raw.cursor() as cursor:
                for sql, params in captured:
                    values = fresh_row_keys(sql, [fresh(v) for v in params]) if params else params
                    cursor.execute(sql, values, prepare=True)
                    if cursor.description is not None:
                        cursor.fetchall()

        def empty() -> None:
            with raw.transaction(force_rollback=True):
                raw.execute("SELECT 1")

        figures: dict[str, float] = {}
        for name, step in (("driver floor ms/order", replay), ("empty transaction ms", empty)):
            for _ in range(20):  # the statements prepared, the caches warm
                step()
            blocks = []
            for _ in range(3):
                cpu = time.process_time()
                for _ in range(n):
                    step()
                blocks.append((time.process_time() - cpu) / n * 1000)
            figures[name] = min(blocks)
    figures["statements replayed"] = float(len(captured))
    return figures


def profile(post: Poster, first: int, n: int, *, top: int, dump: Path | None, wall: bool) -> float:
    # CPU time by default: the time spent waiting for PostgreSQL is not this process's cost.
    profiler = cProfile.Profile(time.perf_counter if wall else time.process_time)
    cpu = time.process_time()
    profiler.enable()
    for i in range(first, first + n):
        post(i)
    profiler.disable()
    cpu = time.process_time() - cpu
    if dump is not None:
        profiler.dump_stats(str(dump))
    for key, title in (("cumulative", "cumulative time"), ("tottime", "own time")):
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out)
        stats.sort_stats(key).print_stats(top)
        text = out.getvalue()
        start = text.find("   ncalls")
        clock = "wall" if wall else "CPU"
        print(f"\nTop {top} functions by {title} ({n} orders, {clock} seconds over all of them):")
        print(text[start:] if start >= 0 else text)
    return cpu / n * 1000


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    os.environ["BENCH_DATABASE_URL"] = os.environ.get("PROFILE_DATABASE_URL", DEFAULT_DATABASE_URL)
    db = database.bench_database()
    database.configure_environment(db)
    # Set after configure_environment (which drops it for the eager harness): enqueue, never dispatch.
    os.environ["CELERY_BROKER_URL"] = os.environ.get("PROFILE_BROKER_URL", DEFAULT_BROKER_URL)
    prepare_database(db, keep=args.keep_db)

    import logging

    import redis
    from django.conf import settings
    from django.db import connections

    from bench.scenarios import _http, orders_http

    if settings.CELERY_TASK_ALWAYS_EAGER:
        print("Celery is eager: CELERY_BROKER_URL was not taken", file=sys.stderr)
        return 2
    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL, socket_connect_timeout=2)
    broker.ping()
    logging.getLogger("django.request").setLevel(logging.ERROR)  # a failed order raises below

    fixture = orders_http._fixture  # the scenario's own fixture and body
    user = None
    try:
        fixture.make()
        user, token = _http.superuser_token("profile-orders")
        post = Poster(token, orders_http._body, orders_http.URL)
        sent = 0
        for i in range(args.warmup):  # imports, URL resolver, schemas, the connection: not measured
            post(sent + i)
        sent += args.warmup
        if args.sql:
            print_sql(post, sent)
            sent += 1
        plain = figures(post, sent, args.n)
        sent += args.n
        load = os.getloadavg()
        print(
            f"\n{args.n} orders (3 lines, confirmed), in process through the WSGI handler, "
            f"load {load[0]:.2f}/{load[1]:.2f}/{load[2]:.2f}, {run.interpreter()}:"
        )
        for name, value in plain.items():
            print(f"  {name:28} {value:8.2f}" if isinstance(value, float) else f"  {name:28} {value}")
        if args.floor:
            floor = driver_floor(post, sent, max(args.n // 3, 1), db.django_url)
            sent += 1
            print("\nThe driver's floor (one order's statements replayed through plain psycopg):")
            for name, value in floor.items():
                print(f"  {name:28} {value:8.2f}")
        if args.stages:
            timed = stages(post, sent, args.n)
            sent += args.n
            whole = timed["the whole request"]
            print(f"\nWhere an order's CPU goes ({args.n} orders, each stage's function timed):")
            for name, value in timed.items():
                print(f"  {value:6.2f} ms {100 * value / whole:5.1f} %  {name}")
        if not args.no_profile:
            profiled = profile(post, sent, args.n, top=args.top, dump=args.dump, wall=args.wall)
            sent += args.n
            print(f"CPU under cProfile: {profiled:.2f} ms/order (the profiler's overhead included)")
        fixture.expected = sent
        fixture.check()
    finally:
        fixture.remove(user=user)
        broker.flushdb()
        connections.close_all()
        if not args.keep_db:
            database.drop_database(db)
    return 0


if __name__ == "__main__":
    sys.exit(main())
