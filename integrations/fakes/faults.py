"""Failures a test injects into a fake, per operation: 429 bursts, 5xx, timeouts, slow answers.

``FaultPlan`` is a queue of planned faults. Each entry covers the next ``count`` requests whose
operation name contains ``match`` (every request when ``match`` is None); ``take(operation)``
is called once per request, before the tool answers, and returns the fault that request gets
(consuming one of its entry's count), or None. Entries are consulted in the order they were
planned, so ``fail_next(2)`` then ``throttle_next(1)`` answers two 5xx and then one 429.

What a fault does is the fake's business (``base.FakeTool`` applies them):

* ``throttle``: the tool's own 429 (with ``retry_after`` seconds), or however the tool throttles;
* ``fail``: ``status`` (503 by default) with ``body`` or the tool's own error body;
* ``timeout``: no answer at all (``seconds`` is how long the caller waits for nothing); with
  ``processed`` the tool did the work and only the answer was lost;
* ``slow``: the tool answers normally after ``seconds``.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any, Literal

FaultKind = Literal["throttle", "fail", "timeout", "slow"]


@dataclass(frozen=True)
class Fault:
    """One planned failure, as the request that gets it sees it."""

    kind: FaultKind
    status: int = 0  # the HTTP status a throttle (429) or a failure answers
    retry_after: float | None = None
    body: Any = None  # a failure's body (None: the tool's own error body)
    seconds: float = 0.0  # how long a timeout hangs, or a slow answer takes
    processed: bool = False  # a timeout after the tool did the work (the answer was lost)


@dataclass
class _Planned:
    fault: Fault
    remaining: int
    match: str | None


class FaultPlan:
    """The faults planned for a fake's next requests; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._planned: list[_Planned] = []

    def plan(self, fault: Fault, count: int = 1, *, match: str | None = None) -> None:
        """The next ``count`` requests whose operation contains ``match`` get ``fault``."""
        if count < 0:
            raise ValueError("count must not be negative")
        with self._lock:
            self._planned.append(_Planned(fault, count, match))

    def throttle_next(self, count: int = 1, *, retry_after: float = 2.0, match: str | None = None) -> None:
        """The next ``count`` matching requests are throttled (429, ``Retry-After: retry_after``)."""
        self.plan(Fault("throttle", status=429, retry_after=retry_after), count, match=match)

    def fail_next(
        self, count: int = 1, *, status: int = 503, match: str | None = None, body: Any = None
    ) -> None:
        """The next ``count`` matching requests answer ``status`` (with ``body``, else the tool's)."""
        self.plan(Fault("fail", status=status, body=body), count, match=match)

    def timeout_next(
        self,
        count: int = 1,
        *,
        match: str | None = None,
        seconds: float = 30.0,
        processed: bool = False,
    ) -> None:
        """The next ``count`` matching requests get no answer (``processed``: the tool did the work)."""
        self.plan(Fault("timeout", status=504, seconds=seconds, processed=processed), count, match=match)

    def slow_next(self, count: int = 1, *, seconds: float = 5.0, match: str | None = None) -> None:
        """The next ``count`` matching requests are answered normally, ``seconds`` late."""
        self.plan(Fault("slow", seconds=seconds), count, match=match)

    def clear(self) -> None:
        """Forget every planned fault."""
        with self._lock:
            self._planned.clear()

    def take(self, operation: str) -> Fault | None:
        """The fault this request (``operation``) gets, consumed from the first matching entry."""
        with self._lock:
            self._planned = [p for p in self._planned if p.remaining > 0]
            for planned in self._planned:
                if planned.match is None or planned.match in operation:
                    planned.remaining -= 1
                    return planned.fault
            return None

    @property
    def pending(self) -> int:
        """How many requests still have a fault coming."""
        with self._lock:
            return sum(p.remaining for p in self._planned)
