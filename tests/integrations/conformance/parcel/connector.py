"""Parcel: a minimal made-up shipping tool, shaped like ShipStation, to show what a shipping-tool
connector is (an adapter and nothing else) and to run the kit's shipping part.

Wire format (JSON, ``Authorization: Basic base64(api_key:api_secret)``, API at ``https://parcel.test/api``):

* ``POST /orders/createorder`` creates or updates the order whose ``orderKey`` it names: a retry
  after a lost answer updates, never duplicates. ``orderStatus`` "awaiting_shipment", "on_hold" or
  "cancelled" (a cancellation is an update). Answers ``{"orderId", "orderKey", "orderStatus"}``.
* ``GET /shipments?batchId=&page=`` pages of ``{"shipments": [...], "page", "pages"}``; a shipment
  names its order (``orderId``, ``orderKey``), its lines by ``lineItemKey`` and ``sku``, carrier,
  service, tracking number, and ``voided``.
* Webhooks are unsigned (like ShipStation's): the address registered carries a secret
  ``?token=``; the body is thin, ``{"resource_type": "SHIP_NOTIFY", "resource_url": ...}``, and the
  hub reads the URL (only on Parcel's own host).
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import httpx
from pydantic import BaseModel

from integrations.contract import (
    Capability,
    Connector,
    InboundItem,
    PushContext,
    PushResult,
    WebhookEnvelope,
    WebhookRequest,
)
from integrations.records import (
    OrderCancelOut,
    OrderOut,
    OutboundItem,
    ShipmentLineRecord,
    ShipmentRecord,
)

BASE_URL = "https://parcel.test/api"


class ParcelSettings(BaseModel):
    base_url: str = BASE_URL


class ParcelSecrets(BaseModel):
    api_key: str
    api_secret: str
    webhook_token: str


def shipment_record(raw: Mapping[str, Any]) -> ShipmentRecord:
    return ShipmentRecord(
        external_id=str(raw["shipmentId"]),
        created_at=datetime.datetime.fromisoformat(raw["createDate"]),
        lines=tuple(
            ShipmentLineRecord(
                str(i.get("lineItemKey") or ""), Decimal(str(i["quantity"])), sku=i.get("sku") or ""
            )
            for i in raw.get("shipmentItems") or ()
        ),
        carrier=raw.get("carrierCode") or "",
        service=raw.get("serviceCode") or "",
        tracking_number=raw.get("trackingNumber") or "",
        order_external_id=str(raw["orderId"]),
        voided=bool(raw.get("voided")),
    )


class ParcelConnector(Connector):
    key = "parcel"
    name = "Parcel (test shipping tool)"
    capabilities = frozenset({Capability.ORDERS_OUT, Capability.SHIPMENTS_IN})
    settings_schema = ParcelSettings
    secrets_schema = ParcelSecrets
    topics = (
        "sales.order_confirmed",
        "sales.order_updated",
        "sales.order_held",
        "sales.order_released",
        "sales.order_cancelled",
    )
    webhook_topics = ("SHIP_NOTIFY",)
    personal_fields = frozenset({"phone", "street1", "street2"})
    rate_limit_per_second = 100.0
    rate_limit_burst = 100

    settings: ParcelSettings

    def base_url(self) -> str:
        return self.settings.base_url

    def auth_headers(self, secrets: Mapping[str, Any]) -> dict[str, str]:
        pair = f"{secrets.get('api_key', '')}:{secrets.get('api_secret', '')}".encode()
        return {"Authorization": f"Basic {base64.b64encode(pair).decode()}"}

    # --- inbound -----------------------------------------------------------------------------

    def verify_webhook(self, request: WebhookRequest) -> bool:
        """Unsigned: the secret token in the address we registered, compared in constant time."""
        expected = str(self.connection.get_secrets().get("webhook_token") or "")
        given = request.query.get("token", "")
        return bool(expected) and hmac.compare_digest(expected.encode(), given.encode())

    def webhook_events(self, request: WebhookRequest) -> list[WebhookEnvelope]:
        try:
            body = json.loads(request.body)
            url, kind = str(body["resource_url"]), str(body["resource_type"])
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"Not a Parcel webhook: {exc}") from exc
        # No event id on the wire: the resource URL names one batch, so it is the event's identity.
        return [WebhookEnvelope(event_id=hashlib.sha256(url.encode()).hexdigest()[:40], topic=kind)]

    def parse_webhook(self, topic: str, headers: Mapping[str, str], body: bytes) -> list[InboundItem]:
        if topic != "SHIP_NOTIFY":
            raise ValueError(f"Parcel sends no {topic!r} webhooks the hub reads.")
        url = str(json.loads(body)["resource_url"])
        return [InboundItem("shipment", url.rsplit("=", 1)[-1], url=url)]

    def fetch_url(self, object_type: str, url: str) -> list[InboundItem]:
        items: list[InboundItem] = []
        page, pages = 1, 1
        while page <= pages:
            # the page joins the URL's own query (httpx's params= would replace it)
            body = self.http.request("GET", str(httpx.URL(url).copy_merge_params({"page": page}))).json()
            for raw in body["shipments"]:
                record = shipment_record(raw)
                items.append(InboundItem("shipment", record.external_id, record=record))
            page, pages = page + 1, int(body.get("pages") or 1)
        return items

    # --- outbound ----------------------------------------------------------------------------

    def push(self, item: OutboundItem, context: PushContext) -> PushResult:
        # orderKey is the order's own reference, the same for every delivery of the order: a retry
        # after a lost answer, and any later update, lands on the one order in Parcel.
        if isinstance(item, OrderCancelOut):
            body = {"orderKey": item.tool_key, "orderNumber": item.reference, "orderStatus": "cancelled"}
        elif isinstance(item, OrderOut):
            body = self._order(item)
        else:
            return super().push(item, context)
        answer = self.http.request("POST", f"{self.base_url()}/orders/createorder", json=body).json()
        return PushResult(
            external_id=str(answer["orderId"]), detail=f"{item.reference}: {answer['orderStatus']}"
        )

    def _order(self, item: OrderOut) -> dict[str, Any]:
        to = item.ship_to
        return {
            "orderKey": item.tool_key,
            "orderNumber": item.reference,
            "orderDate": item.created_at.isoformat(),
            "orderStatus": "on_hold" if item.on_hold else "awaiting_shipment",
            "customerEmail": item.customer_email,
            "shipTo": {
                "name": to.get("name") or item.customer_name,
                "street1": to.get("line1", ""),
                "street2": to.get("line2", ""),
                "city": to.get("city", ""),
                "state": to.get("region", ""),
                "postalCode": to.get("postal_code", ""),
                "country": to.get("country", ""),
                "phone": to.get("phone", ""),
            },
            "items": [
                {
                    "lineItemKey": line.line_id,
                    "sku": line.sku,
                    "name": line.title,
                    "quantity": int(line.quantity),
                    "unitPrice": str(line.unit_price),
                }
                for line in item.lines
            ],
            "requestedShippingService": item.service,
            "internalNotes": item.note,
        }

    def test(self) -> str:
        return str(self.http.request("GET", f"{self.base_url()}/accounts/me").json()["company"])
