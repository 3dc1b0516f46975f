"""The interface every benchmark scenario exposes.

A scenario is a module in ``bench/scenarios/`` (name not starting with ``_``)
that defines ``SCENARIO = Scenario(...)``. ``bench/run.py`` discovers it, then,
against a freshly migrated database:

1. calls ``setup(n)``, which prepares the data and returns how many
   operations to time (often ``n`` itself);
2. measures: either times ``operation(i)`` for ``i`` in ``range(operations)``,
   one at a time, counting the SQL queries each one runs (figures ``ops/s``,
   ``p50 ms``, ``p95 ms``, ``queries/op``), or, when the scenario has its own
   ``measure(operations)`` (servers, concurrent clients, subprocesses), calls
   that and takes the figures it returns;
3. calls ``teardown()``, which checks the outcome (raise if it is wrong) and
   removes what the scenario made, so the next scenario starts clean.

``targets`` say what the figures must reach. A scenario that misses one is
measured a second time (the machine is noisy: a miss counts only when two runs
agree): a scenario with ``measure`` is measured again before its teardown, so
that its fixture is made once; one without is run again whole.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

Figures = Mapping[str, float]


def _n_operations(n: int) -> int:
    return n


def _nothing() -> None:
    return None


def _no_operation(i: int) -> None:
    raise NotImplementedError("this scenario measures itself (Scenario.measure)")


@dataclass(frozen=True)
class Target:
    """What one figure must reach: at least ``value`` (``at_least``) or below it.

    With ``relative_to`` the target is ``value`` times another figure of the same run (the
    pgbench TPS: ``Target("orders/s", 0.07, relative_to="pgbench tps")``); it is skipped when
    that figure was not measured (``--only`` without pgbench).
    """

    figure: str
    value: float
    at_least: bool = False
    relative_to: str | None = None
    unit: str = ""


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    operation: Callable[[int], object] = _no_operation
    setup: Callable[[int], int] = _n_operations
    teardown: Callable[[], None] = _nothing
    default_n: int = 2000
    quick_n: int = 20  # the size with --quick (a smoke run)
    measure: Callable[[int], Figures] | None = None
    targets: tuple[Target, ...] = ()
    shown: tuple[str, ...] = ("ops/s", "p95 ms", "queries/op")  # figures shown without a target
    order: int = 50  # scenarios run by (order, name): the yardstick first, the large fixture last


# Figures missed by the first measurement, while a scenario is measured again (empty the first time):
# a scenario may measure only these again; the others keep their first figure.
MISSED: set[str] = set()
NOTES: dict[str, str] = {}  # figure -> why it is what it is (a refused request, a skip): shown by run.py


def note(figure: str, text: str) -> None:
    """Say why a figure is missing or infinite; the harness prints it beside the table and in the JSON."""
    NOTES[figure] = text


def percentile(values: list[float], p: float) -> float:
    """The p-th percentile (0-100), linearly interpolated between closest ranks."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = (len(ordered) - 1) * p / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def quick() -> bool:
    """``--quick``: small fixtures and short runs, for a smoke test."""
    import os

    return os.environ.get("BENCH_QUICK") == "1"
