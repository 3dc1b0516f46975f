"""Stockroom's harness for the kit's 3PL and shipping parts (tests/integrations/conformance/harness.py:
``ThreePLHarness``, which offers everything ``ShippingHarness`` does)."""

from __future__ import annotations

import base64
import datetime
from typing import Any

import httpx

from tests.integrations.conformance.stockroom.connector import BASE_URL, COUNTED, SHIPPED, StockroomConnector
from tests.integrations.conformance.stockroom.fake import API_TOKEN, CENTRE, WEBHOOK_SECRET, FakeStockroom

NOT_THE_SECRET = "whsec_" + base64.b64encode(b"somebody-else-s-key-of-32-bytes!").decode()


class Harness:
    connector = StockroomConnector
    base_url = BASE_URL
    location = str(CENTRE)  # the tool's id of its warehouse, as its counts name it

    def __init__(self) -> None:
        self.fake = FakeStockroom()

    def transport(self) -> httpx.BaseTransport:
        return httpx.MockTransport(self.fake.handle)

    def settings(self) -> dict[str, Any]:
        return {"base_url": BASE_URL}

    def secrets(self) -> dict[str, Any]:
        return {"api_token": API_TOKEN, "webhook_secret": WEBHOOK_SECRET}

    # --- the tool's state ---------------------------------------------------------------------

    def order(self, reference: str) -> dict[str, Any] | None:
        """The tool's order for our order number: status, lines {sku: quantity}, city."""
        raw = self.fake.by_reference(reference)
        if raw is None:
            return None
        return {
            "status": raw["status"],
            "lines": {i["sku"]: i["quantity"] for i in raw["items"]},
            "city": raw["ship_to"].get("city", ""),
            "id": str(raw["id"]),
        }

    def order_count(self) -> int:
        return len(self.fake.orders)

    def creates(self, reference: str) -> int:
        return self.fake.creates(reference)

    def lose_next_answer(self) -> None:
        self.fake.timeout_next(1, processed=True)  # the write is done, its answer lost

    def requests(self) -> int:
        """Every request the tool has received."""
        return len(self.fake.requests)

    def on_hand(self, sku: str) -> int | None:
        level = self.fake.stock.get((CENTRE, sku))
        return None if level is None else int(level["on_hand"])

    def set_on_hand(self, sku: str, on_hand: int) -> None:
        """A count the tool sends no webhook of (or one that was lost): only a pull finds it."""
        self.fake.set_on_hand(sku, on_hand)

    # --- what the tool sends --------------------------------------------------------------------

    def ship(
        self, reference: str, *, tracking: str, sent_at: datetime.datetime | None = None
    ) -> tuple[dict[str, str], bytes, dict[str, str]]:
        """Ship the whole order: the delivery Stockroom sends (headers, body, no query)."""
        headers, body = self.fake.ship(reference, tracking=tracking, sent_at=sent_at)
        return headers, body, {}

    def forged(self, reference: str) -> tuple[dict[str, str], bytes, dict[str, str]]:
        """An order.shipped delivery signed with another secret (the tool's state is untouched)."""
        shipment = self.fake.shipment_of(reference, tracking="1ZFORGED")
        headers, body = self.fake.delivery(SHIPPED, {"shipment": shipment}, secret=NOT_THE_SECRET)
        return headers, body, {}

    def count(
        self,
        sku: str,
        on_hand: int,
        *,
        counted_at: datetime.datetime | None = None,
        sent_at: datetime.datetime | None = None,
    ) -> tuple[dict[str, str], bytes, dict[str, str]]:
        """The tool counts ``on_hand`` of ``sku`` on its shelves: the delivery it sends."""
        headers, body = self.fake.count(sku, on_hand, counted_at=counted_at, sent_at=sent_at)
        return headers, body, {}

    def forged_count(self, sku: str, on_hand: int) -> tuple[dict[str, str], bytes, dict[str, str]]:
        """An inventory.changed delivery signed with another secret (the tool's state is untouched)."""
        level = {
            "sku": sku,
            "fulfillment_center_id": CENTRE,
            "on_hand": on_hand,
            "available": on_hand,
            "updated_at": datetime.datetime.now(datetime.UTC).isoformat(),
        }
        headers, body = self.fake.delivery(COUNTED, {"counts": [level]}, secret=NOT_THE_SECRET)
        return headers, body, {}
