"""Stockroom: a minimal made-up 3PL, shaped like ShipBob, to show what a 3PL connector is (an adapter
and nothing else) and to run the kit's 3PL part. A 3PL ships the orders of its warehouse from its
own shelves and owns the on-hand there: orders go out, shipments and counts come back.

Wire format (JSON, ``Authorization: Bearer <api_token>``, API at ``https://stockroom.test/api/v1``):

* ``POST /orders`` creates an order: ``reference_id`` (unique per account), ``hold``, ``ship_to``,
  ``items`` (``line_ref``, ``sku``, ``description``, ``quantity``, ``unit_price``). Answers 201
  ``{"id", "reference_id", "status"}``, status "open", "held", "cancelled" or "shipped". A
  ``reference_id`` the tool has already answers 422
  ``{"errors": {"reference_id": ["already exists"]}, "existing_id": N}``.
* ``PUT /orders/{id}`` replaces an open or held order's items, address and hold; ``POST
  /orders/{id}/cancel`` cancels it. Both answer 422 ``{"errors": {"status": [...]}}`` once it shipped.
  ``GET /orders?reference_id=`` finds an order by our reference: ``{"orders": [...]}``.
* ``GET /inventory?page=&updated_since=``: pages of ``{"items": [{"sku", "fulfillment_center_id",
  "on_hand", "available", "updated_at"}], "next_page"}`` (``next_page`` null on the last).
* ``GET /webhooks``, ``POST /webhooks`` ``{"url", "topics"}``; ``GET /account``.
* Webhooks per Standard Webhooks: headers ``webhook-id``, ``webhook-timestamp`` (unix seconds) and
  ``webhook-signature`` (``v1,<base64 HMAC-SHA256 of "id.timestamp.body">`` keyed with the base64
  secret after ``whsec_``; several space-separated while a secret rotates). One event per delivery,
  the body ``{"type", "timestamp", "data"}``: ``order.shipped`` (``data.shipment``: the tool's
  order id and our ``reference_id``, carrier, tracking, items by SKU) and ``inventory.changed``
  (``data.counts``: a batch of counts, each of one SKU at one fulfilment centre).

Which ``reference_id``: our key for the order (``OrderOut.tool_key``: its number, suffixed when it
goes to the tool again after the tool cancelled it), not the push's idempotency key.
The key is one delivery's (a hold, a release, an update or a replay of the order is another
delivery with another key), while the tool keeps the order's reference for ever: keyed by the
delivery, a confirmation whose answer was lost followed by any other delivery of the same order
would make a second order there. The order number is the same for every delivery of the order, so
any create the tool has seen answers its 422 and the hub links ours to the tool's one order
(``AlreadyExists``). The hub then records the item as what the tool has, so the connector first
brings the tool's order up to date with it (a hold that went out as a create is not lost).
"""

from __future__ import annotations

import base64
import binascii
import datetime
import hashlib
import hmac
import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from pydantic import BaseModel

from integrations.contract import (
    Capability,
    Connector,
    InboundItem,
    PullPage,
    PushContext,
    PushResult,
    WebhookEnvelope,
    WebhookRequest,
)
from integrations.errors import AlreadyExists, PermanentError
from integrations.records import (
    InventoryLevelRecord,
    InventoryOut,
    OrderCancelOut,
    OrderOut,
    OutboundItem,
    ShipmentLineRecord,
    ShipmentRecord,
)

BASE_URL = "https://stockroom.test/api/v1"
SIGNATURE_TOLERANCE_SECONDS = 5 * 60
SHIPPED, COUNTED = "order.shipped", "inventory.changed"


class StockroomSettings(BaseModel):
    base_url: str = BASE_URL


class StockroomSecrets(BaseModel):
    api_token: str
    webhook_secret: str  # "whsec_" + base64 key, as the tool shows it


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """Standard Webhooks: base64 HMAC-SHA256 of "id.timestamp.body", keyed with the decoded secret."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{message_id}.{timestamp}.".encode() + body
    return base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def _when(raw: Any) -> datetime.datetime:
    return datetime.datetime.fromisoformat(str(raw).replace("Z", "+00:00"))


def shipment_item(raw: Mapping[str, Any]) -> InboundItem:
    record = ShipmentRecord(
        external_id=str(raw["id"]),
        created_at=_when(raw["shipped_at"]),
        # Stockroom names only the SKU of what it shipped: the hub finds the line by it.
        lines=tuple(
            ShipmentLineRecord("", Decimal(str(i["quantity"])), sku=str(i["sku"])) for i in raw["items"]
        ),
        carrier=str(raw.get("carrier") or ""),
        service=str(raw.get("service") or ""),
        tracking_number=str(raw.get("tracking_number") or ""),
        tracking_url=str(raw.get("tracking_url") or ""),
        order_external_id=str(raw["order_id"]),
    )
    return InboundItem("shipment", record.external_id, updated_at=record.created_at, record=record)


def level_item(raw: Mapping[str, Any]) -> InboundItem:
    counted_at = _when(raw["updated_at"]) if raw.get("updated_at") else None
    available = raw.get("available")
    record = InventoryLevelRecord(
        sku=str(raw["sku"]),
        location_external_id=str(raw["fulfillment_center_id"]),
        on_hand=Decimal(str(raw["on_hand"])),
        available=Decimal(str(available)) if available is not None else None,
        counted_at=counted_at,
    )
    return InboundItem(
        "inventory_level",
        f"{record.location_external_id}|{record.sku}",
        updated_at=counted_at,
        record=record,
    )


class StockroomConnector(Connector):
    key = "stockroom"
    name = "Stockroom (test 3PL)"
    capabilities = frozenset({Capability.ORDERS_OUT, Capability.SHIPMENTS_IN, Capability.INVENTORY_IN})
    tool_owns = frozenset({"inventory"})  # its on-hand in its warehouse is its truth
    settings_schema = StockroomSettings
    secrets_schema = StockroomSecrets
    topics = (
        "sales.order_confirmed",
        "sales.order_updated",
        "sales.order_held",
        "sales.order_released",
        "sales.order_cancelled",
    )
    poll_object_types = ("inventory_level",)  # the counts a missed webhook did not bring
    reconcile_object_types = ("inventory",)
    webhook_topics = (SHIPPED, COUNTED)
    rate_limit_per_second = 100.0
    rate_limit_burst = 100
    webhook_headers = frozenset({"webhook-id", "webhook-timestamp"})
    personal_fields = frozenset({"email", "phone", "street1", "street2"})

    settings: StockroomSettings

    def base_url(self) -> str:
        return self.settings.base_url

    def auth_headers(self, secrets: Mapping[str, Any]) -> dict[str, str]:
        return {"Authorization": f"Bearer {secrets.get('api_token', '')}"}

    # --- inbound -----------------------------------------------------------------------------

    def verify_webhook(self, request: WebhookRequest) -> bool:
        """Standard Webhooks, refused outside five minutes of when the delivery arrived (a replay)."""
        secret = str(self.connection.get_secrets().get("webhook_secret") or "")
        message_id = request.headers.get("webhook-id", "")
        timestamp = request.headers.get("webhook-timestamp", "")
        if not secret.startswith("whsec_") or not message_id or not timestamp.isdigit():
            return False
        if abs(request.received_at.timestamp() - int(timestamp)) > SIGNATURE_TOLERANCE_SECONDS:
            return False
        try:
            expected = sign(secret, message_id, int(timestamp), request.body).encode()
        except (binascii.Error, ValueError):
            return False
        given = [p.partition(",") for p in request.headers.get("webhook-signature", "").split()]
        return any(
            version == "v1" and hmac.compare_digest(expected, value.encode()) for version, _, value in given
        )

    def webhook_events(self, request: WebhookRequest) -> list[WebhookEnvelope]:
        try:
            topic = str(json.loads(request.body)["type"])
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"Not a Stockroom webhook: {exc}") from exc
        # One event per delivery (Standard Webhooks): its id is the webhook-id, the same on a redelivery.
        return [WebhookEnvelope(event_id=request.headers.get("webhook-id", ""), topic=topic)]

    def parse_webhook(self, topic: str, headers: Mapping[str, str], body: bytes) -> list[InboundItem]:
        try:
            data = json.loads(body)["data"]
            if topic == SHIPPED:
                return [shipment_item(data["shipment"])]
            if topic == COUNTED:
                return [level_item(count) for count in data["counts"]]
        except (KeyError, TypeError) as exc:
            raise ValueError(f"Not a Stockroom {topic} event: {exc}") from exc
        return []  # a topic the hub does not read

    def pull(self, object_type: str, *, since: datetime.datetime | None, page: str | None) -> PullPage:
        if object_type != "inventory_level":
            return super().pull(object_type, since=since, page=page)
        params = {"page": page or "1", "updated_since": since.isoformat() if since else ""}
        body = self.http.request("GET", f"{self.base_url()}/inventory", params=params).json()
        next_page = body.get("next_page")
        return PullPage(
            tuple(level_item(raw) for raw in body["items"]), str(next_page) if next_page else None
        )

    def inventory_snapshot(self, items: list[InventoryOut]) -> dict[str, int | None]:
        """What is available per SKU across the tool's centres (Stockroom has no variant ids: the
        ExternalRef of a variant is its SKU)."""
        available: dict[str, int] = {}
        page: str | None = "1"
        while page:
            body = self.http.request("GET", f"{self.base_url()}/inventory", params={"page": page}).json()
            for raw in body["items"]:
                sku = str(raw["sku"]).casefold()
                available[sku] = available.get(sku, 0) + int(raw["available"])
            page = str(body["next_page"]) if body.get("next_page") else None
        return {i.external_id: available.get((i.sku or i.external_id).casefold()) for i in items}

    # --- outbound ----------------------------------------------------------------------------

    def push(self, item: OutboundItem, context: PushContext) -> PushResult:
        if isinstance(item, OrderCancelOut):
            order_id = item.external_id or self._order_id(item.tool_key)
            if not order_id:
                return PushResult(detail=f"{item.reference}: Stockroom never had it, nothing to cancel")
            answer = self.http.request("POST", f"{self.base_url()}/orders/{order_id}/cancel").json()
        elif isinstance(item, OrderOut) and item.external_id:
            answer = self.http.request(
                "PUT", f"{self.base_url()}/orders/{item.external_id}", json=self._order(item)
            ).json()
        elif isinstance(item, OrderOut):
            answer = self._create(item)
        else:
            return super().push(item, context)
        return PushResult(external_id=str(answer["id"]), detail=f"{item.reference}: {answer['status']}")

    def _create(self, item: OrderOut) -> dict[str, Any]:
        try:
            return dict(self.http.request("POST", f"{self.base_url()}/orders", json=self._order(item)).json())
        except PermanentError as error:
            existing = _existing_id(error)
            if existing is None:
                raise
        # The tool has the order already (an earlier attempt whose answer was lost). The hub links ours
        # to it and records this item as what the tool has, so make that true first: a hold or an
        # address change that arrives as this create must not be lost.
        try:
            self.http.request("PUT", f"{self.base_url()}/orders/{existing}", json=self._order(item))
            detail = "brought up to date"
        except PermanentError as update_error:  # it shipped meanwhile: nothing of it can change
            detail = f"left as it is ({update_error})"
        raise AlreadyExists(
            f"Stockroom has {item.reference} already as order {existing}: {detail}", external_id=existing
        )

    def _order_id(self, reference: str) -> str:
        """The tool's id of the order with our reference ("": none), for a cancellation of an order
        the hub never learned the id of (the answer to its create was lost)."""
        body = self.http.request(
            "GET", f"{self.base_url()}/orders", params={"reference_id": reference}
        ).json()
        return next((str(o["id"]) for o in body["orders"]), "")

    def _order(self, item: OrderOut) -> dict[str, Any]:
        to = item.ship_to
        return {
            "reference_id": item.tool_key,
            "placed_at": item.created_at.isoformat(),
            "hold": item.on_hold,
            "sold_on": item.channel,
            "shipping_method": item.service or "Standard",
            "notes": item.note,
            "ship_to": {
                "name": to.get("name") or item.customer_name,
                "email": item.customer_email,
                "phone": to.get("phone", ""),
                "street1": to.get("line1", ""),
                "street2": to.get("line2", ""),
                "city": to.get("city", ""),
                "region": to.get("region", ""),
                "postcode": to.get("postal_code", ""),
                "country": to.get("country", ""),
            },
            "items": [
                {
                    "line_ref": line.line_id,
                    "sku": line.sku,
                    "description": line.title,
                    "quantity": int(line.quantity),
                    "unit_price": str(line.unit_price),
                }
                for line in item.lines
            ],
        }

    # --- webhooks and health -----------------------------------------------------------------

    def list_webhooks(self) -> list[str]:
        body = self.http.request("GET", f"{self.base_url()}/webhooks").json()
        return sorted({str(t) for hook in body["webhooks"] for t in hook["topics"]})

    def register_webhook(self, topic: str, address: str) -> None:
        self.http.request("POST", f"{self.base_url()}/webhooks", json={"url": address, "topics": [topic]})

    def test(self) -> str:
        return str(self.http.request("GET", f"{self.base_url()}/account").json()["name"])


def _existing_id(error: PermanentError) -> str | None:
    """The tool's id of the order a 422 says has our reference_id already; None for any other error."""
    if error.status != 422:
        return None
    try:
        body = json.loads(error.body)
        duplicate = "already exists" in body["errors"]["reference_id"]
        existing = body["existing_id"]
    except (ValueError, KeyError, TypeError):
        return None
    return str(existing) if duplicate and existing is not None else None
