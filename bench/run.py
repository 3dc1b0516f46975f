#!/usr/bin/env python
"""Run the benchmark scenarios against a fresh PostgreSQL database, print one table of figures
against their targets, and exit 1 when a target is missed twice.

    bench/run.py [--only NAME ...] [--n N] [--quick] [--keep-db] [--json PATH]

The database named by BENCH_DATABASE_URL (default
postgres://postgres@127.0.0.1:5432/erp_bench) is dropped and created again
through the server's ``postgres`` database, migrated, used, and dropped at the
end unless --keep-db. BENCH_TEMPLATE_DATABASE names a migrated database on the
same server to copy it from instead (the test suite's smoke test passes its
template). In this process Celery runs eagerly (no broker); the HTTP
scenarios start gunicorn with a broker (bench/scenarios/_http.py).
See bench/README.md.
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import math
import os
import pkgutil
import platform
import sys
import time
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.database import (  # noqa: E402  (after the path is set)
    bench_database,
    configure_environment,
    drop_database,
    recreate_database,
)
from bench.scenario import MISSED, NOTES, percentile  # noqa: E402

if TYPE_CHECKING:
    from bench.scenario import Scenario, Target

DEFAULT_JSON = ROOT / "artifacts" / "bench.json"
# --quick shrinks the fixtures sized by a module constant instead of N (module: {constant: quick value}).
QUICK_CONSTANTS = {"bench.scenarios.home_figures": {"ORDERS": 2_000}}

__all__ = ["percentile"]  # kept importable from here, as before


def discover(*, quick: bool = False) -> dict[str, Scenario]:
    import bench.scenarios
    from bench.scenario import Scenario

    found: dict[str, Scenario] = {}
    for info in sorted(pkgutil.iter_modules(bench.scenarios.__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"bench.scenarios.{info.name}")
        for constant, value in QUICK_CONSTANTS.get(module.__name__, {}).items() if quick else ():
            if hasattr(module, constant):
                setattr(module, constant, value)
        scenario = getattr(module, "SCENARIO", None)
        if not isinstance(scenario, Scenario):
            raise TypeError(f"bench/scenarios/{info.name}.py must define SCENARIO = Scenario(...)")
        if scenario.name in found:
            raise ValueError(f"Two scenarios are named {scenario.name!r}")
        found[scenario.name] = scenario
    return dict(sorted(found.items(), key=lambda item: (item[1].order, item[0])))


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
    """The timed operations of a scenario without its own ``measure``."""

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

    def figures(self) -> dict[str, float]:
        if not self.operations:
            return {}
        return {
            "ops/s": self.ops_per_second,
            "p50 ms": self.percentile_ms(50),
            "p95 ms": self.percentile_ms(95),
            "queries/op": self.queries_per_operation,
            "operations": float(self.operations),
        }


def time_operations(scenario: Scenario, operations: int) -> Result:
    from django.db import connection

    seconds: list[float] = []
    queries: list[int] = []
    counter = QueryCounter()
    with connection.execute_wrapper(counter):
        for i in range(operations):
            before = counter.count
            start = time.perf_counter()
            scenario.operation(i)
            seconds.append(time.perf_counter() - start)
            queries.append(counter.count - before)
    return Result(scenario.name, seconds, queries)


@dataclass
class Attempt:
    """One measurement of a scenario: its figures, the load average when it ended, notes."""

    figures: dict[str, float]
    load: tuple[float, float, float]
    notes: dict[str, str] = field(default_factory=dict)


def measure_once(scenario: Scenario, operations: int) -> Attempt:
    NOTES.clear()
    if scenario.measure is not None:
        figures = dict(scenario.measure(operations))
    else:
        result = time_operations(scenario, operations)
        figures = result.figures()
        if figures:
            print(
                f"  {scenario.name}: {result.operations} operations, {result.ops_per_second:,.1f} ops/s, "
                f"p50 {result.percentile_ms(50):.3f} ms, p95 {result.percentile_ms(95):.3f} ms, "
                f"{result.queries_per_operation:.2f} queries/op",
                file=sys.stderr,
            )
    return Attempt(figures, os.getloadavg(), dict(NOTES))


@dataclass(frozen=True)
class Row:
    scenario: str
    figure: str
    value: float | None  # None: not measured (skipped)
    target: str  # "-" without one
    target_value: float | None
    ratio: float | None  # >= 1.0 is a pass, whichever way the target points
    status: str  # pass, MISS, -, skip, ERROR
    load: tuple[float, float, float]
    attempts: tuple[float | None, ...] = ()
    note: str = ""


def target_value(target: Target, context: Mapping[str, float]) -> float | None:
    if target.relative_to is None:
        return target.value
    base = context.get(target.relative_to)
    return None if base is None else target.value * base


def ratio_of(target: Target, value: float, wanted: float) -> float:
    """figure / target when more is better, target / figure when less is: >= 1.0 passes."""
    if target.at_least:
        return value / wanted if wanted else math.inf
    if value <= 0:
        return math.inf
    return wanted / value


def describe(target: Target, wanted: float | None) -> str:
    sign = ">=" if target.at_least else "<="
    if target.relative_to is not None:
        share = f"{target.value * 100:g}% of {target.relative_to}"
        return f"{sign} {share}" if wanted is None else f"{sign} {fmt(wanted)} ({share})"
    return f"{sign} {fmt(target.value)}{(' ' + target.unit) if target.unit else ''}"


def fmt(value: float | None) -> str:
    if value is None:
        return "-"
    if math.isinf(value):
        return "inf"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def missed(scenario: Scenario, attempt: Attempt, context: Mapping[str, float]) -> set[str]:
    """The figures of ``attempt`` that miss their target."""
    found = set()
    for target in scenario.targets:
        wanted = target_value(target, context)
        value = attempt.figures.get(target.figure)
        if wanted is not None and value is not None and ratio_of(target, value, wanted) < 1.0:
            found.add(target.figure)
    return found


def rows_of(scenario: Scenario, attempts: Sequence[Attempt], context: Mapping[str, float]) -> list[Row]:
    """One row per target (the better attempt decides: a miss must happen twice), then one per figure
    shown without a target (from the last attempt)."""
    rows: list[Row] = []
    last = attempts[-1]
    for target in scenario.targets:
        wanted = target_value(target, context)
        values = tuple(a.figures.get(target.figure) for a in attempts)
        note = next((a.notes[target.figure] for a in reversed(attempts) if target.figure in a.notes), "")
        measured = [(i, v) for i, v in enumerate(values) if v is not None]
        if not measured:
            rows.append(
                Row(
                    scenario.name,
                    target.figure,
                    None,
                    describe(target, wanted),
                    wanted,
                    None,
                    "skip",
                    last.load,
                    values,
                    note or "not measured",
                )
            )
            continue
        if wanted is None:
            i, value = measured[-1]
            rows.append(
                Row(
                    scenario.name,
                    target.figure,
                    value,
                    describe(target, wanted),
                    None,
                    None,
                    "-",
                    attempts[i].load,
                    values,
                    note or f"{target.relative_to} not measured",
                )
            )
            continue
        i, value = max(measured, key=lambda iv: ratio_of(target, iv[1], wanted))
        ratio = ratio_of(target, value, wanted)
        if ratio < 1.0:
            status = "MISS (twice)" if len(measured) > 1 else "MISS"
        else:
            first = ratio_of(target, measured[0][1], wanted)
            status = "pass" if first >= 1.0 else "pass (2nd run)"
        rows.append(
            Row(
                scenario.name,
                target.figure,
                value,
                describe(target, wanted),
                wanted,
                ratio,
                status,
                attempts[i].load,
                values,
                note,
            )
        )
    targeted = {t.figure for t in scenario.targets}
    for name in scenario.shown:
        if name in targeted or name not in last.figures:
            continue
        rows.append(
            Row(
                scenario.name,
                name,
                last.figures[name],
                "-",
                None,
                None,
                "-",
                last.load,
                tuple(a.figures.get(name) for a in attempts),
                last.notes.get(name, ""),
            )
        )
    if not rows:
        rows.append(Row(scenario.name, "-", None, "-", None, None, "skip", last.load, (), "nothing measured"))
    return rows


def run_scenario(scenario: Scenario, n: int, context: dict[str, float]) -> list[Row]:
    """Set up, measure, tear down; measured again when a target is missed (see bench/scenario.py)."""
    attempts: list[Attempt] = []
    operations = scenario.setup(n)
    try:
        attempts.append(measure_once(scenario, operations))
        # An infinite figure is a refusal or a failure (a 422, a killed worker), not noise: not run again.
        again = {f for f in missed(scenario, attempts[0], context) if not math.isinf(attempts[0].figures[f])}
        if scenario.measure is not None and again:
            MISSED.update(again)
            listed = ", ".join(sorted(again)) if len(again) <= 4 else f"{len(again)} figures"
            print(f"  {scenario.name} missed {listed}: measuring again", file=sys.stderr)
            try:
                attempts.append(measure_once(scenario, operations))
            finally:
                MISSED.clear()
    finally:
        scenario.teardown()
    if scenario.measure is None and missed(scenario, attempts[0], context):
        print(f"  {scenario.name} missed a target: running it again", file=sys.stderr)
        operations = scenario.setup(n)
        try:
            attempts.append(measure_once(scenario, operations))
        finally:
            scenario.teardown()
    for attempt in attempts:
        for name, value in attempt.figures.items():
            context.setdefault(f"{scenario.name}:{name}", value)
    return rows_of(scenario, attempts, context)


def run_all(selected: Sequence[Scenario], sizes: Mapping[str, int]) -> list[Row]:
    """Every scenario in turn; one that raises is reported as an ERROR row and the others still run."""
    context: dict[str, float] = {}
    rows: list[Row] = []
    for scenario in selected:
        n = sizes[scenario.name]
        print(f"running {scenario.name} (N={n}) ...", file=sys.stderr)
        started = time.perf_counter()
        try:
            rows += run_scenario(scenario, n, context)
        except Exception as exc:
            traceback.print_exc()
            rows.append(
                Row(
                    scenario.name,
                    "-",
                    None,
                    "-",
                    None,
                    None,
                    "ERROR",
                    os.getloadavg(),
                    (),
                    f"{type(exc).__name__}: {str(exc)[:300]}",
                )
            )
        print(f"  {scenario.name}: {time.perf_counter() - started:.0f} s", file=sys.stderr)
    return rows


def failed(rows: Sequence[Row]) -> bool:
    return any(r.status.startswith("MISS") or r.status == "ERROR" for r in rows)


def exit_code(rows: Sequence[Row]) -> int:
    """1 when a target was missed twice (or once, by a scenario measured once) or a scenario failed."""
    return 1 if failed(rows) else 0


def format_load(load: Sequence[float]) -> str:
    return "/".join(f"{x:.2f}" for x in load)


def format_table(rows: Sequence[Row]) -> str:
    header = ["scenario", "figure", "value", "target", "ratio", "result", "load 1/5/15 min"]
    cells = [
        [
            r.scenario,
            r.figure,
            fmt(r.value),
            r.target,
            "-" if r.ratio is None else ("inf" if math.isinf(r.ratio) else f"{r.ratio:.2f}"),
            r.status,
            format_load(r.load),
        ]
        for r in rows
    ]
    widths = [max(len(row[c]) for row in [header, *cells]) for c in range(len(header))]
    right = {2, 4}

    def line(row: Sequence[str]) -> str:
        return "  ".join(
            cell.rjust(width) if c in right else cell.ljust(width)
            for c, (cell, width) in enumerate(zip(row, widths, strict=True))
        ).rstrip()

    rule = "  ".join("-" * w for w in widths)
    notes = [f"  {r.scenario} {r.figure}: {r.note}" for r in rows if r.note]
    return "\n".join(
        [line(header), rule, *(line(row) for row in cells), *(["notes:", *notes] if notes else [])]
    )


def pgbench_line(rows: Sequence[Row]) -> str:
    tps = next((r for r in rows if r.scenario == "pgbench" and r.figure == "tps" and r.value), None)
    if tps is None or tps.value is None:
        return "pgbench TPC-B: not measured"
    return f"pgbench TPC-B: {tps.value:,.0f} tps (load {format_load(tps.load)})"


def write_json(path: Path, rows: Sequence[Row], meta: Mapping[str, Any]) -> None:
    def number(v: float | None) -> float | str | None:
        return "inf" if v is not None and math.isinf(v) else v

    path.parent.mkdir(parents=True, exist_ok=True)
    data = {
        **meta,
        "rows": [
            {
                "scenario": r.scenario,
                "figure": r.figure,
                "value": number(r.value),
                "target": r.target,
                "target_value": number(r.target_value),
                "ratio": number(r.ratio),
                "result": r.status,
                "load": list(r.load),
                "attempts": [number(a) for a in r.attempts],
                "note": r.note,
            }
            for r in rows
        ],
    }
    path.write_text(json.dumps(data, indent=2) + "\n")


def interpreter() -> str:
    """The Python the bench and its server run on, and where it is installed: a build optimised by
    profile and at link time (a distribution's) spends about a tenth less CPU than a plain one."""
    return f"Python {platform.python_version()} ({sys.base_prefix})"


def report(
    rows: Sequence[Row],
    args: argparse.Namespace,
    database: str,
    server_version: str,
    sizes: Mapping[str, int],
    seconds: float,
    debug: bool,
) -> None:
    """The table on stdout and the same rows in the JSON file."""
    print(
        f"PostgreSQL {server_version}, database {database}, DEBUG={debug}, "
        f"{'quick, ' if args.quick else ''}{seconds:.0f} s, {os.cpu_count()} CPUs, {interpreter()}"
    )
    print(f"N: {', '.join(f'{name}={n}' for name, n in sizes.items())}")
    print()
    print(format_table(rows))
    print()
    print(pgbench_line(rows))
    verdict = "FAIL: a target was missed twice (or a scenario failed)" if failed(rows) else "all targets met"
    print(verdict, flush=True)
    write_json(
        args.json,
        rows,
        {
            "postgres": server_version,
            "database": database,
            "quick": args.quick,
            "seconds": round(seconds, 1),
            "cpus": os.cpu_count(),
            "python": interpreter(),
            "sizes": dict(sizes),
            "pgbench": pgbench_line(rows),
            "verdict": verdict,
            "finished_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        },
    )


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--only", nargs="+", action="extend", metavar="NAME", help="run only these scenarios (default: all)"
    )
    parser.add_argument("--n", type=int, help="size of each scenario (default: the scenario's own)")
    parser.add_argument("--quick", action="store_true", help="small fixtures and short runs: a smoke test")
    parser.add_argument("--keep-db", action="store_true", help="leave the benchmark database in place")
    parser.add_argument(
        "--json", type=Path, default=DEFAULT_JSON, help=f"where to write the rows (default {DEFAULT_JSON})"
    )
    args = parser.parse_args(argv)
    if args.n is not None and args.n < 1:
        parser.error("--n must be at least 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    db = bench_database()
    configure_environment(db, quick=args.quick)
    began = time.perf_counter()

    import django

    django.setup()
    # Eager Celery still builds a (never connected) broker producer and warns it has no hostname.
    logging.getLogger("kombu.connection").setLevel(logging.ERROR)
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connections

    scenarios = discover(quick=args.quick)
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
    sizes = {
        s.name: args.n if args.n is not None else (s.quick_n if args.quick else s.default_n) for s in selected
    }

    # A migrated database to start from (the test suite's template): migrate then has nothing to do.
    template = os.environ.get("BENCH_TEMPLATE_DATABASE") or None
    server_version = recreate_database(db, template=template)
    try:
        print(f"migrating {db.name}{f' (a copy of {template})' if template else ''} ...", file=sys.stderr)
        call_command("migrate", verbosity=0, interactive=False)
        rows = run_all(selected, sizes)
        connections.close_all()
        # The table before the database is dropped: a DROP can wait minutes on another session.
        report(rows, args, db.name, server_version, sizes, time.perf_counter() - began, settings.DEBUG)
    finally:
        connections.close_all()
        if args.keep_db:
            print(f"kept database {db.name}", file=sys.stderr)
        else:
            drop_database(db)
    return exit_code(rows)


if __name__ == "__main__":
    sys.exit(main())
