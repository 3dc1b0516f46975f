"""A local fake BigCommerce store, for the tests, the simulated day and the demo.

One ``FakeBigCommerce`` holds a store in memory (store hash ``abc123xyz``, store id ``1025646``,
USD; inventory locations 1 and 2; a catalogue of products with variants and SKUs, the same
SKUs as the fake Shopify's so both channels sell the same stock; stock per variant per
location; orders with products, shipping addresses, shipments and refunds; webhook hooks) and
answers HTTP as BigCommerce does, at ``https://api.bigcommerce.com/stores/{store_hash}/v2|v3/...``
(any host; under any path prefix over WSGI). It stands on ``integrations.fakes`` (``FakeTool``:
the HTTP front, clock, request log and injected faults; ``FixedWindow``; ``numbered_page``; the
webhook sender). Layout: ``fake_data`` (seed data, builders, the copied samples), ``fake_state``
(the store and its inventory rules), ``fake_orders`` (orders changed by shoppers and the merchant),
``fake_webhooks`` (thin signed deliveries, hooks deactivated), ``fake_api`` (V2 and V3 endpoints),
``fake_snapshot`` (``snapshot()``); this module checks the token and the quota and routes.

* ``X-Auth-Token`` is required: 401 otherwise (V2: an error array; V3: problem details).
* Every answer to an authenticated request carries ``X-Rate-Limit-Time-Window-Ms``,
  ``X-Rate-Limit-Time-Reset-Ms``, ``X-Rate-Limit-Requests-Quota`` and
  ``X-Rate-Limit-Requests-Left`` from a fixed window (``quota`` requests per ``window_seconds``;
  default 150 per 30 s); past the quota: 429 with those headers. ``throttle_next`` is the other
  429, platform load, WITHOUT them.

Test controls, as a shopper or the merchant in BigCommerce (each change queues the webhooks
BigCommerce sends for it, see ``fake_orders``): ``create_order(lines, status_id=11, ...)``,
``update_status(order_id, status_id)``, ``ship_order(order_id, lines=None, tracking_number=,
carrier=)``, ``retrack_shipment(order_id, shipment_id, tracking_number=, carrier=)``,
``refund_order(order_id, lines=None, amount=None, restock=False)``,
``cancel_order(order_id)``, ``archive_order(order_id)``, ``set_stock(sku, location_id, qty)``,
``set_safety_stock``, ``allow_backorders``; ``create_hook`` / ``deactivate_hook``;
webhooks: ``deliver_webhooks(send, now=None)``, ``duplicate_next``, ``drop_next``,
``delay_next`` / ``delay``, ``reorder``, ``outbox``; API faults: ``throttle_next`` (429
without quota headers), ``fail_next``, ``timeout_next``, ``slow_next`` (``match``: a substring
of ``"METHOD v2/orders/250"``), ``revoke_token()``; ``snapshot(order_ids=None)``.
"""

from __future__ import annotations

import datetime
import http
import json
import math
import re
import threading
import uuid
from collections.abc import Callable, Iterable
from typing import Any

from integrations.bigcommerce.fake_api import StoreApi
from integrations.bigcommerce.fake_data import (
    ACCESS_TOKEN,
    CLIENT_ID,
    CLIENT_SECRET,
    STORE_HASH,
    STORE_ID,
)
from integrations.bigcommerce.fake_snapshot import store_snapshot
from integrations.bigcommerce.fake_state import OutOfStock, Problem, v2_error, v3_error
from integrations.bigcommerce.fake_webhooks import RETRY_SCHEDULE, sample_webhook, sign, verify
from integrations.fakes.base import Answer, FakeTool, Incoming
from integrations.fakes.faults import Fault
from integrations.fakes.ratelimit import FixedWindow

__all__ = [
    "ACCESS_TOKEN",
    "CLIENT_ID",
    "CLIENT_SECRET",
    "RETRY_SCHEDULE",
    "STORE_HASH",
    "STORE_ID",
    "FakeBigCommerce",
    "OutOfStock",
    "sample_webhook",
    "shared_fake",
    "sign",
    "verify",
    "wsgi_app",
]

_API_PATH = re.compile(r"^(?P<prefix>.*?)/stores/(?P<hash>[^/]+)/(?P<version>v2|v3)(?P<path>/.*)?$")


class QuotaWindow(FixedWindow):
    """The fixed window with the milliseconds left in it (``X-Rate-Limit-Time-Reset-Ms``)."""

    @property
    def reset_ms(self) -> int:
        with self._lock:
            now = self._roll()
            if self._opened is None:
                return math.ceil(self.window_seconds * 1000)
            return max(math.ceil((self._opened + self.window_seconds - now) * 1000), 0)


# The mixins read ``clock`` as a bare now-callable; FakeTool's is a fakes.clock.Clock, which is one.
class FakeBigCommerce(FakeTool, StoreApi):  # type: ignore[misc]
    """A BigCommerce store in memory that speaks its REST API. Thread-safe; see the module doc."""

    tool = "bigcommerce"

    def __init__(
        self,
        *,
        store_hash: str = STORE_HASH,
        store_id: str = STORE_ID,
        access_token: str = ACCESS_TOKEN,
        client_id: str = CLIENT_ID,
        client_secret: str = CLIENT_SECRET,
        quota: int = 150,
        window_seconds: float = 30.0,
        clock: Callable[[], datetime.datetime] | None = None,
        monotonic: Callable[[], float] | None = None,
        seed: bool = True,
    ) -> None:
        super().__init__(clock=clock, monotonic=monotonic)
        self.store_hash = store_hash
        self.store_id = store_id
        self.access_token = access_token
        self.client_id = client_id
        self.client_secret = client_secret
        self.window = QuotaWindow(quota, window_seconds, self.clock.monotonic)
        self.reset(seed=seed)

    def reset(self, *, seed: bool = True) -> None:
        """Forget everything (state, hooks, deliveries, request log, faults, quota); reseed by default."""
        with self._lock:
            self.requests.clear()
            self.clear_failures()
            self.window.reset()
            self.reset_state(seed=seed)

    def revoke_token(self) -> None:
        """The app was uninstalled: every request now gets 401."""
        with self._lock:
            self.access_token = "revoked-" + uuid.uuid4().hex

    def snapshot(self, order_ids: Iterable[int] | None = None) -> dict[str, Any]:
        """The store's orders and stock as plain JSON, for drift checks (see ``fake_snapshot``)."""
        with self._lock:
            return store_snapshot(
                now=self.clock(),
                orders=list(self.orders.values()),
                variants=self.variants,
                inventory=self.inventory,
                order_ids=order_ids,
            )

    def requests_to(self, path: str, method: str | None = None) -> list[Any]:
        """Logged requests whose operation is ``"METHOD path"`` (path like ``v2/orders/250``)."""
        with self._lock:
            return [
                r
                for r in self.requests
                if r.operation is not None
                and r.operation.split(" ", 1)[1] == path
                and (method is None or r.method == method)
            ]

    # --- HTTP ---------------------------------------------------------------------------------------

    def operation(self, request: Incoming) -> str | None:
        match = _API_PATH.match(request.path)
        if match is None:
            return None
        return f"{request.method} {match['version']}{(match['path'] or '').rstrip('/')}"

    def serve(self, request: Incoming) -> Answer:
        return self.answer(request, None)

    def _quota_headers(self) -> dict[str, str]:
        return {
            "X-Rate-Limit-Time-Window-Ms": str(math.ceil(self.window.window_seconds * 1000)),
            "X-Rate-Limit-Time-Reset-Ms": str(self.window.reset_ms),
            "X-Rate-Limit-Requests-Quota": str(self.window.limit),
            "X-Rate-Limit-Requests-Left": str(self.window.remaining),
        }

    def answer(self, request: Incoming, fault: Fault | None) -> Answer:
        """BigCommerce's order: the path, the token, platform load, the app's quota, the endpoint."""
        match = _API_PATH.match(request.path)
        if match is None or match["hash"] != self.store_hash:
            return self._reply(404, v2_error(404, "The requested resource was not found.").body)
        version = match["version"]
        if request.headers.get("x-auth-token") != self.access_token:
            if version == "v2":
                body: Any = [{"status": 401, "message": "You are not authorized to access this resource."}]
                return self._reply(401, body)
            problem = v3_error(401, "You are not authorized to access this resource.")
            return self._reply(401, problem.body, problem.content_type)
        if fault is not None and fault.kind == "throttle":
            return self.throttled(request, fault)
        wait = self.window.take()
        if wait:
            problem = v3_error(429, "Too many requests: the API quota of this store was used up.")
            return self._reply(429, problem.body, problem.content_type, self._quota_headers())
        if fault is not None and fault.kind == "fail":
            return self.failed(request, fault)
        try:
            status, body, content_type = self.route(
                request.method, version, match["path"] or "/", request.params, request.json()
            )
        except Problem as problem:
            status, body, content_type = problem.status, problem.body, problem.content_type
        return self._reply(status, body, content_type, self._quota_headers())

    def throttled(self, request: Incoming, fault: Fault) -> Answer:
        """Platform load: a 429 WITHOUT the quota headers (back off and retry later)."""
        problem = v3_error(429, "Too many requests, please retry later.")
        return self._reply(429, problem.body, problem.content_type)

    def failed(self, request: Incoming, fault: Fault) -> Answer:
        status = fault.status or 503
        body = fault.body
        if body is None:
            body = {"status": status, "title": http.HTTPStatus(status).phrase, "type": "", "errors": {}}
        return self._reply(status, body, "application/json", self._quota_headers())

    def _reply(
        self,
        status: int,
        body: Any,
        content_type: str = "application/json",
        extra: dict[str, str] | None = None,
    ) -> Answer:
        headers = dict(extra or {})
        if body is None:
            return status, headers, b""
        headers["Content-Type"] = content_type
        return status, headers, json.dumps(body).encode()


_shared: FakeBigCommerce | None = None
_shared_lock = threading.Lock()


def shared_fake() -> FakeBigCommerce:
    """One fake per process, for ``make run``: the demo's connection and the served app share it."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = FakeBigCommerce()
        return _shared


def wsgi_app() -> FakeBigCommerce:
    """A fresh fake store as a WSGI app (``manage.py run_fake bigcommerce``)."""
    return FakeBigCommerce()
