"""Amazon's conformance harness: how the hub's conformance kit drives the fake SP-API.

The kit (tests/integrations/conformance/) finds it next to the connector; what it uses is
documented in tests/integrations/conformance/harness.py. Amazon sends no HTTP webhooks, so the
channel part's webhook cases are skipped for it and its polling variant runs instead
(``PollingHarness``): orders placed in the fake at a time a few minutes back (Amazon shows an
order to ``getOrders`` only two minutes after its last change), cancelled there, read by polls.

The fake's clock is the wall clock, shifted while the harness makes a change "at" an earlier time
(``cancel_in_tool(order, at=)``): the fake stamps the change with that time, as if it had happened
then. Its per-operation buckets are off (the hub's own buckets still space its requests); the
kit's 429s are injected: Amazon's ``QuotaExceeded`` with ``x-amzn-RateLimit-Limit`` naming a rate
of one request per ``retry_after`` seconds, as Amazon reports a seller's lower usage plan.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import time
from collections.abc import Iterator
from typing import Any

import httpx

from integrations.amazon.connector import LWA_URL, ORDER_PAGE, REGIONS, AmazonConnector
from integrations.amazon.fake import (
    LWA_CLIENT_ID,
    LWA_CLIENT_SECRET,
    MARKETPLACE_ID,
    REFRESH_TOKEN,
    SELLER_ID,
    FakeAmazon,
)

DOCUMENTS = "https://tortuga-prod-na.s3-external-1.amazonaws.com"
PUSH = "patchListingsItem"


class ShiftedClock:
    """The wall clock, shifted by ``shift`` (a change made "at" an earlier time)."""

    def __init__(self) -> None:
        self.shift = datetime.timedelta(0)

    def __call__(self) -> datetime.datetime:
        return datetime.datetime.now(datetime.UTC) + self.shift

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)

    @contextlib.contextmanager
    def at(self, moment: datetime.datetime) -> Iterator[None]:
        self.shift = moment - datetime.datetime.now(datetime.UTC)
        try:
            yield
        finally:
            self.shift = datetime.timedelta(0)


class Harness:
    connector = AmazonConnector
    base_url = REGIONS["na"]
    origins = (REGIONS["na"], str(httpx.URL(LWA_URL).copy_with(path="/")).rstrip("/"), DOCUMENTS)
    sku = "TENT-2P-GRN"  # the hub stocks it
    unknown_sku = "STOVE-TI-01"  # Amazon sells it, the hub does not know it
    tokens_expire = True
    no_refresh_reason = ""
    page_size = ORDER_PAGE

    def __init__(self) -> None:
        self.clock = ShiftedClock()
        self.fake = FakeAmazon(clock=self.clock, limits=False, documents_url=DOCUMENTS)
        self._slow_rate: float | None = None

    # --- wiring ------------------------------------------------------------------------------

    def transport(self) -> httpx.BaseTransport:
        return httpx.MockTransport(self._handle)

    def _handle(self, request: httpx.Request) -> httpx.Response:
        response: httpx.Response = self.fake.handle(request)
        if self._slow_rate is not None and response.status_code == 429:
            rate, self._slow_rate = self._slow_rate, None
            headers = {**dict(response.headers), "x-amzn-ratelimit-limit": f"{rate:.4f}"}
            response = httpx.Response(429, headers=headers, content=response.content, request=request)
        return response

    def settings(self) -> dict[str, Any]:
        return {"marketplace_ids": [MARKETPLACE_ID], "seller_id": SELLER_ID}

    def secrets(self) -> dict[str, Any]:
        return {
            "lwa_client_id": LWA_CLIENT_ID,
            "lwa_client_secret": LWA_CLIENT_SECRET,
            "refresh_token": REFRESH_TOKEN,
            "access_token": self.fake.access_token(),
        }

    def variant(self, sku: str) -> tuple[str, dict[str, Any]]:
        listing = self.fake.listings[sku]
        return sku, {"product_type": listing["productType"]}

    # --- orders -------------------------------------------------------------------------------

    def new_order(self, *, sku: str, quantity: int, updated_at: datetime.datetime) -> dict[str, Any]:
        if self.fake.quantity(sku) < quantity:
            self.fake.set_quantity(sku, quantity)  # the seller listed enough to sell
        return self.fake.place_order([(sku, quantity)], pending=False, at=updated_at)

    def cancel_in_tool(self, order: dict[str, Any], *, at: datetime.datetime) -> None:
        with self.clock.at(at):
            self.fake.cancel_order(self.reference(order))

    def reference(self, order: dict[str, Any]) -> str:
        return str(order["AmazonOrderId"])

    def order_list_requests(self) -> int:
        return len(self.fake.requests_to("getOrders"))

    def changed(self, order: Any, *, note: str, updated_at: datetime.datetime) -> Any:
        raise NotImplementedError("Amazon's orders come by polling: no webhook carries a change")

    def order_webhook(self, order: Any, *, created: bool) -> tuple[dict[str, str], bytes]:
        raise NotImplementedError("Amazon sends no HTTP webhooks")

    def wrongly_signed(self, order: Any) -> tuple[dict[str, str], bytes]:
        raise NotImplementedError("Amazon sends no HTTP webhooks")

    def other_accounts_webhook(self, order: Any) -> tuple[dict[str, str], bytes] | None:
        return None

    # --- the tool's state and its failures ----------------------------------------------------------

    def available(self, sku: str) -> int | None:
        return self.fake.quantity(sku)

    def set_available(self, sku: str, quantity: int) -> None:
        self.fake.set_quantity(sku, quantity)

    def push_requests(self) -> int:
        return len(self.fake.requests_to(PUSH))

    def throttle_next(self, *, retry_after: float) -> None:
        self._slow_rate = 1 / retry_after
        self.fake.throttle_next(1)

    def fail_next(self, count: int, *, status: int = 503) -> None:
        self.fake.fail_next(count, status=status)

    def expire_token(self) -> None:
        self.fake.expire_tokens()

    def refreshes(self) -> int:
        return int(self.fake.refreshes)

    def report(self) -> str:
        return json.dumps(self.fake.snapshot(), indent=1)[:2000]
