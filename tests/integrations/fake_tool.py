"""Acme: a minimal made-up tool and its connector, to test the hub without any real tool's quirks.

Wire format (all JSON):
* Webhooks: POST with ``X-Acme-Topic`` (order.created, order.updated, order.cancelled,
  order.touched = thin: ``{"id": ...}`` only, product.updated), ``X-Acme-Delivery`` (the
  event id) and ``X-Acme-Signature`` = hex HMAC-SHA256(webhook_secret, raw body).
* API at ``https://acme.test/api`` with ``Authorization: Bearer <api_key>``:
  GET /me; GET /orders?updated_since=&cursor= and /products (pages of ``page_size``,
  ``next_cursor``); GET /orders/<id>; GET /inventory?variant_id=..; POST /inventory
  {"variant_id", "available"}; GET/POST /webhooks.

``AcmeFake`` serves that API from memory through ``httpx.MockTransport``; ``acme_environment``
registers the connector and mounts the fake on the hub's HTTP client.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import json
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, ClassVar

import httpx
from pydantic import BaseModel

from integrations import http, registry
from integrations.contract import (
    Action,
    Capability,
    Connector,
    InboundItem,
    PullPage,
    PushContext,
    PushResult,
    WebhookEnvelope,
    WebhookRequest,
)
from integrations.records import (
    CustomerRecord,
    InventoryOut,
    OrderLineRecord,
    OrderRecord,
    OrderTotals,
    OutboundItem,
    ProductRecord,
    ShippingLineRecord,
    TaxLine,
    VariantRecord,
)

BASE_URL = "https://acme.test/api"
API_KEY = "acme-api-key-123"
WEBHOOK_SECRET = "acme-webhook-secret-456"
T0 = datetime.datetime(2026, 3, 14, 14, 0, tzinfo=datetime.UTC)


def sign(body: bytes, secret: str = WEBHOOK_SECRET) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _dt(value: str | None) -> datetime.datetime | None:
    return datetime.datetime.fromisoformat(value) if value else None


# --- the connector ------------------------------------------------------------------------------


class AcmeSettings(BaseModel):
    base_url: str = BASE_URL


class AcmeSecrets(BaseModel):
    api_key: str
    webhook_secret: str


def order_record(raw: Mapping[str, Any]) -> OrderRecord:
    customer = raw.get("customer")
    totals = raw.get("totals")
    return OrderRecord(
        external_id=str(raw["id"]),
        number=raw["number"],
        created_at=_dt(raw["created_at"]) or T0,
        updated_at=_dt(raw["updated_at"]) or T0,
        currency=raw.get("currency", "USD"),
        prices_include_tax=bool(raw.get("tax_included")),
        customer=CustomerRecord(str(customer["id"]), customer["name"], customer.get("email", ""))
        if customer
        else None,
        billing_address=raw.get("address") or {},
        shipping_address=raw.get("address") or {},
        lines=tuple(
            OrderLineRecord(
                external_id=str(ln["id"]),
                sku=ln.get("sku", ""),
                variant_external_id=str(ln.get("variant_id") or ""),
                title=ln.get("title", ""),
                quantity=Decimal(str(ln["qty"])),
                unit_price=Decimal(ln["price"]),
                discount=Decimal(ln.get("discount", "0")),
                taxes=tuple(
                    TaxLine(t["name"], Decimal(t["rate"]), Decimal(t["amount"])) for t in ln.get("taxes", [])
                ),
            )
            for ln in raw["lines"]
        ),
        shipping=tuple(ShippingLineRecord(s["title"], Decimal(s["amount"])) for s in raw.get("shipping", [])),
        totals=OrderTotals(**{k: Decimal(v) for k, v in totals.items()}) if totals else None,
        financial_status=raw.get("payment", ""),
        cancelled_at=_dt(raw.get("cancelled_at")),
        cancel_reason=raw.get("cancel_reason", ""),
        tags=tuple(raw.get("tags", [])),
        note=raw.get("note", ""),
    )


def order_item(raw: Mapping[str, Any]) -> InboundItem:
    record = order_record(raw)
    action = Action.CANCEL if record.cancelled_at else Action.UPSERT
    return InboundItem("order", record.external_id, action, record.updated_at, record)


def product_item(raw: Mapping[str, Any]) -> InboundItem:
    record = ProductRecord(
        external_id=str(raw["id"]),
        title=raw["title"],
        updated_at=_dt(raw["updated_at"]) or T0,
        variants=tuple(
            VariantRecord(
                external_id=str(v["id"]),
                sku=v.get("sku", ""),
                title=v.get("title", raw["title"]),
                price=Decimal(v["price"]) if v.get("price") else None,
                extra={"stock_item": v["stock_item"]} if v.get("stock_item") else {},
            )
            for v in raw["variants"]
        ),
    )
    return InboundItem("product", record.external_id, Action.UPSERT, record.updated_at, record)


class AcmeConnector(Connector):
    key = "acme"
    name = "Acme (test tool)"
    capabilities = frozenset({Capability.ORDERS_IN, Capability.PRODUCTS_IN, Capability.INVENTORY_OUT})
    settings_schema = AcmeSettings
    secrets_schema = AcmeSecrets
    topics = ("inventory.level_changed",)
    poll_object_types = ("order",)
    reconcile_object_types = ("inventory", "order")
    webhook_topics = ("order.created", "order.updated", "order.cancelled", "product.updated")
    api_versions: ClassVar[Mapping[str, datetime.date | None]] = {"v2": None, "v1": datetime.date(2026, 1, 1)}
    rate_limit_per_second = 1000.0
    rate_limit_burst = 1000
    webhook_headers = frozenset({"x-acme-signature", "x-acme-delivery", "x-acme-topic"})

    settings: AcmeSettings

    def base_url(self) -> str:
        return self.settings.base_url

    def auth_headers(self, secrets: Mapping[str, Any]) -> dict[str, str]:
        return {"Authorization": f"Bearer {secrets.get('api_key', '')}"}

    def verify_webhook(self, request: WebhookRequest) -> bool:
        secret = str(self.connection.get_secrets().get("webhook_secret", ""))
        given = request.headers.get("X-Acme-Signature", "")
        return bool(secret and given) and hmac.compare_digest(sign(request.body, secret), given)

    def webhook_events(self, request: WebhookRequest) -> list[WebhookEnvelope]:
        headers = request.headers
        return [
            WebhookEnvelope(
                event_id=headers.get("X-Acme-Delivery", ""), topic=headers.get("X-Acme-Topic", "")
            )
        ]

    def parse_webhook(self, topic: str, headers: Mapping[str, str], body: bytes) -> list[InboundItem]:
        payload = json.loads(body)
        if topic == "order.touched":
            return [InboundItem("order", str(payload["id"]))]
        if topic == "order.batch":  # thin, with where to read the batch (like ShipStation's resource_url)
            return [InboundItem("order", "batch", url=str(payload["resource_url"]))]
        if topic.startswith("order."):
            return [order_item(payload)]
        if topic.startswith("product."):
            return [product_item(payload)]
        raise ValueError(f"Unknown topic {topic}")

    def fetch(self, object_type: str, external_id: str) -> InboundItem:
        body = self.http.request("GET", f"{object_type}s/{external_id}").json()
        return order_item(body["order"]) if object_type == "order" else product_item(body["product"])

    def fetch_url(self, object_type: str, url: str) -> list[InboundItem]:
        body = self.http.request("GET", url).json()
        return [order_item(raw) for raw in body["orders"]]

    def pull(self, object_type: str, *, since: datetime.datetime | None, page: str | None) -> PullPage:
        params = {"updated_since": since.isoformat() if since else "", "cursor": page or "0"}
        body = self.http.request("GET", f"{object_type}s", params=params).json()
        parse = order_item if object_type == "order" else product_item
        return PullPage(tuple(parse(raw) for raw in body[f"{object_type}s"]), body.get("next_cursor"))

    def push(self, item: OutboundItem, context: PushContext) -> PushResult:
        if not isinstance(item, InventoryOut):
            return super().push(item, context)
        self.http.request(
            "POST", "inventory", json={"variant_id": item.external_id, "available": item.available}
        )
        return PushResult(external_id=item.external_id)

    def inventory_snapshot(self, items: list[InventoryOut]) -> dict[str, int | None]:
        body = self.http.request(
            "GET", "inventory", params={"variant_id": [i.external_id for i in items]}
        ).json()
        levels = {str(k): v for k, v in body["levels"].items()}
        return {i.external_id: levels.get(i.external_id) for i in items}

    def list_webhooks(self) -> list[str]:
        return [w["topic"] for w in self.http.request("GET", "webhooks").json()["webhooks"]]

    def register_webhook(self, topic: str, address: str) -> None:
        self.http.request("POST", "webhooks", json={"topic": topic, "address": address})

    def test(self) -> str:
        return str(self.http.request("GET", "me").json()["shop"])


# --- the fake -----------------------------------------------------------------------------------


def acme_order(
    order_id: str = "1001",
    *,
    lines: list[dict[str, Any]] | None = None,
    updated_at: datetime.datetime = T0,
    customer: dict[str, str] | None = None,
    shipping: str = "0.00",
    **fields: Any,
) -> dict[str, Any]:
    """An Acme order with its totals computed as Acme does (tax given per line)."""
    lines = lines or [
        {"id": f"{order_id}-1", "sku": "TENT", "variant_id": "v-tent", "qty": 1, "price": "100.00"}
    ]
    subtotal = tax = discount = Decimal(0)
    for ln in lines:
        ln.setdefault("title", ln.get("sku", ""))
        gross = Decimal(ln["price"]) * Decimal(str(ln["qty"]))
        line_discount = Decimal(ln.get("discount", "0"))
        subtotal += gross - line_discount
        discount += line_discount
        tax += sum((Decimal(t["amount"]) for t in ln.get("taxes", [])), Decimal(0))
    ship = Decimal(shipping)
    order = {
        "id": order_id,
        "number": f"A-{order_id}",
        "created_at": T0.isoformat(),
        "updated_at": updated_at.isoformat(),
        "currency": "USD",
        "customer": customer or {"id": "c-1", "name": "Jane Buyer", "email": "jane@example.com"},
        "address": {"name": "Jane Buyer", "line1": "1 Main St", "city": "Louisville", "country": "US"},
        "lines": lines,
        "shipping": [{"title": "Standard", "amount": shipping}] if ship else [],
        "payment": "pending",
        "totals": {
            "subtotal": str(subtotal),
            "discount": str(discount),
            "shipping": str(ship),
            "tax": str(tax),
            "total": str(subtotal + ship + tax),
        },
    }
    order.update(fields)
    return order


@dataclass
class Webhook:
    headers: dict[str, str]
    body: bytes


class AcmeFake:
    """Acme's API, in memory."""

    def __init__(self, *, page_size: int = 2) -> None:
        self.orders: dict[str, dict[str, Any]] = {}
        self.products: dict[str, dict[str, Any]] = {}
        self.levels: dict[str, int] = {}
        self.webhooks: list[dict[str, str]] = []
        self.pushes: list[dict[str, Any]] = []
        self.requests: list[httpx.Request] = []
        self.fail_next: list[int] = []  # status codes to answer the next requests with
        self.fail_when: Any = None  # (request) -> a status code to answer with, or None
        self.page_size = page_size
        self.shop = "Acme Test Shop"

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def webhook(
        self,
        topic: str,
        payload: Mapping[str, Any],
        *,
        delivery: str | None = None,
        secret: str = WEBHOOK_SECRET,
    ) -> Webhook:
        body = json.dumps(payload, separators=(",", ":")).encode()
        headers = {
            "Content-Type": "application/json",
            "X-Acme-Topic": topic,
            "X-Acme-Delivery": delivery or str(uuid.uuid4()),
            "X-Acme-Signature": sign(body, secret),
        }
        return Webhook(headers, body)

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.headers.get("authorization") != f"Bearer {API_KEY}":
            return httpx.Response(401, json={"error": "unauthorized"})
        status = (
            self.fail_next.pop(0) if self.fail_next else (self.fail_when(request) if self.fail_when else None)
        )
        if status:
            return httpx.Response(status, json={"error": "injected"}, headers={"Retry-After": "1"})
        path = request.url.path.removeprefix("/api/")
        params = request.url.params
        if path == "me":
            return httpx.Response(200, json={"shop": self.shop})
        if path in ("orders", "products"):
            return self._page(path, params)
        if path.startswith(("orders/", "products/")):
            kind, _, ident = path.partition("/")
            store = self.orders if kind == "orders" else self.products
            if ident not in store:
                return httpx.Response(404, json={"error": "not found"})
            return httpx.Response(200, json={kind[:-1]: store[ident]})
        if path == "inventory" and request.method == "GET":
            wanted = params.get_list("variant_id")
            return httpx.Response(
                200, json={"levels": {v: self.levels[v] for v in wanted if v in self.levels}}
            )
        if path == "inventory" and request.method == "POST":
            data = json.loads(request.content)
            self.pushes.append(data)
            self.levels[data["variant_id"]] = data["available"]
            return httpx.Response(200, json={"ok": True})
        if path == "webhooks" and request.method == "GET":
            return httpx.Response(200, json={"webhooks": self.webhooks})
        if path == "webhooks" and request.method == "POST":
            self.webhooks.append(json.loads(request.content))
            return httpx.Response(201, json={"ok": True})
        return httpx.Response(404, json={"error": f"no route {request.method} {path}"})

    def _page(self, kind: str, params: httpx.QueryParams) -> httpx.Response:
        store = self.orders if kind == "orders" else self.products
        since = _dt(params.get("updated_since") or None)
        rows = sorted(
            (r for r in store.values() if since is None or _dt(r["updated_at"]) >= since),  # type: ignore[operator]
            key=lambda r: (r["updated_at"], r["id"]),
        )
        start = int(params.get("cursor") or 0)
        page = rows[start : start + self.page_size]
        more = start + self.page_size < len(rows)
        return httpx.Response(
            200, json={kind: page, "next_cursor": str(start + self.page_size) if more else None}
        )


# --- wiring -------------------------------------------------------------------------------------


@contextmanager
def acme_environment(fake: AcmeFake | None = None) -> Iterator[AcmeFake]:
    """Register the Acme connector and route its base URL to the fake, for the duration."""
    fake = fake or AcmeFake()
    registry.register(AcmeConnector)
    try:
        with http.mounted("https://acme.test/", fake.transport()):
            yield fake
    finally:
        registry.unregister(AcmeConnector.key)


def acme_connection(name: str = "Acme store", **fields: Any) -> Any:
    """A saved Acme connection selling from WH1 through the 'web' channel (created if missing)."""
    from tests.integrations.factories import ConnectionFactory
    from tests.inventory.factories import warehouse
    from tests.sales.factories import ChannelFactory

    wh = warehouse("WH1")
    return ConnectionFactory.create(
        connector="acme",
        name=name,
        settings={"base_url": BASE_URL},
        secrets={"api_key": API_KEY, "webhook_secret": WEBHOOK_SECRET},
        warehouse=fields.pop("warehouse", wh),
        sales_channel=fields.pop("sales_channel", None) or ChannelFactory(warehouse=wh),
        **fields,
    )
