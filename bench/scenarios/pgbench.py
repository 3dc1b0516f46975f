"""The yardstick: PostgreSQL's own TPC-B rate on this machine, measured in the same run.

``pgbench -i -s 10`` (1,000,000 accounts; ``-s 1`` with --quick) in the throwaway bench database
itself (its own ``pgbench_*`` tables beside the project's: no CREATE and DROP DATABASE, each of
which waits for a checkpoint or for every session of the server), then ``pgbench -c 8 -j 2 -T 20``
(``-T 3`` with --quick; ``BENCH_PGBENCH_SECONDS`` overrides) with the default TPC-B script: 5
statements in one transaction per client round trip. Its tables are dropped afterwards
(``pgbench -i -I d``). The
figure is the TPS pgbench reports (without the initial connection time); the order-ingest target
is a share of it. No target of its own.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from urllib.parse import urlsplit

from django.conf import settings

from bench.scenario import Scenario, quick

_database = ""


def _connection_args() -> tuple[list[str], dict[str, str]]:
    parts = urlsplit(os.environ["BENCH_ADMIN_URL"])
    args = [
        "-h",
        parts.hostname or "127.0.0.1",
        "-p",
        str(parts.port or 5432),
        "-U",
        parts.username or "postgres",
    ]
    env = {**os.environ}
    if parts.password:
        env["PGPASSWORD"] = parts.password
    return args, env


def setup(n: int) -> int:
    global _database
    if shutil.which("pgbench") is None:
        raise RuntimeError("pgbench is not installed (Debian: postgresql-client)")
    _database = str(settings.DATABASES["default"]["NAME"])
    assert "bench" in _database  # bench/run.py refuses any other name too
    args, env = _connection_args()
    scale = "1" if quick() else "10"
    subprocess.run(
        ["pgbench", *args, "-i", "-q", "-s", scale, _database], check=True, env=env, capture_output=True
    )
    return n


def measure(n: int) -> dict[str, float]:
    args, env = _connection_args()
    seconds = os.environ.get("BENCH_PGBENCH_SECONDS", "3" if quick() else "20")
    done = subprocess.run(
        ["pgbench", *args, "-c", "8", "-j", "2", "-T", seconds, _database],
        check=True,
        env=env,
        capture_output=True,
        text=True,
    )
    found = re.search(r"tps = ([0-9.]+) \(without initial connection time\)", done.stdout)
    if not found:
        raise RuntimeError(f"no TPS in pgbench's output:\n{done.stdout}\n{done.stderr}")
    latency = re.search(r"latency average = ([0-9.]+) ms", done.stdout)
    tps = float(found.group(1))
    print(f"  pgbench -c 8 -j 2 -T {seconds}: {tps:,.0f} tps", file=sys.stderr)
    return {"tps": tps, "latency ms": float(latency.group(1)) if latency else 0.0}


def teardown() -> None:
    if _database:
        args, env = _connection_args()
        subprocess.run(
            ["pgbench", *args, "-i", "-I", "d", _database], check=True, env=env, capture_output=True
        )


SCENARIO = Scenario(
    name="pgbench",
    description=__doc__ or "",
    setup=setup,
    measure=measure,
    teardown=teardown,
    default_n=1,
    quick_n=1,
    shown=("tps", "latency ms"),
    order=0,
)
