"""A local fake ShipBob (3PL, API version 2026-01), for the tests, the simulated day and the demo.

One ``FakeShipBob`` holds a merchant's ShipBob account in memory: its channels (``CHANNEL_ID``
"ERP Connector", the PAT's application, and ShipBob's read-only "ShipBob Default"), fulfilment
centres (10 "Cicero (IL)", 24 "Moreno Valley (CA)"), products with stock per centre, orders and
their shipments, warehouse receiving orders and webhook subscriptions, and answers HTTP as
ShipBob does at ``https://api.shipbob.com/2026-01/...`` (any host; under any path prefix over
WSGI). It stands on ``integrations.fakes`` (``FakeTool``, ``TokenStore``, the cursor helpers,
``WebhookSender``). Layout: ``fake_data`` (constants, seed, samples, error bodies),
``fake_state`` (catalogue, stock, new orders), ``fake_orders`` (the warehouse's own doings),
``fake_receiving`` (WROs), ``fake_webhooks`` (subscriptions, Standard Webhooks deliveries),
``fake_api`` (the endpoints), ``fake_snapshot``; this module checks the token, the rate limit
and the channel header, and routes.

* ``Authorization: Bearer <PAT>`` or an access token its OAuth sign-in issued (``/connect/authorize``
  and ``/connect/token`` on ``auth.shipbob.com``, see ``fake_oauth``; tokens expire after an hour
  and are refreshed with rotating refresh tokens): 401 with no body otherwise.
* 150 requests a minute per token (``window(token)``), a sliding window (``rate_limit`` /
  ``window_seconds``; the simulated day passes a generous one, ``limits=False`` turns it off).
  Every authenticated answer carries ``x-remaining-calls``; past the limit: 429
  ``{"statusCode": 429, "message": "Rate limit is exceeded. Try again in N seconds."}`` with
  ``x-retry-after: N``.
  ``throttle_next`` gives the same 429 (``retry_after`` seconds).
* Writes of orders and receiving (POST/PUT/PATCH/DELETE) need ``shipbob_channel_id``: 400
  ``{"shipbob_channel_id": [...]}`` when missing or unknown, 403 (no body) for a channel
  without write scopes. On reads the header, when given, filters orders to its channel.

Test controls (the warehouse, carriers, the merchant): ``ship``, ``add_tracking``,
``omit_tracking_next``, ``deliver``, ``hold``, ``release``, ``exception``, ``cancel_order``,
``receive``, ``damage``, ``count``, ``on_hand`` / ``committed`` / ``fulfillable``,
``add_product``, ``set_active``, ``subscribe``; ``order``, ``order_by_reference``,
``shipment``, ``receiving_order``; webhooks: ``deliver_webhooks(send, now=None)``,
``pending_webhooks``, ``duplicate_next``, ``drop_next``, ``delay_next``, ``outbox``; API
faults: ``throttle_next``, ``fail_next``, ``timeout_next``, ``slow_next`` (``match``: a
substring of ``"POST order"``, ``"GET inventory-level"``, ``"POST order/312345678:cancel"``);
``issue_token``, ``revoke_token``; OAuth: ``oauth_codes``, ``token_calls``, ``expire_tokens``,
``revoke_refresh_tokens``, ``refreshes``; ``requests``, ``requests_to``; ``reset``; ``snapshot``.
"""

from __future__ import annotations

import datetime
import json
import math
import re
import threading
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from integrations.fakes.base import Answer, FakeTool, Incoming
from integrations.fakes.faults import Fault
from integrations.fakes.ratelimit import SlidingWindow
from integrations.fakes.tokens import TokenStore
from integrations.shipbob.fake_api import ShipBobApi, needs_channel
from integrations.shipbob.fake_data import (
    ACCESS_TOKEN,
    BASE_URL,
    CHANNEL_ID,
    CHANNEL_NAME,
    DEFAULT_CHANNEL_ID,
    FULFILLMENT_CENTERS,
    PRODUCTS,
    READ_SCOPES,
    STOCK,
    VERSION,
    WRITE_SCOPES,
    Problem,
    invalid,
    rate_limited_body,
)
from integrations.shipbob.fake_oauth import AUTH_URL, CLIENT_ID, CLIENT_SECRET, ShipBobOAuth
from integrations.shipbob.fake_snapshot import shipbob_snapshot
from integrations.shipbob.fake_webhooks import RETRY_SCHEDULE, new_secret, sample_webhook, sign, verify

__all__ = [
    "ACCESS_TOKEN",
    "AUTH_URL",
    "BASE_URL",
    "CHANNEL_ID",
    "CLIENT_ID",
    "CLIENT_SECRET",
    "RETRY_SCHEDULE",
    "FakeShipBob",
    "SlidingWindow",
    "new_secret",
    "sample_webhook",
    "shared_fake",
    "sign",
    "verify",
    "wsgi_app",
]

_AUTH_PATH = re.compile(r"^(?P<prefix>.*?)/connect/(?P<action>authorize|token)/?$")
_API_PATH = re.compile(r"^(?P<prefix>.*?)/(?P<version>1\.0|2\.0|2025-07|2026-01|2026-07)/(?P<path>.*?)/?$")


# The mixins read ``clock`` as a bare now-callable; FakeTool's is a fakes.clock.Clock, which is one.
class FakeShipBob(FakeTool, ShipBobApi, ShipBobOAuth):  # type: ignore[misc]
    """A ShipBob account in memory that speaks its 2026-01 API. Thread-safe; see the module doc."""

    tool = "shipbob"

    def __init__(
        self,
        *,
        clock: Callable[[], datetime.datetime] | None = None,
        monotonic: Callable[[], float] | None = None,
        token: str = ACCESS_TOKEN,
        channel_id: int = CHANNEL_ID,
        channel_name: str = CHANNEL_NAME,
        fulfillment_centers: Mapping[int, str] | None = None,
        products: Mapping[str, str] | None = None,
        stock: Mapping[str, Mapping[int, int]] | None = None,
        rate_limit: int = 150,
        window_seconds: float = 60.0,
        limits: bool = True,
        seed: bool = True,
    ) -> None:
        super().__init__(clock=clock, monotonic=monotonic)
        self.token = token
        self.channel_id = channel_id
        self.centers = dict(fulfillment_centers or FULFILLMENT_CENTERS)
        self.channels = {
            channel_id: {
                "application_name": channel_name,
                "id": channel_id,
                "name": channel_name,
                "scopes": list(WRITE_SCOPES),
            },
            DEFAULT_CHANNEL_ID: {
                "application_name": "ShipBob",
                "id": DEFAULT_CHANNEL_ID,
                "name": "ShipBob Default",
                "scopes": list(READ_SCOPES),
            },
        }
        self._catalogue = dict(products or PRODUCTS)
        self._initial_stock = {sku: dict(levels) for sku, levels in (stock or STOCK).items()}
        self.limits = limits
        self.rate_limit = rate_limit
        self.window_seconds = window_seconds
        self.windows: dict[str, SlidingWindow] = {}  # per token
        self.tokens = TokenStore(self.clock, prefix="shipbob_pat_")
        self.reset(seed=seed)

    def reset(self, *, seed: bool = True) -> None:
        """Forget everything (state, subscriptions, deliveries, request log, faults, window); reseed."""
        with self._lock:
            self.requests.clear()
            self.clear_failures()
            self.windows.clear()
            self.tokens.reset()
            self.tokens.allow(self.token)
            self.reset_oauth()
            self.reset_state(seed=seed)

    def window(self, token: str | None = None) -> SlidingWindow:
        """The rate-limit window of a token (the PAT's by default)."""
        with self._lock:
            key = token or self.token
            if key not in self.windows:
                self.windows[key] = SlidingWindow(self.rate_limit, self.window_seconds, self.clock.monotonic)
            return self.windows[key]

    def issue_token(self, ttl: float | None = 3600) -> str:
        """Another access token (an OAuth one that expires after ``ttl`` seconds), with its own limit."""
        with self._lock:
            return self.tokens.issue(ttl=ttl, with_refresh=False).access_token

    def revoke_token(self) -> None:
        """The merchant revoked the PAT: every request now gets 401."""
        with self._lock:
            self.tokens.revoke_all()

    def snapshot(self, reference_ids: Iterable[str] | None = None) -> dict[str, Any]:
        """Orders, stock and receiving orders as plain JSON, for drift checks (see ``fake_snapshot``)."""
        with self._lock:
            return shipbob_snapshot(
                now=self.clock(),
                orders=list(self.orders.values()),
                levels=[self.location_item(p) for p in sorted(self.products.values(), key=lambda p: p["id"])],
                wros=list(self.wros.values()),
                reference_ids=reference_ids,
            )

    def requests_to(self, operation: str) -> list[Any]:
        """Logged requests whose operation is exactly ``operation`` (``"POST order"``)."""
        with self._lock:
            return [r for r in self.requests if r.operation == operation]

    # --- HTTP -----------------------------------------------------------------------------------------

    def operation(self, request: Incoming) -> str | None:
        match = _API_PATH.match(request.path)
        return None if match is None else f"{request.method} {match['path']}"

    def serve(self, request: Incoming) -> Answer:
        return self.answer(request, None)

    def answer(self, request: Incoming, fault: Fault | None) -> Answer:
        """ShipBob's order: the path, the token, the rate limit, the channel, the endpoint."""
        signing_in = _AUTH_PATH.match(request.path)
        if signing_in is not None:
            return self.oauth_respond(request.method, request.url, signing_in["action"], request.body)
        match = _API_PATH.match(request.path)
        if match is None or match["version"] != VERSION:
            return self._reply(404, None)
        authorization = request.headers.get("authorization", "")
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or self.tokens.check(token.strip()) != "ok":
            return self._reply(401, None)
        if fault is not None and fault.kind == "throttle":
            return self.throttled(request, fault)
        window = self.window(token.strip())
        if self.limits:
            wait = window.take()
            if wait:
                return self._too_many(wait)
        if fault is not None and fault.kind == "fail":
            return self.failed(request, fault, window)
        path = match["path"]
        try:
            channel_id = self._channel(request, needs_channel(request.method, path))
            status, body, headers = self.route(
                request.method, path, request.params, request.json(), channel_id
            )
        except Problem as problem:
            status, body, headers = problem.status, problem.body, {}
        return self._reply(status, body, headers, window)

    def _channel(self, request: Incoming, write: bool) -> int | None:
        raw = request.headers.get("shipbob_channel_id", request.headers.get("shipbob-channel-id"))
        if raw is None or not raw.strip():
            if write:
                raise invalid({"shipbob_channel_id": "The shipbob_channel_id header is required."})
            return None
        try:
            channel = self.channels.get(int(raw))
        except ValueError:
            channel = None
        if channel is None:
            raise invalid({"shipbob_channel_id": f"Channel {raw} does not exist or is not accessible."})
        if write and "orders_write" not in channel["scopes"]:
            raise Problem(403)
        return int(channel["id"])

    def _too_many(self, wait: float) -> Answer:
        seconds = max(math.ceil(wait), 1)
        headers = {"x-remaining-calls": "0", "x-retry-after": str(seconds)}
        return (
            429,
            {"Content-Type": "application/json", **headers},
            json.dumps(rate_limited_body(seconds)).encode(),
        )

    def throttled(self, request: Incoming, fault: Fault) -> Answer:
        """ShipBob's 429 with ``x-retry-after`` (the fault's ``retry_after``, whole seconds)."""
        return self._too_many(fault.retry_after if fault.retry_after is not None else 25.0)

    def failed(self, request: Incoming, fault: Fault, window: SlidingWindow | None = None) -> Answer:
        body = fault.body if fault.body is not None else {"errors": ["An unexpected error occurred."]}
        return self._reply(fault.status or 503, body, None, window)

    def _reply(
        self,
        status: int,
        body: Any,
        extra: Mapping[str, str] | None = None,
        window: SlidingWindow | None = None,
    ) -> Answer:
        headers = dict(extra or {})
        if window is not None and self.limits:
            headers["x-remaining-calls"] = str(window.remaining)
        if body is None:
            return status, headers, b""
        headers["Content-Type"] = "application/json; charset=utf-8"
        return status, headers, json.dumps(body).encode()


_shared: FakeShipBob | None = None
_shared_lock = threading.Lock()


def shared_fake() -> FakeShipBob:
    """One fake per process, for ``make run``: the demo's connection and the served app share it."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = FakeShipBob()
        return _shared


def wsgi_app() -> FakeShipBob:
    """A fresh fake ShipBob as a WSGI app (``manage.py run_fake shipbob``)."""
    return FakeShipBob()
