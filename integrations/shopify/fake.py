"""A local fake Shopify Admin API, for the tests and the demo.

One ``FakeShopify`` object holds a shop's state in memory (shop, location, products
with variants and inventory items, inventory levels, orders with their fulfilment
orders, fulfilments and refunds, webhook subscriptions and the deliveries it sends
them) and answers HTTP in Shopify's wire format. It
does not use Django: it is a pure callable usable

* as an ``httpx.MockTransport`` handler: ``httpx.MockTransport(fake.handle)``, and
* as a WSGI application: ``fake`` itself (``fake(environ, start_response)``),
  served under any path prefix; links it returns keep the prefix.

What it speaks (see samples/ and samples/FORMAT.md):

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
  ``POST fulfillments.json`` (fulfilment orders), ``POST fulfillments/{id}/update_tracking.json``
  (a new label's tracking), ``webhooks.json`` subscriptions.

Layout: it stands on ``integrations.fakes`` (``FakeTool``: the HTTP front, clock, request log
and injected faults; the leaky bucket and the GraphQL points bucket; opaque cursors; the
webhook sender). Shopify's dialect: ``fake_state.ShopState`` (the shop's data and rules),
``fake_orders.OrderChanges`` (fulfilments, refunds and order edits made in the admin),
``fake_rest.RestApi`` and ``fake_graphql.GraphqlApi`` (the two APIs over it),
``fake_webhooks.ShopifyWebhooks`` (the webhooks the shop sends on its own, signed and retried
as Shopify does), ``fake_snapshot`` (``snapshot()`` for drift checks), ``fake_data`` (seed
data, order builder, the copied samples); this module routes a request (auth, call limits,
Shopify's order of faults) and logs it as a ``FakeRequest``.

Test controls, as a merchant in Shopify's admin (each change queues the webhooks Shopify
sends for it, for every subscription of the topic):

* ``create_order`` / ``update_order`` / ``cancel_order``, ``update_product``,
  ``set_available`` (inventory drift);
* ``fulfil_order(order_id, lines=None, tracking_number=, tracking_company=)``,
  ``update_tracking(fulfillment_id, tracking_number=, tracking_company=, tracking_url=)``,
  ``refund_order(order_id, lines={line id: qty}, restock_type="return", amount=None, note="")``,
  ``edit_order(order_id, remove={line id: qty})``;
* ``FakeShopify(taxes_included=True)`` (or ``fake.taxes_included = True``): a shop whose
  prices include tax;
* webhooks: ``deliver_webhooks(send, now=None)`` sends what is due, retries failures on
  Shopify's schedule and deletes a subscription that keeps failing; ``duplicate_next``,
  ``drop_next``, ``delay_next`` / ``delay``, ``reorder``; ``outbox`` for inspection.
  ``webhook(topic, payload)`` signs one delivery exactly as Shopify does (the tests send it);
* API faults (``match``: a substring of the resource): ``throttle_next``, ``fail_next``,
  ``timeout_next`` (no answer: ``httpx.ReadTimeout``, or a 504 over WSGI after waiting on the
  clock), ``slow_next`` (answered after ``clock.sleep``), ``clear_failures``; ``revoke_token``.
* ``snapshot()``: orders and stock as plain JSON for the simulated day's drift check.

The app's OAuth install (``/admin/oauth/authorize``, a consent page with Install / Cancel, and
``POST /admin/oauth/access_token``, codes good once; expiring offline tokens with ``expiring=1``,
refreshed with rotating refresh tokens; ``expire_tokens()``): see ``fake_oauth``. Tokens it issues
are accepted besides the static ``access_token``, all kept in ``tokens`` (a ``TokenStore``).

GraphQL ``inventorySetQuantities`` enforces the ``@idempotent(key:)`` directive by version
(absent before 2026-01, optional in 2026-01, required from 2026-04): see ``fake_graphql``.
"""

from __future__ import annotations

import datetime
import http
import itertools
import json
import re
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from integrations.fakes.base import Answer, FakeTool, Incoming, json_answer
from integrations.fakes.faults import Fault
from integrations.fakes.ratelimit import LeakyBucket, TokenBucket
from integrations.fakes.tokens import TokenStore
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
from integrations.shopify.fake_snapshot import shop_snapshot
from integrations.shopify.fake_state import TIMEZONE, _Problem
from integrations.shopify.fake_webhooks import (
    LEGACY_RETRY_SCHEDULE,
    RETRY_SCHEDULE,
    ShopifyWebhooks,
    WebhookDelivery,
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


# The mixins read ``clock`` as a bare now-callable; FakeTool's is a fakes.clock.Clock, which is one.
class FakeShopify(FakeTool, RestApi, GraphqlApi, ShopifyWebhooks, OAuthServer):  # type: ignore[misc]
    """A shop in memory that speaks the Admin API. Thread-safe; see the module doc.

    ``clock`` is the shop's now (a ``fakes.clock.Clock``, or any callable answering an aware
    datetime); ``monotonic`` meters the call limits (default: the clock's own, else the real one).
    """

    tool = "shopify"

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
        monotonic: Callable[[], float] | None = None,
        seed: bool = True,
        taxes_included: bool = False,
    ) -> None:
        super().__init__(clock=clock, monotonic=monotonic)
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
        self.monotonic = self.clock.monotonic
        self.tz = ZoneInfo(TIMEZONE)
        self._ids = itertools.count(int(time.time()) * 1000)
        self.bucket = LeakyBucket(bucket_size, leak_rate, self.monotonic)  # the REST call limit
        self.points = TokenBucket(graphql_restore_rate, graphql_points, self.monotonic)
        self._taxes_included = taxes_included
        # The static access_token and the tokens the sign-in issues (expiring ones refreshed, rotating).
        self.tokens = TokenStore(
            self.clock, prefix="shpat_", refresh_prefix="shprt_", keep_previous_refresh=True
        )
        self.reset(seed=seed)

    def reset(self, *, seed: bool = True) -> None:
        """Forget everything (state, request log, injected failures, buckets); reseed by default."""
        with self._lock:
            self.requests.clear()
            self.clear_failures()
            self.bucket.reset()
            self.points.reset()
            self.reset_state(seed=seed)
            self.reset_oauth()

    # --- failure injection (``throttle_next``, ``fail_next``, ``timeout_next``, ``slow_next`` and
    # ``clear_failures`` come from FakeTool; ``match`` is a substring of the resource) --------------

    @property
    def bucket_level(self) -> float:
        """The REST call limit's level at the last call."""
        return self.bucket.level

    @bucket_level.setter
    def bucket_level(self, value: float) -> None:
        self.bucket.level = value

    def revoke_token(self) -> None:
        """The app is uninstalled / its token revoked: every request now gets 401 (tokens the
        sign-in issued and their refresh tokens too; a new sign-in issues good ones)."""
        with self._lock:
            self.access_token = "revoked-" + uuid.uuid4().hex
            self.revoke_tokens()

    def snapshot(self) -> dict[str, Any]:
        """The shop's orders and stock as plain JSON, for drift checks (see ``fake_snapshot``)."""
        with self._lock:
            return shop_snapshot(
                now=self.clock(),
                orders=self.orders.values(),
                shipped=self._shipped,
                variants=[variant for _, variant in self.variants()],
                levels=self.levels.values(),
            )

    def requests_to(self, resource: str, method: str | None = None) -> list[FakeRequest]:
        with self._lock:
            return [
                r for r in self.requests if r.resource == resource and (method is None or r.method == method)
            ]

    # --- HTTP (the front is FakeTool's: ``handle``, the WSGI call, ``respond``) ------------------

    def operation(self, request: Incoming) -> str | None:
        """An Admin API call's resource (what faults match); the sign-in and other paths get none."""
        match = _API_PATH.match(request.path)
        return None if match is None else match["resource"]

    def serve(self, request: Incoming) -> Answer:
        return self.answer(request, None)

    def answer(self, request: Incoming, fault: Fault | None) -> Answer:
        """Shopify's order: an injected failure answers first, a throttle only past the token."""
        match = _API_PATH.match(request.path)
        if match is None:
            signing_in = _OAUTH_PATH.match(request.path)
            if signing_in is not None:
                return self.oauth_respond(
                    request.method,
                    request.url,
                    signing_in["action"],
                    request.params,
                    request.headers,
                    request.body,
                )
            return self._reply(404, sample("rest_error_404.json"), version=self.api_version)
        version = match["version"]
        url = request.url
        root = f"{url.scheme}://{url.netloc.decode()}{match['prefix']}/admin/api/{version}"
        status, answer, extra = self._dispatch(request, match["resource"], root, version, fault)
        return self._reply(status, answer, version=version, extra=extra)

    def record(self, request: Incoming, status: int) -> None:
        """Log an Admin API call (or a sign-in step) as a ``FakeRequest``."""
        match = _API_PATH.match(request.path)
        if match is not None:
            entry = FakeRequest(
                request.method,
                match["resource"],
                request.params,
                request.json(),
                dict(request.headers),
                status,
            )
            self.requests.append(entry)
            return
        signing_in = _OAUTH_PATH.match(request.path)
        if signing_in is not None:
            shown = {k: v for k, v in request.params.items() if k != "decision"}
            self.requests.append(
                FakeRequest(request.method, f"oauth/{signing_in['action']}", shown, None, {}, status)
            )

    def throttled(self, request: Incoming, fault: Fault) -> Answer:
        """Shopify's REST 429: the sample body, ``Retry-After`` in seconds with one decimal."""
        retry_after = fault.retry_after or 2.0
        return json_answer(429, sample("rest_error_429.json"), {"Retry-After": f"{retry_after:.1f}"})

    def failed(self, request: Incoming, fault: Fault) -> Answer:
        """An injected failure: ``{"errors": "<reason phrase>"}`` unless the test gave a body."""
        body = fault.body if fault.body is not None else {"errors": http.HTTPStatus(fault.status).phrase}
        return json_answer(fault.status, body)

    def _reply(
        self, status: int, body: Any, *, version: str, extra: Mapping[str, str] | None = None
    ) -> Answer:
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "X-Shopify-Shop-Api-Call-Limit": f"{self.bucket.used}/{self.bucket_size}",
            "X-Shopify-API-Version": version,
            "X-Request-Id": str(uuid.uuid4()),
        }
        headers.update(extra or {})
        content = b"" if body is None else body if isinstance(body, bytes) else json.dumps(body).encode()
        return status, headers, content

    @staticmethod
    def _as_reply(answer: Answer) -> tuple[int, Any, dict[str, str]]:
        """A hook's answer as ``_reply`` takes it (its body kept as bytes, its own headers extra)."""
        status, headers, content = answer
        return status, content, {k: v for k, v in headers.items() if k.lower() != "content-type"}

    def _dispatch(
        self, request: Incoming, resource: str, root: str, version: str, fault: Fault | None
    ) -> tuple[int, Any, dict[str, str]]:
        """(status, JSON body or bytes, extra headers) for one Admin API call."""
        method, params, payload, headers = request.method, request.params, request.json(), request.headers
        is_graphql = resource == "graphql.json"
        if fault is not None and fault.kind == "fail":
            return self._as_reply(self.failed(request, fault))
        if not self.accepts_token(headers.get("x-shopify-access-token")):
            return 401, sample("rest_error_401.json"), {}
        self.bucket.leak()
        if fault is not None and fault.kind == "throttle":
            if is_graphql:  # Shopify throttles GraphQL with a 200 and a THROTTLED error
                return 200, sample("graphql_throttled_response.json"), {}
            return self._as_reply(self.throttled(request, fault))
        if is_graphql:
            return self._graphql(payload, version)
        wait = self.bucket.take()
        if wait:
            return 429, sample("rest_error_429.json"), {"Retry-After": f"{max(wait, 0.1):.1f}"}
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
