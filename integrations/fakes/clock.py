"""Clocks a fake (and the simulated day) run on: the simulated one, and the wall clock."""

from __future__ import annotations

import datetime
import time
from collections.abc import Callable
from typing import Protocol, cast


class Clock(Protocol):
    """What a fake asks of its clock: now (aware, UTC), a monotonic reading, and a sleep."""

    def __call__(self) -> datetime.datetime: ...

    def monotonic(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...


class SimClock:
    """A simulated now that moves only when told: ``tick`` or ``sleep`` (a wait that takes no time)."""

    def __init__(self, start: datetime.datetime | None = None) -> None:
        self.now = (start or datetime.datetime.now(datetime.UTC)).replace(microsecond=0)
        self._start = self.now

    def __call__(self) -> datetime.datetime:
        return self.now

    def tick(self, delta: datetime.timedelta) -> None:
        self.now += delta

    def sleep(self, seconds: float) -> None:
        self.tick(datetime.timedelta(seconds=max(seconds, 0.0)))

    def monotonic(self) -> float:
        return (self.now - self._start).total_seconds()

    @property
    def started(self) -> datetime.datetime:
        return self._start


class WallClock:
    """The real time: for a fake served on its own port, or a day run with real workers."""

    def __call__(self) -> datetime.datetime:
        return datetime.datetime.now(datetime.UTC)

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(max(seconds, 0.0))


class _CallableClock:
    """A ``Clock`` around a bare now-callable: a test's own clock, with a monotonic and a sleep."""

    def __init__(
        self,
        now: Callable[[], datetime.datetime],
        monotonic: Callable[[], float],
        sleep: Callable[[float], None],
    ) -> None:
        self._now = now
        self._monotonic = monotonic
        self._sleep = sleep

    def __call__(self) -> datetime.datetime:
        return self._now()

    def monotonic(self) -> float:
        return self._monotonic()

    def sleep(self, seconds: float) -> None:
        self._sleep(max(seconds, 0.0))


def as_clock(
    clock: Callable[[], datetime.datetime] | None = None, monotonic: Callable[[], float] | None = None
) -> Clock:
    """The ``Clock`` a fake runs on, from what its caller gave: a ``Clock`` (used as it is), a bare
    now-callable (its ``monotonic`` and ``sleep`` when it has them, else the real ones), or nothing
    (the wall clock). ``monotonic`` overrides the clock's own reading (the rate limits use it)."""
    if clock is None:
        clock = WallClock()
    own_monotonic = getattr(clock, "monotonic", None)
    own_sleep = getattr(clock, "sleep", None)
    if monotonic in (None, own_monotonic) and callable(own_monotonic) and callable(own_sleep):
        return cast(Clock, clock)
    return _CallableClock(
        clock,
        monotonic or (own_monotonic if callable(own_monotonic) else time.monotonic),
        own_sleep if callable(own_sleep) else time.sleep,
    )
