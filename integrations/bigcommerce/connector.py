"""BigCommerce: orders and products in, stock and shipments out (V2 orders, V3 catalog and inventory).

Wire format notes: samples/FORMAT.md.

* Base ``https://api.bigcommerce.com/stores/{store_hash}`` (``base_url`` replaces it: a local
  fake), then ``/v2/...`` or ``/v3/...``. Auth: ``X-Auth-Token: {access_token}``; tokens do not
  expire (no refresh).
* Webhooks (``integrations.bigcommerce.webhooks``): thin, signed per Standard Webhooks with the
  app's client secret and carrying the header secret the hub registered them with. The event id is
  the body's ``hash``. ``store/order/created``, ``updated`` and ``statusUpdated`` are read again
  (``fetch``: the V2 order, its products and shipping addresses, its shipments and refunds when
  it has any). A burst for one order (created, updated, statusUpdated within about a second) is
  read once by the hub (``integrations.bursts``): ``settle_seconds`` lets it arrive whole, and the
  one fetch covers the events that came before it. ``archived`` keeps the order here.
* Polling: ``GET /v2/orders?min_date_modified=&sort=date_modified:asc&page=&limit=``, a bare
  array, 204 when empty; a full page means there may be another.
* Shipments out (``integrations.bigcommerce.pushes``): ``POST /v2/orders/{id}/shipments``; a new
  label for one BigCommerce has (``FulfilmentOut.external_id``) ``PUT``s its tracking and carrier.
* Stock out: V3 absolute adjustments, several SKUs per request (``push_batch``;
  ``integrations.bigcommerce.pushes``), each to its location: the "location" mapping (our
  warehouses to BigCommerce locations, listed from ``/v3/inventory/locations``) sends each mapped
  warehouse's stock to its location; with none mapped, the connection's warehouse goes to
  ``location_id`` (the default location).
* Hooks: ``/v3/hooks``; one BigCommerce deactivated (``is_active`` false, after 48 h of failed
  deliveries) is not counted as subscribed, and registering it again re-activates it.
* Rate limits: ``X-Rate-Limit-Requests-Left`` / ``-Requests-Quota`` / ``-Time-Reset-Ms``. A 429
  without them is platform load: the hub waits its default Retry-After.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import httpx
from pydantic import BaseModel, ConfigDict, Field, field_validator

from integrations import registry
from integrations.bigcommerce import mapping, pushes, webhooks
from integrations.contract import (
    Action,
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
from integrations.records import FulfilmentOut, InventoryOut, OutboundItem

API_HOST = "https://api.bigcommerce.com"
API_VERSIONS: dict[str, datetime.date | None] = {"v2+v3": None}
ORDER_PAGE = 50
PRODUCT_PAGE = 50
STOCK_BATCH = 50
_STORE_HASH = re.compile(r"^[a-z0-9]{1,40}$")
LOCATION = "location"  # the mapping kind: our warehouse -> a BigCommerce location id

ORDER_SCOPES = frozenset({"store/order/created", "store/order/updated", "store/order/statusUpdated"})
PRODUCT_SCOPES = frozenset({"store/product/created", "store/product/updated"})


class BigCommerceSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    store_hash: str = Field(description="The store hash (api.bigcommerce.com/stores/{store_hash}).")
    api_version: str = Field(default="v2+v3", description="Orders on V2, catalog, inventory and hooks on V3.")
    location_id: int = Field(
        default=1,
        gt=0,
        description="The BigCommerce location whose stock mirrors the warehouse when no warehouse is "
        "mapped to a location (Mappings: location).",
    )
    base_url: str | None = Field(
        default=None, description="Replaces https://api.bigcommerce.com (a local fake)."
    )

    @field_validator("store_hash")
    @classmethod
    def _hash(cls, value: str) -> str:
        text = value.strip().lower().removeprefix("stores/")
        if not _STORE_HASH.match(text):
            raise ValueError("Enter the store hash, e.g. abc123 (letters and digits).")
        return text

    @field_validator("base_url")
    @classmethod
    def _base(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        url = httpx.URL(value.strip())
        if url.scheme not in ("http", "https") or not url.host:
            raise ValueError("The base URL must be an absolute http(s) URL.")
        return str(url).rstrip("/")


class BigCommerceSecrets(BaseModel):
    model_config = ConfigDict(extra="forbid")

    access_token: str = Field(min_length=1, description="The API account's access token (X-Auth-Token).")
    webhook_secret: str = Field(
        min_length=1, description=f"Sent back in {webhooks.SECRET_HEADER} by the hooks the hub registers."
    )
    client_secret: str = Field(
        default="", description="The app's client secret: checks the Standard Webhooks signature."
    )


@registry.register
class BigCommerceConnector(Connector):
    key = "bigcommerce"
    name = "BigCommerce"
    capabilities = frozenset(
        {
            Capability.ORDERS_IN,
            Capability.SHIPMENTS_IN,
            Capability.PRODUCTS_IN,
            Capability.INVENTORY_OUT,
            Capability.FULFILMENT_OUT,
        }
    )
    settings_schema = BigCommerceSettings
    secrets_schema = BigCommerceSecrets
    topics = ("inventory.level_changed", "sales.shipment_shipped", "sales.shipment_updated")
    poll_object_types = ("order",)
    reconcile_object_types = ("inventory", "order")
    webhook_topics = (
        "store/order/created",
        "store/order/updated",
        "store/order/statusUpdated",
        "store/order/archived",
        "store/product/updated",
    )
    api_versions: ClassVar[Mapping[str, datetime.date | None]] = API_VERSIONS
    batch_size = STOCK_BATCH
    # 150 requests per 30 s on Standard plans: the headers say the rest.
    rate_limit_per_second = 5.0
    rate_limit_burst = 40
    secret_header_names = frozenset({"x-auth-token", "x-auth-client", webhooks.SECRET_HEADER.lower()})
    personal_fields = frozenset(
        {"email", "phone", "first_name", "last_name", "street_1", "street_2", "ip_address", "ip_address_v6"}
    )
    webhook_headers = frozenset(webhooks.SIGNATURE_HEADERS)
    settle_seconds = 2.0  # a burst (created, updated, statusUpdated) comes within about a second
    mapping_kinds = (
        MappingKind(
            LOCATION,
            "location",
            "warehouse",
            help="Each of our warehouses whose stock a BigCommerce location shows; none mapped: the "
            "connection's warehouse to the default location (settings: location_id).",
        ),
    )
    settings: BigCommerceSettings

    # --- configuration -------------------------------------------------------------------

    def base_url(self) -> str:
        return f"{self.settings.base_url or API_HOST}/stores/{self.settings.store_hash}"

    def url(self, path: str) -> str:
        return f"{self.base_url()}/{path.lstrip('/')}"

    def auth_headers(self, secrets: Mapping[str, Any]) -> dict[str, str]:
        return {"X-Auth-Token": str(secrets.get("access_token", "")), "Accept": "application/json"}

    def rate_limit_hint(self, response: httpx.Response) -> RateLimitHint | None:
        headers = response.headers
        try:
            left = int(headers["x-rate-limit-requests-left"])
            reset = float(headers["x-rate-limit-time-reset-ms"]) / 1000
        except (KeyError, ValueError):
            return None  # a 429 without them: platform load, the hub's default wait
        try:
            quota: int | None = int(headers["x-rate-limit-requests-quota"])
        except (KeyError, ValueError):
            quota = None
        used = (quota - left) if quota is not None else None
        return RateLimitHint(
            wait_seconds=reset if left <= 0 else 0.0, used=used, limit=quota, reset_seconds=max(0.0, reset)
        )

    # --- inbound ---------------------------------------------------------------------------

    def verify_webhook(self, request: WebhookRequest) -> bool:
        secrets = self.connection.get_secrets()
        return webhooks.verify(
            request,
            client_secret=str(secrets.get("client_secret") or ""),
            webhook_secret=str(secrets.get("webhook_secret") or ""),
        )

    def webhook_events(self, request: WebhookRequest) -> list[WebhookEnvelope]:
        return [webhooks.envelope(request)]

    def account_id(self) -> str:
        return str(self.settings.store_hash)

    def parse_webhook(self, topic: str, headers: Mapping[str, str], body: bytes) -> list[InboundItem]:
        payload = webhooks.payload(body)
        if topic in ORDER_SCOPES:
            return [
                InboundItem("order", webhooks.resource_id(payload), Action.UPSERT, webhooks.sent_at(payload))
            ]
        if topic == "store/order/archived":
            return [InboundItem("order", webhooks.resource_id(payload), Action.DELETE)]
        if topic in PRODUCT_SCOPES:
            return [
                InboundItem(
                    "product", webhooks.resource_id(payload), Action.UPSERT, webhooks.sent_at(payload)
                )
            ]
        return []  # inventory and other scopes: the hub owns the stock

    def _get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        return pushes.body_of(self.http.request("GET", self.url(path), params=params), path)

    def read_order(self, raw: Mapping[str, Any]) -> InboundItem:
        """The whole order from its V2 resource: products, addresses, shipments and refunds."""
        if not mapping.payable(raw):
            return mapping.waiting_item(raw)
        order_id = str(raw["id"])
        products = self._get(f"v2/orders/{order_id}/products") or []
        addresses = self._get(f"v2/orders/{order_id}/shipping_addresses") or []
        shipments = (
            self._get(f"v2/orders/{order_id}/shipments") or [] if int(raw.get("items_shipped") or 0) else []
        )
        refunds: list[Any] = []
        status_id, _ = mapping.status_of(raw)
        if mapping.money(raw.get("refunded_amount")) > 0 or status_id in mapping.REFUNDED_STATUSES:
            refunds = (self._get(f"v3/orders/{order_id}/payment_actions/refunds") or {}).get("data") or []
        return mapping.order_item(raw, products, addresses, shipments, refunds)

    def fetch(self, object_type: str, external_id: str) -> InboundItem:
        if object_type == "order":
            return self.read_order(self._get(f"v2/orders/{external_id}"))
        if object_type == "product":
            body = self._get(f"v3/catalog/products/{external_id}", {"include": "variants"}) or {}
            return mapping.product_item(body["data"])
        return super().fetch(object_type, external_id)

    def pull(self, object_type: str, *, since: datetime.datetime | None, page: str | None) -> PullPage:
        number = int(page or 1)
        if object_type == "order":
            params: dict[str, Any] = {"sort": "date_modified:asc", "page": number, "limit": ORDER_PAGE}
            if since is not None:
                params["min_date_modified"] = mapping.format_rfc2822(since)
            orders = self._get("v2/orders", params) or []  # 204: no (more) orders
            items = tuple(self.read_order(o) for o in orders)
            items = tuple(i for i in items if i.action != Action.DELETE)  # not payable yet
            return PullPage(items=items, next_page=str(number + 1) if len(orders) >= ORDER_PAGE else None)
        if object_type == "product":
            params = {"include": "variants", "page": number, "limit": PRODUCT_PAGE}
            if since is not None:
                params["date_modified:min"] = since.astimezone(datetime.UTC).isoformat()
            body = self._get("v3/catalog/products", params) or {}
            pagination = (body.get("meta") or {}).get("pagination") or {}
            more = int(pagination.get("current_page") or number) < int(pagination.get("total_pages") or 0)
            items = tuple(mapping.product_item(p) for p in body.get("data") or ())
            return PullPage(items=items, next_page=str(number + 1) if more else None)
        return super().pull(object_type, since=since, page=page)

    # --- outbound --------------------------------------------------------------------------

    def stock(self) -> pushes.StockPusher:
        return pushes.StockPusher(self.http, self.url, self.settings.location_id)

    def mapping_choices(self, kind: str) -> list[tuple[str, str]]:
        if kind != LOCATION:
            return super().mapping_choices(kind)
        body = self._get("v3/inventory/locations", {"limit": 250}) or {}
        return [
            (str(loc["id"]), str(loc.get("label") or loc.get("code") or loc["id"]))
            for loc in body.get("data") or ()
            if loc.get("enabled", True)
        ]

    def push(self, item: OutboundItem, context: PushContext) -> PushResult:
        if isinstance(item, InventoryOut):
            result = self.stock().push([item], f"ERP sync {context.idempotency_key}")[0]
            if isinstance(result, Exception):
                raise result
            return result
        if isinstance(item, FulfilmentOut):
            return pushes.ShipmentPusher(self.http, self.url).push(item, context)
        return super().push(item, context)

    def push_batch(self, items: Sequence[tuple[OutboundItem, PushContext]]) -> list[PushResult | Exception]:
        """The stock items in one absolute adjustment; anything else (shipments) one by one."""
        results: list[PushResult | Exception] = [PushResult() for _ in items]
        stock, others = pushes.split(items)
        if stock:
            keys = ", ".join(sorted({items[n][1].idempotency_key for n in stock}))[:200]
            stock_items = [items[n][0] for n in stock]
            answers = self.stock().push(
                [i for i in stock_items if isinstance(i, InventoryOut)], f"ERP sync {keys}"
            )
            for n, answer in zip(stock, answers, strict=True):
                results[n] = answer
        for n in others:
            try:
                results[n] = self.push(*items[n])
            except PermanentError as exc:
                results[n] = exc
        return results

    # --- reconciliation and health ---------------------------------------------------------

    def inventory_snapshot(self, items: list[InventoryOut]) -> dict[str, int | None]:
        """The on-hand at the items' location (what an absolute adjustment sets), per variant id: the
        hub asks once per location (``InventoryOut.location_id``; None: ``location_id``)."""
        snapshot: dict[str, int | None] = {item.external_id: None for item in items}
        ids = sorted({item.external_id for item in items})
        location = pushes.location_of(items[0], self.settings.location_id) if items else 0
        for start in range(0, len(ids), PRODUCT_PAGE):
            chunk = ids[start : start + PRODUCT_PAGE]
            page = 1
            while True:
                params = {
                    "variant_id:in": ",".join(chunk),
                    "location_id:in": str(location),
                    "page": page,
                    "limit": PRODUCT_PAGE,
                }
                body = self._get("v3/inventory/items", params) or {}
                for row in body.get("data") or ():
                    variant_id = str((row.get("identity") or {}).get("variant_id", ""))
                    for level in row.get("locations") or ():
                        if int(level.get("location_id", 0)) == location and variant_id in snapshot:
                            snapshot[variant_id] = int(level.get("total_inventory_onhand") or 0)
                pagination = (body.get("meta") or {}).get("pagination") or {}
                if int(pagination.get("current_page") or page) >= int(pagination.get("total_pages") or 0):
                    break
                page += 1
        return snapshot

    def _hooks(self) -> list[dict[str, Any]]:
        hooks: list[dict[str, Any]] = []
        page = 1
        while True:
            body = self._get("v3/hooks", {"page": page, "limit": 250}) or {}
            hooks.extend(body.get("data") or ())
            pagination = (body.get("meta") or {}).get("pagination") or {}
            if int(pagination.get("current_page") or page) >= int(pagination.get("total_pages") or 0):
                return hooks
            page += 1

    def list_webhooks(self) -> list[str]:
        """The scopes of the active hooks; one BigCommerce deactivated counts as missing."""
        return sorted({str(h["scope"]) for h in self._hooks() if h.get("is_active")})

    def register_webhook(self, topic: str, address: str) -> None:
        """Create the hook, or re-activate the one BigCommerce deactivated (same scope and address)."""
        headers = {webhooks.SECRET_HEADER: str(self.connection.get_secrets().get("webhook_secret") or "")}
        for hook in self._hooks():
            if hook.get("scope") == topic and hook.get("destination") == address:
                payload = {"is_active": True, "headers": headers}
                self.http.request("PUT", self.url(f"v3/hooks/{hook['id']}"), json=payload)
                return
        payload = {"scope": topic, "destination": address, "is_active": True, "headers": headers}
        self.http.request("POST", self.url("v3/hooks"), json=payload)

    def test(self) -> str:
        body = self._get("v2/store") or {}
        return str(body.get("name") or self.settings.store_hash)
