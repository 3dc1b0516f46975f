"""The bench's harness (bench/run.py): targets, ratios, the second run that a miss gets, the table, the
JSON and the exit code. Nothing here is timed: the scenarios are fakes whose figures are scripted
(or counted queries); one smoke test runs the real harness with --quick on PostgreSQL."""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.db import connection

from bench import run
from bench.scenario import MISSED, Scenario, Target, note
from tests import conftest

ROOT = Path(__file__).resolve().parent.parent


class Scripted:
    """A scenario whose ``measure`` hands back the next scripted figures, and counts its calls."""

    def __init__(self, *figures: dict[str, float]) -> None:
        self.figures = list(figures)
        self.setups = self.measures = self.teardowns = 0
        self.missed_seen: list[set[str]] = []

    def setup(self, n: int) -> int:
        self.setups += 1
        return n

    def measure(self, n: int) -> dict[str, float]:
        self.measures += 1
        self.missed_seen.append(set(MISSED))
        return self.figures.pop(0)

    def teardown(self) -> None:
        self.teardowns += 1

    def scenario(self, *targets: Target, shown: tuple[str, ...] = ()) -> Scenario:
        return Scenario(
            name="fake",
            description="",
            setup=self.setup,
            measure=self.measure,
            teardown=self.teardown,
            targets=targets,
            shown=shown,
        )


def rows_for(scripted: Scripted, *targets: Target, context: dict[str, float] | None = None) -> list[run.Row]:
    return run.run_scenario(scripted.scenario(*targets), 1, {} if context is None else context)


def test_a_target_missed_twice_fails_the_run() -> None:
    scripted = Scripted({"orders/s": 100.0}, {"orders/s": 150.0})
    [row] = rows_for(scripted, Target("orders/s", 300, at_least=True))

    assert (row.status, row.value, row.ratio) == ("MISS (twice)", 150.0, 0.5)  # the better attempt shown
    assert row.attempts == (100.0, 150.0)
    assert scripted.measures == 2
    assert scripted.setups == scripted.teardowns == 1
    assert scripted.missed_seen == [set(), {"orders/s"}]
    assert run.exit_code([row]) == 1


def test_one_miss_then_a_pass_is_a_pass() -> None:
    scripted = Scripted({"p95 ms": 40.0}, {"p95 ms": 25.0})
    [row] = rows_for(scripted, Target("p95 ms", 30, unit="ms"))

    assert (row.status, row.value) == ("pass (2nd run)", 25.0)
    assert row.ratio == pytest.approx(30 / 25)
    assert run.exit_code([row]) == 0


def test_a_pass_is_not_measured_again() -> None:
    scripted = Scripted({"p95 ms": 10.0, "other": 1.0})
    rows = run.run_scenario(scripted.scenario(Target("p95 ms", 30), shown=("other", "absent")), 1, {})

    assert [(r.figure, r.status, r.target) for r in rows] == [
        ("p95 ms", "pass", "<= 30.0"),
        ("other", "-", "-"),
    ]
    assert scripted.measures == 1
    assert run.exit_code(rows) == 0


def test_an_infinite_figure_is_a_failure_not_noise_and_is_not_measured_again() -> None:
    def refused(n: int) -> dict[str, float]:
        note("bulk s", "answer 422: too many items")
        return {"bulk s": float("inf")}

    scenario = Scenario(name="fake", description="", measure=refused, targets=(Target("bulk s", 5.0),))
    [row] = run.run_scenario(scenario, 1, {})

    assert (row.status, row.ratio, row.note) == ("MISS", 0.0, "answer 422: too many items")
    assert run.exit_code([row]) == 1


def test_a_target_relative_to_another_scenarios_figure() -> None:
    target = Target("orders/s", 0.07, at_least=True, relative_to="pgbench:tps")

    [row] = rows_for(Scripted({"orders/s": 300.0}), target, context={"pgbench:tps": 4000.0})
    assert (row.target_value, row.status, row.target) == (
        pytest.approx(280.0),
        "pass",
        ">= 280 (7% of pgbench:tps)",
    )

    [alone] = rows_for(Scripted({"orders/s": 300.0}), target)  # --only without pgbench
    assert (alone.status, alone.ratio, alone.note) == ("-", None, "pgbench:tps not measured")
    assert run.exit_code([alone]) == 0


def test_a_figure_not_measured_is_skipped_not_failed() -> None:
    [row] = rows_for(Scripted({}), Target("products cursor p95 ms @1", 30))

    assert (row.status, row.value) == ("skip", None)
    assert run.exit_code([row]) == 0


def test_a_scenario_that_raises_is_an_error_and_the_others_still_run() -> None:
    def broken(n: int) -> dict[str, float]:
        raise RuntimeError("the server did not start")

    scenarios = [
        Scenario(name="broken", description="", measure=broken),
        Scripted({"tps": 4000.0}).scenario(),
    ]
    rows = run.run_all(scenarios, {"broken": 1, "fake": 1})

    assert [(r.scenario, r.status) for r in rows] == [("broken", "ERROR"), ("fake", "skip")]
    assert "RuntimeError: the server did not start" in rows[0].note
    assert run.exit_code(rows) == 1


class CountedQueries:
    """A scenario timed by the harness's own loop; its operation runs 2 queries the first run, 1 after."""

    def __init__(self) -> None:
        self.setups = 0

    def setup(self, n: int) -> int:
        self.setups += 1
        return n

    def operation(self, i: int) -> None:
        with connection.cursor() as cursor:
            for _ in range(2 if self.setups == 1 else 1):
                cursor.execute("SELECT 1")


@pytest.mark.django_db
def test_a_scenario_without_measure_is_run_again_whole() -> None:
    counted = CountedQueries()
    scenario = Scenario(
        name="loop",
        description="",
        operation=counted.operation,
        setup=counted.setup,
        targets=(Target("queries/op", 1),),
        shown=("operations",),
    )
    rows = run.run_scenario(scenario, 3, {})

    assert counted.setups == 2
    assert [(r.figure, r.value, r.status) for r in rows] == [
        ("queries/op", 1.0, "pass (2nd run)"),
        ("operations", 3.0, "-"),
    ]
    assert rows[0].attempts == (2.0, 1.0)


def test_the_table_and_the_json(tmp_path: Path) -> None:
    rows = [
        run.Row("pgbench", "tps", 4012.4, "-", None, None, "-", (1.0, 2.0, 3.0), (4012.4,)),
        run.Row(
            "lists",
            "levels p95 ms @1",
            74.0,
            "<= 30.0 ms",
            30.0,
            30 / 74,
            "MISS (twice)",
            (1.5, 1.2, 1.1),
            (80.0, 74.0),
            "slow",
        ),
    ]
    table = run.format_table(rows)
    header, rule, *lines = table.splitlines()

    assert header.split() == [
        "scenario",
        "figure",
        "value",
        "target",
        "ratio",
        "result",
        "load",
        "1/5/15",
        "min",
    ]
    assert set(rule) == {"-", " "}
    assert "4,012" in lines[0]
    assert "1.00/2.00/3.00" in lines[0]
    assert "0.41" in lines[1]
    assert "MISS (twice)" in lines[1]
    assert "1.50/1.20/1.10" in lines[1]
    assert lines[-1] == "  lists levels p95 ms @1: slow"
    assert run.pgbench_line(rows) == "pgbench TPC-B: 4,012 tps (load 1.00/2.00/3.00)"
    assert run.pgbench_line(rows[1:]) == "pgbench TPC-B: not measured"

    path = tmp_path / "bench.json"
    run.write_json(path, rows, {"quick": True})
    data = json.loads(path.read_text())
    assert data["quick"] is True
    assert [r["result"] for r in data["rows"]] == ["-", "MISS (twice)"]
    assert data["rows"][1]["attempts"] == [80.0, 74.0]
    assert data["rows"][1]["load"] == [1.5, 1.2, 1.1]


@pytest.fixture
def bench_database_url() -> str:
    """A PostgreSQL server the harness can create its throwaway database on, or a skip."""
    url = os.environ.get("BENCH_TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/erp_bench_pytest")
    try:
        import psycopg

        with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", connect_timeout=2):
            pass
    except Exception as exc:
        pytest.skip(f"no PostgreSQL for the bench smoke test: {exc}")
    if shutil.which("pgbench") is None:
        pytest.skip("pgbench is not installed")
    return url


def test_two_runs_side_by_side(tmp_path: Path) -> None:
    """bench/compare.py: rows matched by scenario, figure and rank (a target that is a share of
    pgbench reads differently in each run), the gain above 1 when the second run is better,
    whichever way the figure goes, and a figure one run lacks shown as "-"."""
    from bench import compare

    def row(figure: str, value: float, target: str = "-", result: str = "-") -> dict[str, Any]:
        return {
            "scenario": "orders",
            "figure": figure,
            "value": value,
            "target": target,
            "result": result,
            "load": [1.0, 2.0, 3.0],
        }

    before = {
        "pgbench": "pgbench TPC-B: 2,000 tps",
        "rows": [
            row("orders/s", 10, ">= 300"),
            row("orders/s", 10, ">= 140 (7% of pgbench:tps)"),
            row("p95 ms", 200),
            row("statements/order", 70, "<= 15.0"),
        ],
    }
    after = {
        "pgbench": "pgbench TPC-B: 3,000 tps",
        "python": "Python 3.11.2 (/usr)",
        "rows": [
            row("orders/s", 120, ">= 300", "MISS (twice)"),
            row("orders/s", 120, ">= 210 (7% of pgbench:tps)"),
            row("p95 ms", 50),
            row("statements/order", 12, "<= 15.0", "pass"),
            row("cursor p95 ms", 20),
        ],
    }
    before_path, after_path = tmp_path / "a.json", tmp_path / "b.json"
    before_path.write_text(json.dumps(before))
    after_path.write_text(json.dumps(after))

    lines = compare.table(compare._load(before_path), compare._load(after_path), ("old", "new")).splitlines()

    assert lines[0] == "old: pgbench TPC-B: 2,000 tps"
    assert lines[1] == "new: pgbench TPC-B: 3,000 tps, Python 3.11.2 (/usr)"  # the interpreter, when known
    body = [[cell.strip() for cell in line.split("|")[2:-1]] for line in lines if line.startswith("| orders")]
    load = "1.00/2.00/3.00"
    assert body == [
        ["orders/s", ">= 300", "10.0", load, "120", load, "MISS (twice)", "12.00x"],
        ["orders/s", ">= 210 (7% of pgbench:tps)", "10.0", load, "120", load, "-", "12.00x"],
        ["p95 ms", "-", "200", load, "50.0", load, "-", "4.00x"],
        ["statements/order", "<= 15.0", "70.0", load, "12.0", load, "pass", "5.83x"],
        ["cursor p95 ms", "-", "-", "-", "20.0", load, "-", "-"],
    ]


def _server(url: str) -> tuple[str | None, int | None]:
    parts = urlsplit(url)
    return parts.hostname, parts.port


@pytest.mark.real_server
def test_the_harness_runs_quick_on_postgresql(bench_database_url: str, tmp_path: Path) -> None:
    """bench/run.py --quick end to end on small data: the table, the pgbench line, the JSON, and an
    exit code that says whether a target was missed."""
    env: dict[str, Any] = {
        **{
            k: v
            for k, v in os.environ.items()
            if k not in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE", "DEBUG")
        },
        "BENCH_DATABASE_URL": bench_database_url,
    }
    template = os.environ.get(conftest.TEMPLATE_ENV)  # the session's migrated template (PostgreSQL)
    if template and _server(bench_database_url) == _server(os.environ.get("DATABASE_URL", "")):
        env["BENCH_TEMPLATE_DATABASE"] = template  # copied, not migrated again: a minute of CI saved
    out = tmp_path / "bench.json"
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "run.py"),
            "--quick",
            "--only",
            "pgbench",
            "outbox_emit_dispatch",
            "check_stock",
            "--json",
            str(out),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode in (0, 1), done.stderr[-3000:]
    if "BENCH_TEMPLATE_DATABASE" in env:
        assert f"(a copy of {template})" in done.stderr
    lines = done.stdout.splitlines()
    assert any(
        line.split()[:6] == ["scenario", "figure", "value", "target", "ratio", "result"] for line in lines
    )
    assert any(
        line.startswith("pgbench TPC-B: ") and line.endswith(")") and "tps (load " in line for line in lines
    )
    data = json.loads(out.read_text())
    # the interpreter's version and where it lives: the same code runs a tenth slower on a plain build
    assert data["python"] == f"Python {platform.python_version()} ({sys.base_prefix})"
    assert any(line.startswith("PostgreSQL ") and line.endswith(data["python"]) for line in lines)
    results = {(r["scenario"], r["figure"]): r["result"] for r in data["rows"]}
    assert results[("pgbench", "tps")] == "-"
    assert {results[("check_stock", "seconds")], results[("check_stock", "peak RSS MB")]} <= {
        "pass",
        "pass (2nd run)",
        "MISS",
        "MISS (twice)",
    }
    assert ("outbox_emit_dispatch", "ops/s") in results
    assert "ERROR" not in results.values(), done.stderr[-3000:]
    missed = any(r.startswith("MISS") for r in results.values())
    assert done.returncode == (1 if missed else 0)
    assert data["verdict"] == (
        "FAIL: a target was missed twice (or a scenario failed)" if missed else "all targets met"
    )


@pytest.mark.parametrize(
    ("env", "worker_class", "workers", "threads"),
    [
        ({}, "sync", 2 * (os.cpu_count() or 1), 1),  # docs/deploy.md's web processes
        ({"BENCH_GUNICORN_CLASS": "gthread", "BENCH_GUNICORN_WORKERS": "2"}, "gthread", 2, 4),
    ],
)
def test_the_bench_server_runs_the_workers_it_says(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], worker_class: str, workers: int, threads: int
) -> None:
    # given: the HTTP scenarios' server, by default or told to run threads
    from gunicorn.config import Config

    from bench.scenarios import _http

    for name in ("BENCH_GUNICORN_CLASS", "BENCH_GUNICORN_WORKERS", "BENCH_GUNICORN_THREADS"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    server = _http.Server()

    # when: gunicorn reads its command line as it would at start (given threads, it would run a
    # sync worker as gthread)
    config = Config()
    parsed = config.parser().parse_args(server.command()[1:])
    for name, value in vars(parsed).items():
        if value is not None and name in config.settings:
            config.set(name, value)

    # then
    assert (config.worker_class_str, config.workers, config.threads) == (worker_class, workers, threads)
    assert server.label.startswith(f"gunicorn {workers} {worker_class} workers")


def test_the_workers_counts_reach_the_bench_through_their_mapped_files(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # given: a worker's counts mapped into its file, and another worker still starting (its file
    # created, not yet sized)
    from bench import gunicorn_conf
    from bench.scenarios import _http

    server = _http.Server()
    shutil.rmtree(server.stats_dir)
    server.stats_dir = str(tmp_path)
    monkeypatch.setenv("BENCH_STATS_DIR", str(tmp_path))
    monkeypatch.setattr(gunicorn_conf, "_counts", {"statements": 12, "requests": 0, "commits": 1})
    monkeypatch.setattr(gunicorn_conf, "_mapped", [])
    gunicorn_conf._map_counts()
    (tmp_path / "1.counts").touch()

    # when: the worker answers two requests, the second with 11 more statements
    gunicorn_conf.post_request(None, None, None, None)
    first = server.statements()
    gunicorn_conf._counts["statements"] += 11
    gunicorn_conf.post_request(None, None, None, None)

    # then: the bench reads what was stored after each, without the worker writing a file
    assert first == (12, 1, 1)
    assert server.statements() == (23, 2, 1)


def test_instructions_per_order_are_the_difference_of_two_counted_runs(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # given: valgrind's summaries of a run of 10 and of 110 orders
    from bench import instructions

    runs: list[list[str]] = []
    refs = {"10": "1,000,000,000", "110": "4,050,000,000"}

    def valgrind(command: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        runs.append(command)
        orders = command[command.index("--n") + 1]
        stderr = f"==1== Collected : 1\n==1== \n==1== I   refs:      {refs[orders]}\n"
        return subprocess.CompletedProcess(command, 0, "", stderr)

    monkeypatch.setattr(instructions.shutil, "which", lambda name: "/usr/bin/valgrind")
    monkeypatch.setattr(instructions.subprocess, "run", valgrind)

    # when
    instructions.main([])

    # then: (4,050 M - 1,000 M) / 100 orders, each run profile_orders' kept database under callgrind
    assert "instructions/order  30.50 M  (10 and 110 orders)" in capsys.readouterr().out
    assert [c[:2] for c in runs] == [["valgrind", "--tool=callgrind"]] * 2
    assert all("--keep-db" in c and "--no-profile" in c for c in runs)


def test_instructions_stop_with_valgrinds_own_words_when_a_run_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    # given
    from bench import instructions

    def failed(command: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        return subprocess.CompletedProcess(command, 1, "", "psycopg.OperationalError: no database")

    monkeypatch.setattr(instructions.shutil, "which", lambda name: "/usr/bin/valgrind")
    monkeypatch.setattr(instructions.subprocess, "run", failed)

    # when / then
    with pytest.raises(SystemExit, match="no database"):
        instructions.main([])
    monkeypatch.setattr(instructions.shutil, "which", lambda name: None)
    with pytest.raises(SystemExit, match="apt-get install -y valgrind"):
        instructions.main([])


def test_profile_orders_times_each_stage_by_its_outermost_call_and_puts_the_functions_back(monkeypatch):
    # given: two stages, a function that calls itself (as the answer's _constructed does) and a
    # method, and a clock that moves one tick per reading
    import itertools
    import sys
    import types

    from bench import profile_orders

    module = types.ModuleType("stage_probe")

    def countdown(n: int) -> int:
        return 0 if n == 0 else module.countdown(n - 1)

    class Owner:
        def method(self) -> str:
            return "done"

    method = Owner.__dict__["method"]
    module.countdown = countdown  # type: ignore[attr-defined]
    module.Owner = Owner  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "stage_probe", module)
    monkeypatch.setattr(
        profile_orders,
        "STAGES",
        (("stage_probe", "countdown", "down"), ("stage_probe", "Owner.method", "method")),
    )
    ticks = itertools.count()
    monkeypatch.setattr(profile_orders, "time", types.SimpleNamespace(process_time=lambda: next(ticks)))

    # when: both run while the stages are timed
    spent: dict[str, float] = {}
    with profile_orders.timed_stages(spent):
        assert module.countdown is not countdown  # wrapped
        assert module.countdown(3) == 0
        assert Owner().method() == "done"

    # then: each call is timed once, the recursion only at its outermost call (one tick each),
    # and both functions are the originals again
    assert spent == {"down": 1, "method": 1}
    assert module.countdown is countdown
    assert Owner.__dict__["method"] is method
