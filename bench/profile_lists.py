#!/usr/bin/env python
"""Profile the lists in process: the CPU and the database time of each ``lists_http`` request.

    .venv/bin/python bench/profile_lists.py [--n 40] [--only products moves] [--profile VARIANT]
                                            [--top 30] [--sql]

Runs against the database the bench kept (``make bench BENCH_ARGS="--only lists_http
--keep-db"`` makes it: ``BENCH_DATABASE_URL``, default erp_bench, with the large fixture). Each
request of the ``lists_http`` scenario (products, levels, moves: page 1, page 1000, ``q``, the
cursor of page 1000) goes through Django's WSGI handler in this process, as gunicorn calls it: the
production settings (DEBUG off), every middleware, the API key, django-ninja, the answer and
``request_finished``.

Printed per request, the median over ``--n`` requests: this process's CPU ms
(``time.process_time``: Django's and the driver's work) and wall ms; what is left of the wall
time is the database's (and the machine's other work): on a quiet machine, wall minus CPU is
about what PostgreSQL took. ``--sql`` prints each statement of one request with its own wall
time. ``--profile "moves page 1000"`` then profiles that request under cProfile (CPU time).
The median of the process's CPU is the steady figure on a shared machine; the bench's p95 with
8 clients is roughly four times a request's whole cost (2 CPUs, 8 requests at once).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import database  # noqa: E402  (after the path is set)
from bench.profile_orders import call  # noqa: E402

LISTS = ("products", "levels", "moves")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--n", type=int, default=40, help="requests per figure (default 40)")
    parser.add_argument("--only", nargs="*", choices=LISTS, default=list(LISTS))
    parser.add_argument("--profile", help='profile one request, e.g. "moves page 1000"')
    parser.add_argument("--top", type=int, default=30, help="functions shown per table (default 30)")
    parser.add_argument("--sql", action="store_true", help="print each statement of one request, timed")
    parser.add_argument("--dump", type=Path, help="also write the raw cProfile stats there (pstats file)")
    return parser.parse_args(argv)


class Getter:
    """GET one path through Django's WSGI handler, as gunicorn would."""

    def __init__(self, token: str) -> None:
        from django.core.wsgi import get_wsgi_application

        self.application = get_wsgi_application()
        self.token = token

    def __call__(self, url: str) -> bytes:
        status, content = call(self.application, "GET", url, self.token)
        if not status.startswith("200"):
            raise AssertionError(f"GET {url}: {status} {content[:500]!r}")
        return content


def requests_of(get: Getter, name: str) -> dict[str, str]:
    """The scenario's four requests of one list (the cursor read from the answer of page 1000)."""
    import json

    from bench.scenarios import lists_http

    base = f"{lists_http.BASE}/{name}"
    urls = {"page 1": f"{base}?page=1", "page 1000": f"{base}?page=1000", "q": f"{base}?q=duct%204242"}
    cursor = lists_http._cursor_of(json.loads(get(urls["page 1000"])))
    if cursor:
        urls["cursor"] = f"{base}?cursor={cursor}"
    return urls


def measure(get: Getter, url: str, n: int) -> tuple[float, float]:
    for _ in range(3):
        get(url)  # warm: the URL's schemas, the connection, the planner's cache
    cpu: list[float] = []
    wall: list[float] = []
    for _ in range(n):
        c, w = time.process_time(), time.perf_counter()
        get(url)
        cpu.append((time.process_time() - c) * 1000)
        wall.append((time.perf_counter() - w) * 1000)
    return statistics.median(cpu), statistics.median(wall)


def print_sql(get: Getter, url: str) -> None:
    from django.db import connection

    timed: list[tuple[float, str]] = []

    def keep(execute: Any, sql: str, params: Any, many: bool, context: dict[str, Any]) -> Any:
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            shown = sql if len(sql) < 300 else sql[:300] + " ..."
            timed.append(((time.perf_counter() - start) * 1000, shown))

    with connection.execute_wrapper(keep):
        get(url)
    for ms, sql in timed:
        print(f"    {ms:7.2f} ms  {sql}")


def profile(get: Getter, url: str, n: int, top: int, dump: Path | None) -> None:
    profiler = cProfile.Profile(time.process_time)
    profiler.enable()
    for _ in range(n):
        get(url)
    profiler.disable()
    if dump is not None:
        profiler.dump_stats(str(dump))
    for key in ("cumulative", "tottime"):
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats(key).print_stats(top)
        text = out.getvalue()
        print(f"\nTop {top} by {key} ({n} requests of {url}):")
        print(text[text.find("   ncalls") :])


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    db = database.bench_database()
    database.configure_environment(db)
    import django

    django.setup()
    from bench.scenarios import _http

    user, token = _http.superuser_token(f"profile-lists-{os.getpid()}")
    try:
        get = Getter(token)
        load = os.getloadavg()
        print(f"{args.n} requests each, medians, load {load[0]:.2f}/{load[1]:.2f}/{load[2]:.2f}")
        print(f"  {'request':22} {'CPU ms':>7} {'wall ms':>8}")
        chosen: str | None = None
        for name in args.only:
            for variant, url in requests_of(get, name).items():
                cpu, wall = measure(get, url, args.n)
                print(f"  {name + ' ' + variant:22} {cpu:7.2f} {wall:8.2f}")
                if args.sql:
                    print_sql(get, url)
                if args.profile == f"{name} {variant}":
                    chosen = url
        if chosen:
            profile(get, chosen, args.n, args.top, args.dump)
    finally:
        _http.remove_user(user)
    return 0


if __name__ == "__main__":
    sys.exit(main())
