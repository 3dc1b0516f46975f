"""Where a simulated day runs: embedded (tasks in process, a simulated clock) or with real workers.

Embedded (``run_embedded``): the fakes are mounted on the hub's HTTP client at their tools' real
addresses, ``django.utils.timezone.now`` is the day's ``SimClock``, and the hub's rate-limit waits
move it instead of sleeping; ``transaction.on_commit`` work (the tasks) runs as each request or
job commits. A thousand orders take a few minutes on SQLite.

Every other address is refused (``NOWHERE``): the day's events go to every active connection of
the database, and one that is not the day's (an earlier day's QuickBooks, run with other
``--tools``; a real tool's) would otherwise be sent the day's changes over the network, at its
tool's real address. Its request fails as an unreachable host does, without a DNS lookup, and
is retried and dead-lettered as such.

Real workers: see ``integrations.simulate.workers``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from unittest import mock

import httpx

from integrations import ratelimits
from integrations.http import mounted
from integrations.simulate.day import Day
from integrations.simulate.report import Report


def _refuse(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError(
        f"a simulated day reaches no real tool: nothing of the day serves {request.url.host}", request=request
    )


NOWHERE = httpx.MockTransport(_refuse)  # mounted at "", under every fake (the longest prefix wins)


@contextmanager
def embedded(day: Day) -> Iterator[Day]:
    with ExitStack() as stack:
        stack.enter_context(mounted("", NOWHERE))
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
