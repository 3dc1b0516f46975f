"""A connector with named rate-limit buckets (shaped like Amazon's per-operation limits), a fake of
its tool that timestamps every request, and a clock for the limiter, for the rate-limit tests."""

from __future__ import annotations

import datetime
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any, ClassVar

import httpx
import pytest
from django.utils import timezone
from pydantic import BaseModel

from integrations import http, ratelimits
from integrations.contract import (
    Bucket,
    Capability,
    Connector,
    InboundItem,
    RateLimitHint,
    WebhookEnvelope,
    WebhookRequest,
)
from integrations.http import HubHttp
from integrations.models import Connection
from tests.integrations.factories import ConnectionFactory

OPS_BASE = "https://ops.test"


class OpsSettings(BaseModel):
    base_url: str = OPS_BASE


class OpsSecrets(BaseModel):
    api_key: str


class OpsConnector(Connector):
    """Orders and their items count against buckets of their own (Amazon's getOrders and
    getOrderItems); uploads are capped at two at once; reports have a daily quota."""

    key = "ops-buckets"
    name = "Ops"
    capabilities = frozenset({Capability.ORDERS_IN})
    settings_schema = OpsSettings
    secrets_schema = OpsSecrets
    rate_limit_per_second = 50.0
    rate_limit_burst = 50
    rate_buckets: ClassVar[Mapping[str, Bucket]] = {
        "orders": Bucket(rate=1.0, burst=2),
        "items": Bucket(rate=0.5, burst=3),
        "uploads": Bucket(rate=0, burst=1, concurrency=2),
        "reports": Bucket(rate=100.0, burst=100, daily=3),
    }

    def base_url(self) -> str:
        return str(self.settings.base_url)

    def auth_headers(self, secrets: Mapping[str, Any]) -> dict[str, str]:
        return {"x-api-key": str(secrets["api_key"])}

    def bucket_for(self, method: str, url: str) -> str | None:
        path = httpx.URL(url).path
        if path.startswith("/orders/") and path.endswith("/items"):
            return "items"
        if path.startswith("/orders"):
            return "orders"
        if path.startswith("/uploads"):
            return "uploads"
        if path.startswith("/reports"):
            return "reports"
        return None

    def rate_limit_hint(self, response: httpx.Response) -> RateLimitHint | None:
        """``x-ops-limit: used/limit`` and ``x-ops-reset: seconds`` (ShipStation's
        X-Rate-Limit-Remaining and -Reset)."""
        used, _, limit = response.headers.get("x-ops-limit", "").partition("/")
        reset = response.headers.get("x-ops-reset")
        if not used or not limit:
            return None
        return RateLimitHint(
            used=int(used),
            limit=int(limit),
            reset_seconds=float(reset) if reset else None,
            bucket=response.headers.get("x-ops-bucket") or None,
        )

    def verify_webhook(self, request: WebhookRequest) -> bool:
        return False

    def webhook_events(self, request: WebhookRequest) -> list[WebhookEnvelope]:
        raise ValueError("Ops sends no webhooks.")

    def parse_webhook(self, topic: str, headers: Mapping[str, str], body: bytes) -> list[InboundItem]:
        raise ValueError("Ops sends no webhooks.")

    def test(self) -> str:
        return "ok"


Answer = httpx.Response | Callable[[httpx.Request], httpx.Response]


class FakeOps:
    """Answers 200 to everything (after scripted answers), timestamping each request as it arrives
    and counting the requests in flight at once (``delay`` keeps each one open that long)."""

    def __init__(self, *, delay: float = 0.0) -> None:
        self.delay = delay
        self.lock = threading.Lock()
        self.seen: list[tuple[float, str]] = []  # (time.monotonic(), path)
        self.script: list[Answer] = []
        self.in_flight = 0
        self.max_in_flight = 0

    def then(self, *answers: Answer) -> FakeOps:
        self.script.extend(answers)
        return self

    def paths(self) -> list[str]:
        return [path for _, path in self.seen]

    def times(self, prefix: str) -> list[float]:
        return sorted(t for t, path in self.seen if path.startswith(prefix))

    def handle(self, request: httpx.Request) -> httpx.Response:
        with self.lock:
            self.seen.append((time.monotonic(), request.url.path))
            scripted = self.script.pop(0) if self.script else None
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if self.delay:
                time.sleep(self.delay)
            if scripted is not None:
                return scripted(request) if callable(scripted) else scripted
            return httpx.Response(200, json={"ok": True})
        finally:
            with self.lock:
                self.in_flight -= 1


@pytest.fixture(name="ops")
def ops_fixture() -> Iterator[FakeOps]:
    tool = FakeOps()
    with http.mounted(OPS_BASE, httpx.MockTransport(tool.handle)):
        yield tool


def ops_connection(name: str = "Ops store") -> Connection:
    return ConnectionFactory.create(
        connector=OpsConnector.key,
        name=name,
        settings={"base_url": OPS_BASE},
        secrets={"api_key": "k-123456"},
    )


def ops_client(connection: Connection) -> HubHttp:
    return HubHttp(connection, OpsConnector)


class Clock:
    """Stands in for the limiter's clock and sleep: sleeping moves time on."""

    def __init__(self, start: datetime.datetime | None = None) -> None:
        self.moment = start or timezone.now()
        self.slept: list[float] = []

    def now(self) -> datetime.datetime:
        return self.moment

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.moment += datetime.timedelta(seconds=seconds)

    def advance(self, seconds: float) -> None:
        self.moment += datetime.timedelta(seconds=seconds)


@pytest.fixture(name="clock")
def clock_fixture(monkeypatch: pytest.MonkeyPatch) -> Clock:
    c = Clock()
    monkeypatch.setattr(ratelimits, "now", c.now)
    monkeypatch.setattr(ratelimits, "sleep", c.sleep)
    return c


def max_in_window(times: list[float], window: float) -> int:
    """The most requests any window of ``window`` seconds holds (starting at each request)."""
    best = 0
    j = 0
    for i, start in enumerate(times):
        j = max(j, i)
        while j < len(times) and times[j] < start + window:
            j += 1
        best = max(best, j - i)
    return best
