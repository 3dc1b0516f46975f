"""A local fake QuickBooks Online (Accounting API v3, minor version 75), for the tests, the
simulated day and the demo.

One ``FakeQuickBooks`` holds the companies an app is connected to (by realmId; the samples'
``REALM_ID`` "Trailhead Outfitters LLC" is seeded) and answers HTTP as QuickBooks does, at any
host (``quickbooks.api.intuit.com``, ``sandbox-quickbooks.api.intuit.com``,
``oauth.platform.intuit.com``, ``appcenter.intuit.com``; under any path prefix over WSGI). It
stands on ``integrations.fakes`` (``FakeTool``, ``TokenStore``, ``SlidingWindow``,
``WebhookSender``). Layout: ``fake_data`` (constants, seed lists, samples, fault bodies, times),
``fake_company`` (a realm's objects and the name lists), ``fake_txns`` (sales forms,
payments, balances), ``fake_ledger`` (bills, journal entries), ``fake_query`` (the query
language), ``fake_state`` (writes, voids, deletes, CDC, the accountant's test controls),
``fake_api`` (the ``/v3/company/{realm}/`` endpoints and ``requestid``), ``fake_oauth`` (consent
page, token and revoke endpoints), ``fake_webhooks`` (the two webhook bodies, signed),
``fake_snapshot``; this module checks the token, the limits and routes.

* ``Authorization: Bearer <access token>``: a missing, unknown or revoked token answers 401 with
  the lowercase envelope (``error_401_authentication.json``, detail "Token invalid"), an expired
  one the same with "Token expired: <token>" (the sample). A token granted for another realm:
  403 (AuthorizationFailed, 3100). A realm the fake does not hold: 403 as well. A sandbox
  company at the production host, or the reverse: 403.
* Limits per realm: 500 requests a minute (a sliding window) and 10 requests in flight; past
  either: 429 with the throttle ``Fault`` (``error_429_throttle.json``), no Retry-After (Intuit
  documents none). ``limits=False`` turns both off. ``throttle_next`` gives the same 429;
  ``fail_next`` a 5xx ``SystemFault``; ``timeout_next`` (``processed=True``: the write happened,
  the answer was lost) and ``slow_next`` as the toolkit does. ``match`` is a substring of the
  operation ``"POST invoice"``, ``"GET customer/58"``, ``"GET query"``, ``"GET cdc"``,
  ``"POST tokens/bearer"``.

Test controls: ``record_payment_in_qbo``, ``void_invoice_in_qbo``, ``void_in_qbo``,
``edit_customer_in_qbo``, ``edit_invoice_in_qbo``, ``edit_in_qbo``, ``create_in_qbo``,
``delete_in_qbo``, ``merge_in_qbo``; ``get``, ``objects``, ``company``, ``add_company``;
OAuth: ``issue_tokens``, ``expire_tokens``, ``revoke_grants``, ``auto_approve``,
``rotate_after``, ``token_calls``; webhooks: ``set_webhook_endpoint``, ``webhook_format``,
``deliver_webhooks(send, now=None)``, ``pending_webhooks``, ``events``, ``duplicate_next``,
``drop_next``, ``delay_next``, ``outbox``; ``requests``, ``in_flight``, ``window(realm)``,
``reset``, ``snapshot``.
"""

from __future__ import annotations

import datetime
import json
import re
import threading
from collections.abc import Callable, Mapping
from typing import Any

import httpx

from integrations.fakes.base import Answer, FakeTool, Incoming
from integrations.fakes.faults import Fault
from integrations.fakes.ratelimit import SlidingWindow
from integrations.quickbooks.fake_api import QuickBooksApi
from integrations.quickbooks.fake_data import (
    ACCESS_TOKEN,
    BASE_URL,
    CLIENT_ID,
    CLIENT_SECRET,
    CONCURRENCY_LIMIT,
    PRODUCTION_HOST,
    RATE_LIMIT,
    REALM_ID,
    SANDBOX_HOST,
    SANDBOX_URL,
    VERIFIER_TOKEN,
    authentication_body,
    authorization_body,
    envelope_time,
    system_fault,
    throttle_body,
)
from integrations.quickbooks.fake_oauth import OAuthServer
from integrations.quickbooks.fake_snapshot import quickbooks_snapshot
from integrations.quickbooks.fake_webhooks import RETRY_SCHEDULE, sample_webhook, sign, verify

__all__ = [
    "ACCESS_TOKEN",
    "BASE_URL",
    "CLIENT_ID",
    "CLIENT_SECRET",
    "REALM_ID",
    "RETRY_SCHEDULE",
    "SANDBOX_URL",
    "VERIFIER_TOKEN",
    "FakeQuickBooks",
    "sample_webhook",
    "shared_fake",
    "sign",
    "verify",
    "wsgi_app",
]

_API_PATH = re.compile(r"^(?P<prefix>.*?)/v3/company/(?P<realm>[^/]+)/(?P<rest>.*?)/?$")


# The mixins read ``clock`` as a bare now-callable; FakeTool's is a fakes.clock.Clock, which is one.
class FakeQuickBooks(FakeTool, QuickBooksApi, OAuthServer):  # type: ignore[misc]
    """QuickBooks Online companies in memory that speak the v3 API. Thread-safe; see the module doc."""

    tool = "quickbooks"

    def __init__(
        self,
        *,
        clock: Callable[[], datetime.datetime] | None = None,
        monotonic: Callable[[], float] | None = None,
        realm_id: str = REALM_ID,
        environment: str = "production",
        rate_limit: int = RATE_LIMIT,
        concurrency_limit: int = CONCURRENCY_LIMIT,
        window_seconds: float = 60.0,
        limits: bool = True,
        seed: bool = True,
    ) -> None:
        super().__init__(clock=clock, monotonic=monotonic)
        self.realm_id = realm_id
        self.environment = environment
        self.rate_limit = rate_limit
        self.concurrency_limit = concurrency_limit
        self.window_seconds = window_seconds
        self.limits = limits
        self.windows: dict[str, SlidingWindow] = {}
        self.in_flight: dict[str, int] = {}
        self._flight_lock = threading.Lock()
        self.reset(seed=seed)

    def reset(self, *, seed: bool = True) -> None:
        """Forget everything (companies, grants, deliveries, request log, faults, windows); reseed."""
        with self._lock:
            self.requests.clear()
            self.clear_failures()
            self.windows.clear()
            self.reset_oauth()
            self.reset_api()
            self.reset_state(seed=seed)

    def window(self, realm: str | None = None) -> SlidingWindow:
        """The 500-a-minute window of a realm."""
        with self._flight_lock:
            key = realm or self.realm_id
            if key not in self.windows:
                self.windows[key] = SlidingWindow(self.rate_limit, self.window_seconds, self.clock.monotonic)
            return self.windows[key]

    def snapshot(self, realm: str | None = None) -> dict[str, Any]:
        """Every realm's objects as plain JSON, for drift checks (see ``fake_snapshot``)."""
        with self._lock:
            companies = [self.company(realm)] if realm else list(self.companies.values())
            return quickbooks_snapshot(self.clock(), companies)

    def requests_to(self, operation: str) -> list[Any]:
        """Logged requests whose operation is exactly ``operation`` (``"POST invoice"``)."""
        with self._lock:
            return [r for r in self.requests if r.operation == operation]

    # --- HTTP -----------------------------------------------------------------------------------

    def operation(self, request: Incoming) -> str | None:
        match = _API_PATH.match(request.path)
        if match is not None:
            return f"{request.method} {match['rest']}"
        path = request.path.rstrip("/")
        if path.endswith(("/oauth2/v1/tokens/bearer", "/oauth2/tokens/revoke")):
            return f"{request.method} " + "/".join(path.rsplit("/", 2)[-2:])
        return None

    def respond(self, method: str, url: str, headers: Mapping[str, str], body: bytes) -> Answer:
        """Counts the request in flight for its realm (the 10-concurrent limit) around the toolkit's."""
        match = _API_PATH.match(httpx.URL(url).path)
        realm = match["realm"] if match else None
        if realm is None or not self.limits:
            return super().respond(method, url, headers, body)
        with self._flight_lock:
            busy = self.in_flight.get(realm, 0)
            if busy >= self.concurrency_limit:
                refused = True
            else:
                refused = False
                self.in_flight[realm] = busy + 1
        if refused:
            answer = self._throttle()
            with self._lock:
                request = Incoming(
                    method.upper(), httpx.URL(url), {k.lower(): v for k, v in headers.items()}, body
                )
                self.record(request, answer[0])
            return answer
        try:
            return super().respond(method, url, headers, body)
        finally:
            with self._flight_lock:
                self.in_flight[realm] -= 1

    def serve(self, request: Incoming) -> Answer:
        return self.answer(request, None)

    def answer(self, request: Incoming, fault: Fault | None) -> Answer:
        """QuickBooks' order: the sign-in paths; else the path, the token, the realm, the limits, the API."""
        signing_in = self.oauth_respond(request.method, request.url, request.headers, request.body)
        if signing_in is not None:
            if fault is not None and fault.kind in ("throttle", "fail"):
                return self._json(fault.status or 503, {"error": "temporarily_unavailable"})
            return signing_in
        match = _API_PATH.match(request.path)
        if match is None:
            return self._json(404, {"error": "Not Found"})
        realm = match["realm"]
        refused = self._authenticate(request, realm)
        if refused is not None:
            return refused
        if fault is not None and fault.kind == "throttle":
            return self._throttle()
        if self.limits and self.window(realm).take():
            return self._throttle()
        if fault is not None and fault.kind == "fail":
            status = fault.status or 503
            body = (
                fault.body
                if fault.body is not None
                else {**system_fault(status), "time": envelope_time(self.clock())}
            )
            return self._json(status, body)
        status, body = self.api(request, realm, match["rest"])
        return self._json(status, body, {"intuit_tid": f"1-{int(self.clock().timestamp()):x}-fake"})

    def _authenticate(self, request: Incoming, realm: str) -> Answer | None:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        token = token.strip()
        epoch_ms = int(self.clock().timestamp() * 1000)
        verdict = self.check_access(token) if scheme.lower() == "bearer" else "invalid"
        if verdict != "ok":
            detail = f"Token expired: {token[:48]}" if verdict == "expired" else "Token invalid"
            return self._json(
                401, authentication_body(detail, epoch_ms), {"WWW-Authenticate": 'Bearer realm="Intuit"'}
            )
        granted = self.realm_of(token)
        company = self.companies.get(realm)
        host = request.url.host
        wrong_host = company is not None and (
            (host == PRODUCTION_HOST and company.environment == "sandbox")
            or (host == SANDBOX_HOST and company.environment != "sandbox")
        )
        if company is None or (granted is not None and granted != realm) or wrong_host:
            return self._json(
                403, authorization_body(f"The app is not authorized for company {realm}", epoch_ms)
            )
        return None

    def _throttle(self) -> Answer:
        return self._json(429, {**throttle_body(), "time": envelope_time(self.clock())})

    def throttled(self, request: Incoming, fault: Fault) -> Answer:
        return self._throttle()

    def failed(self, request: Incoming, fault: Fault) -> Answer:
        status = fault.status or 503
        return self._json(status, fault.body if fault.body is not None else system_fault(status))

    def timed_out(self, fault: Fault) -> Answer:
        return self._json(504, {"error": "Gateway Timeout"})

    def _json(self, status: int, body: Any, extra: Mapping[str, str] | None = None) -> Answer:
        headers = {"Content-Type": "application/json;charset=UTF-8", **(extra or {})}
        return status, headers, json.dumps(body).encode()


_shared: FakeQuickBooks | None = None
_shared_lock = threading.Lock()


def shared_fake() -> FakeQuickBooks:
    """One fake per process, for ``make run``: the demo's connection and the served app share it."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = FakeQuickBooks()
        return _shared


def wsgi_app() -> FakeQuickBooks:
    """A fresh fake QuickBooks as a WSGI app (``manage.py run_fake quickbooks``)."""
    return FakeQuickBooks()
