"""Stockroom's API in memory (see connector.py for the wire format), behind httpx.MockTransport, and
the webhooks it sends on its own: an order shipped from its shelves, a count of its stock.

``FakeTool`` (integrations.fakes) is its HTTP front, request log and injected faults
(``timeout_next(processed=True)``: the write is done, its answer lost); its inventory pages
with ``numbered_page``."""

from __future__ import annotations

import base64
import datetime
import itertools
import json
import uuid
from collections.abc import Callable
from typing import Any

import httpx

from integrations.fakes.base import Answer, FakeTool, Incoming, httpx_answer
from integrations.fakes.pagination import numbered_page
from tests.integrations.conformance.stockroom.connector import COUNTED, SHIPPED, sign

API_TOKEN = "stockroom-token-5d1c"
WEBHOOK_SECRET = "whsec_" + base64.b64encode(b"stockroom-webhook-signing-key-01").decode()
CENTRE = 11  # Stockroom's one fulfilment centre
PAGE_SIZE = 2  # counts a page of GET /inventory, so a few SKUs are paged


class FakeStockroom(FakeTool):
    tool = "stockroom"

    def __init__(self, *, clock: Callable[[], datetime.datetime] | None = None) -> None:
        super().__init__(clock=clock)
        self.lock = self._lock
        self.orders: dict[int, dict[str, Any]] = {}
        self.stock: dict[tuple[int, str], dict[str, Any]] = {}  # (centre, sku) -> on_hand, updated_at
        self.webhooks: list[dict[str, Any]] = []
        self.requests: list[httpx.Request] = []
        self._ids = itertools.count(5001)

    # --- the API ---------------------------------------------------------------------------------

    def serve(self, request: Incoming) -> Answer:
        if request.headers.get("authorization") != f"Bearer {API_TOKEN}":
            return httpx_answer(httpx.Response(401, json={"errors": {"token": ["is not valid"]}}))
        path = request.path.removeprefix("/api/v1")
        return httpx_answer(self._route(request.method, path, request.to_httpx()))

    def record(self, request: Incoming, status: int) -> None:
        self.requests.append(request.to_httpx())

    def snapshot(self) -> dict[str, Any]:
        """Stockroom's orders and its stock per centre and SKU, for drift checks."""
        with self.lock:
            stock: dict[str, dict[str, int]] = {}
            for (centre, sku), level in self.stock.items():
                stock.setdefault(sku, {})[str(centre)] = int(level["on_hand"])
            orders = {str(k): v for k, v in self.orders.items()}
            state = {"tool": self.tool, "at": self.clock().isoformat(), "orders": orders, "stock": stock}
            return json.loads(json.dumps(state))

    def _route(self, method: str, path: str, request: httpx.Request) -> httpx.Response:
        parts = path.strip("/").split("/")
        match method, parts:
            case "GET", ["account"]:
                return httpx.Response(200, json={"name": "Stockroom Test Fulfilment"})
            case "GET", ["orders"]:
                found = self.by_reference(str(request.url.params.get("reference_id") or ""))
                return httpx.Response(200, json={"orders": [self._summary(found)] if found else []})
            case "POST", ["orders"]:
                return self._create(json.loads(request.content))
            case "PUT", ["orders", order_id] if order_id.isdigit():
                return self._update(int(order_id), json.loads(request.content))
            case "POST", ["orders", order_id, "cancel"] if order_id.isdigit():
                return self._cancel(int(order_id))
            case "GET", ["inventory"]:
                return self._inventory(request.url.params)
            case "GET", ["webhooks"]:
                return httpx.Response(200, json={"webhooks": self.webhooks})
            case "POST", ["webhooks"]:
                hook = {"id": next(self._ids), **json.loads(request.content)}
                self.webhooks.append(hook)
                return httpx.Response(201, json=hook)
        return httpx.Response(404, json={"errors": {"path": [f"no {method} {path}"]}})

    def _create(self, body: dict[str, Any]) -> httpx.Response:
        reference = str(body.get("reference_id") or "")
        if not reference or not body.get("items"):
            return httpx.Response(422, json={"errors": {"reference_id": ["is required"]}})
        existing = self.by_reference(reference)
        if existing is not None:
            return httpx.Response(
                422, json={"errors": {"reference_id": ["already exists"]}, "existing_id": existing["id"]}
            )
        order = {"id": next(self._ids), "status": "open", "shipments": []}
        self._write(order, body)
        self.orders[order["id"]] = order
        return httpx.Response(201, json=self._summary(order))

    def _update(self, order_id: int, body: dict[str, Any]) -> httpx.Response:
        order = self.orders.get(order_id)
        if order is None:
            return httpx.Response(404, json={"errors": {"id": [f"no order {order_id}"]}})
        if order["status"] in ("shipped", "cancelled"):
            return httpx.Response(422, json={"errors": {"status": [f"the order is {order['status']}"]}})
        self._write(order, body)
        return httpx.Response(200, json=self._summary(order))

    def _cancel(self, order_id: int) -> httpx.Response:
        order = self.orders.get(order_id)
        if order is None:
            return httpx.Response(404, json={"errors": {"id": [f"no order {order_id}"]}})
        if order["status"] == "shipped":
            return httpx.Response(422, json={"errors": {"status": ["the order has shipped"]}})
        order["status"] = "cancelled"
        return httpx.Response(200, json=self._summary(order))

    def _inventory(self, params: httpx.QueryParams) -> httpx.Response:
        since = params.get("updated_since")
        rows = [
            self._level(centre, sku)
            for (centre, sku), level in sorted(self.stock.items())
            if not since or level["updated_at"] >= datetime.datetime.fromisoformat(since)
        ]
        page = numbered_page(rows, int(params.get("page") or 1), PAGE_SIZE)
        return httpx.Response(
            200, json={"items": page.items, "page": page.number, "next_page": page.next_number}
        )

    # --- its state --------------------------------------------------------------------------------

    def _write(self, order: dict[str, Any], body: dict[str, Any]) -> None:
        order.update({k: v for k, v in body.items() if k not in ("id", "status", "shipments", "hold")})
        order["status"] = "held" if body.get("hold") else "open"

    @staticmethod
    def _summary(order: dict[str, Any]) -> dict[str, Any]:
        return {"id": order["id"], "reference_id": order["reference_id"], "status": order["status"]}

    def by_reference(self, reference: str) -> dict[str, Any] | None:
        return next((o for o in self.orders.values() if o["reference_id"] == reference), None)

    def _committed(self, sku: str) -> int:
        return sum(
            int(i["quantity"])
            for o in self.orders.values()
            if o["status"] in ("open", "held")
            for i in o["items"]
            if i["sku"] == sku
        )

    def _level(self, centre: int, sku: str) -> dict[str, Any]:
        level = self.stock[(centre, sku)]
        return {
            "sku": sku,
            "fulfillment_center_id": centre,
            "on_hand": level["on_hand"],
            "available": max(0, level["on_hand"] - self._committed(sku)),
            "updated_at": level["updated_at"].isoformat(),
        }

    def set_on_hand(self, sku: str, on_hand: int, *, at: datetime.datetime | None = None) -> None:
        """A count in the tool's warehouse (no webhook: see ``count`` for the one it sends)."""
        with self.lock:
            self.stock[(CENTRE, sku)] = {"on_hand": on_hand, "updated_at": at or self.clock()}

    def creates(self, reference: str) -> int:
        return sum(
            1
            for r in self.requests
            if r.method == "POST"
            and r.url.path.endswith("/orders")
            and json.loads(r.content).get("reference_id") == reference
        )

    # --- the webhooks it sends ------------------------------------------------------------------

    def shipment_of(self, reference: str, *, tracking: str) -> dict[str, Any]:
        """The shipment of the whole order, as Stockroom would describe it (nothing changes)."""
        order = self.by_reference(reference)
        if order is None:
            raise KeyError(f"Stockroom has no order {reference}")
        return {
            "id": next(self._ids),
            "order_id": order["id"],
            "reference_id": reference,
            "shipped_at": self.clock().isoformat(),
            "carrier": "UPS",
            "service": "Ground",
            "tracking_number": tracking,
            "tracking_url": f"https://track.example/{tracking}",
            "items": [{"sku": i["sku"], "quantity": int(i["quantity"])} for i in order["items"]],
        }

    def ship(
        self, reference: str, *, tracking: str, sent_at: datetime.datetime | None = None
    ) -> tuple[dict[str, str], bytes]:
        """Ship the whole order from the shelves: the order.shipped delivery Stockroom sends."""
        with self.lock:
            shipment = self.shipment_of(reference, tracking=tracking)
            order = self.orders[shipment["order_id"]]
            order["shipments"].append(shipment)
            order["status"] = "shipped"
            for item in shipment["items"]:
                level = self.stock.get((CENTRE, item["sku"]))
                if level is not None:
                    level.update(on_hand=level["on_hand"] - item["quantity"], updated_at=self.clock())
        return self.delivery(SHIPPED, {"shipment": shipment}, sent_at=sent_at)

    def count(
        self,
        sku: str,
        on_hand: int,
        *,
        counted_at: datetime.datetime | None = None,
        sent_at: datetime.datetime | None = None,
    ) -> tuple[dict[str, str], bytes]:
        """A count of ``sku`` on the shelves: the inventory.changed delivery Stockroom sends."""
        self.set_on_hand(sku, on_hand, at=counted_at)
        with self.lock:
            level = self._level(CENTRE, sku)
        return self.delivery(COUNTED, {"counts": [level]}, sent_at=sent_at)

    def delivery(
        self, topic: str, data: dict[str, Any], *, sent_at: datetime.datetime | None = None, secret: str = ""
    ) -> tuple[dict[str, str], bytes]:
        """One event, signed per Standard Webhooks (with ``secret``, else the connection's)."""
        sent = sent_at or self.clock()
        message_id = f"msg_{uuid.uuid4().hex}"
        body = json.dumps({"type": topic, "timestamp": sent.isoformat(), "data": data}).encode()
        timestamp = int(sent.timestamp())
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "Stockroom-Webhooks/1.0",
            "webhook-id": message_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": f"v1,{sign(secret or WEBHOOK_SECRET, message_id, timestamp, body)}",
        }
        return headers, body
