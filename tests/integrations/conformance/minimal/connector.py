"""The Minimal connector: orders in, inventory out, OAuth refresh tokens. Lives in the tests only.

Minimal's wire format (made up, deliberately unlike Shopify's):

* API ``https://minimal.test/v1`` with ``Authorization: Bearer <access_token>``; access
  tokens live an hour and are renewed at ``POST /oauth/token``
  (``grant_type=refresh_token``), which also rotates the refresh token.
* ``GET /account``, ``GET /orders/<id>``, ``GET /orders?changed_since=&after=`` (cursor
  pages), ``PUT /stock/<variant>`` ``{"on_sale": n}``, ``GET /stock?variant=a&variant=b``.
* Webhooks: ``Minimal-Topic`` (order.created, order.updated), ``Minimal-Delivery``
  (the event id), ``Minimal-Signature: t=<unix time>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>``.
* Orders: ``{"id", "ref", "created", "modified", "currency", "buyer": {...}, "items": [{"id",
  "sku", "variant", "name", "qty", "price", "vat": {"rate", "amount"}}], "postage", "comment"}``.

Written against the contract only: it imports nothing from any other connector.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, ClassVar

from django.utils import timezone
from pydantic import BaseModel

from integrations.contract import (
    Action,
    Capability,
    Connector,
    InboundItem,
    PullPage,
    PushContext,
    PushResult,
    TokenGrant,
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
    ShippingLineRecord,
    TaxLine,
)

BASE_URL = "https://minimal.test/v1"


ACCOUNT = "acct-1"


class MinimalSettings(BaseModel):
    base_url: str = BASE_URL
    account_id: str = ACCOUNT  # the tool's account; its webhooks name it in the signed body


class MinimalSecrets(BaseModel):
    client_id: str
    client_secret: str
    access_token: str
    refresh_token: str
    signing_secret: str


SIGNATURE_TOLERANCE_SECONDS = 300  # like Standard Webhooks and HubSpot v3: five minutes


def signature(secret: str, timestamp: int, body: bytes) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def order_item(raw: Mapping[str, Any]) -> InboundItem:
    items = raw["items"]
    lines = tuple(
        OrderLineRecord(
            external_id=str(item["id"]),
            sku=item["sku"],
            variant_external_id=str(item["variant"]),
            title=item["name"],
            quantity=Decimal(str(item["qty"])),
            unit_price=Decimal(item["price"]),
            taxes=(TaxLine("VAT", Decimal(item["vat"]["rate"]), Decimal(item["vat"]["amount"])),),
        )
        for item in items
    )
    subtotal = sum((ln.quantity * ln.unit_price for ln in lines), Decimal(0))
    tax = sum((t.amount for ln in lines for t in ln.taxes), Decimal(0))
    postage = Decimal(raw.get("postage") or "0")
    buyer = raw.get("buyer")
    record = OrderRecord(
        external_id=str(raw["id"]),
        number=raw["ref"],
        created_at=datetime.datetime.fromisoformat(raw["created"]),
        updated_at=datetime.datetime.fromisoformat(raw["modified"]),
        currency=raw["currency"],
        prices_include_tax=False,
        customer=CustomerRecord(str(buyer["id"]), buyer["name"], buyer.get("email", "")) if buyer else None,
        billing_address={},
        shipping_address={},
        lines=lines,
        shipping=(ShippingLineRecord("Postage", postage),) if postage else (),
        totals=OrderTotals(
            subtotal=subtotal, discount=Decimal(0), shipping=postage, tax=tax, total=subtotal + postage + tax
        ),
        note=raw.get("comment") or "",
    )
    return InboundItem("order", record.external_id, Action.UPSERT, record.updated_at, record)


class MinimalConnector(Connector):
    key = "minimal"
    name = "Minimal (test tool)"
    capabilities = frozenset({Capability.ORDERS_IN, Capability.INVENTORY_OUT})
    settings_schema = MinimalSettings
    secrets_schema = MinimalSecrets
    topics = ("inventory.level_changed",)
    poll_object_types = ("order",)
    reconcile_object_types = ("inventory",)
    webhook_topics = ("order.created", "order.updated")
    api_versions: ClassVar[Mapping[str, datetime.date | None]] = {"v1": None}
    rate_limit_per_second = 100.0
    rate_limit_burst = 100
    secret_header_names = frozenset({"authorization"})
    webhook_headers = frozenset({"minimal-signature", "minimal-delivery", "minimal-topic"})
    personal_fields = frozenset({"email"})

    settings: MinimalSettings

    def base_url(self) -> str:
        return self.settings.base_url

    def auth_headers(self, secrets: Mapping[str, Any]) -> dict[str, str]:
        return {"Authorization": f"Bearer {secrets.get('access_token', '')}"}

    def refresh_token(self, secrets: Mapping[str, Any]) -> TokenGrant | None:
        body = self.http.request(
            "POST",
            f"{self.base_url()}/oauth/token",
            json={
                "grant_type": "refresh_token",
                "refresh_token": secrets["refresh_token"],
                "client_id": secrets["client_id"],
                "client_secret": secrets["client_secret"],
            },
        ).json()
        return TokenGrant(
            secrets={"access_token": body["access_token"], "refresh_token": body["refresh_token"]},
            expires_at=timezone.now() + datetime.timedelta(seconds=int(body["expires_in"])),
        )

    def verify_webhook(self, request: WebhookRequest) -> bool:
        """t=<unix time>,v1=<HMAC over "t.body">, refused outside five minutes of when it arrived."""
        secret = str(self.connection.get_secrets().get("signing_secret") or "")
        header = request.headers.get("Minimal-Signature", "")
        parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
        if not secret or not parts.get("t", "").isdigit() or "v1" not in parts:
            return False
        if abs(request.received_at.timestamp() - int(parts["t"])) > SIGNATURE_TOLERANCE_SECONDS:
            return False  # a replay of an old delivery
        expected = signature(secret, int(parts["t"]), request.body)
        return hmac.compare_digest(expected.encode(), parts["v1"].encode())

    def webhook_events(self, request: WebhookRequest) -> list[WebhookEnvelope]:
        try:
            account = json.loads(request.body).get("account_id")
        except (ValueError, AttributeError) as exc:
            raise ValueError(f"Not a Minimal webhook body: {exc}") from exc
        return [
            WebhookEnvelope(
                event_id=request.headers.get("Minimal-Delivery", ""),
                topic=request.headers.get("Minimal-Topic", ""),
                account=str(account) if account is not None else None,
            )
        ]

    def account_id(self) -> str:
        return self.settings.account_id

    def parse_webhook(self, topic: str, headers: Mapping[str, str], body: bytes) -> list[InboundItem]:
        if not topic.startswith("order."):
            return []
        try:
            return [order_item(json.loads(body))]
        except (KeyError, TypeError) as exc:
            raise ValueError(f"Not a Minimal order: {exc}") from exc

    def fetch(self, object_type: str, external_id: str) -> InboundItem:
        return order_item(self.http.request("GET", f"{self.base_url()}/orders/{external_id}").json())

    def pull(self, object_type: str, *, since: datetime.datetime | None, page: str | None) -> PullPage:
        params = {"changed_since": since.isoformat() if since else "", "after": page or ""}
        body = self.http.request("GET", f"{self.base_url()}/orders", params=params).json()
        return PullPage(tuple(order_item(o) for o in body["orders"]), body.get("next") or None)

    def push(self, item: OutboundItem, context: PushContext) -> PushResult:
        if not isinstance(item, InventoryOut):
            return super().push(item, context)
        self.http.request(
            "PUT", f"{self.base_url()}/stock/{item.external_id}", json={"on_sale": item.available}
        )
        return PushResult(external_id=item.external_id, detail=f"{item.sku}: {item.available} on sale")

    def inventory_snapshot(self, items: list[InventoryOut]) -> dict[str, int | None]:
        body = self.http.request(
            "GET", f"{self.base_url()}/stock", params={"variant": [i.external_id for i in items]}
        ).json()
        return {i.external_id: body["stock"].get(i.external_id) for i in items}

    def test(self) -> str:
        return str(self.http.request("GET", f"{self.base_url()}/account").json()["name"])
