"""Shopify's conformance harness: how the hub's conformance kit drives the fake shop.

The kit (tests/integrations/conformance/) finds a connector's harness as the
``Harness`` class of the ``conformance`` module next to its ``connector`` module,
so adding a connector adds a harness and edits nothing else. A harness is
duck-typed; what the kit uses is documented in tests/integrations/conformance/harness.py.
"""

from __future__ import annotations

import datetime
from typing import Any

import httpx

from integrations.shopify.connector import ShopifyConnector
from integrations.shopify.fake import (
    API_VERSION,
    CLIENT_ID,
    CLIENT_SECRET,
    LOCATION_ID,
    SHOP_DOMAIN,
    FakeShopify,
)

PUSH = "inventory_levels/set.json"


class Harness:
    connector = ShopifyConnector
    base_url = f"https://{SHOP_DOMAIN}"
    sku = "TENT-2P-GRN"  # the hub stocks it
    unknown_sku = "STOVE-TI-01"  # the shop sells it, the hub does not know it
    # The connection holds an expiring offline token (an hour) and its refresh token, as the sign-in
    # gives them; a static token (a custom app's) never expires and is never refreshed.
    tokens_expire = True
    no_refresh_reason = ""

    def __init__(self) -> None:
        # A roomy bucket: the kit checks Retry-After on a 429, not the shop's call budget.
        self.fake = FakeShopify(bucket_size=1000)
        self.issued = self.fake.issue_token(expiring=True)

    # --- wiring ------------------------------------------------------------------------------

    def transport(self) -> httpx.BaseTransport:
        return httpx.MockTransport(self.fake.handle)

    def settings(self) -> dict[str, Any]:
        return {"shop_domain": SHOP_DOMAIN, "api_version": API_VERSION, "location_id": LOCATION_ID}

    def secrets(self) -> dict[str, Any]:
        return {
            "access_token": self.issued.access_token,
            "refresh_token": str(self.issued.refresh_token),
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
        }

    def variant(self, sku: str) -> tuple[str, dict[str, Any]]:
        """The tool's variant id of a SKU and the ExternalRef extra the connector needs to push it."""
        variant = self.fake.variant_by_sku(sku)
        return str(variant["id"]), {"inventory_item_id": variant["inventory_item_id"]}

    # --- orders and webhooks -----------------------------------------------------------------------

    def new_order(self, *, sku: str, quantity: int, updated_at: datetime.datetime) -> dict[str, Any]:
        return self.fake.create_order([(sku, quantity)], created_at=updated_at)

    def changed(self, order: dict[str, Any], *, note: str, updated_at: datetime.datetime) -> dict[str, Any]:
        return self.fake.update_order(order["id"], note=note, updated_at=updated_at)

    def order_webhook(self, order: dict[str, Any], *, created: bool) -> tuple[dict[str, str], bytes]:
        return self.fake.webhook("orders/create" if created else "orders/updated", order)

    def wrongly_signed(self, order: dict[str, Any]) -> tuple[dict[str, str], bytes]:
        return self.fake.webhook("orders/create", order, secret="shpss_not_this_apps_secret")

    def other_accounts_webhook(self, order: dict[str, Any]) -> tuple[dict[str, str], bytes] | None:
        headers, body = self.order_webhook(order, created=True)
        return {**headers, "X-Shopify-Shop-Domain": "another-shop.myshopify.com"}, body

    # --- the tool's state and its failures ----------------------------------------------------------

    def available(self, sku: str) -> int | None:
        return self.fake.available(sku)

    def set_available(self, sku: str, quantity: int) -> None:
        self.fake.set_available(sku, quantity)

    def push_requests(self) -> int:
        return len(self.fake.requests_to(PUSH, "POST"))

    def throttle_next(self, *, retry_after: float) -> None:
        self.fake.throttle_next(1, retry_after=retry_after)

    def fail_next(self, count: int, *, status: int = 503) -> None:
        self.fake.fail_next(count, status=status)

    def expire_token(self) -> None:
        """The hour is up: every expiring token the shop issued answers 401 until refreshed."""
        self.fake.expire_tokens()

    def refreshes(self) -> int:
        return self.fake.refreshes
