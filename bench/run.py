#!/usr/bin/env python
"""Run the benchmark scenarios against a fresh PostgreSQL database and print one table.

    bench/run.py [--only NAME ...] [--n N] [--keep-db]

The database named by BENCH_DATABASE_URL (default
postgres://postgres@127.0.0.1:5432/erp_bench) is dropped and created again
through the server's ``postgres`` database, migrated, used, and dropped at the
end unless --keep-db. Celery runs eagerly in process: no broker is needed.
See bench/README.md.
"""

from __future__ import annotations

import argparse
import base64
import importlib
import logging
import os
import pkgutil
import secrets
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

if TYPE_CHECKING:
    from bench.scenario import Scenario

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/erp_bench"
DEFAULT_DATABASE_NAME = "erp_bench"
POSTGRES_SCHEMES = {"postgres", "postgresql", "pgsql", "psql"}


@dataclass(frozen=True)
class BenchDatabase:
    name: str
    django_url: str  # for DATABASE_URL
    admin_url: str  # the server's `postgres` database, to drop and create `name`


def bench_database() -> BenchDatabase:
    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL)
    parts = urlsplit(url)
    if parts.scheme not in POSTGRES_SCHEMES:
        sys.exit(f"BENCH_DATABASE_URL must be a postgres:// URL, not {url!r}")
    name = unquote(parts.path.lstrip("/")) or DEFAULT_DATABASE_NAME
    if "bench" not in name:
        # This database is dropped: refuse anything that does not look like a throwaway one.
        sys.exit(f"Refusing to drop database {name!r}: a benchmark database's name must contain 'bench'")
    return BenchDatabase(
        name=name,
        django_url=urlunsplit(parts._replace(path=f"/{name}")),
        admin_url=urlunsplit(parts._replace(path="/postgres")),
    )


def recreate_database(db: BenchDatabase) -> str:
    """Drop and create the benchmark database; return the server's version."""
    import psycopg
    from psycopg import sql

    with psycopg.connect(db.admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(db.name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(db.name)))
        return conn.info.parameter_status("server_version") or "unknown"


def drop_database(db: BenchDatabase) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(db.admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(db.name)))


def configure_environment(db: BenchDatabase) -> None:
    """Environment for erp.settings; must run before django.setup()."""
    os.environ["DJANGO_SETTINGS_MODULE"] = "erp.settings"
    os.environ["DATABASE_URL"] = db.django_url
    # Tasks run eagerly in this process: the on-commit dispatch is part of the measurement.
    if os.environ.pop("CELERY_BROKER_URL", None):
        print("note: CELERY_BROKER_URL ignored, tasks run eagerly in process", file=sys.stderr)
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    # Measure as production runs (no per-query debug logging), unless DEBUG is set explicitly.
    os.environ.setdefault("DEBUG", "0")
    os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
    os.environ.setdefault("FIELD_ENCRYPTION_KEY", base64.urlsafe_b64encode(secrets.token_bytes(32)).decode())


def discover() -> dict[str, Scenario]:
    import bench.scenarios
    from bench.scenario import Scenario

    found: dict[str, Scenario] = {}
    for info in sorted(pkgutil.iter_modules(bench.scenarios.__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"bench.scenarios.{info.name}")
        scenario = getattr(module, "SCENARIO", None)
        if not isinstance(scenario, Scenario):
            raise TypeError(f"bench/scenarios/{info.name}.py must define SCENARIO = Scenario(...)")
        if scenario.name in found:
            raise ValueError(f"Two scenarios are named {scenario.name!r}")
        found[scenario.name] = scenario
    return found


class QueryCounter:
    """A connection.execute_wrapper counting every SQL statement run through Django."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(
        self, execute: Callable[..., Any], sql: str, params: Any, many: bool, context: dict[str, Any]
    ) -> Any:
        self.count += 1
        return execute(sql, params, many, context)


@dataclass(frozen=True)
class Result:
    name: str
    seconds: list[float]
    queries: list[int]

    @property
    def operations(self) -> int:
        return len(self.seconds)

    @property
    def ops_per_second(self) -> float:
        total = sum(self.seconds)
        return self.operations / total if total else 0.0

    def percentile_ms(self, p: float) -> float:
        return percentile(self.seconds, p) * 1000

    @property
    def queries_per_operation(self) -> float:
        return sum(self.queries) / len(self.queries) if self.queries else 0.0


def percentile(values: Sequence[float], p: float) -> float:
    """The p-th percentile (0-100), linearly interpolated between closest ranks."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = (len(ordered) - 1) * p / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def run_scenario(scenario: Scenario, n: int) -> Result:
    from django.db import connection

    operations = scenario.setup(n)
    seconds: list[float] = []
    queries: list[int] = []
    counter = QueryCounter()
    try:
        with connection.execute_wrapper(counter):
            for i in range(operations):
                before = counter.count
                start = time.perf_counter()
                scenario.operation(i)
                seconds.append(time.perf_counter() - start)
                queries.append(counter.count - before)
    finally:
        scenario.teardown()
    return Result(scenario.name, seconds, queries)


def format_table(results: Sequence[Result]) -> str:
    header = ["scenario", "operations", "ops/s", "p50 ms", "p95 ms", "queries/op"]
    rows = [
        [
            r.name,
            str(r.operations),
            f"{r.ops_per_second:,.1f}",
            f"{r.percentile_ms(50):.3f}",
            f"{r.percentile_ms(95):.3f}",
            f"{r.queries_per_operation:.2f}",
        ]
        for r in results
    ]
    widths = [max(len(row[c]) for row in [header, *rows]) for c in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        first = cells[0].ljust(widths[0])
        rest = (cell.rjust(width) for cell, width in zip(cells[1:], widths[1:], strict=True))
        return "  ".join([first, *rest])

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(header), rule, *(line(row) for row in rows)])


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--only",
        nargs="+",
        action="extend",
        metavar="NAME",
        help="run only these scenarios (default: all)",
    )
    parser.add_argument("--n", type=int, help="size of each scenario (default: the scenario's own, 2000)")
    parser.add_argument("--keep-db", action="store_true", help="leave the benchmark database in place")
    args = parser.parse_args(argv)
    if args.n is not None and args.n < 1:
        parser.error("--n must be at least 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    db = bench_database()
    configure_environment(db)

    import django

    django.setup()
    # Eager Celery still builds a (never connected) broker producer and warns it has no hostname.
    logging.getLogger("kombu.connection").setLevel(logging.ERROR)
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connections

    scenarios = discover()
    selected = list(scenarios.values())
    if args.only:
        unknown = sorted(set(args.only) - scenarios.keys())
        if unknown:
            print(
                f"Unknown scenario(s): {', '.join(unknown)}. Known: {', '.join(scenarios)}", file=sys.stderr
            )
            return 2
        selected = [s for s in selected if s.name in args.only]
    if not settings.CELERY_TASK_ALWAYS_EAGER:
        print("Celery is not eager: unset CELERY_BROKER_URL", file=sys.stderr)
        return 2

    server_version = recreate_database(db)
    results: list[Result] = []
    try:
        print(f"migrating {db.name} ...", file=sys.stderr)
        call_command("migrate", verbosity=0, interactive=False)
        for scenario in selected:
            n = args.n if args.n is not None else scenario.default_n
            print(f"running {scenario.name} (N={n}) ...", file=sys.stderr)
            results.append(run_scenario(scenario, n))
    finally:
        connections.close_all()
        if args.keep_db:
            print(f"kept database {db.name}", file=sys.stderr)
        else:
            drop_database(db)

    sizes = sorted({args.n if args.n is not None else s.default_n for s in selected})
    print(f"PostgreSQL {server_version}, database {db.name}, DEBUG={settings.DEBUG}, Celery eager")
    print(f"N={', '.join(map(str, sizes))}")
    print()
    print(format_table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
