"""Parcel's API in memory (see connector.py for the wire format), behind httpx.MockTransport."""

from __future__ import annotations

import base64
import datetime
import json
import threading
import uuid
from typing import Any

import httpx

API_KEY, API_SECRET, WEBHOOK_TOKEN = "parcel-key", "parcel-secret", "parcel-hook-token-7f3a"
PAGE_SIZE = 1  # one shipment a page, so a batch of two is paged


class FakeParcel:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.orders: dict[str, dict[str, Any]] = {}  # by orderKey
        self.shipments: list[dict[str, Any]] = []
        self.requests: list[httpx.Request] = []
        self.lose_answers = 0  # the next requests are done, but their answers are lost
        self._ids = 1000

    def handle(self, request: httpx.Request) -> httpx.Response:
        with self.lock:
            self.requests.append(request)
            pair = base64.b64encode(f"{API_KEY}:{API_SECRET}".encode()).decode()
            if request.headers.get("authorization") != f"Basic {pair}":
                return httpx.Response(401, json={"Message": "Authorization has been denied."})
            path = request.url.path.removeprefix("/api")
            if path == "/accounts/me":
                response = httpx.Response(200, json={"company": "Parcel Test Warehouse"})
            elif path == "/orders/createorder" and request.method == "POST":
                response = self._create_order(json.loads(request.content))
            elif path == "/shipments":
                response = self._shipments(request.url.params)
            else:
                response = httpx.Response(404, json={"Message": "No such resource."})
            if self.lose_answers:
                self.lose_answers -= 1
                raise httpx.ReadTimeout("the answer was lost", request=request)
            return response

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
        page = int(params.get("page") or 1)
        pages = max(1, -(-len(rows) // PAGE_SIZE))
        chunk = rows[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
        return httpx.Response(
            200, json={"shipments": chunk, "total": len(rows), "page": page, "pages": pages}
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
                    "createDate": datetime.datetime.now(datetime.UTC).isoformat(),
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
