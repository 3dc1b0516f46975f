"""Minimal's conformance harness (the kit finds it next to minimal/connector.py)."""

from __future__ import annotations

import datetime
from typing import Any

import httpx

from tests.integrations.conformance.minimal.connector import BASE_URL, MinimalConnector
from tests.integrations.conformance.minimal.fake import (
    CATALOGUE,
    CLIENT_ID,
    CLIENT_SECRET,
    SIGNING_SECRET,
    FakeMinimal,
)


class Harness:
    connector = MinimalConnector
    base_url = "https://minimal.test/"
    sku = "MIN-MUG"
    unknown_sku = "MIN-CAP"
    tokens_expire = True
    no_refresh_reason = ""

    def __init__(self) -> None:
        self.fake = FakeMinimal()

    def transport(self) -> httpx.BaseTransport:
        return httpx.MockTransport(self.fake.handle)

    def settings(self) -> dict[str, Any]:
        return {"base_url": BASE_URL}

    def secrets(self) -> dict[str, Any]:
        return {
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "access_token": self.fake.access_token,
            "refresh_token": self.fake.refresh_token,
            "signing_secret": SIGNING_SECRET,
        }

    def variant(self, sku: str) -> tuple[str, dict[str, Any]]:
        return CATALOGUE[sku][0], {}

    def new_order(self, *, sku: str, quantity: int, updated_at: datetime.datetime) -> dict[str, Any]:
        return self.fake.new_order(sku=sku, quantity=quantity, updated_at=updated_at)

    def changed(self, order: dict[str, Any], *, note: str, updated_at: datetime.datetime) -> dict[str, Any]:
        return self.fake.change(order["id"], comment=note, updated_at=updated_at)

    def order_webhook(self, order: dict[str, Any], *, created: bool) -> tuple[dict[str, str], bytes]:
        return self.fake.webhook("order.created" if created else "order.updated", order)

    def wrongly_signed(self, order: dict[str, Any]) -> tuple[dict[str, str], bytes]:
        return self.fake.webhook("order.created", order, secret="someone-elses-secret")

    def other_accounts_webhook(self, order: dict[str, Any]) -> tuple[dict[str, str], bytes] | None:
        return self.fake.webhook("order.created", order, account="acct-2")

    def available(self, sku: str) -> int | None:
        return self.fake.stock.get(CATALOGUE[sku][0])

    def set_available(self, sku: str, quantity: int) -> None:
        self.fake.stock[CATALOGUE[sku][0]] = quantity

    def push_requests(self) -> int:
        return sum(r.method == "PUT" and r.url.path.startswith("/v1/stock/") for r in self.fake.requests)

    def throttle_next(self, *, retry_after: float) -> None:
        self.fake.throttle_next(1, retry_after=retry_after)

    def fail_next(self, count: int, *, status: int = 503) -> None:
        self.fake.fail_next(count, status=status)

    def expire_token(self) -> None:
        """The access token the hub holds stops working (its hour is up)."""
        with self.fake.lock:
            self.fake.access_token = "at-fresh-only-after-refresh"

    def refreshes(self) -> int:
        return self.fake.refreshes
