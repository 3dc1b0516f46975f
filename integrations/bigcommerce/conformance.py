"""BigCommerce's conformance harness: how the hub's conformance kit drives the fake store.

The kit (tests/integrations/conformance/) finds it next to the connector; what it uses is
documented in tests/integrations/conformance/harness.py.

BigCommerce's webhooks are thin: the store is read when one arrives, so what a webhook "carries" is
the store's state when it is read. A change the kit makes (``changed``) is applied to the fake when
its webhook is sent (``order_webhook``), as the merchant's edit in BigCommerce's admin
(``FakeBigCommerce.edit_order``: a note, a new ``date_modified``), as BigCommerce sends a hook
right after the change; a change older than what the store already shows is not applied again
(its hook arrives late).
"""

from __future__ import annotations

import copy
import datetime
from typing import Any

import httpx

from integrations.bigcommerce.connector import BigCommerceConnector
from integrations.bigcommerce.fake import ACCESS_TOKEN, CLIENT_SECRET, STORE_HASH, FakeBigCommerce
from integrations.bigcommerce.mapping import format_rfc2822, rfc2822
from integrations.bigcommerce.webhooks import SECRET_HEADER

PUSH = "v3/inventory/adjustments/absolute"
LOCATION_ID = 1
WEBHOOK_SECRET = "bc-conformance-header-secret"


class Harness:
    connector = BigCommerceConnector
    base_url = "https://api.bigcommerce.com"
    sku = "TENT-2P-GRN"  # the hub stocks it
    unknown_sku = "STOVE-TI-01"  # the store sells it, the hub does not know it
    tokens_expire = False
    no_refresh_reason = "BigCommerce API account tokens do not expire (no refresh grant)."

    def __init__(self) -> None:
        self.fake = FakeBigCommerce(quota=10_000)
        self._throttle_wait: float | None = None

    # --- wiring ------------------------------------------------------------------------------

    def transport(self) -> httpx.BaseTransport:
        return httpx.MockTransport(self._handle)

    def _handle(self, request: httpx.Request) -> httpx.Response:
        response: httpx.Response = self.fake.handle(request)
        if self._throttle_wait is not None and response.status_code == 429:
            # The app's quota spent: BigCommerce says when its window starts afresh.
            wait, self._throttle_wait = self._throttle_wait, None
            headers = {
                **{k.lower(): v for k, v in response.headers.items()},
                "x-rate-limit-requests-left": "0",
                "x-rate-limit-time-reset-ms": str(int(wait * 1000)),
            }
            response = httpx.Response(429, headers=headers, content=response.content, request=request)
        return response

    def settings(self) -> dict[str, Any]:
        return {"store_hash": STORE_HASH, "location_id": LOCATION_ID}

    def secrets(self) -> dict[str, Any]:
        return {
            "access_token": ACCESS_TOKEN,
            "webhook_secret": WEBHOOK_SECRET,
            "client_secret": CLIENT_SECRET,
        }

    def variant(self, sku: str) -> tuple[str, dict[str, Any]]:
        variant = self.fake.variant_by_sku(sku)
        return str(variant["id"]), {"product_id": variant["product_id"]}

    # --- orders and webhooks -----------------------------------------------------------------------

    def new_order(self, *, sku: str, quantity: int, updated_at: datetime.datetime) -> dict[str, Any]:
        return self.fake.create_order([(sku, quantity)], created_at=updated_at)

    def changed(self, order: dict[str, Any], *, note: str, updated_at: datetime.datetime) -> dict[str, Any]:
        return {**copy.deepcopy(order), "customer_message": note, "date_modified": format_rfc2822(updated_at)}

    def _apply(self, order: dict[str, Any]) -> None:
        modified = rfc2822(order["date_modified"])
        if modified is None:
            return
        # The merchant's edit in BigCommerce's admin; an older one than the store shows is not applied.
        self.fake.edit_order(
            int(order["id"]),
            customer_message=order["customer_message"],
            at=modified,
        )

    def _hook(
        self, order: dict[str, Any], scope: str, *, secret: str | None = None, store: str = STORE_HASH
    ) -> tuple[dict[str, str], bytes]:
        at = rfc2822(order["date_modified"])
        body = self.fake.event_body(scope, {"type": "order", "id": int(order["id"])}, at=at)
        if store != STORE_HASH:
            body = body.replace(f'"stores/{STORE_HASH}"'.encode(), f'"stores/{store}"'.encode())
        headers = self.fake.webhook(body, at=datetime.datetime.now(datetime.UTC), secret=secret)
        return {**headers, SECRET_HEADER: WEBHOOK_SECRET}, body

    def order_webhook(self, order: dict[str, Any], *, created: bool) -> tuple[dict[str, str], bytes]:
        self._apply(order)
        return self._hook(order, "store/order/created" if created else "store/order/updated")

    def wrongly_signed(self, order: dict[str, Any]) -> tuple[dict[str, str], bytes]:
        return self._hook(order, "store/order/created", secret="not_this_apps_client_secret")

    def other_accounts_webhook(self, order: dict[str, Any]) -> tuple[dict[str, str], bytes] | None:
        return self._hook(order, "store/order/created", store="zzz999")

    # --- the tool's state and its failures ----------------------------------------------------------

    def available(self, sku: str) -> int | None:
        return self.fake.stock(sku, LOCATION_ID)

    def set_available(self, sku: str, quantity: int) -> None:
        self.fake.set_stock(sku, LOCATION_ID, quantity)

    def push_requests(self) -> int:
        return len(self.fake.requests_to(PUSH, "PUT"))

    def throttle_next(self, *, retry_after: float) -> None:
        self._throttle_wait = retry_after
        self.fake.fail_next(1, status=429)

    def fail_next(self, count: int, *, status: int = 503) -> None:
        self.fake.fail_next(count, status=status)

    def expire_token(self) -> None:
        raise NotImplementedError(self.no_refresh_reason)

    def refreshes(self) -> int:
        return 0
