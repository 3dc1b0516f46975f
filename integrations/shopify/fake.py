"""A local fake Shopify Admin API, for the tests and the demo.

One ``FakeShopify`` object holds a shop's state in memory (shop, location, products
with variants and inventory items, inventory levels, orders with their fulfilment
orders, fulfilments and refunds, webhook subscriptions and the deliveries it sends
them) and answers HTTP in Shopify's wire format. It
does not use Django: it is a pure callable usable

* as an ``httpx.MockTransport`` handler: ``httpx.MockTransport(fake.handle)``, and
* as a WSGI application: ``fake`` itself (``fake(environ, start_response)``),
  served under any path prefix; links it returns keep the prefix.

What it speaks (see samples/ and /work/shared/payloads/shopify/FORMAT.md):

* ``/admin/api/{version}/…json`` for any version; ``X-Shopify-Access-Token`` is
  required (401 with the sample body otherwise).
* ``Link`` header pagination with opaque ``page_info`` cursors; a ``page_info``
  request may only carry ``limit`` and ``fields`` (400 otherwise).
* ``X-Shopify-Shop-Api-Call-Limit: used/bucket`` on every response, from a leaky
  bucket (``bucket_size``, ``leak_rate`` per second); when full: 429 with
  ``Retry-After`` and the sample body. GraphQL answers throttling with HTTP 200 and
  a ``THROTTLED`` error instead, as Shopify does.
* Errors: 404 ``{"errors": "Not Found"}``, 422 ``{"errors": {"field": ["msg"]}}``.
* Orders carry their ``fulfillments`` and ``refunds``; ``orders/{id}/fulfillments.json``,
  ``orders/{id}/refunds.json`` (and ``…/{id}.json``), ``POST orders/{id}/refunds.json``,
  ``POST fulfillments.json`` (fulfilment orders), ``webhooks.json`` subscriptions.

Layout: ``fake_state.ShopState`` (the shop's data and rules), ``fake_orders.OrderChanges``
(fulfilments, refunds and order edits made in the admin), ``fake_rest.RestApi`` and
``fake_graphql.GraphqlApi`` (the two APIs over it), ``fake_webhooks.WebhookSender`` (the
webhooks the shop sends on its own), ``fake_data`` (seed data, order builder, the copied
samples); this module adds the HTTP front (auth, call limits, injected failures, request log).

Test controls, as a merchant in Shopify's admin (each change queues the webhooks Shopify
sends for it, for every subscription of the topic):

* ``create_order`` / ``update_order`` / ``cancel_order``, ``update_product``,
  ``set_available`` (inventory drift);
* ``fulfil_order(order_id, lines=None, tracking_number=, tracking_company=)``,
  ``refund_order(order_id, lines={line id: qty}, restock_type="return", amount=None, note="")``,
  ``edit_order(order_id, remove={line id: qty})``;
* ``FakeShopify(taxes_included=True)`` (or ``fake.taxes_included = True``): a shop whose
  prices include tax;
* webhooks: ``deliver_webhooks(send, now=None)`` sends what is due, retries failures on
  Shopify's schedule and deletes a subscription that keeps failing; ``duplicate_next``,
  ``drop_next``, ``delay_next`` / ``delay``, ``reorder``; ``outbox`` for inspection.
  ``webhook(topic, payload)`` signs one delivery exactly as Shopify does (the tests send it);
* API faults: ``throttle_next``, ``fail_next``, ``revoke_token``.

The app's OAuth install (``/admin/oauth/authorize``, a consent page with Install / Cancel, and
``POST /admin/oauth/access_token``, codes good once): see ``fake_oauth``. Tokens it issues are
accepted besides the static ``access_token``.

GraphQL ``inventorySetQuantities`` enforces the ``@idempotent(key:)`` directive by version
(absent before 2026-01, optional in 2026-01, required from 2026-04): see ``fake_graphql``.
"""

from __future__ import annotations

import datetime
import http
import itertools
import json
import math
import re
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl
from zoneinfo import ZoneInfo

import httpx

from integrations.shopify.fake_data import (
    ACCESS_TOKEN,
    API_VERSION,
    APP_NAME,
    CLIENT_ID,
    CLIENT_SECRET,
    LOCATION_ID,
    SHOP_DOMAIN,
    sample,
    sample_bytes,
    sample_webhook_headers,
)
from integrations.shopify.fake_graphql import GraphqlApi
from integrations.shopify.fake_oauth import OAuthServer, callback_hmac
from integrations.shopify.fake_rest import RestApi
from integrations.shopify.fake_state import TIMEZONE, _Problem
from integrations.shopify.fake_webhooks import (
    LEGACY_RETRY_SCHEDULE,
    RETRY_SCHEDULE,
    WebhookDelivery,
    WebhookSender,
    sign,
)

__all__ = [
    "ACCESS_TOKEN",
    "API_VERSION",
    "CLIENT_ID",
    "CLIENT_SECRET",
    "LEGACY_RETRY_SCHEDULE",
    "LOCATION_ID",
    "RETRY_SCHEDULE",
    "SHOP_DOMAIN",
    "FakeRequest",
    "FakeShopify",
    "WebhookDelivery",
    "callback_hmac",
    "sample_webhook",
    "shared_fake",
    "sign",
]

_API_PATH = re.compile(r"^(?P<prefix>.*?)/admin/api/(?P<version>[^/]+)/(?P<resource>.+)$")
_OAUTH_PATH = re.compile(r"^(?P<prefix>.*?)/admin/oauth/(?P<action>authorize|access_token)$")


def sample_webhook() -> tuple[dict[str, str], bytes]:
    """The shared sample orders/create delivery: its headers and its exact body bytes."""
    return sample_webhook_headers(), sample_bytes("webhook_orders_create.json")


@dataclass(frozen=True)
class FakeRequest:
    """One request the fake answered (or refused), for tests to inspect."""

    method: str
    resource: str  # the path after /admin/api/{version}/, e.g. "inventory_levels/set.json"
    params: dict[str, str]
    json: Any
    headers: dict[str, str]
    status: int = 0


@dataclass
class _Failure:
    status: int
    remaining: int
    match: str | None
    retry_after: float | None = None
    body: Any = None


class FakeShopify(RestApi, GraphqlApi, WebhookSender, OAuthServer):
    """A shop in memory that speaks the Admin API. Thread-safe; see the module doc."""

    def __init__(
        self,
        *,
        shop_domain: str = SHOP_DOMAIN,
        access_token: str = ACCESS_TOKEN,
        client_id: str = CLIENT_ID,
        client_secret: str = CLIENT_SECRET,
        app_name: str = APP_NAME,
        api_version: str = API_VERSION,
        bucket_size: int = 40,
        leak_rate: float = 2.0,
        graphql_points: float = 2000.0,
        graphql_restore_rate: float = 100.0,
        clock: Callable[[], datetime.datetime] | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        seed: bool = True,
        taxes_included: bool = False,
    ) -> None:
        self.shop_domain = shop_domain
        self.access_token = access_token
        self.client_id = client_id
        self.client_secret = client_secret
        self.app_name = app_name
        self.api_version = api_version
        self.bucket_size = bucket_size
        self.leak_rate = leak_rate
        self.graphql_points = graphql_points
        self.graphql_restore_rate = graphql_restore_rate
        self.clock = clock or (lambda: datetime.datetime.now(datetime.UTC))
        self.monotonic = monotonic
        self.tz = ZoneInfo(TIMEZONE)
        self._lock = threading.RLock()
        self._ids = itertools.count(int(time.time()) * 1000)
        self.requests: list[FakeRequest] = []
        self._failures: list[_Failure] = []
        self._taxes_included = taxes_included
        self.reset(seed=seed)

    def reset(self, *, seed: bool = True) -> None:
        """Forget everything (state, request log, injected failures, buckets); reseed by default."""
        with self._lock:
            self.requests.clear()
            self._failures.clear()
            self.bucket_level = 0.0
            self._bucket_at = self.monotonic()
            self._points = self.graphql_points
            self._points_at = self.monotonic()
            self.reset_state(seed=seed)
            self.reset_oauth()

    # --- failure injection --------------------------------------------------------------

    def throttle_next(self, count: int = 1, *, retry_after: float = 2.0, match: str | None = None) -> None:
        """The next ``count`` requests (whose resource contains ``match``) are throttled."""
        with self._lock:
            self._failures.append(_Failure(429, count, match, retry_after=retry_after))

    def fail_next(
        self, count: int = 1, *, status: int = 503, match: str | None = None, body: Any = None
    ) -> None:
        """The next ``count`` requests (whose resource contains ``match``) answer ``status``."""
        with self._lock:
            self._failures.append(_Failure(status, count, match, body=body))

    def clear_failures(self) -> None:
        with self._lock:
            self._failures.clear()

    def revoke_token(self) -> None:
        """The app is uninstalled / its token revoked: every request now gets 401 (tokens the
        sign-in issued too; a new sign-in issues a good one)."""
        with self._lock:
            self.access_token = "revoked-" + uuid.uuid4().hex
            self.issued_tokens.clear()

    def requests_to(self, resource: str, method: str | None = None) -> list[FakeRequest]:
        with self._lock:
            return [
                r for r in self.requests if r.resource == resource and (method is None or r.method == method)
            ]

    # --- HTTP -----------------------------------------------------------------------------------

    def handle(self, request: httpx.Request) -> httpx.Response:
        """Answer one request (the ``httpx.MockTransport`` handler)."""
        body = request.read()
        status, headers, content = self.respond(
            request.method, str(request.url), dict(request.headers.items()), body
        )
        return httpx.Response(status, headers=headers, content=content, request=request)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        """The WSGI application."""
        scheme = environ.get("wsgi.url_scheme", "http")
        host = (
            environ.get("HTTP_HOST")
            or f"{environ.get('SERVER_NAME', 'localhost')}:{environ.get('SERVER_PORT', '80')}"
        )
        path = environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", "")
        query = environ.get("QUERY_STRING", "")
        url = f"{scheme}://{host}{path}" + (f"?{query}" if query else "")
        headers = {
            key[5:].replace("_", "-").lower(): value
            for key, value in environ.items()
            if key.startswith("HTTP_")
        }
        if environ.get("CONTENT_TYPE"):
            headers["content-type"] = environ["CONTENT_TYPE"]
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        status, response_headers, content = self.respond(
            environ.get("REQUEST_METHOD", "GET"), url, headers, body
        )
        reason = http.HTTPStatus(status).phrase
        start_response(f"{status} {reason}", list(response_headers.items()))
        return [content]

    def respond(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        """The core: (method, absolute URL, headers, body) -> (status, headers, body)."""
        parsed = httpx.URL(url)
        match = _API_PATH.match(parsed.path)
        params = dict(parse_qsl(parsed.query.decode(), keep_blank_values=True))
        lowered = {k.lower(): v for k, v in headers.items()}
        with self._lock:
            signing_in = _OAUTH_PATH.match(parsed.path) if match is None else None
            if signing_in is not None:
                status, answer_headers, content = self.oauth_respond(
                    method.upper(), parsed, signing_in["action"], params, lowered, body
                )
                shown = {k: v for k, v in params.items() if k != "decision"}
                self.requests.append(
                    FakeRequest(method.upper(), f"oauth/{signing_in['action']}", shown, None, {}, status)
                )
                return status, answer_headers, content
            if match is None:
                return self._reply(404, sample("rest_error_404.json"), version=self.api_version)
            resource, version = match["resource"], match["version"]
            root = f"{parsed.scheme}://{parsed.netloc.decode()}{match['prefix']}/admin/api/{version}"
            try:
                payload = json.loads(body) if body else None
            except ValueError:
                payload = None
            status, answer, extra = self._dispatch(
                method.upper(), resource, params, payload, lowered, root, version
            )
            self.requests.append(
                FakeRequest(method.upper(), resource, params, payload, dict(lowered), status)
            )
            return self._reply(status, answer, version=version, extra=extra)

    def _reply(
        self, status: int, body: Any, *, version: str, extra: Mapping[str, str] | None = None
    ) -> tuple[int, dict[str, str], bytes]:
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "X-Shopify-Shop-Api-Call-Limit": f"{math.ceil(self.bucket_level)}/{self.bucket_size}",
            "X-Shopify-API-Version": version,
            "X-Request-Id": str(uuid.uuid4()),
        }
        headers.update(extra or {})
        content = b"" if body is None else json.dumps(body).encode()
        return status, headers, content

    def _leak(self) -> None:
        now = self.monotonic()
        self.bucket_level = max(0.0, self.bucket_level - (now - self._bucket_at) * self.leak_rate)
        self._bucket_at = now
        self._points = min(
            self.graphql_points, self._points + (now - self._points_at) * self.graphql_restore_rate
        )
        self._points_at = now

    def _forced(self, resource: str) -> _Failure | None:
        for failure in self._failures:
            if failure.remaining > 0 and (failure.match is None or failure.match in resource):
                failure.remaining -= 1
                return failure
        return None

    def _dispatch(
        self,
        method: str,
        resource: str,
        params: dict[str, str],
        payload: Any,
        headers: Mapping[str, str],
        root: str,
        version: str,
    ) -> tuple[int, Any, dict[str, str]]:
        self._failures = [f for f in self._failures if f.remaining > 0]
        is_graphql = resource == "graphql.json"
        forced = self._forced(resource)
        if forced is not None and forced.status != 429:
            body = (
                forced.body if forced.body is not None else {"errors": http.HTTPStatus(forced.status).phrase}
            )
            return forced.status, body, {}
        if not self.accepts_token(headers.get("x-shopify-access-token")):
            return 401, sample("rest_error_401.json"), {}
        self._leak()
        if forced is not None:  # a forced 429
            retry_after = forced.retry_after or 2.0
            if is_graphql:
                return 200, sample("graphql_throttled_response.json"), {}
            return 429, sample("rest_error_429.json"), {"Retry-After": f"{retry_after:.1f}"}
        if is_graphql:
            return self._graphql(payload, version)
        if self.bucket_level + 1 > self.bucket_size:
            wait = (self.bucket_level + 1 - self.bucket_size) / self.leak_rate
            return 429, sample("rest_error_429.json"), {"Retry-After": f"{max(wait, 0.1):.1f}"}
        self.bucket_level += 1
        try:
            return self._route(method, resource, params, payload, root)
        except _Problem as problem:
            return problem.status, problem.body, {}


_shared: FakeShopify | None = None
_shared_lock = threading.Lock()


def shared_fake() -> FakeShopify:
    """One fake per process, for ``make run``: the demo's connection and the served app share it."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = FakeShopify()
        return _shared


def wsgi_app() -> FakeShopify:
    """A fresh fake shop as a WSGI app (``manage.py run_fake shopify``)."""
    return FakeShopify()
