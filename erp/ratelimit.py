"""Per-key rate limit of the API: a fixed one-minute window counted in the database.

Each request made with an API key adds one to the row (key, current minute) with a
single ``INSERT ... ON CONFLICT DO UPDATE ... RETURNING`` (erp.counters): atomic under
any concurrency, on PostgreSQL and SQLite alike, and shared by every web process on
every machine, because the database is the deployment's shared state (no cache server
is configured, and the locmem cache would count per process). A key over its
``rate_limit_per_minute`` (0 = unlimited, nothing counted) gets 429 with ``Retry-After``;
every answer to a counted request carries ``RateLimit-Limit``, ``RateLimit-Remaining``
and ``RateLimit-Reset`` (seconds until the window ends).

A fixed window lets a key burst up to twice its limit around a minute boundary; in
exchange it costs one upsert per request and no reads. Rows of past minutes are deleted
by ``purge_windows`` (erp.tasks.purge_api_records_task).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from django.http import HttpRequest, HttpResponseBase

from erp.counters import upsert_increment
from erp.models import ApiKey, RateLimitWindow

WINDOW_SECONDS = 60
_REQUEST_ATTR = "_erp_rate_limit"


def now_seconds() -> float:
    """The clock (a function so that tests can move it)."""
    return time.time()


@dataclass(frozen=True)
class RateLimitState:
    limit: int
    used: int
    reset: int  # seconds until the window ends, at least 1

    @property
    def remaining(self) -> int:
        return max(0, self.limit - self.used)

    @property
    def exceeded(self) -> bool:
        return self.used > self.limit

    def headers(self) -> dict[str, str]:
        return {
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(self.remaining),
            "RateLimit-Reset": str(self.reset),
        }


class RateLimitExceeded(Exception):
    """The key made more requests this minute than it may; erp.api answers 429."""

    def __init__(self, state: RateLimitState) -> None:
        super().__init__(f"Rate limit of {state.limit} requests per minute exceeded.")
        self.state = state


def hit(api_key: ApiKey) -> RateLimitState | None:
    """Count one request of this key; None when the key is unlimited.

    Raises RateLimitExceeded when the request is over the limit (it is counted too).
    """
    limit = api_key.rate_limit_per_minute
    if not limit:
        return None
    now = now_seconds()
    minute = int(now // WINDOW_SECONDS)
    used = upsert_increment(
        RateLimitWindow._meta.db_table, {"api_key_id": str(api_key.pk), "minute": str(minute)}, "hits"
    )
    reset = max(1, int((minute + 1) * WINDOW_SECONDS - now + 0.999))
    state = RateLimitState(limit=limit, used=used, reset=reset)
    if state.exceeded:
        raise RateLimitExceeded(state)
    return state


def enforce(request: HttpRequest, api_key: ApiKey) -> None:
    """Count the request once (authentication may run more than once) and remember the state
    for ``add_headers``. Raises RateLimitExceeded over the limit."""
    if hasattr(request, _REQUEST_ATTR):
        return
    setattr(request, _REQUEST_ATTR, None)
    setattr(request, _REQUEST_ATTR, hit(api_key))


def add_headers(request: HttpRequest, response: HttpResponseBase) -> None:
    """The RateLimit-* headers on any answer to a counted request."""
    state: RateLimitState | None = getattr(request, _REQUEST_ATTR, None)
    if state is None:
        return
    for name, value in state.headers().items():
        response.headers.setdefault(name, value)


def purge_windows() -> int:
    """Delete the counters of past minutes; return how many."""
    current = int(now_seconds() // WINDOW_SECONDS)
    deleted, _ = RateLimitWindow.objects.filter(minute__lt=current - 1).delete()
    return deleted
