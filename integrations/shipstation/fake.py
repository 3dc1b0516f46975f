"""A local fake ShipStation (API V1, ``https://ssapi.shipstation.com``), for the tests, the simulated
day and the demo.

One ``FakeShipStation`` holds a ShipStation account in memory (store ``STORE_ID`` 12345, ship-from
warehouse ``WAREHOUSE_ID`` 37675, the samples' ids): orders pushed by the hub, the labels its
warehouse staff print and void, webhook subscriptions. It answers HTTP as ShipStation V1 does,
routed by path only (any host; under any path prefix over WSGI; paths and query names
case-insensitive). It stands on ``integrations.fakes`` (``FakeTool``, ``FixedWindow``,
``numbered_page``, ``WebhookSender``). Layout: ``fake_data`` (constants, samples, Pacific dates,
ASP.NET error bodies), ``fake_orders`` (createorder's upsert, the order endpoints),
``fake_shipments`` (``ship``, ``void``, ``GET /shipments``), ``fake_webhooks`` (subscriptions,
thin unsigned deliveries), ``fake_snapshot``; this module does auth, the rate limit and routing.

* HTTP Basic: username the API key, password the API secret; anything else is a 401 with an empty
  body.
* 40 requests a minute per key pair in a fixed window (``rate_limit`` / ``window_seconds``;
  ``rate_scale`` N makes the window N times shorter, for a day run N times faster). Every answer
  carries ``X-Rate-Limit-Limit``, ``X-Rate-Limit-Remaining`` and ``X-Rate-Limit-Reset`` (seconds
  until the window closes); past the limit: 429 ``{"message": "Too Many Requests"}``.
  ``throttle_next`` gives the same 429 (``Reset`` its ``retry_after``); ``fail_next`` ASP.NET's
  500 body with the fault's status; ``timeout_next`` / ``slow_next`` as every fake. ``match`` is a
  substring of the operation ``"METHOD /path"`` (``"POST /orders/createorder"``, ``"GET /shipments"``).
* Endpoints: ``POST /orders/createorder``, ``POST /orders/createorders`` (at most 100; one result
  per order), ``GET /orders``, ``GET|DELETE /orders/{orderId}``, ``POST /orders/holduntil``,
  ``POST /orders/restorefromhold``, ``GET /shipments``, ``POST /webhooks/subscribe``,
  ``GET /webhooks``, ``DELETE /webhooks/{id}``, ``GET /stores`` (the connection test).

Test controls (the warehouse staff and the merchant): ``ship``, ``void``, ``orders_awaiting``,
``unshipped``, ``shipments_of``, ``order``, ``cancel_order``, ``upsert``, ``subscribe``,
``activate_webhook``; webhooks: ``deliver_webhooks(send)``, ``pending_webhooks``,
``duplicate_next``, ``drop_next``, ``delay_next``, ``outbox``; ``requests_to``, ``reset``,
``snapshot``.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import math
import re
import threading
import uuid
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from integrations.fakes.base import Answer, FakeTool, Incoming, json_answer
from integrations.fakes.faults import Fault
from integrations.fakes.ratelimit import FixedWindow
from integrations.shipstation.fake_data import (
    API_KEY,
    API_SECRET,
    BASE_URL,
    MAX_BULK,
    RATE_LIMIT,
    RATE_WINDOW_SECONDS,
    STORE_ID,
    WAREHOUSE_ID,
    ApiError,
    exception,
    invalid,
    not_found,
    sample,
    store_view,
)
from integrations.shipstation.fake_snapshot import shipstation_snapshot
from integrations.shipstation.fake_webhooks import RETRY_SCHEDULE, ShipStationWebhooks

__all__ = [
    "API_KEY",
    "API_SECRET",
    "BASE_URL",
    "RETRY_SCHEDULE",
    "STORE_ID",
    "WAREHOUSE_ID",
    "FakeShipStation",
    "sample",
    "shared_fake",
    "wsgi_app",
]

_API_PATH = re.compile(r"^.*?/(?P<api>(?:orders|shipments|webhooks|stores)(?:/[^/]*)?)/?$")
_ORDER_ID = re.compile(r"^orders/(?P<id>\d+)$")
_WEBHOOK_ID = re.compile(r"^webhooks/(?P<id>\d+)$")
_KNOWN = {
    "orders": ("GET",),
    "orders/createorder": ("POST",),
    "orders/createorders": ("POST",),
    "orders/holduntil": ("POST",),
    "orders/restorefromhold": ("POST",),
    "shipments": ("GET",),
    "webhooks": ("GET",),
    "webhooks/subscribe": ("POST",),
    "stores": ("GET",),
}
TOO_MANY = {"message": "Too Many Requests"}


def _unsupported(method: str) -> ApiError:
    return ApiError(405, {"Message": f"The requested resource does not support http method '{method}'."})


# The mixins read ``clock`` as a bare now-callable; FakeTool's is a fakes.clock.Clock, which is one.
class FakeShipStation(FakeTool, ShipStationWebhooks):  # type: ignore[misc]
    """A ShipStation account in memory that speaks API V1. Thread-safe; see the module doc."""

    tool = "shipstation"

    def __init__(
        self,
        *,
        api_key: str = API_KEY,
        api_secret: str = API_SECRET,
        store_id: int = STORE_ID,
        stores: Mapping[int, str] | None = None,
        warehouse_id: int = WAREHOUSE_ID,
        base_url: str = BASE_URL,
        rate_limit: int = RATE_LIMIT,
        window_seconds: float = RATE_WINDOW_SECONDS,
        rate_scale: float = 1.0,
        clock: Callable[[], datetime.datetime] | None = None,
        monotonic: Callable[[], float] | None = None,
    ) -> None:
        super().__init__(clock=clock, monotonic=monotonic)
        self.api_key = api_key
        self.api_secret = api_secret
        self.stores: dict[int, str] = dict(stores) if stores else {store_id: "Trail Supply Co"}
        self.warehouse_id = warehouse_id
        self.base_url = base_url.rstrip("/")
        self.window = FixedWindow(rate_limit, window_seconds / rate_scale, self.clock.monotonic)
        self._created = self.clock()
        self.reset()

    def reset(self) -> None:
        """Forget everything: orders, shipments, subscriptions, deliveries, request log, faults, window."""
        with self._lock:
            self.requests.clear()
            self.clear_failures()
            self.window.reset()
            self.reset_orders()
            self.reset_shipments()
            self.reset_hooks()

    def requests_to(self, operation: str) -> list[Any]:
        """Logged requests whose operation is exactly ``"METHOD /path"`` (``"GET /shipments"``)."""
        with self._lock:
            return [r for r in self.requests if r.operation == operation]

    def snapshot(self, order_keys: Iterable[str] | None = None) -> dict[str, Any]:
        """Orders by orderKey and shipments as plain JSON, for drift checks (see ``fake_snapshot``)."""
        with self._lock:
            return shipstation_snapshot(
                now=self.clock(),
                orders=list(self.orders.values()),
                shipments=list(self.shipments.values()),
                order_keys=order_keys,
            )

    # --- HTTP ------------------------------------------------------------------------------------

    def operation(self, request: Incoming) -> str | None:
        found = _API_PATH.match(request.path.lower())
        return None if found is None else f"{request.method} /{found['api']}"

    def serve(self, request: Incoming) -> Answer:
        return self.answer(request, None)

    def _rate_headers(self, *, reset: int | None = None, remaining: int | None = None) -> dict[str, str]:
        return {
            "X-Rate-Limit-Limit": str(self.window.limit),
            "X-Rate-Limit-Remaining": str(self.window.remaining if remaining is None else remaining),
            "X-Rate-Limit-Reset": str(self.window.reset_in if reset is None else reset),
        }

    def _authorized(self, request: Incoming) -> bool:
        scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            key, _, secret = base64.b64decode(encoded.strip(), validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return False
        return key == self.api_key and secret == self.api_secret

    def answer(self, request: Incoming, fault: Fault | None) -> Answer:
        """ShipStation's order: the credentials, the window, the failure, the endpoint."""
        if not self._authorized(request):
            return 401, {**self._rate_headers(), "WWW-Authenticate": 'Basic realm="ShipStation"'}, b""
        if fault is not None and fault.kind == "throttle":
            return self.throttled(request, fault)
        if self.window.take():
            return json_answer(429, TOO_MANY, self._rate_headers())
        if fault is not None and fault.kind == "fail":
            return self.failed(request, fault)
        try:
            status, body = self._dispatch(request)
        except ApiError as error:
            status, body = error.status, error.body
        return json_answer(status, body, self._rate_headers())

    def throttled(self, request: Incoming, fault: Fault) -> Answer:
        """ShipStation's 429, the window said to close in ``retry_after`` seconds."""
        wait = math.ceil(fault.retry_after if fault.retry_after is not None else 1.0)
        return json_answer(429, TOO_MANY, self._rate_headers(reset=max(wait, 0), remaining=0))

    def failed(self, request: Incoming, fault: Fault) -> Answer:
        """ASP.NET's unhandled exception (or the fault's own body) with the fault's status."""
        body = fault.body
        if body is None:
            body = exception("An unexpected error occurred. Please try again later.").body
        return json_answer(fault.status or 500, body, self._rate_headers())

    def _dispatch(self, request: Incoming) -> tuple[int, Any]:
        found = _API_PATH.match(request.path.lower())
        if found is None:
            raise not_found(str(request.url))
        api, method, params, payload = found["api"], request.method, request.params, request.json()
        if api in _KNOWN and method not in _KNOWN[api]:
            raise _unsupported(method)
        if method == "GET" and api == "orders":
            return 200, self.list_orders(params)
        if api == "orders/createorder":
            return 200, self._create_order(payload)
        if api == "orders/createorders":
            return 200, self._create_orders(payload)
        if api == "orders/holduntil":
            return 200, self.hold_until(payload)
        if api == "orders/restorefromhold":
            return 200, self.restore_from_hold(payload)
        if api == "shipments":
            return 200, self.list_shipments(params)
        if api == "webhooks":
            return 200, self.list_webhooks()
        if api == "webhooks/subscribe":
            return 200, self.subscribe_request(payload)
        if api == "stores":
            return 200, [store_view(i, name, self._created) for i, name in self.stores.items()]
        if (order := _ORDER_ID.match(api)) is not None:
            if method == "GET":
                return 200, self.get_order(int(order["id"]))
            if method == "DELETE":
                return 200, self.delete_order(int(order["id"]))
        elif (hook := _WEBHOOK_ID.match(api)) is not None:
            if method == "DELETE":
                self.unsubscribe(int(hook["id"]))
                return 200, None
        else:
            raise not_found(str(request.url))
        raise _unsupported(method)

    # --- createorder(s) ----------------------------------------------------------------------------

    def _create_order(self, payload: Any) -> dict[str, Any]:
        batch = str(uuid.uuid4())
        view, created = self.upsert(payload, import_batch=batch)
        if created:
            self.notify_orders(int(view["advancedOptions"]["storeId"]), batch)
        return view

    def _create_orders(self, payload: Any) -> dict[str, Any]:
        """``POST /orders/createorders``: each order created or updated on its own; one result each."""
        if not isinstance(payload, list):
            raise invalid({"apiOrders": ["The apiOrders field is required."]})
        if len(payload) > MAX_BULK:
            raise invalid(
                {"apiOrders": [f"A maximum of {MAX_BULK} orders can be created or updated per request."]}
            )
        batch = str(uuid.uuid4())
        results: list[dict[str, Any]] = []
        stores: list[int] = []
        for order in payload:
            given = order if isinstance(order, dict) else {}
            try:
                view, created = self.upsert(order, import_batch=batch)
            except ApiError as error:
                existing = next(
                    (
                        e["id"]
                        for e in self.orders.values()
                        if given.get("orderKey") and e["view"]["orderKey"] == given.get("orderKey")
                    ),
                    0,
                )
                results.append(
                    {
                        "orderId": existing,
                        "orderNumber": given.get("orderNumber"),
                        "orderKey": given.get("orderKey"),
                        "success": False,
                        "errorMessage": " ".join(error.messages),
                    }
                )
                continue
            if created and view["advancedOptions"]["storeId"] not in stores:
                stores.append(int(view["advancedOptions"]["storeId"]))
            results.append(
                {
                    "orderId": view["orderId"],
                    "orderNumber": view["orderNumber"],
                    "orderKey": view["orderKey"],
                    "success": True,
                    "errorMessage": None,
                }
            )
        for store in stores:
            self.notify_orders(store, batch)
        return {"hasErrors": any(not r["success"] for r in results), "results": results}


_shared: FakeShipStation | None = None
_shared_lock = threading.Lock()


def shared_fake() -> FakeShipStation:
    """One fake per process, for ``make run``: the demo's connection and the served app share it."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = FakeShipStation()
        return _shared


def wsgi_app() -> FakeShipStation:
    """A fresh fake ShipStation as a WSGI app (``manage.py run_fake shipstation``)."""
    return FakeShipStation()
