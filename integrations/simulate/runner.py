"""Where a simulated day runs: embedded (tasks in process, a simulated clock) or with real workers.

Embedded (``run_embedded``): the fakes are mounted on the hub's HTTP client at their tools' real
addresses, ``django.utils.timezone.now`` is the day's ``SimClock``, and the hub's rate-limit waits
move it instead of sleeping; ``transaction.on_commit`` work (the tasks) runs as each request or
job commits. A thousand orders take a few minutes on SQLite.

Real workers: see ``integrations.simulate.workers``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from unittest import mock

from integrations import ratelimits
from integrations.http import mounted
from integrations.simulate.day import Day
from integrations.simulate.report import Report


@contextmanager
def embedded(day: Day) -> Iterator[Day]:
    with ExitStack() as stack:
        for tool in day.participants():
            transport = tool.transport()
            for origin in (tool.origin, *tool.more_origins):
                stack.enter_context(mounted(origin, transport))
        stack.enter_context(mock.patch("django.utils.timezone.now", day.clock))
        stack.enter_context(mock.patch.object(ratelimits, "sleep", day.clock.sleep))
        yield day


def run_embedded(day: Day) -> Report:
    with embedded(day):
        return day.run()
