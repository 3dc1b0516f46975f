"""ShipBob's harness for the conformance kit's shipping and 3PL parts
(tests/integrations/conformance/harness.py: ``ThreePLHarness``).

The kit drives the fake as ShipBob's people would: the hub's orders arrive through ``POST /order``,
the warehouse ships one (``FakeShipBob.ship``) and the signed ``order.shipped`` it sends is what the
kit posts to the hub. ShipBob's fake keeps the kit's SKU at one fulfilment centre (``CENTRE``),
with the hub's stock there, and the connection maps no centre: its warehouse is all of ShipBob.

ShipBob sends no inventory webhook: the kit reads its counts by polling (``counts_by_webhook``
false), and ``count`` and ``forged_count`` skip the cases about count webhooks themselves (an older
count arriving late, a stale or forged one).
"""

from __future__ import annotations

import base64
import copy
import datetime
import json
import unittest
import uuid
from typing import Any

import httpx

from integrations.shipbob.connector import BASE_URL, SHIPPED, ShipBobConnector
from integrations.shipbob.fake import ACCESS_TOKEN, CHANNEL_ID, FakeShipBob
from integrations.shipbob.fake_data import iso, tracking_view
from integrations.shipbob.fake_webhooks import body_bytes

WEBHOOK_SECRET = "whsec_" + base64.b64encode(b"shipbob-conformance-signing-key!").decode()
NOT_THE_SECRET = "whsec_" + base64.b64encode(b"somebody-else-s-key-of-32-bytes!").decode()
SKU, NAME = "TENT-2P-GRN", "Trail Tent 2P - Green"
CENTRE, OTHER_CENTRE = 10, 24
HUB_STOCK = 10  # tests/integrations/conformance/conftest.py's: ShipBob's shelves agree at the start
NO_COUNT_WEBHOOK = (
    "ShipBob sends no inventory webhook (API 2026-01): its counts are polled "
    "(test_counts_no_webhook_told_of_are_pulled)."
)


HOLDS = ("shipment:bulkPlaceOnHold", "shipment:bulkReleaseHold")


class Harness:
    connector = ShipBobConnector
    base_url = BASE_URL
    counts_by_webhook = False  # ShipBob sends no inventory webhook: the kit polls its levels
    location = ""  # the connection maps no centre: its counts are of the whole network

    def __init__(self) -> None:
        self.fake = FakeShipBob(
            products={SKU: NAME}, stock={SKU: {CENTRE: HUB_STOCK, OTHER_CENTRE: 0}}, limits=False
        )

    def transport(self) -> httpx.BaseTransport:
        return httpx.MockTransport(self.fake.handle)

    def settings(self) -> dict[str, Any]:
        return {"base_url": BASE_URL, "channel_id": CHANNEL_ID}

    def secrets(self) -> dict[str, Any]:
        return {"token": ACCESS_TOKEN, "webhook_secret": WEBHOOK_SECRET}

    # --- the tool's state ---------------------------------------------------------------------

    def order(self, reference: str) -> dict[str, Any] | None:
        """ShipBob's order of our order number: status, lines {sku: quantity}, city, id."""
        raw = self.fake.order_by_reference(reference, CHANNEL_ID)
        if raw is None:
            return None
        shipments = [s["status"] for s in raw["shipments"]]
        if raw["status"] == "Cancelled":
            status = "cancelled"
        elif raw["status"] in ("Fulfilled", "PartiallyFulfilled"):
            status = "shipped"
        elif "OnHold" in shipments:
            status = "held"
        else:
            status = "open"
        return {
            "status": status,
            "lines": {p["sku"]: p["quantity"] for p in raw["products"]},
            "city": raw["recipient"]["address"].get("city") or "",
            "id": str(raw["id"]),
        }

    def order_count(self) -> int:
        return len(self.fake.orders)

    def creates(self, reference: str) -> int:
        return sum(
            1
            for r in self.fake.requests_to("POST order")
            if (json.loads(r.body or b"null") or {}).get("reference_id") == reference
        )

    def lose_next_answer(self) -> None:
        self.fake.timeout_next(1, match="POST order", processed=True)  # done there, its answer lost

    def requests(self) -> int:
        return len(self.fake.requests)

    def on_hand(self, sku: str) -> int | None:
        if sku not in self.fake.products:
            return None
        return sum(self.fake.on_hand(sku, centre) for centre in self.fake.centers)

    def set_on_hand(self, sku: str, on_hand: int) -> None:
        """A cycle count at the centre (ShipBob tells nobody: only a poll finds it)."""
        for centre in self.fake.centers:
            self.fake.count(sku, centre, on_hand if centre == CENTRE else 0)

    # --- what the tool sends --------------------------------------------------------------------

    def _delivery(
        self, body: bytes, *, secret: str, sent_at: datetime.datetime | None = None
    ) -> tuple[dict[str, str], bytes, dict[str, str]]:
        at = sent_at or datetime.datetime.now(datetime.UTC)
        headers = self.fake.signed_headers(
            SHIPPED, body, webhook_id=f"msg_{uuid.uuid4().hex}", at=at, secret=secret
        )
        return headers, body, {}

    def ship(
        self, reference: str, *, tracking: str, sent_at: datetime.datetime | None = None
    ) -> tuple[dict[str, str], bytes, dict[str, str]]:
        """The warehouse ships the whole order with ``tracking`` (UPS): the order.shipped it sends."""
        raw = self.fake.order_by_reference(reference, CHANNEL_ID)
        assert raw is not None, f"ShipBob has no order {reference}"
        shipped = self.fake.ship(raw["id"], tracking=False)
        with self.fake._lock:
            shipment = self.fake.shipments[shipped["id"]]
            now = self.fake.clock()
            shipment["tracking"] = tracking_view("UPS", tracking, now)
            shipment["last_tracking_update_at"] = iso(now)
        return self._delivery(body_bytes(self.fake.order(raw["id"])), secret=WEBHOOK_SECRET, sent_at=sent_at)

    def forged(self, reference: str) -> tuple[dict[str, str], bytes, dict[str, str]]:
        """An order.shipped signed with another secret (ShipBob's state is untouched)."""
        raw = self.fake.order_by_reference(reference, CHANNEL_ID)
        assert raw is not None, f"ShipBob has no order {reference}"
        order = copy.deepcopy(raw)
        for shipment in order["shipments"]:
            shipment["status"] = "Completed"
            shipment["tracking"] = tracking_view("UPS", "1ZFORGED", datetime.datetime.now(datetime.UTC))
        return self._delivery(body_bytes(order), secret=NOT_THE_SECRET)

    def count(
        self,
        sku: str,
        on_hand: int,
        *,
        counted_at: datetime.datetime | None = None,
        sent_at: datetime.datetime | None = None,
    ) -> tuple[dict[str, str], bytes, dict[str, str]]:
        raise unittest.SkipTest(NO_COUNT_WEBHOOK)

    def forged_count(self, sku: str, on_hand: int) -> tuple[dict[str, str], bytes, dict[str, str]]:
        raise unittest.SkipTest(NO_COUNT_WEBHOOK)
