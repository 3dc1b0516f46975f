"""Minimal's API in memory (see connector.py for the wire format), behind httpx.MockTransport.

``FakeTool`` (integrations.fakes) is its HTTP front, request log and injected faults: its 429
(``{"error": "slow_down"}`` with ``Retry-After``) and 5xx (``{"error": "unavailable"}``) are its
``throttled`` and ``failed``; the token endpoint takes no faults."""

from __future__ import annotations

import datetime
import json
import time
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import httpx

from integrations.fakes.base import Answer, FakeTool, Incoming, httpx_answer, json_answer
from integrations.fakes.faults import Fault
from tests.integrations.conformance.minimal.connector import ACCOUNT, signature

CLIENT_ID = "minimal-client"
CLIENT_SECRET = "minimal-client-secret"
SIGNING_SECRET = "minimal-signing-secret"
VAT = Decimal("0.20")
CATALOGUE = {"MIN-MUG": ("v-mug", "Mug", "12.00"), "MIN-CAP": ("v-cap", "Cap", "20.00")}


class FakeMinimal(FakeTool):
    tool = "minimal"

    def __init__(self, *, clock: Callable[[], datetime.datetime] | None = None) -> None:
        super().__init__(clock=clock)
        self.lock = self._lock
        self.access_token = "at-1"
        self.refresh_token = "rt-1"
        self.refreshes = 0
        self.orders: dict[str, dict[str, Any]] = {}
        self.stock: dict[str, int] = {variant: 50 for variant, _, _ in CATALOGUE.values()}
        self.requests: list[httpx.Request] = []
        self._ids = 0

    def operation(self, request: Incoming) -> str | None:
        path = request.path.removeprefix("/v1")
        return None if path == "/oauth/token" else f"{request.method} {path}"

    def serve(self, request: Incoming) -> Answer:
        path = request.path.removeprefix("/v1")
        if path == "/oauth/token":
            return httpx_answer(self._token(json.loads(request.body)))
        if request.headers.get("authorization") != f"Bearer {self.access_token}":
            return json_answer(401, {"error": "invalid_token"})
        return httpx_answer(self._route(request.to_httpx(), path))

    def throttled(self, request: Incoming, fault: Fault) -> Answer:
        return json_answer(
            429,
            {"error": "slow_down"},
            {"Retry-After": f"{1 if fault.retry_after is None else fault.retry_after:g}"},
        )

    def failed(self, request: Incoming, fault: Fault) -> Answer:
        return json_answer(fault.status, fault.body if fault.body is not None else {"error": "unavailable"})

    def record(self, request: Incoming, status: int) -> None:
        self.requests.append(request.to_httpx())

    def snapshot(self) -> dict[str, Any]:
        """Minimal's orders and stock, for drift checks."""
        with self.lock:
            state = {"tool": self.tool, "at": self.clock().isoformat(), "orders": self.orders}
            return json.loads(json.dumps({**state, "stock": self.stock}))

    def _token(self, body: dict[str, Any]) -> httpx.Response:
        if body.get("refresh_token") != self.refresh_token or body.get("client_secret") != CLIENT_SECRET:
            return httpx.Response(400, json={"error": "invalid_grant"})
        self.refreshes += 1
        self.access_token, self.refresh_token = f"at-{self.refreshes + 1}", f"rt-{self.refreshes + 1}"
        return httpx.Response(
            200,
            json={"access_token": self.access_token, "refresh_token": self.refresh_token, "expires_in": 3600},
        )

    def _route(self, request: httpx.Request, path: str) -> httpx.Response:
        if path == "/account":
            return httpx.Response(200, json={"name": "Minimal Test Shop"})
        if path.startswith("/orders/"):
            order = self.orders.get(path.removeprefix("/orders/"))
            return (
                httpx.Response(200, json=order) if order else httpx.Response(404, json={"error": "not_found"})
            )
        if path == "/orders":
            since = request.url.params.get("changed_since") or ""
            rows = sorted((o for o in self.orders.values() if o["modified"] >= since), key=lambda o: o["id"])
            return httpx.Response(200, json={"orders": rows, "next": None})
        if path.startswith("/stock/") and request.method == "PUT":
            self.stock[path.removeprefix("/stock/")] = int(json.loads(request.content)["on_sale"])
            return httpx.Response(200, json={"ok": True})
        if path == "/stock":
            wanted = request.url.params.get_list("variant")
            return httpx.Response(200, json={"stock": {v: self.stock[v] for v in wanted if v in self.stock}})
        return httpx.Response(404, json={"error": "no_route"})

    # --- the tool's side of a test -----------------------------------------------------------------

    def new_order(self, *, sku: str, quantity: int, updated_at: datetime.datetime) -> dict[str, Any]:
        variant, name, price = CATALOGUE[sku]
        with self.lock:
            self._ids += 1
            order_id = f"ord-{self._ids}"
            vat = (Decimal(price) * quantity * VAT).quantize(Decimal("0.01"))
            self.orders[order_id] = {
                "id": order_id,
                "ref": f"M-{self._ids:04d}",
                "created": updated_at.isoformat(),
                "modified": updated_at.isoformat(),
                "currency": "USD",
                "buyer": {"id": "b-1", "name": "Max Minimal", "email": "max@minimal.test"},
                "items": [
                    {
                        "id": f"{order_id}-1",
                        "sku": sku,
                        "variant": variant,
                        "name": name,
                        "qty": quantity,
                        "price": price,
                        "vat": {"rate": str(VAT), "amount": str(vat)},
                    }
                ],
                "postage": "4.50",
                "comment": "",
            }
            self.stock[variant] -= quantity
            return json.loads(json.dumps(self.orders[order_id]))

    def change(self, order_id: str, *, comment: str, updated_at: datetime.datetime) -> dict[str, Any]:
        with self.lock:
            self.orders[order_id].update(comment=comment, modified=updated_at.isoformat())
            return json.loads(json.dumps(self.orders[order_id]))

    def webhook(
        self, topic: str, order: dict[str, Any], *, secret: str = SIGNING_SECRET, account: str = ACCOUNT
    ) -> tuple[dict[str, str], bytes]:
        body = json.dumps({**order, "account_id": account}).encode()
        stamp = int(time.time())
        return {
            "Content-Type": "application/json",
            "Minimal-Topic": topic,
            "Minimal-Delivery": str(uuid.uuid4()),
            "Minimal-Signature": f"t={stamp},v1={signature(secret, stamp, body)}",
        }, body
