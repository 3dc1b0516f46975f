"""The simulated business day (``manage.py simulate_day``, ``make simulate``): every connected
tool's fake with the faults real tools produce, the beat jobs on their schedule, and a drift
report at the end. ``day`` drives it, ``tools`` is a tool's part in it (each connector's
``day.py``), ``oracle`` compares each tool's state with ours, ``consistency`` times how long
agreement takes, ``runner`` and ``workers`` run it embedded or with real Celery workers."""

from __future__ import annotations

from typing import TYPE_CHECKING

from integrations.simulate.faults import Faults
from integrations.simulate.report import Report

if TYPE_CHECKING:
    from collections.abc import Sequence


def simulate_day(
    *,
    orders: int,
    seed: int = 1,
    faults: Faults | None = None,
    tools: Sequence[str] = ("shopify",),
    safety_poll: bool = True,
) -> Report:
    """A day of ``orders`` orders in the embedded mode (tasks in process, a simulated clock)."""
    from integrations.simulate.day import Day
    from integrations.simulate.runner import run_embedded

    day = Day(
        orders=orders,
        seed=seed,
        faults=faults or Faults.named("default"),
        tools=tools,
        safety_poll=safety_poll,
    )
    return run_embedded(day)


__all__ = ["Faults", "Report", "simulate_day"]
