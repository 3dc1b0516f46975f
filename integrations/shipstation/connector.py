"""ShipStation (API V1): orders out to be shipped, shipments (labels) back.

* Orders out: ``POST /orders/createorder`` keyed by ``orderKey`` (our key for the order), so a retry
  after a lost answer updates the order it made; many at once through ``POST /orders/createorders``
  (at most 100, one result per order). A hold here is ``on_hold`` there; a release
  ``awaiting_shipment``. ShipStation has no partial update and no cancel call: a cancellation
  reads the order back and sends it whole with ``orderStatus: cancelled``. The customer's shipping
  (``OrderOut.service``) goes as ``requestedShippingService``, and as ``carrierCode`` and
  ``serviceCode`` where the connection maps it (Mappings tab, kind "service":
  ``carrier_code/service_code``).
* Shipments in: SHIP_NOTIFY webhooks are unsigned and thin: the address registered carries the
  connection's secret ``?token=`` (compared in constant time), and the body names a
  ``resource_url`` that the hub reads only on ShipStation's own host, with the shipment items
  asked for. Polling ``GET /shipments`` since the cursor (created, then voided) catches missed
  notifications and voided labels.
* Basic auth (API key and secret). 40 requests a minute: ``X-Rate-Limit-Remaining`` and
  ``X-Rate-Limit-Reset`` feed the hub's bucket, and a 429 waits for the reset.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
import json
from collections.abc import Mapping, Sequence
from secrets import token_urlsafe
from typing import Any

import httpx
from pydantic import BaseModel, Field

from integrations import registry
from integrations.contract import (
    Bucket,
    Capability,
    Connector,
    InboundItem,
    MappingKind,
    PullPage,
    PushContext,
    PushResult,
    RateLimitHint,
    WebhookEnvelope,
    WebhookRequest,
)
from integrations.errors import PermanentError
from integrations.models import ValueMapping
from integrations.records import OrderCancelOut, OrderOut, OutboundItem
from integrations.shipstation import mapping

BASE_URL = "https://ssapi.shipstation.com"
SERVICE = "service"  # the mapping kind: our shipping method -> "carrier_code/service_code"
PAGE_SIZE = 100
SHIPMENTS = "shipment"


class ShipStationSettings(BaseModel):
    base_url: str = BASE_URL
    store_id: int | None = Field(None, description="the ShipStation store the orders go to")
    partial_orders: bool = Field(
        False, description="send an order once part of it is reserved (else once all of it is)"
    )


class ShipStationSecrets(BaseModel):
    api_key: str
    api_secret: str
    webhook_token: str = Field(
        default_factory=lambda: token_urlsafe(24),
        description="the secret the webhook address carries (made when left out)",
    )


def _text(body: Any) -> str:
    """ShipStation's error body in a sentence (ASP.NET's Message and ModelState, or a 429's message)."""
    if not isinstance(body, dict):
        return str(body)[:300]
    parts = [str(body.get("Message") or body.get("message") or "")]
    for field, messages in (body.get("ModelState") or {}).items():
        parts.append(f"{field}: {'; '.join(str(m) for m in messages)}")
    if body.get("ExceptionMessage"):
        parts.append(str(body["ExceptionMessage"]))
    return " ".join(p for p in parts if p)


@registry.register
class ShipStationConnector(Connector):
    key = "shipstation"
    name = "ShipStation"
    capabilities = frozenset({Capability.ORDERS_OUT, Capability.SHIPMENTS_IN})
    settings_schema = ShipStationSettings
    secrets_schema = ShipStationSecrets
    topics = (
        "sales.order_confirmed",
        "sales.order_allocated",
        "sales.order_updated",
        "sales.order_held",
        "sales.order_released",
        "sales.order_cancelled",
    )
    webhook_topics = ("SHIP_NOTIFY",)
    poll_object_types = (SHIPMENTS,)
    api_versions = {"v1": None}
    channel_kind = "shipping"
    batch_size = 100
    rate_limit_per_second = 40 / 60
    rate_limit_burst = 40
    rate_buckets = {"default": Bucket(40 / 60, 40)}
    personal_fields = frozenset({"phone", "street1", "street2", "customerEmail", "customerUsername"})
    mapping_kinds = (
        MappingKind(
            SERVICE,
            "shipping service",
            "service",
            help="The customer's shipping as ShipStation's \"carrier_code/service_code\" "
            '(e.g. "stamps_com/usps_priority_mail"); unmapped, the staff pick one in ShipStation.',
        ),
    )

    settings: ShipStationSettings

    def base_url(self) -> str:
        return self.settings.base_url.rstrip("/")

    def url(self, path: str) -> str:
        return f"{self.base_url()}/{path.lstrip('/')}"

    def auth_headers(self, secrets: Mapping[str, Any]) -> dict[str, str]:
        pair = f"{secrets.get('api_key', '')}:{secrets.get('api_secret', '')}".encode()
        return {"Authorization": f"Basic {base64.b64encode(pair).decode()}"}

    def rate_limit_hint(self, response: httpx.Response) -> RateLimitHint | None:
        headers = response.headers
        try:
            left = int(headers["x-rate-limit-remaining"])
            reset = float(headers["x-rate-limit-reset"])
        except (KeyError, ValueError):
            return None
        try:
            limit: int | None = int(headers["x-rate-limit-limit"])
        except (KeyError, ValueError):
            limit = None
        used = (limit - left) if limit is not None else None
        return RateLimitHint(
            wait_seconds=reset if left <= 0 else 0.0, used=used, limit=limit, reset_seconds=max(0.0, reset)
        )

    def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            response = self.http.request(method, self.url(path), **kwargs)
        except PermanentError as exc:
            try:
                detail = _text(json.loads(exc.body)) if exc.body else str(exc)
            except ValueError:
                detail = str(exc)
            where = path.split("?")[0]
            raise PermanentError(
                f"ShipStation refused {method} {where}: {detail}", status=exc.status, body=exc.body
            ) from exc
        return response.json() if response.content else None

    # --- inbound -------------------------------------------------------------------------------

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
            raise ValueError(f"Not a ShipStation webhook: {exc}") from exc
        # No event id on the wire: the resource URL names one batch of labels, so it is the identity.
        return [WebhookEnvelope(event_id=hashlib.sha256(url.encode()).hexdigest()[:40], topic=kind)]

    def parse_webhook(self, topic: str, headers: Mapping[str, str], body: bytes) -> list[InboundItem]:
        if topic not in ("SHIP_NOTIFY", "ITEM_SHIP_NOTIFY"):
            raise ValueError(f"ShipStation sends no {topic!r} webhooks the hub reads.")
        url = str(json.loads(body)["resource_url"])
        batch = httpx.URL(url).params.get("batchId") or url
        return [InboundItem(SHIPMENTS, f"batch-{batch}", url=url)]

    def fetch_url(self, object_type: str, url: str) -> list[InboundItem]:
        """Every shipment of the batch the URL names, with its items (SHIP_NOTIFY's URL asks for
        none: ``includeShipmentItems`` is set to true), page after page."""
        target = httpx.URL(url)
        params = {k: v for k, v in target.params.items() if k.lower() not in ("includeshipmentitems", "page")}
        base = target.copy_with(query=None)
        items: list[InboundItem] = []
        page, pages = 1, 1
        while page <= pages:
            query = {**params, "includeShipmentItems": "true", "page": str(page), "pageSize": str(PAGE_SIZE)}
            body = self.http.request("GET", str(base.copy_merge_params(query))).json()
            for raw in body.get("shipments") or ():
                record = mapping.shipment_record(raw)
                changed = mapping.shipment_changed_at(raw)
                items.append(InboundItem(SHIPMENTS, record.external_id, updated_at=changed, record=record))
            page, pages = page + 1, int(body.get("pages") or 1)
        return items

    def pull(self, object_type: str, *, since: datetime.datetime | None, page: str | None) -> PullPage:
        """Shipments created since ``since``, then those voided since (``page``: "created:N" or
        "voided:N"), oldest first, with their items."""
        if object_type != SHIPMENTS:
            return super().pull(object_type, since=since, page=page)
        phase, _, number = (page or "created:1").partition(":")
        params: dict[str, Any] = {
            "includeShipmentItems": "true",
            "sortBy": "CreateDate",
            "sortDir": "ASC",
            "page": int(number or 1),
            "pageSize": PAGE_SIZE,
        }
        if self.settings.store_id is not None:
            params["storeId"] = self.settings.store_id
        if since is not None:
            params["voidDateStart" if phase == "voided" else "createDateStart"] = mapping.pacific(since)
        elif phase == "voided":
            return PullPage(items=(), next_page=None)  # a first poll reads what exists, voids included
        body = self._json("GET", "shipments", params=params) or {}
        items = tuple(
            InboundItem(
                SHIPMENTS,
                str(raw["shipmentId"]),
                updated_at=mapping.shipment_changed_at(raw),
                record=mapping.shipment_record(raw),
            )
            for raw in body.get("shipments") or ()
        )
        if int(body.get("page") or params["page"]) < int(body.get("pages") or 0):
            return PullPage(items=items, next_page=f"{phase}:{int(params['page']) + 1}")
        return PullPage(items=items, next_page="voided:1" if phase == "created" else None)

    # --- outbound ------------------------------------------------------------------------------

    def _carrier_service(self, item: OrderOut) -> tuple[str, str] | None:
        if not item.service:
            return None
        found = (
            ValueMapping.objects.filter(connection=self.connection, kind=SERVICE, our_value=item.service)
            .values_list("tool_value", flat=True)
            .first()
        )
        if not found or "/" not in found:
            return None
        carrier, _, service = found.partition("/")
        return carrier.strip(), service.strip()

    def _body(self, item: OrderOut) -> dict[str, Any]:
        return mapping.order_body(
            item, store_id=self.settings.store_id, carrier_service=self._carrier_service(item)
        )

    def _find(self, item: OrderCancelOut) -> dict[str, Any] | None:
        """The order ShipStation holds under our key: by its id, else by our number."""
        if item.external_id:
            try:
                found = self._json("GET", f"orders/{item.external_id}")
            except PermanentError as exc:
                if exc.status != 404:
                    raise
                found = None
            if isinstance(found, dict):
                return found
        body = self._json("GET", "orders", params={"orderNumber": item.reference, "pageSize": 500}) or {}
        # ShipStation's orderNumber filter matches the start of a number: compare exactly
        return next((o for o in body.get("orders") or () if o.get("orderKey") == item.tool_key), None)

    def _cancel(self, item: OrderCancelOut) -> PushResult:
        order = self._find(item)
        if order is None:
            return PushResult(external_id=item.external_id, detail=f"{item.reference}: not in ShipStation")
        status = order.get("orderStatus")
        if status == "cancelled":
            done = f"{item.reference}: cancelled already"
            return PushResult(external_id=str(order["orderId"]), detail=done)
        if status not in mapping.OPEN_STATUSES:
            raise PermanentError(
                f"{item.reference} is {status} in ShipStation and can no longer be cancelled there."
            )
        answer = self._json("POST", "orders/createorder", json=mapping.cancelled_body(order))
        return PushResult(external_id=str(answer["orderId"]), detail=f"{item.reference}: cancelled")

    def push(self, item: OutboundItem, context: PushContext) -> PushResult:
        if isinstance(item, OrderCancelOut):
            return self._cancel(item)
        if isinstance(item, OrderOut):
            answer = self._json("POST", "orders/createorder", json=self._body(item))
            return PushResult(
                external_id=str(answer["orderId"]), detail=f"{item.reference}: {answer.get('orderStatus')}"
            )
        return super().push(item, context)

    def push_batch(self, items: Sequence[tuple[OutboundItem, PushContext]]) -> list[PushResult | Exception]:
        """Orders through one createorders (a result per order); cancellations one by one."""
        results: list[PushResult | Exception | None] = [None] * len(items)
        orders = [(i, item) for i, (item, _) in enumerate(items) if isinstance(item, OrderOut)]
        if orders:
            bodies = []
            for index, item in orders:
                try:
                    bodies.append((index, item, self._body(item)))
                except PermanentError as exc:
                    results[index] = exc
            if bodies:
                answer = self._json("POST", "orders/createorders", json=[b for _, _, b in bodies]) or {}
                by_key = {str(r.get("orderKey")): r for r in answer.get("results") or ()}
                for index, item, _body in bodies:
                    result = by_key.get(item.tool_key)
                    if result is None:
                        results[index] = PermanentError(f"ShipStation gave no result for {item.reference}.")
                    elif result.get("success"):
                        results[index] = PushResult(
                            external_id=str(result["orderId"]), detail=f"{item.reference}: created or updated"
                        )
                    else:
                        message = result.get("errorMessage") or "refused"
                        results[index] = PermanentError(f"ShipStation refused {item.reference}: {message}")
        for index, (other, context) in enumerate(items):
            if results[index] is None:
                try:
                    results[index] = self.push(other, context)
                except Exception as exc:
                    results[index] = exc
        return [r if r is not None else PermanentError("not pushed") for r in results]

    # --- health --------------------------------------------------------------------------------

    def _address(self, address: str) -> str:
        token = str(self.connection.get_secrets().get("webhook_token") or "")
        return str(httpx.URL(address).copy_merge_params({"token": token}))

    def list_webhooks(self) -> list[str]:
        """The topics of the active hooks that reach this connection (their address has its token)."""
        token = str(self.connection.get_secrets().get("webhook_token") or "")
        body = self._json("GET", "webhooks") or {}
        return sorted(
            {
                str(h.get("HookType"))
                for h in body.get("webhooks") or ()
                if token
                and h.get("Active", True)
                and httpx.URL(str(h.get("Url") or "")).params.get("token") == token
            }
        )

    def register_webhook(self, topic: str, address: str) -> None:
        payload = {
            "target_url": self._address(address),
            "event": topic,
            "store_id": self.settings.store_id,
            "friendly_name": f"ERP {topic.lower().replace('_', ' ')} ({self.connection.name})"[:100],
        }
        self._json("POST", "webhooks/subscribe", json=payload)

    def test(self) -> str:
        stores = self._json("GET", "stores") or []
        wanted = self.settings.store_id
        store = next((s for s in stores if wanted is None or s.get("storeId") == wanted), None)
        if store is None:
            raise PermanentError(f"ShipStation has no store {wanted} for these keys.")
        return str(store.get("storeName") or store.get("storeId"))
