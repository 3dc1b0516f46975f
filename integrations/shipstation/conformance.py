"""ShipStation's harness for the conformance kit's shipping part (tests/integrations/conformance).

The kit drives the fake as ShipStation's users would: the hub's orders arrive through createorder,
the warehouse staff print a label (``FakeShipStation.ship``), and ShipStation's SHIP_NOTIFY for
that batch is what the kit posts to the hub.
"""

from __future__ import annotations

import json
from typing import Any

import httpx

from integrations.shipstation.connector import ShipStationConnector
from integrations.shipstation.fake import API_KEY, API_SECRET, BASE_URL, STORE_ID, FakeShipStation

WEBHOOK_TOKEN = "ss-hook-6f1c2a"
STATUSES = {"awaiting_shipment": "open", "awaiting_payment": "open", "on_hold": "held"}


class Harness:
    connector = ShipStationConnector
    base_url = BASE_URL

    def __init__(self) -> None:
        self.fake = FakeShipStation()
        self.fake.subscribe(f"https://erp.test/integrations/hooks/1/?token={WEBHOOK_TOKEN}", "SHIP_NOTIFY")

    def transport(self) -> httpx.BaseTransport:
        return httpx.MockTransport(self.fake.handle)

    def settings(self) -> dict[str, Any]:
        return {"base_url": BASE_URL, "store_id": STORE_ID}

    def secrets(self) -> dict[str, Any]:
        return {"api_key": API_KEY, "api_secret": API_SECRET, "webhook_token": WEBHOOK_TOKEN}

    # --- the tool's state ---------------------------------------------------------------------

    def _latest(self, reference: str) -> dict[str, Any] | None:
        views = [e["view"] for e in self.fake.orders.values() if e["view"]["orderNumber"] == reference]
        return max(views, key=lambda v: v["orderId"]) if views else None

    def order(self, reference: str) -> dict[str, Any] | None:
        view = self._latest(reference)
        if view is None:
            return None
        status = view["orderStatus"]
        return {
            "status": STATUSES.get(status, status),
            "lines": {i["sku"]: i["quantity"] for i in view["items"]},
            "city": (view.get("shipTo") or {}).get("city") or "",
        }

    def order_count(self) -> int:
        return len(self.fake.orders)

    def creates(self, reference: str) -> int:
        """createorder requests (and createorders entries) that send the order to be shipped."""
        count = 0
        for request in self.fake.requests:
            if request.operation not in ("POST /orders/createorder", "POST /orders/createorders"):
                continue
            body = json.loads(request.body or b"null")
            for order in body if isinstance(body, list) else [body]:
                if isinstance(order, dict) and order.get("orderNumber") == reference:
                    count += order.get("orderStatus") != "cancelled"
        return count

    def lose_next_answer(self) -> None:
        self.fake.timeout_next(1, processed=True)  # ShipStation writes the order; its answer is lost

    # --- what the tool sends --------------------------------------------------------------------

    def _notify(self, reference: str, tracking: str) -> tuple[dict[str, str], bytes]:
        view = self._latest(reference)
        assert view is not None, f"ShipStation has no order {reference}"
        before = {d.seq for d in self.fake.outbox}
        self.fake.ship(view["orderKey"], tracking=tracking)
        [delivery] = [
            d
            for d in self.fake.outbox
            if d.seq not in before and d.topic == "SHIP_NOTIFY" and not d.duplicate
        ]
        delivery.state = "delivered"  # the kit posts it itself
        return dict(delivery.headers), delivery.body

    def ship(self, reference: str, *, tracking: str) -> tuple[dict[str, str], bytes, dict[str, str]]:
        headers, body = self._notify(reference, tracking)
        return headers, body, {"token": WEBHOOK_TOKEN}

    def forged(self, reference: str) -> tuple[dict[str, str], bytes, dict[str, str]]:
        headers, body = self._notify(reference, "1ZFORGED")
        return headers, body, {"token": "guessed"}
