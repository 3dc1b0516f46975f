"""A local fake Amazon Selling Partner API, for the tests, the simulated day and the demo.

One ``FakeAmazon`` holds a seller (``SELLER_ID``) in the US marketplace (``MARKETPLACE_ID``) in
memory: its listings (the same SKUs as the other fakes, and one listing fulfilled by Amazon),
their MFN quantities and Amazon's FBA quantities, orders, feeds and their S3 documents. It
answers HTTP as Amazon does, routed by path only (any host, under any prefix over WSGI): Login
with Amazon ``/auth/o2/token``, SP-API ``/orders/v0/...``, ``/listings/2021-08-01/...``,
``/feeds/2021-06-30/...``, ``/tokens/2021-03-01/restrictedDataToken``, and the pre-signed S3
documents ``.../%2FNinetyDays/<feedDocumentId>`` under ``documents_url``. Layout: ``fake_data``
(constants, seed, money), ``fake_orders`` (orders and their controls), ``fake_orders_api``
(Orders v0), ``fake_listings`` (Listings Items), ``fake_feeds`` (Feeds and documents),
``fake_snapshot``; this module does the auth, the rate limits and the routing.

* LWA: form-encoded ``grant_type=refresh_token`` with the app's ``client_id`` / ``client_secret``
  and ``REFRESH_TOKEN`` -> an ``Atza|`` access token good for 3600 s; 401 ``invalid_client``,
  400 ``invalid_grant`` (a wrong or revoked refresh token), 400 ``invalid_request`` (not a form).
* Every SP-API request needs ``x-amz-access-token``: 403 ``Unauthorized``, with details "" when it
  is missing, "The access token you provided is revoked, malformed or invalid." when this account
  never issued it (Amazon's answer to a token it does not know: the demo's seeding signed in against
  its own process's fake, whose tokens the served app's fake never saw) and "The access token you
  provided has expired." when it expired. A
  restricted-data token (``Atz.sprdt|``) works only for the resources it names and shows the
  PII it grants. Every answer carries ``x-amzn-RequestId``; all but 401/403 carry
  ``x-amzn-RateLimit-Limit``.
* Per-operation token buckets (``RATE_LIMITS``, on the clock's monotonic reading; ``limits=False``
  turns them off): 429 ``QuotaExceeded``. ``throttle_next`` gives the same 429; ``fail_next`` an
  ``InternalFailure`` with its status. ``match`` is a substring of the operation name
  (``getOrders``, ``getOrder``, ``getOrderItems``, ``getOrderAddress``, ``getOrderBuyerInfo``,
  ``confirmShipment``, ``patchListingsItem``, ``getListingsItem``, ``createFeedDocument``,
  ``createFeed``, ``getFeed``, ``getFeedDocument``, ``createRestrictedDataToken``, ``lwaToken``,
  ``uploadDocument``, ``downloadDocument``): ``match="getOrder"`` also hits ``getOrders``.

Test controls (buyers, Amazon, the merchant): ``place_order``, ``load_order`` (a recorded order,
served as recorded), ``authorize_payment``,
``cancel_order``, ``ship_fba``, ``ship_in_seller_central``; ``order``, ``order_items``, ``orders``;
``quantity``, ``set_quantity``, ``fba_quantity``, ``set_fba_quantity``; ``refuse_listing``,
``clear_refusals``; ``access_token``, ``expire_tokens``, ``revoke_refresh_token``;
``fatal_next_feed``, ``process_feeds``; ``requests_to``; ``reset``; ``snapshot``. Inspect
``feeds``, ``documents``, ``submissions`` (every MFN quantity set by a PATCH or a feed),
``patch_requests``, ``uploads``, ``refreshes``.
"""

from __future__ import annotations

import datetime
import re
import secrets
import threading
import uuid
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qsl

from integrations.amazon.fake_data import (
    INTERNAL_FAILURE,
    LWA_CLIENT_ID,
    LWA_CLIENT_SECRET,
    MARKETPLACE_ID,
    QUOTA_EXCEEDED,
    RATE_LIMITS,
    REFRESH_TOKEN,
    SELLER_ID,
    OutOfStock,
    Problem,
    errors,
    invalid_input,
    seed_listings,
    unauthorized,
)
from integrations.amazon.fake_feeds import FeedsApi, s3_error
from integrations.amazon.fake_listings import ListingsApi
from integrations.amazon.fake_orders import OrderState
from integrations.amazon.fake_orders_api import OrdersApi
from integrations.amazon.fake_snapshot import amazon_snapshot
from integrations.fakes.base import Answer, FakeTool, Incoming, json_answer
from integrations.fakes.faults import Fault
from integrations.fakes.ratelimit import TokenBucket
from integrations.fakes.tokens import TokenStore

__all__ = [
    "LWA_CLIENT_ID",
    "LWA_CLIENT_SECRET",
    "MARKETPLACE_ID",
    "RATE_LIMITS",
    "REFRESH_TOKEN",
    "SELLER_ID",
    "FakeAmazon",
    "OutOfStock",
    "shared_fake",
    "wsgi_app",
]

_ORDER = r"/orders/v0/orders/(?P<order>[^/]+)"
_ROUTES: tuple[tuple[str, str, str], ...] = (
    ("POST", r"/auth/o2/token", "lwaToken"),
    ("GET", r"/orders/v0/orders", "getOrders"),
    ("GET", _ORDER, "getOrder"),
    ("GET", _ORDER + r"/orderItems", "getOrderItems"),
    ("GET", _ORDER + r"/address", "getOrderAddress"),
    ("GET", _ORDER + r"/buyerInfo", "getOrderBuyerInfo"),
    ("POST", _ORDER + r"/shipmentConfirmation", "confirmShipment"),
    ("PATCH", r"/listings/2021-08-01/items/(?P<seller>[^/]+)/(?P<sku>[^/]+)", "patchListingsItem"),
    ("GET", r"/listings/2021-08-01/items/(?P<seller>[^/]+)/(?P<sku>[^/]+)", "getListingsItem"),
    ("GET", r"/listings/2021-08-01/items/(?P<seller>[^/]+)", "searchListingsItems"),
    ("POST", r"/feeds/2021-06-30/documents", "createFeedDocument"),
    ("GET", r"/feeds/2021-06-30/documents/(?P<doc>[^/]+)", "getFeedDocument"),
    ("POST", r"/feeds/2021-06-30/feeds", "createFeed"),
    ("GET", r"/feeds/2021-06-30/feeds/(?P<feed>[^/]+)", "getFeed"),
    ("POST", r"/tokens/2021-03-01/restrictedDataToken", "createRestrictedDataToken"),
    ("PUT", r"/+NinetyDays/(?P<doc>[^/]+)", "uploadDocument"),
    ("GET", r"/+NinetyDays/(?P<doc>[^/]+)", "downloadDocument"),
)
_COMPILED = tuple((m, re.compile(r"^.*?(?P<api>" + p + r")/?$"), n) for m, p, n in _ROUTES)
# What a restricted-data token may name: the Orders operations that return PII.
_RESTRICTED = re.compile(
    r"^/orders/v0/orders(/[^/]+(/(address|buyerInfo|orderItems|orderItems/buyerInfo))?)?$"
)
_DATA_ELEMENTS = ("buyerInfo", "shippingAddress", "buyerTaxInformation")
_EXPIRED = "The access token you provided has expired."
_INVALID = "The access token you provided is revoked, malformed or invalid."


class FakeAmazon(FakeTool, OrderState, OrdersApi, ListingsApi, FeedsApi):
    """An Amazon seller account in memory that speaks SP-API. Thread-safe; see the module doc."""

    tool = "amazon"

    def __init__(
        self,
        *,
        clock: Callable[[], datetime.datetime] | None = None,
        monotonic: Callable[[], float] | None = None,
        seed: bool = True,
        limits: bool = True,
        documents_url: str = "https://tortuga-prod-na.s3-external-1.amazonaws.com",
        pii_allowed: bool = True,
        feed_seconds: float = 60.0,
    ) -> None:
        super().__init__(clock=clock, monotonic=monotonic)
        self.limits = limits
        self.documents_url = documents_url
        self.pii_allowed = pii_allowed
        self.feed_seconds = feed_seconds
        self.tokens = TokenStore(self.clock, prefix="Atza|IwEB", refresh_prefix="Atzr|")
        self.buckets = {
            name: TokenBucket(float(rate), burst, self.clock.monotonic)
            for name, (rate, burst) in RATE_LIMITS.items()
        }
        self.reset(seed=seed)

    def reset(self, *, seed: bool = True) -> None:
        """Forget everything (orders, feeds, tokens, request log, faults, buckets); reseed by default."""
        with self._lock:
            self.requests.clear()
            self.clear_failures()
            self.tokens.reset()
            for bucket in self.buckets.values():
                bucket.reset()
            self.listings: dict[str, dict[str, Any]] = seed_listings() if seed else {}
            self.refusals: dict[str, str] = {}
            self.submissions: list[dict[str, Any]] = []
            self.patch_requests = 0
            self.refreshes = 0
            self.refresh_revoked = False
            self._rdts: dict[str, dict[str, Any]] = {}
            self.reset_orders()
            self.reset_feeds()

    # --- controls -----------------------------------------------------------------------------

    def quantity(self, sku: str) -> int:
        """The listing's MFN quantity (``fulfillment_availability`` DEFAULT)."""
        with self._lock:
            self.settle_feeds()
            return int(self.listings[sku]["mfn"])

    def set_quantity(self, sku: str, quantity: int) -> None:
        """Set the MFN quantity as the seller would in Seller Central (not counted as a submission)."""
        with self._lock:
            self.listings[sku]["mfn"] = int(quantity)

    def fba_quantity(self, sku: str) -> int | None:
        """What Amazon holds of the SKU in its warehouses (None: not fulfilled by Amazon)."""
        with self._lock:
            return self.listings[sku]["afn"]

    def set_fba_quantity(self, sku: str, quantity: int) -> None:
        """Amazon's warehouse count changes (an inbound shipment received, a unit lost)."""
        with self._lock:
            self.listings[sku]["afn"] = int(quantity)

    def refuse_listing(self, sku: str, message: str) -> None:
        """Amazon refuses every patch of the SKU (PATCH and feed messages) with ``message``."""
        with self._lock:
            self.refusals[sku] = message

    def clear_refusals(self) -> None:
        """No SKU is refused any more."""
        with self._lock:
            self.refusals.clear()

    def access_token(self) -> str:
        """A live access token, as if the app had just refreshed (not counted in ``refreshes``)."""
        with self._lock:
            return self.tokens.issue(ttl=3600, with_refresh=False).access_token

    def expire_tokens(self) -> None:
        """Every access token (and restricted-data token) issued so far is expired now."""
        with self._lock:
            self.tokens.expire_all()
            past = self.clock() - datetime.timedelta(seconds=1)
            for entry in self._rdts.values():
                entry["expires"] = past

    def revoke_refresh_token(self) -> None:
        """The seller revoked the app's authorisation: LWA refuses the refresh token (invalid_grant)."""
        with self._lock:
            self.refresh_revoked = True

    def requests_to(self, operation: str) -> list[Any]:
        """Logged requests of one operation (exactly its name, e.g. ``"getOrders"``)."""
        with self._lock:
            return [r for r in self.requests if r.operation == operation]

    def snapshot(self, order_ids: Iterable[str] | None = None) -> dict[str, Any]:
        """The orders and MFN stock as plain JSON, for drift checks (see ``fake_snapshot``)."""
        with self._lock:
            self.settle_feeds()
            made = [order for order in self._orders.values() if "recorded" not in order]
            return amazon_snapshot(now=self.clock(), orders=made, listings=self.listings, order_ids=order_ids)

    # --- HTTP ---------------------------------------------------------------------------------

    def _route(self, request: Incoming) -> tuple[str, dict[str, str]] | None:
        for method, pattern, name in _COMPILED:
            if request.method != method:
                continue
            found = pattern.match(request.path)
            if found is not None:
                return name, {k: v for k, v in found.groupdict().items() if v is not None}
        return None

    def operation(self, request: Incoming) -> str | None:
        route = self._route(request)
        return None if route is None else route[0]

    def serve(self, request: Incoming) -> Answer:
        return self.answer(request, None)

    def answer(self, request: Incoming, fault: Fault | None) -> Answer:
        """Amazon's order: the route, the token, the throttle, the failure, the operation."""
        self.settle_feeds()
        route = self._route(request)
        if route is None:
            return self._reply(404, errors("NotFound", "Resource not found."), None)
        name, args = route
        if name in ("uploadDocument", "downloadDocument"):
            if fault is not None and fault.kind == "throttle":
                return s3_error(503, "SlowDown", "Please reduce your request rate.")
            if fault is not None and fault.kind == "fail":
                return s3_error(fault.status or 500, "InternalError", "We encountered an internal error.")
            return self.s3(request.method, args["doc"], request.params, request.headers, request.body)
        if name == "lwaToken":
            if fault is not None:
                status = 429 if fault.kind == "throttle" else fault.status or 503
                body = {
                    "error": "server_error",
                    "error_description": "The service is temporarily unavailable.",
                }
                return self._reply(status, body, None)
            return self._lwa(request)
        try:
            reveal = self._authorize(request, name, args["api"])
        except Problem as problem:
            return self._reply(problem.status, problem.body, None)
        if fault is not None and fault.kind == "throttle":
            return self.throttled(request, fault)
        if self.limits and self.buckets[name].take():
            return self._reply(429, QUOTA_EXCEEDED, name)
        if fault is not None and fault.kind == "fail":
            return self.failed(request, fault)
        try:
            status, body = self._dispatch(request, name, args, reveal)
        except Problem as problem:
            status, body = problem.status, problem.body
        return self._reply(status, body, name)

    def throttled(self, request: Incoming, fault: Fault) -> Answer:
        """Amazon's 429 QuotaExceeded, with the operation's ``x-amzn-RateLimit-Limit``."""
        return self._reply(429, QUOTA_EXCEEDED, self.operation(request))

    def failed(self, request: Incoming, fault: Fault) -> Answer:
        """Amazon's InternalFailure with the fault's status (or the fault's own body)."""
        body = fault.body if fault.body is not None else INTERNAL_FAILURE
        return self._reply(fault.status or 503, body, self.operation(request))

    def _reply(self, status: int, body: Any, operation: str | None) -> Answer:
        headers = {"x-amzn-RequestId": str(uuid.uuid4())}
        if operation in RATE_LIMITS and status not in (401, 403):
            headers["x-amzn-RateLimit-Limit"] = RATE_LIMITS[operation][0]
        return json_answer(status, body, headers)

    def _dispatch(
        self, request: Incoming, name: str, args: dict[str, str], reveal: frozenset[str]
    ) -> tuple[int, Any]:
        params, body = request.params, request.json()
        if name == "getOrders":
            return 200, self.list_orders(params, reveal)
        if name == "getOrder":
            return 200, self.get_order(args["order"], reveal)
        if name == "getOrderItems":
            return 200, self.get_order_items(args["order"], params)
        if name == "getOrderAddress":
            return 200, self.get_order_address(args["order"], reveal)
        if name == "getOrderBuyerInfo":
            return 200, self.get_order_buyer_info(args["order"], reveal)
        if name == "confirmShipment":
            self.confirm_shipment(args["order"], body)
            return 204, None
        if name == "patchListingsItem":
            return 200, self.patch_listing(args["seller"], args["sku"], params, body)
        if name == "getListingsItem":
            return 200, self.get_listing(args["seller"], args["sku"], params)
        if name == "searchListingsItems":
            return 200, self.search_listings(args["seller"], params)
        if name == "createFeedDocument":
            return 201, self.create_feed_document(body)
        if name == "getFeedDocument":
            return 200, self.get_feed_document(args["doc"])
        if name == "createFeed":
            return 202, self.create_feed(body)
        if name == "getFeed":
            return 200, self.get_feed(args["feed"])
        return 200, self._create_rdt(body)

    # --- auth ---------------------------------------------------------------------------------

    def _lwa(self, request: Incoming) -> Answer:
        def oauth(status: int, error: str, description: str) -> Answer:
            return self._reply(status, {"error_description": description, "error": error}, None)

        content_type = request.headers.get("content-type", "")
        if not content_type.lower().startswith("application/x-www-form-urlencoded"):
            return oauth(400, "invalid_request", "The request must be form-encoded (x-www-form-urlencoded).")
        try:
            form = dict(parse_qsl(request.body.decode(), keep_blank_values=True))
        except UnicodeDecodeError:
            form = {}
        missing = [k for k in ("grant_type", "client_id", "client_secret") if not form.get(k)]
        if missing:
            return oauth(400, "invalid_request", f"Missing required parameter(s): {', '.join(missing)}")
        if form["grant_type"] != "refresh_token":
            return oauth(400, "unsupported_grant_type", "The authorization grant type is not supported.")
        if form["client_id"] != LWA_CLIENT_ID or form["client_secret"] != LWA_CLIENT_SECRET:
            return oauth(401, "invalid_client", "Client authentication failed")
        if form.get("refresh_token") != REFRESH_TOKEN or self.refresh_revoked:
            return oauth(400, "invalid_grant", "The request has an invalid grant parameter : refresh_token")
        issued = self.tokens.issue(ttl=3600, with_refresh=False)
        self.refreshes += 1
        body = {
            "access_token": issued.access_token,
            "refresh_token": REFRESH_TOKEN,
            "token_type": "bearer",
            "expires_in": 3600,
        }
        return self._reply(200, body, None)

    def _authorize(self, request: Incoming, name: str, api_path: str) -> frozenset[str]:
        """The PII the request's token shows (empty for an access token); 403 ``Problem`` when refused."""
        token = request.headers.get("x-amz-access-token", "")
        rdt = self._rdts.get(token)
        if rdt is not None:
            if self.clock() >= rdt["expires"]:
                raise unauthorized(_EXPIRED)
            for method, pattern, elements in rdt["resources"]:
                if method == request.method and pattern.match(api_path):
                    if name == "getOrderAddress":
                        return frozenset({"shippingAddress"})
                    if name == "getOrderBuyerInfo":
                        return frozenset({"buyerInfo"})
                    return frozenset(elements)
            raise unauthorized("")
        if not token:
            raise unauthorized("")
        verdict = self.tokens.check(token)
        if verdict == "expired":
            raise unauthorized(_EXPIRED)
        if verdict != "ok":
            raise unauthorized(_INVALID)  # not one of ours: another process's fake, or made up
        return frozenset()

    def _create_rdt(self, body: Any) -> dict[str, Any]:
        """``createRestrictedDataToken``: a token for the named Orders resources and PII."""
        if not self.pii_allowed:
            raise unauthorized("The application is not authorized to access restricted data.")
        resources = body.get("restrictedResources") if isinstance(body, dict) else None
        if not isinstance(resources, list) or not resources:
            raise invalid_input("restrictedResources is required.")
        granted = []
        for resource in resources:
            if not isinstance(resource, dict) or resource.get("method") != "GET":
                raise invalid_input("Each restricted resource needs method GET and a path.")
            path = str(resource.get("path", ""))
            if not _RESTRICTED.match(path):
                raise invalid_input(f"The path {path!r} is not a restricted resource.")
            elements = resource.get("dataElements") or []
            if not isinstance(elements, list) or any(e not in _DATA_ELEMENTS for e in elements):
                raise invalid_input(f"Invalid dataElements: {elements!r}.")
            pattern = re.compile("^" + re.escape(path).replace(re.escape("{orderId}"), "[^/]+") + "$")
            granted.append(("GET", pattern, tuple(elements)))
        token = "Atz.sprdt|" + secrets.token_hex(24)
        self._rdts[token] = {"expires": self.clock() + datetime.timedelta(seconds=3600), "resources": granted}
        return {"restrictedDataToken": token, "expiresIn": 3600}


_shared: FakeAmazon | None = None
_shared_lock = threading.Lock()


def shared_fake() -> FakeAmazon:
    """One fake per process, for ``make run``: the demo's connection and the served app share it."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = FakeAmazon()
        return _shared


def wsgi_app() -> FakeAmazon:
    """A fresh fake Amazon as a WSGI app (``manage.py run_fake amazon``)."""
    return FakeAmazon()
