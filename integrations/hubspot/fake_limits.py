"""The fake HubSpot's rate limits: three buckets, each refusing with its own 429.

* ``TEN_SECONDLY_ROLLING``: 100 requests in any 10 seconds, per app and portal (the private app's
  and the OAuth app's are separate buckets), every endpoint but search;
* ``DAILY``: the private app's daily quota (500,000), reset at midnight in the portal's time zone;
* ``SECONDLY``: the search endpoints' own limit, 5 requests a second per account; a search counts
  here (and against the day), never in the 10-second bucket.

Every answer to an authenticated request carries HubSpot's headers
(response_headers_rate_limit_example.json): ``X-HubSpot-RateLimit-Max``, ``-Remaining``,
``-Interval-Milliseconds``, ``-Secondly`` and ``-Secondly-Remaining`` (a tenth of the 10-second
budget: shown, not enforced), and for a private app also ``-Daily`` and ``-Daily-Remaining``.
A refusal is 429 with error_429_rate_limit.json's body, the ``policyName`` of the bucket that
refused and its ``groupName``; HubSpot sends no Retry-After, so neither does the fake. The buckets
read the fake's clock (a simulated day moves them); ``limits=False`` turns them off.
"""

from __future__ import annotations

import datetime
import threading
import zoneinfo
from typing import Any

from integrations.fakes.clock import Clock
from integrations.fakes.ratelimit import SlidingWindow
from integrations.hubspot.fake_data import (
    DAILY_LIMIT,
    SEARCH_PER_SECOND,
    TEN_SECONDLY_LIMIT,
    TIME_ZONE,
    rate_limit_body,
)


class HubSpotLimits:
    """The three buckets and their headers. Mixed into ``FakeHubSpot``."""

    clock: Clock
    _lock: threading.RLock
    portal_id: int
    app_id: int
    limits: bool

    def reset_limits(self) -> None:
        with self._lock:
            self.ten_secondly_limit: int = getattr(self, "ten_secondly_limit", TEN_SECONDLY_LIMIT)
            self.daily_limit: int = getattr(self, "daily_limit", DAILY_LIMIT)
            self.search_per_second: int = getattr(self, "search_per_second", SEARCH_PER_SECOND)
            self.windows: dict[str, SlidingWindow] = {}
            self.daily_used: dict[datetime.date, int] = {}

    def window(self, name: str) -> SlidingWindow:
        """A bucket: ``ten_secondly:<kind>``, ``secondly:<kind>`` (shown only) or ``search``."""
        if name not in self.windows:
            if name.startswith("ten_secondly"):
                limit, seconds = self.ten_secondly_limit, 10.0
            elif name.startswith("secondly"):
                limit, seconds = max(self.ten_secondly_limit // 10, 1), 1.0
            else:
                limit, seconds = self.search_per_second, 1.0
            self.windows[name] = SlidingWindow(limit, seconds, self.clock.monotonic)
        return self.windows[name]

    def today(self) -> datetime.date:
        return self.clock().astimezone(zoneinfo.ZoneInfo(TIME_ZONE)).date()

    def group(self, kind: str) -> str:
        return f"publicapi:{'private-app' if kind == 'private' else 'oauth'}:{self.app_id}:{self.portal_id}"

    def admit(self, kind: str, *, search: bool) -> dict[str, Any] | None:
        """Count one request of a token ``kind`` ("private" | "oauth"); the 429 body when a bucket
        refuses it (nothing counted then)."""
        if not self.limits:
            return None
        if kind == "private" and self.daily_used.get(self.today(), 0) >= self.daily_limit:
            return rate_limit_body("DAILY", self.group(kind))
        if search:
            if self.window("search").take() > 0:
                return rate_limit_body("SECONDLY", self.group(kind))
        elif self.window(f"ten_secondly:{kind}").take() > 0:
            return rate_limit_body("TEN_SECONDLY_ROLLING", self.group(kind))
        else:
            self.window(f"secondly:{kind}").take()  # shown in the headers, never refused
        if kind == "private":
            self.daily_used[self.today()] = self.daily_used.get(self.today(), 0) + 1
        return None

    def limit_headers(self, kind: str) -> dict[str, str]:
        """The rate-limit headers of an answer to a request of a token ``kind``."""
        headers = {
            "X-HubSpot-RateLimit-Interval-Milliseconds": "10000",
            "X-HubSpot-RateLimit-Max": str(self.ten_secondly_limit),
            "X-HubSpot-RateLimit-Remaining": str(self.window(f"ten_secondly:{kind}").remaining),
            "X-HubSpot-RateLimit-Secondly": str(max(self.ten_secondly_limit // 10, 1)),
            "X-HubSpot-RateLimit-Secondly-Remaining": str(self.window(f"secondly:{kind}").remaining),
        }
        if kind == "private":
            headers["X-HubSpot-RateLimit-Daily"] = str(self.daily_limit)
            headers["X-HubSpot-RateLimit-Daily-Remaining"] = str(
                max(self.daily_limit - self.daily_used.get(self.today(), 0), 0)
            )
        return headers
