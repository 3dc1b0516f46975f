"""The buckets tools meter requests with; a fake answers its tool's 429 when one refuses.

Each bucket reads time from a ``monotonic`` callable (seconds; the fake's clock's, so a
simulated day moves them too) and answers ``take(cost)`` with the seconds to wait: 0.0 when
the request is admitted (and counted), else how long until it would be (nothing is counted).

* ``LeakyBucket(size, leak_rate)``: Shopify's REST limit: each request adds one to the bucket,
  which leaks ``leak_rate`` a second; a request that would overflow ``size`` is refused.
  ``used`` is what ``X-Shopify-Shop-Api-Call-Limit: used/size`` shows.
* ``TokenBucket(rate, burst)``: Amazon SP-API's per-operation limits (and Shopify's GraphQL
  points): ``burst`` tokens, restored at ``rate`` a second, a request spends ``cost``.
* ``FixedWindow(limit, window_seconds)``: ShipStation's 40 requests a minute: a window opens
  with the first request after the last one closed; ``remaining`` and ``reset_in`` are its
  ``X-Rate-Limit-Remaining`` and ``X-Rate-Limit-Reset``.
* ``SlidingWindow(limit, window_seconds)``: ShipBob's 150 requests a minute: at most ``limit`` in
  any ``window_seconds``; ``take()`` answers the seconds until the oldest slides out.
"""

from __future__ import annotations

import collections
import math
import threading
import time
from collections.abc import Callable

Monotonic = Callable[[], float]


class LeakyBucket:
    """A bucket of ``size`` that leaks ``leak_rate`` requests a second (Shopify REST)."""

    def __init__(self, size: float, leak_rate: float, monotonic: Monotonic = time.monotonic) -> None:
        if size <= 0 or leak_rate <= 0:
            raise ValueError("size and leak_rate must be positive")
        self.size = size
        self.leak_rate = leak_rate
        self.monotonic = monotonic
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        """Empty again."""
        with self._lock:
            self._level = 0.0
            self._at = self.monotonic()

    def leak(self) -> float:
        """Let out what leaked since the last reading; the level now."""
        with self._lock:
            now = self.monotonic()
            self._level = max(0.0, self._level - (now - self._at) * self.leak_rate)
            self._at = now
            return self._level

    @property
    def level(self) -> float:
        """The level at the last reading (``leak`` brings it up to now)."""
        return self._level

    @level.setter
    def level(self, value: float) -> None:
        """Fill the bucket to ``value`` now (a test's busy shop)."""
        with self._lock:
            self._level = max(0.0, float(value))
            self._at = self.monotonic()

    @property
    def used(self) -> int:
        """The level as the tool shows it: whole requests, rounded up."""
        return math.ceil(self._level)

    def take(self, cost: float = 1.0) -> float:
        """Add ``cost`` when it fits (0.0); else the seconds until it would fit (nothing added)."""
        self.leak()
        with self._lock:
            if self._level + cost > self.size:
                return (self._level + cost - self.size) / self.leak_rate
            self._level += cost
            return 0.0


class TokenBucket:
    """``burst`` tokens, restored at ``rate`` a second; a request spends ``cost`` (Amazon SP-API)."""

    def __init__(self, rate: float, burst: float, monotonic: Monotonic = time.monotonic) -> None:
        if rate <= 0 or burst <= 0:
            raise ValueError("rate and burst must be positive")
        self.rate = rate
        self.burst = burst
        self.monotonic = monotonic
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        """Full again."""
        with self._lock:
            self._tokens = float(self.burst)
            self._at = self.monotonic()

    def _refill(self) -> None:
        now = self.monotonic()
        self._tokens = min(float(self.burst), self._tokens + (now - self._at) * self.rate)
        self._at = now

    @property
    def available(self) -> float:
        """The tokens there are now."""
        with self._lock:
            self._refill()
            return self._tokens

    def take(self, cost: float = 1.0) -> float:
        """Spend ``cost`` tokens when there are enough (0.0); else the seconds until there would be."""
        with self._lock:
            self._refill()
            if self._tokens < cost:
                return (cost - self._tokens) / self.rate
            self._tokens -= cost
            return 0.0


class FixedWindow:
    """``limit`` requests per window of ``window_seconds`` (ShipStation: 40 a minute)."""

    def __init__(self, limit: int, window_seconds: float, monotonic: Monotonic = time.monotonic) -> None:
        if limit <= 0 or window_seconds <= 0:
            raise ValueError("limit and window_seconds must be positive")
        self.limit = limit
        self.window_seconds = window_seconds
        self.monotonic = monotonic
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        """No window open: the next request opens one."""
        with self._lock:
            self._opened: float | None = None
            self._count = 0

    def _roll(self) -> float:
        now = self.monotonic()
        if self._opened is not None and now - self._opened >= self.window_seconds:
            self._opened, self._count = None, 0
        return now

    @property
    def remaining(self) -> int:
        """Requests left in the current window (the full limit when none is open)."""
        with self._lock:
            self._roll()
            return self.limit - self._count

    @property
    def reset_in(self) -> int:
        """Whole seconds until the current window closes (the full window when none is open)."""
        with self._lock:
            now = self._roll()
            if self._opened is None:
                return math.ceil(self.window_seconds)
            return max(math.ceil(self._opened + self.window_seconds - now), 0)

    def take(self, cost: float = 1.0) -> float:
        """Count ``cost`` requests in this window when they fit (0.0); else the seconds until it closes."""
        with self._lock:
            now = self._roll()
            if self._opened is None:
                self._opened = now
            if self._count + cost > self.limit:
                return max(self._opened + self.window_seconds - now, 0.0)
            self._count += math.ceil(cost)
            return 0.0


class SlidingWindow:
    """At most ``limit`` requests in any ``window_seconds`` (ShipBob: 150 a minute)."""

    def __init__(self, limit: int, window_seconds: float, monotonic: Callable[[], float]) -> None:
        if limit <= 0 or window_seconds <= 0:
            raise ValueError("limit and window_seconds must be positive")
        self.limit = limit
        self.window_seconds = window_seconds
        self.monotonic = monotonic
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self._times: collections.deque[float] = collections.deque()

    def _slide(self) -> float:
        now = self.monotonic()
        while self._times and now - self._times[0] >= self.window_seconds:
            self._times.popleft()
        return now

    @property
    def remaining(self) -> int:
        with self._lock:
            self._slide()
            return max(self.limit - len(self._times), 0)

    def take(self) -> float:
        """Count a request when it fits (0.0); else the seconds until the oldest one slides out."""
        with self._lock:
            now = self._slide()
            if len(self._times) >= self.limit:
                return max(self._times[0] + self.window_seconds - now, 0.001)
            self._times.append(now)
            return 0.0
