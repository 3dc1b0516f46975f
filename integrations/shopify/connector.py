"""Shopify: orders and products in, inventory levels and fulfilments out, over the Admin REST API.

Wire format notes (sources in samples/FORMAT.md):

* Base URL ``https://{shop_domain}/admin/api/{api_version}``; the ``base_url`` setting
  replaces ``https://{shop_domain}`` (the local fake), the ``/admin/api/{version}``
  path is kept so the API version still applies.
* Auth, the sign-in ("Connect to Shopify") and the refresh of expiring offline access tokens:
  ``integrations.shopify.auth`` (``ShopifyAuth``, which this connector extends). A static token
  (a custom app's) is never refreshed.
* Webhooks: ``X-Shopify-Hmac-Sha256`` = base64(HMAC-SHA256(client secret, raw body)).
  Order webhooks carry the whole order and are used as they are (no API call).
* Pagination: the ``Link`` header's ``rel="next"`` URL, followed verbatim.
* Rate limits: ``X-Shopify-Shop-Api-Call-Limit: used/bucket`` (a leaky bucket that
  drains ``bucket / 20`` calls a second: 2/s for 40, 20/s for 400).

Inventory out uses ``POST inventory_levels/set.json`` by default. With the setting
``inventory_api="graphql"`` it uses the GraphQL ``inventorySetQuantities`` mutation
with compare-and-set (``changeFromQuantity`` from 2026-01, ``compareQuantity``
before): when Shopify answers ``CHANGE_FROM_QUANTITY_STALE`` (the level changed since
our last push: most often a sale in Shopify whose order the hub has not imported yet),
the connector reads the level and raises ``CountMoved`` with it. Setting it blindly would
erase that sale; the hub pulls the shop's recent orders first, then pushes the quantity
it computes then, against the level read (integrations.outbound).

Fulfilments out: a new one with ``POST fulfillments.json`` over the order's open fulfilment
orders; one Shopify has already (``FulfilmentOut.external_id``: a voided label reprinted) gets
its carrier and tracking replaced with ``POST fulfillments/{id}/update_tracking.json`` (the
customer is told; its lines stay).

API versions: Shopify releases one every quarter (January, April, July, October)
and supports each for at least twelve months; the sunset dates below are the first
day of the same month a year later, as Shopify announces them. Requests for a version
past its sunset are served by the oldest supported one ("fall forward"); the hub's
health page warns before that happens.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
import json
import re
import uuid
from collections.abc import Iterator, Mapping
from typing import Any, ClassVar, Literal

import httpx
from pydantic import BaseModel, ConfigDict, Field, field_validator

from integrations import registry
from integrations.contract import (
    Action,
    Capability,
    InboundItem,
    PullPage,
    PushContext,
    PushResult,
    RateLimitHint,
    WebhookEnvelope,
    WebhookRequest,
)
from integrations.errors import CountMoved, PermanentError, Throttled, TransientError
from integrations.records import FulfilmentOut, InventoryOut, OutboundItem
from integrations.shopify import mapping
from integrations.shopify.auth import SCOPES as SCOPES  # re-exported: what the sign-in asks for
from integrations.shopify.auth import ShopifyAuth, ShopifySecrets
from integrations.shopify.auth import callback_hmac as callback_hmac

API_VERSIONS: dict[str, datetime.date | None] = {
    "2025-07": datetime.date(2026, 7, 1),
    "2025-10": datetime.date(2026, 10, 1),
    "2026-01": datetime.date(2027, 1, 1),
    "2026-04": datetime.date(2027, 4, 1),
    "2026-07": datetime.date(2027, 7, 1),
    "2026-10": datetime.date(2027, 10, 1),
}
DEFAULT_API_VERSION = "2025-07"
PAGE_LIMIT = 250  # Shopify's maximum page size
INVENTORY_IDS_PER_REQUEST = 50  # inventory_levels.json accepts up to 50 inventory_item_ids

_HOST = re.compile(
    r"^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*(:\d{1,5})?$"
)
_MYSHOPIFY = re.compile(r"^[a-z0-9][a-z0-9-]*\.myshopify\.com$")
_VERSION = re.compile(r"^(\d{4}-(01|04|07|10)|unstable)$")
_LINK = re.compile(r'<([^>]+)>\s*;\s*rel="?([a-z]+)"?')

ORDER_TOPICS = frozenset(
    {"orders/create", "orders/updated", "orders/paid", "orders/fulfilled", "orders/partially_fulfilled"}
)
PRODUCT_TOPICS = frozenset({"products/create", "products/update"})

SET_QUANTITIES = (
    "mutation inventorySetQuantities($input: InventorySetQuantitiesInput!) { "
    "inventorySetQuantities(input: $input) { inventoryAdjustmentGroup { createdAt reason "
    "referenceDocumentUri changes { name delta quantityAfterChange } } userErrors { code field message } } }"
)
READ_AVAILABLE = (
    "query inventoryLevel($inventoryItemId: ID!, $locationId: ID!) { inventoryItem(id: $inventoryItemId) { "
    'inventoryLevel(locationId: $locationId) { quantities(names: ["available"]) { name quantity } } } }'
)
# From 2026-01 the mutation takes an idempotency key (required from 2026-04; unknown before).
SET_QUANTITIES_IDEMPOTENT = (
    "mutation inventorySetQuantities($input: InventorySetQuantitiesInput!, $idempotencyKey: String!) { "
    "inventorySetQuantities(input: $input) @idempotent(key: $idempotencyKey) { inventoryAdjustmentGroup { "
    "createdAt reason referenceDocumentUri changes { name delta quantityAfterChange } } "
    "userErrors { code field message } } }"
)
IDEMPOTENT_FROM = "2026-01"
STALE_CODES = frozenset({"CHANGE_FROM_QUANTITY_STALE", "COMPARE_QUANTITY_STALE"})
# Another request with the same key is running: try again in a moment.
BUSY_CODES = frozenset({"IDEMPOTENCY_CONCURRENT_REQUEST"})


class ShopifySettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    shop_domain: str = Field(description="The shop's myshopify.com domain (or its host).")
    api_version: str = Field(default=DEFAULT_API_VERSION, description="Admin API version, YYYY-MM.")
    location_id: int = Field(gt=0, description="The Shopify location whose levels mirror the warehouse.")
    base_url: str | None = Field(
        default=None, description="Replaces https://{shop_domain} (a local fake); /admin/api/{v} is kept."
    )
    inventory_api: Literal["rest", "graphql"] = Field(
        default="rest", description="rest: inventory_levels/set; graphql: inventorySetQuantities."
    )

    @field_validator("shop_domain")
    @classmethod
    def _domain(cls, value: str) -> str:
        domain = value.strip().lower().removeprefix("https://").removeprefix("http://").rstrip("/")
        if not (_MYSHOPIFY.match(domain) or _HOST.match(domain)):
            raise ValueError("Enter the shop's domain, e.g. example.myshopify.com.")
        return domain

    @field_validator("api_version")
    @classmethod
    def _version(cls, value: str) -> str:
        if not _VERSION.match(value):
            raise ValueError("An API version looks like 2025-07 (January, April, July or October).")
        return value

    @field_validator("base_url")
    @classmethod
    def _base(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        url = httpx.URL(value.strip())
        if url.scheme not in ("http", "https") or not url.host:
            raise ValueError("The base URL must be an absolute http(s) URL.")
        return str(url).rstrip("/")


def header(headers: Mapping[str, str], *names: str) -> str:
    """The first of ``names`` present in ``headers``, matched case-insensitively."""
    lowered = {str(k).lower(): v for k, v in headers.items()}
    for name in names:
        value = lowered.get(name.lower())
        if value:
            return str(value)
    return ""


def sign(secret: str, body: bytes) -> str:
    """Shopify's webhook signature: base64(HMAC-SHA256(secret, raw body))."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def next_link(response: httpx.Response) -> str | None:
    """The ``rel="next"`` URL of a ``Link`` header, verbatim."""
    for url, rel in _LINK.findall(response.headers.get("link", "")):
        if rel == "next":
            return str(url)
    return None


def _gid(kind: str, value: Any) -> str:
    return f"gid://shopify/{kind}/{value}"


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError as exc:
        raise TransientError(f"Shopify answered {response.status_code} with a body that is not JSON") from exc


# Shopify's webhook headers (X-Shopify-* and, on events webhooks, shopify-*), kept with the event.
WEBHOOK_HEADER_NAMES = (
    "topic",
    "hmac-sha256",
    "shop-domain",
    "api-version",
    "webhook-id",
    "event-id",
    "triggered-at",
    "name",
)


@registry.register
class ShopifyConnector(ShopifyAuth):
    key = "shopify"
    name = "Shopify"
    capabilities = frozenset(
        {
            Capability.ORDERS_IN,
            Capability.SHIPMENTS_IN,
            Capability.INVENTORY_OUT,
            Capability.FULFILMENT_OUT,
            Capability.PRODUCTS_IN,
        }
    )
    settings_schema = ShopifySettings
    secrets_schema = ShopifySecrets
    topics = ("inventory.level_changed", "sales.shipment_shipped", "sales.shipment_updated")
    poll_object_types = ("order",)
    reconcile_object_types = ("inventory", "order")
    webhook_topics = ("orders/create", "orders/updated", "orders/cancelled", "products/update")
    api_versions: ClassVar[Mapping[str, datetime.date | None]] = API_VERSIONS
    rate_limit_per_second = 2.0
    rate_limit_burst = 40
    compare_and_set = True  # inventorySetQuantities with changeFromQuantity / compareQuantity
    secret_header_names = frozenset({"authorization", "x-shopify-access-token"})
    personal_fields = frozenset(
        {"email", "contact_email", "phone", "first_name", "last_name", "address1", "address2", "browser_ip"}
    )
    webhook_headers = frozenset(
        {
            *(f"x-shopify-{name}" for name in WEBHOOK_HEADER_NAMES),
            *(f"shopify-{name}" for name in WEBHOOK_HEADER_NAMES),
            "shopify-handle",
            "shopify-action",
            "shopify-resource-id",
        }
    )
    page_limit: ClassVar[int] = PAGE_LIMIT
    settings: ShopifySettings

    # --- configuration -----------------------------------------------------------------

    def base_url(self) -> str:
        origin = self.settings.base_url or f"https://{self.settings.shop_domain}"
        return f"{origin}/admin/api/{self.settings.api_version}"

    def url(self, path: str) -> str:
        return f"{self.base_url()}/{path.lstrip('/')}"

    def rate_limit_hint(self, response: httpx.Response) -> RateLimitHint | None:
        raw = response.headers.get("x-shopify-shop-api-call-limit", "")
        used_text, _, limit_text = raw.partition("/")
        try:
            used, limit = int(used_text), int(limit_text)
        except ValueError:
            return None
        if limit <= 0:
            return None
        leak_per_second = limit / 20  # 40 -> 2/s, 80 -> 4/s, 400 -> 20/s
        threshold = limit - max(4, limit // 5)
        wait = max(0, used - threshold) / leak_per_second
        return RateLimitHint(wait_seconds=wait, used=used, limit=limit)

    # --- inbound ---------------------------------------------------------------------------

    def verify_webhook(self, request: WebhookRequest) -> bool:
        """Shopify signs the raw body only: base64(HMAC-SHA256(client secret, body))."""
        secret = str(self.connection.get_secrets().get("client_secret") or "")
        received = header(request.headers, "X-Shopify-Hmac-Sha256", "shopify-hmac-sha256")
        if not secret or not received:
            return False
        return hmac.compare_digest(sign(secret, request.body).encode(), received.strip().encode())

    def webhook_events(self, request: WebhookRequest) -> list[WebhookEnvelope]:
        """A Shopify delivery is one event: its topic, X-Shopify-Webhook-Id, and the shop."""
        return [self._envelope(request.headers, request.body)]

    def _envelope(self, headers: Mapping[str, str], body: bytes) -> WebhookEnvelope:
        topic = header(headers, "X-Shopify-Topic", "shopify-topic")
        if not topic:
            raise ValueError("A Shopify webhook without X-Shopify-Topic")
        event_id = header(
            headers, "X-Shopify-Webhook-Id", "shopify-webhook-id", "X-Shopify-Event-Id", "shopify-event-id"
        )
        if not event_id:
            # Never seen from Shopify; the body's hash still makes a redelivery a duplicate.
            event_id = "sha256:" + hashlib.sha256(body).hexdigest()
        shop = header(headers, "X-Shopify-Shop-Domain", "shopify-shop-domain").strip().lower()
        return WebhookEnvelope(event_id=event_id, topic=topic, account=shop or None)

    def account_id(self) -> str:
        return str(self.settings.shop_domain)

    def parse_webhook(self, topic: str, headers: Mapping[str, str], body: bytes) -> list[InboundItem]:
        try:
            payload = json.loads(body)
        except ValueError as exc:
            raise ValueError(f"A {topic} webhook whose body is not JSON") from exc
        if not isinstance(payload, dict):
            raise ValueError(f"A {topic} webhook whose body is not a JSON object")
        if topic in ORDER_TOPICS:
            record = mapping.order(payload)
            return [InboundItem("order", record.external_id, Action.UPSERT, record.updated_at, record)]
        if topic == "orders/cancelled":
            record = mapping.order(payload)
            return [InboundItem("order", record.external_id, Action.CANCEL, record.updated_at, record)]
        if topic in PRODUCT_TOPICS:
            return [mapping.product_item(payload)]
        if topic in ("orders/delete", "products/delete"):
            if payload.get("id") in (None, ""):
                raise ValueError(f"A {topic} webhook without an id")
            object_type = topic.split("/")[0].rstrip("s")
            return [InboundItem(object_type, str(payload["id"]), Action.DELETE)]
        return []

    def fetch(self, object_type: str, external_id: str) -> InboundItem:
        if object_type == "order":
            body = _json(self.http.request("GET", self.url(f"orders/{external_id}.json")))
            return mapping.order_item(body["order"])
        if object_type == "product":
            body = _json(self.http.request("GET", self.url(f"products/{external_id}.json")))
            return mapping.product_item(body["product"])
        return super().fetch(object_type, external_id)

    def pull(self, object_type: str, *, since: datetime.datetime | None, page: str | None) -> PullPage:
        if object_type == "order":
            params: dict[str, Any] = {"status": "any", "limit": self.page_limit, "order": "updated_at asc"}
            if since is not None:
                params["updated_at_min"] = since.isoformat()
            response = self._page("orders.json", params, page)
            items = tuple(mapping.order_item(o) for o in _json(response)["orders"])
        elif object_type == "product":
            params = {"limit": self.page_limit}
            if since is not None:
                params["updated_at_min"] = since.isoformat()
            response = self._page("products.json", params, page)
            items = tuple(mapping.product_item(p) for p in _json(response)["products"])
        else:
            return super().pull(object_type, since=since, page=page)
        return PullPage(items=items, next_page=next_link(response))

    def _page(self, path: str, params: dict[str, Any], page: str | None) -> httpx.Response:
        # A next page is Shopify's own URL: page_info may not be combined with the first page's filters.
        if page:
            return self.http.request("GET", page)
        return self.http.request("GET", self.url(path), params=params)

    def _pages(self, path: str, params: dict[str, Any]) -> Iterator[Any]:
        page: str | None = None
        while True:
            response = self._page(path, params, page)
            yield _json(response)
            page = next_link(response)
            if not page:
                return

    # --- outbound ----------------------------------------------------------------------

    def push(self, item: OutboundItem, context: PushContext) -> PushResult:
        if isinstance(item, InventoryOut):
            if self.settings.inventory_api == "graphql":
                return self._push_inventory_graphql(item, context)
            return self._push_inventory_rest(item)
        if isinstance(item, FulfilmentOut):
            return self._push_fulfilment(item)
        return super().push(item, context)

    def inventory_item_id(self, item: InventoryOut) -> int:
        """From the variant's ExternalRef extra; else one read of the variant."""
        known = item.extra.get("inventory_item_id")
        if known is not None and known != "":
            return int(known)
        body = _json(self.http.request("GET", self.url(f"variants/{item.external_id}.json")))
        return int(body["variant"]["inventory_item_id"])

    def _push_inventory_rest(self, item: InventoryOut) -> PushResult:
        inventory_item_id = self.inventory_item_id(item)
        payload = {
            "location_id": self.settings.location_id,
            "inventory_item_id": inventory_item_id,
            "available": item.available,
        }
        body = _json(self.http.request("POST", self.url("inventory_levels/set.json"), json=payload))
        level = body.get("inventory_level") or {}
        return PushResult(
            external_id=str(inventory_item_id),
            detail=f"{item.sku}: available {level.get('available', item.available)} "
            f"at location {self.settings.location_id}",
        )

    def _graphql(self, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        response = self.http.request(
            "POST", self.url("graphql.json"), json={"query": query, "variables": variables}
        )
        body = _json(response)
        errors = body.get("errors") or []
        if any((e.get("extensions") or {}).get("code") == "THROTTLED" for e in errors):
            cost = (body.get("extensions") or {}).get("cost") or {}
            status = cost.get("throttleStatus") or {}
            needed = float(cost.get("requestedQueryCost") or 10) - float(
                status.get("currentlyAvailable") or 0
            )
            rate = float(status.get("restoreRate") or 50) or 50.0
            raise Throttled("Shopify GraphQL throttled", retry_after=max(1.0, needed / rate))
        if errors:
            raise PermanentError(
                "; ".join(str(e.get("message")) for e in errors),
                status=response.status_code,
                body=response.text,
            )
        data: dict[str, Any] = body.get("data") or {}
        return data

    def _set_quantity(
        self, inventory_item_id: int, quantity: int, compare: int | None, context: PushContext
    ) -> list[dict[str, Any]]:
        entry: dict[str, Any] = {
            "inventoryItemId": _gid("InventoryItem", inventory_item_id),
            "locationId": _gid("Location", self.settings.location_id),
            "quantity": quantity,
        }
        payload: dict[str, Any] = {"name": "available", "reason": "correction", "quantities": [entry]}
        if self.settings.api_version >= "2026-01":
            entry["changeFromQuantity"] = compare
        elif compare is None:
            payload["ignoreCompareQuantity"] = True
        else:
            entry["compareQuantity"] = compare
        if self.settings.api_version >= IDEMPOTENT_FROM:
            # One key per delivery *and* input: a retry of the same set is recognised by Shopify, while
            # the set after CountMoved (another quantity, another compare) is a new request.
            key = uuid.uuid5(
                uuid.NAMESPACE_URL,
                f"{context.idempotency_key}:{inventory_item_id}:{quantity}:{compare}",
            )
            variables = {"input": payload, "idempotencyKey": str(key)}
            data = self._graphql(SET_QUANTITIES_IDEMPOTENT, variables)
        else:
            data = self._graphql(SET_QUANTITIES, {"input": payload})
        errors: list[dict[str, Any]] = (data.get("inventorySetQuantities") or {}).get("userErrors") or []
        if errors and all(e.get("code") in BUSY_CODES for e in errors):
            raise TransientError("Shopify is still running a request with the same idempotency key")
        return errors

    def _read_available(self, inventory_item_id: int) -> int | None:
        data = self._graphql(
            READ_AVAILABLE,
            {
                "inventoryItemId": _gid("InventoryItem", inventory_item_id),
                "locationId": _gid("Location", self.settings.location_id),
            },
        )
        level = (data.get("inventoryItem") or {}).get("inventoryLevel") or {}
        for quantity in level.get("quantities") or ():
            if quantity.get("name") == "available":
                return int(quantity["quantity"])
        return None

    def _push_inventory_graphql(self, item: InventoryOut, context: PushContext) -> PushResult:
        inventory_item_id = self.inventory_item_id(item)
        errors = self._set_quantity(inventory_item_id, item.available, item.previous, context)
        if errors and all(e.get("code") in STALE_CODES for e in errors):
            current = self._read_available(inventory_item_id)
            raise CountMoved(
                f"{item.sku}: Shopify's available moved from {item.previous} to {current} "
                "since the last push",
                current=current,
            )
        if errors:
            message = "; ".join(f"{e.get('code')}: {e.get('message')}" for e in errors)
            raise PermanentError(message, status=200, body=json.dumps(errors))
        return PushResult(
            external_id=str(inventory_item_id), detail=f"{item.sku}: available {item.available}"
        )

    def _update_tracking(self, item: FulfilmentOut) -> PushResult:
        """A new label for a fulfilment Shopify has: ``POST fulfillments/{id}/update_tracking.json``
        replaces its tracking (the customer is told); its lines stay as they are.

        Each such POST emails the customer a shipping update, so it is sent only when Shopify does
        not show this tracking yet: a retry after a lost answer (the update was made) and a label
        someone already entered in Shopify's admin are answered without a second email."""
        try:
            current = (
                _json(
                    self.http.request(
                        "GET",
                        self.url(f"orders/{item.order_external_id}/fulfillments/{item.external_id}.json"),
                    )
                ).get("fulfillment")
                or {}
            )
            if mapping.shows_tracking(current, item):
                return PushResult(
                    external_id=str(current.get("id") or item.external_id),
                    detail=f"Shipment {item.shipment_number}: Shopify shows tracking "
                    f"{item.tracking_number or 'none'} already (the customer is not told twice)",
                )
            tracking = {"number": item.tracking_number, "company": item.carrier, "url": item.tracking_url}
            request = {"notify_customer": True, "tracking_info": {k: v for k, v in tracking.items() if v}}
            response = self.http.request(
                "POST",
                self.url(f"fulfillments/{item.external_id}/update_tracking.json"),
                json={"fulfillment": request},
            )
        except PermanentError as exc:
            if exc.status != 404:
                raise
            missing = PermanentError(
                f"Shopify has no fulfilment {item.external_id} (order {item.order_external_id}) "
                "to update the tracking of",
                status=exc.status,
                body=exc.body,
            )
            missing.request_log = exc.request_log  # the failed request's log row stays with it
            raise missing from exc
        fulfilment = _json(response).get("fulfillment") or {}
        return PushResult(
            external_id=str(fulfilment.get("id") or item.external_id),
            detail=f"Shipment {item.shipment_number}: tracking now {item.tracking_number or 'none'}",
        )

    def _push_fulfilment(self, item: FulfilmentOut) -> PushResult:
        if item.external_id:
            return self._update_tracking(item)
        order_id = item.order_external_id
        if item.tracking_number:
            # A retry after a lost response: the fulfilment is already there.
            existing = _json(self.http.request("GET", self.url(f"orders/{order_id}/fulfillments.json")))
            for fulfilment in existing.get("fulfillments") or ():
                if item.tracking_number in (fulfilment.get("tracking_numbers") or []) or (
                    fulfilment.get("tracking_number") == item.tracking_number
                ):
                    return PushResult(external_id=str(fulfilment["id"]), detail="already fulfilled")
        body = _json(self.http.request("GET", self.url(f"orders/{order_id}/fulfillment_orders.json")))
        request = mapping.fulfilment_request(item, body.get("fulfillment_orders") or ())
        if request is None:
            return PushResult(detail=f"Order {order_id}: nothing left to fulfil in Shopify")
        created = _json(
            self.http.request("POST", self.url("fulfillments.json"), json={"fulfillment": request})
        )
        fulfilment_id = str((created.get("fulfillment") or {}).get("id", ""))
        return PushResult(external_id=fulfilment_id, detail=f"Shipment {item.shipment_number} fulfilled")

    # --- reconciliation and health -------------------------------------------------------

    def inventory_snapshot(self, items: list[InventoryOut]) -> dict[str, int | None]:
        by_inventory_item: dict[int, list[str]] = {}
        for item in items:
            by_inventory_item.setdefault(self.inventory_item_id(item), []).append(item.external_id)
        snapshot: dict[str, int | None] = {item.external_id: None for item in items}
        ids = sorted(by_inventory_item)
        for start in range(0, len(ids), INVENTORY_IDS_PER_REQUEST):
            chunk = ids[start : start + INVENTORY_IDS_PER_REQUEST]
            params = {
                "inventory_item_ids": ",".join(str(i) for i in chunk),
                "location_ids": str(self.settings.location_id),
                "limit": self.page_limit,
            }
            for body in self._pages("inventory_levels.json", params):
                for level in body.get("inventory_levels") or ():
                    if int(level.get("location_id", 0)) != self.settings.location_id:
                        continue
                    available = level.get("available")
                    for external_id in by_inventory_item.get(int(level["inventory_item_id"]), ()):
                        snapshot[external_id] = None if available is None else int(available)
        return snapshot

    def list_webhooks(self) -> list[str]:
        topics: list[str] = []
        for body in self._pages("webhooks.json", {"limit": self.page_limit}):
            topics.extend(str(w["topic"]) for w in body.get("webhooks") or ())
        return sorted(set(topics))

    def register_webhook(self, topic: str, address: str) -> None:
        payload = {"webhook": {"topic": topic, "address": address, "format": "json"}}
        try:
            self.http.request("POST", self.url("webhooks.json"), json=payload)
        except PermanentError as exc:
            # Shopify answers 422 "address for this topic has already been taken": it is subscribed.
            if exc.status == 422 and "already been taken" in exc.body:
                return
            raise

    def test(self) -> str:
        body = _json(self.http.request("GET", self.url("shop.json")))
        return str(body["shop"]["name"])
