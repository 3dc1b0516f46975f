"""Parcel's API in memory (see connector.py for the wire format), behind httpx.MockTransport.

``FakeTool`` (integrations.fakes) is its HTTP front, request log and injected faults
(``timeout_next(processed=True)``: the order is written, its answer lost); its shipments page
with ``numbered_page``."""

from __future__ import annotations

import base64
import datetime
import json
import uuid
from collections.abc import Callable
from typing import Any

import httpx

from integrations.fakes.base import Answer, FakeTool, Incoming, httpx_answer
from integrations.fakes.pagination import numbered_page

API_KEY, API_SECRET, WEBHOOK_TOKEN = "parcel-key", "parcel-secret", "parcel-hook-token-7f3a"
PAGE_SIZE = 1  # one shipment a page, so a batch of two is paged


class FakeParcel(FakeTool):
    tool = "parcel"

    def __init__(self, *, clock: Callable[[], datetime.datetime] | None = None) -> None:
        super().__init__(clock=clock)
        self.lock = self._lock
        self.orders: dict[str, dict[str, Any]] = {}  # by orderKey
        self.shipments: list[dict[str, Any]] = []
        self.requests: list[httpx.Request] = []
        self._ids = 1000

    def serve(self, request: Incoming) -> Answer:
        pair = base64.b64encode(f"{API_KEY}:{API_SECRET}".encode()).decode()
        if request.headers.get("authorization") != f"Basic {pair}":
            return httpx_answer(httpx.Response(401, json={"Message": "Authorization has been denied."}))
        path = request.path.removeprefix("/api")
        if path == "/accounts/me":
            response = httpx.Response(200, json={"company": "Parcel Test Warehouse"})
        elif path == "/orders/createorder" and request.method == "POST":
            response = self._create_order(json.loads(request.body))
        elif path == "/shipments":
            response = self._shipments(request.url.params)
        else:
            response = httpx.Response(404, json={"Message": "No such resource."})
        return httpx_answer(response)

    def record(self, request: Incoming, status: int) -> None:
        self.requests.append(request.to_httpx())

    def snapshot(self) -> dict[str, Any]:
        """Parcel's orders (by orderKey) and shipments, for drift checks."""
        with self.lock:
            state = {"orders": self.orders, "shipments": self.shipments}
            return json.loads(json.dumps({"tool": self.tool, "at": self.clock().isoformat(), **state}))

    def _create_order(self, body: dict[str, Any]) -> httpx.Response:
        key = body.get("orderKey")
        if not key or not body.get("orderNumber"):
            return httpx.Response(400, json={"Message": "orderKey and orderNumber are required."})
        existing = self.orders.get(key)
        if existing is None:
            self._ids += 1
            existing = self.orders[key] = {"orderId": self._ids, "orderKey": key, "items": [], "shipTo": {}}
        if existing.get("orderStatus") == "shipped":
            return httpx.Response(400, json={"Message": f"Order {key} has shipped: it cannot change."})
        existing.update({k: v for k, v in body.items() if k != "orderId"})
        return httpx.Response(
            200,
            json={"orderId": existing["orderId"], "orderKey": key, "orderStatus": existing["orderStatus"]},
        )

    def _shipments(self, params: httpx.QueryParams) -> httpx.Response:
        rows = [s for s in self.shipments if s["batchId"] == params.get("batchId")]
        page = numbered_page(rows, int(params.get("page") or 1), PAGE_SIZE)
        return httpx.Response(
            200, json={"shipments": page.items, "total": page.total, "page": page.number, "pages": page.pages}
        )

    # --- the tool's side of a test ---------------------------------------------------------------

    def creates(self, key: str) -> int:
        return sum(
            1
            for r in self.requests
            if r.url.path.endswith("/orders/createorder") and json.loads(r.content).get("orderKey") == key
        )

    def ship(
        self, key: str, *, tracking: str, carrier: str = "ups", lines: dict[str, int] | None = None
    ) -> tuple[dict[str, str], bytes, str]:
        """Ship an order (all of it, or ``lines`` by SKU) in a new batch: the webhook Parcel sends."""
        with self.lock:
            order = self.orders[key]
            batch = uuid.uuid4().hex[:12]
            self._ids += 1
            items = [
                {
                    "lineItemKey": i["lineItemKey"],
                    "sku": i["sku"],
                    "quantity": (lines or {}).get(i["sku"], i["quantity"]),
                }
                for i in order["items"]
                if lines is None or i["sku"] in lines
            ]
            self.shipments.append(
                {
                    "shipmentId": self._ids,
                    "batchId": batch,
                    "orderId": order["orderId"],
                    "orderKey": key,
                    "orderNumber": order["orderNumber"],
                    "createDate": self.clock().isoformat(),
                    "carrierCode": carrier,
                    "serviceCode": "ups_ground",
                    "trackingNumber": tracking,
                    "voided": False,
                    "shipmentItems": items,
                }
            )
            order["orderStatus"] = "shipped"
        url = f"https://parcel.test/api/shipments?batchId={batch}"
        body = json.dumps({"resource_type": "SHIP_NOTIFY", "resource_url": url}).encode()
        return {"Content-Type": "application/json", "User-Agent": "Parcel-Webhooks/1.0"}, body, WEBHOOK_TOKEN
