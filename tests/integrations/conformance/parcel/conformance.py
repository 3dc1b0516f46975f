"""Parcel's harness for the kit's shipping part (tests/integrations/conformance/harness.py)."""

from __future__ import annotations

from typing import Any

import httpx

from tests.integrations.conformance.parcel.connector import BASE_URL, ParcelConnector
from tests.integrations.conformance.parcel.fake import API_KEY, API_SECRET, WEBHOOK_TOKEN, FakeParcel


class Harness:
    connector = ParcelConnector
    base_url = BASE_URL

    def __init__(self) -> None:
        self.fake = FakeParcel()

    def transport(self) -> httpx.BaseTransport:
        return httpx.MockTransport(self.fake.handle)

    def settings(self) -> dict[str, Any]:
        return {"base_url": BASE_URL}

    def secrets(self) -> dict[str, Any]:
        return {"api_key": API_KEY, "api_secret": API_SECRET, "webhook_token": WEBHOOK_TOKEN}

    # --- the tool's state ---------------------------------------------------------------------

    def order(self, reference: str) -> dict[str, Any] | None:
        """The tool's order for our order number: status, lines {sku: quantity}, city."""
        raw = self.fake.orders.get(reference)
        if raw is None:
            return None
        return {
            "status": {"awaiting_shipment": "open", "on_hold": "held"}.get(
                raw["orderStatus"], raw["orderStatus"]
            ),
            "lines": {i["sku"]: i["quantity"] for i in raw["items"]},
            "city": raw["shipTo"].get("city", ""),
        }

    def order_count(self) -> int:
        return len(self.fake.orders)

    def creates(self, reference: str) -> int:
        return self.fake.creates(reference)

    def lose_next_answer(self) -> None:
        self.fake.timeout_next(1, processed=True)  # the order is written, its answer lost

    # --- what the tool sends --------------------------------------------------------------------

    def ship(self, reference: str, *, tracking: str) -> tuple[dict[str, str], bytes, dict[str, str]]:
        """Ship the whole order in the tool: the webhook it sends (headers, body, query of the URL)."""
        headers, body, token = self.fake.ship(reference, tracking=tracking)
        return headers, body, {"token": token}

    def forged(self, reference: str) -> tuple[dict[str, str], bytes, dict[str, str]]:
        headers, body, _ = self.fake.ship(reference, tracking="1ZFORGED")
        return headers, body, {"token": "guessed"}
