"""The interface every benchmark scenario exposes.

A scenario is a module in ``bench/scenarios/`` (name not starting with ``_``)
that defines ``SCENARIO = Scenario(...)``. ``bench/run.py`` discovers it, then,
against a freshly migrated database:

1. calls ``setup(n)``, which prepares the data and returns how many
   operations to time (often ``n`` itself);
2. times ``operation(i)`` for ``i`` in ``range(operations)``, one at a time,
   counting the SQL queries each one runs;
3. calls ``teardown()``, which checks the outcome (raise if it is wrong) and
   removes what the scenario made, so the next scenario starts clean.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


def _n_operations(n: int) -> int:
    return n


def _nothing() -> None:
    return None


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    operation: Callable[[int], object]
    setup: Callable[[int], int] = _n_operations
    teardown: Callable[[], None] = _nothing
    default_n: int = 2000
