"""Amazon (Selling Partner API): orders in by polling, merchant-fulfilled stock and shipment
confirmations out, listings in.

* Hosts: the region's SP-API endpoint (``https://sellingpartnerapi-na.amazon.com``; ``-eu``,
  ``-fe``; ``endpoint`` replaces it: the sandbox or a local fake) and Login with Amazon's token
  endpoint (``https://api.amazon.com/auth/o2/token``; ``lwa_endpoint`` replaces it). Requests
  carry ``x-amz-access-token`` (and ``x-amz-date``); no AWS signature.
* Tokens: LWA access tokens last an hour. The hub refreshes them before they expire, once for all
  workers (``integrations.tokens``), with a form-encoded ``grant_type=refresh_token`` and the app's
  client id and secret; Amazon answers a token that expired anyway, or one it does not know
  ("revoked, malformed or invalid"), with 403 "Unauthorized", which the hub treats as a 401
  (``token_rejected``): refresh once, send again.
* No order webhooks: Amazon's notifications go to SQS or EventBridge, not to an HTTP endpoint, so
  every order comes by polling (``poll_object_types``). ``getOrders`` with ``LastUpdatedAfter``
  (never later than two minutes before now, as Amazon requires) and ``NextToken`` paging; the hub
  saves the position after each page, so a poll stopped by Amazon's limits goes on from the next
  page. Each order's items come from ``getOrderItems`` (paged too).
* Buyer data: with ``read_buyer_data`` (the app has Amazon's PII role) each ``getOrders`` page is
  read with a restricted-data token (Tokens API) and brings names and addresses; without it, or
  when Amazon refuses the token, orders come redacted and are tagged so (``mapping``).
* Rate limits: one token bucket per operation, as Amazon documents them (``BUCKETS``); a 429
  ``QuotaExceeded`` waits for the next token of that operation's rate (``x-amzn-RateLimit-Limit``).
* Out: see ``pushes`` (stock through Listings Items or a JSON_LISTINGS_FEED; shipment
  confirmations). FBA orders (AFN) never go out: their lines are fulfilled by the marketplace.
  A confirmed shipment's new tracking (``FulfilmentOut.external_id``: a label voided and
  reprinted) is refused with a PermanentError: the Orders API has no operation that changes a
  confirmation, so the merchant corrects it in Seller Central.
"""

from __future__ import annotations

import base64
import datetime
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import httpx
from django.utils import timezone
from pydantic import BaseModel, ConfigDict, Field, field_validator

from integrations import registry
from integrations.amazon import mapping, pushes
from integrations.contract import (
    Bucket,
    Capability,
    Connector,
    InboundItem,
    JobStatus,
    PullPage,
    PushContext,
    PushResult,
    RateLimitHint,
    WebhookEnvelope,
    WebhookRequest,
)
from integrations.errors import PermanentError, Throttled, TransientError
from integrations.grants import TokenGrant
from integrations.records import FulfilmentOut, InventoryOut, OutboundItem

REGIONS = {
    "na": "https://sellingpartnerapi-na.amazon.com",
    "eu": "https://sellingpartnerapi-eu.amazon.com",
    "fe": "https://sellingpartnerapi-fe.amazon.com",
}
LWA_URL = "https://api.amazon.com/auth/o2/token"
# Orders v0 with Listings Items 2021-08-01 and Feeds 2021-06-30 (Amazon versions each API apart).
API_VERSIONS: dict[str, datetime.date | None] = {"v0+2021-08-01": None}
ORDER_PAGE = 50  # MaxResultsPerPage: a page's items (getOrderItems, 0.5/s) fit the burst
LISTING_PAGE = 20  # searchListingsItems' largest pageSize
TWO_MINUTES = datetime.timedelta(minutes=2)
CLOCK_SKEW = datetime.timedelta(seconds=30)  # room for Amazon's clock running a little behind ours
ORDERS = "orders/v0/orders"
_MARKETPLACE = re.compile(r"^[A-Z0-9]{8,20}$")
# What Amazon's 403 "Unauthorized" says of an access token it does not take (a role the app lacks
# says nothing): "The access token you provided has expired." / "... is revoked, malformed or
# invalid." (and, from the signed-request days, "The security token included in the request is
# expired").
TOKEN_REFUSED = ("access token you provided", "security token included in the request")

# Amazon's documented limit of each operation: (requests a second, burst).
BUCKETS: Mapping[str, Bucket] = {
    "getOrders": Bucket(0.0167, 20),
    "getOrder": Bucket(0.5, 30),
    "getOrderItems": Bucket(0.5, 30),
    "confirmShipment": Bucket(2, 10),
    "patchListingsItem": Bucket(5, 5),
    "getListingsItem": Bucket(5, 10),
    "searchListingsItems": Bucket(5, 5),
    "createFeedDocument": Bucket(0.5, 15),
    "createFeed": Bucket(0.0083, 15),
    "getFeed": Bucket(2, 15),
    "getFeedDocument": Bucket(0.0222, 10),
    "createRestrictedDataToken": Bucket(1, 10),
    "documents": Bucket(10, 50),  # the pre-signed S3 URLs: not Amazon's API
    "lwa": Bucket(1, 20),  # Login with Amazon's token endpoint (no documented limit)
}
_OPERATIONS: tuple[tuple[str, re.Pattern[str], str], ...] = (
    ("GET", re.compile(r"/orders/v0/orders/?$"), "getOrders"),
    ("GET", re.compile(r"/orders/v0/orders/[^/]+/orderItems/?$"), "getOrderItems"),
    ("POST", re.compile(r"/orders/v0/orders/[^/]+/shipmentConfirmation/?$"), "confirmShipment"),
    ("GET", re.compile(r"/orders/v0/orders/[^/]+/?$"), "getOrder"),
    ("PATCH", re.compile(r"/listings/2021-08-01/items/[^/]+/.+$"), "patchListingsItem"),
    ("GET", re.compile(r"/listings/2021-08-01/items/[^/]+/.+$"), "getListingsItem"),
    ("GET", re.compile(r"/listings/2021-08-01/items/[^/]+/?$"), "searchListingsItems"),
    ("POST", re.compile(r"/feeds/2021-06-30/documents/?$"), "createFeedDocument"),
    ("GET", re.compile(r"/feeds/2021-06-30/documents/[^/]+$"), "getFeedDocument"),
    ("POST", re.compile(r"/feeds/2021-06-30/feeds/?$"), "createFeed"),
    ("GET", re.compile(r"/feeds/2021-06-30/feeds/[^/]+$"), "getFeed"),
    ("POST", re.compile(r"/tokens/2021-03-01/restrictedDataToken/?$"), "createRestrictedDataToken"),
)


@dataclass(frozen=True)
class Resume:
    """A getOrders page cut short: Amazon's page token ("" for the first page of the window) and the
    orders already read from it (id -> LastUpdateDate), as the hub's opaque page token."""

    PREFIX: ClassVar[str] = "resume:"
    token: str
    read: Mapping[str, str]

    def encode(self) -> str:
        data = json.dumps({"t": self.token, "r": dict(self.read)}, separators=(",", ":")).encode()
        return self.PREFIX + base64.urlsafe_b64encode(data).decode()

    @classmethod
    def decode(cls, page: str) -> Resume:
        try:
            data = json.loads(base64.urlsafe_b64decode(page[len(cls.PREFIX) :].encode()))
            return cls(str(data["t"]), {str(k): str(v) for k, v in dict(data["r"]).items()})
        except (ValueError, KeyError, TypeError) as exc:
            raise PermanentError(f"Not a page of this connector: {page[:80]!r}", status=None) from exc


def _url(value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    url = httpx.URL(value.strip())
    if url.scheme not in ("http", "https") or not url.host:
        raise ValueError("Enter an absolute http(s) URL.")
    return str(url).rstrip("/")


class AmazonSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    region: Literal["na", "eu", "fe"] = Field(default="na", description="The SP-API region of the account.")
    marketplace_ids: list[str] = Field(
        min_length=1, description='The marketplaces to sell in, e.g. ["ATVPDKIKX0DER"] (the US).'
    )
    seller_id: str = Field(min_length=1, description="The seller (merchant token), e.g. A2EXAMPLESELLER.")
    read_buyer_data: bool = Field(
        default=False,
        description="The app has Amazon's PII role: buyer names and addresses are read with a "
        "restricted-data token. Without it orders come without them, tagged buyer-data-restricted.",
    )
    feed_threshold: int = Field(
        default=5,
        ge=1,
        le=100,
        description="Stock of up to this many SKUs at once goes as Listings PATCHes; more as one feed.",
    )
    endpoint: str | None = Field(
        default=None, description="Replaces the region's SP-API host (sandbox, local fake)."
    )
    lwa_endpoint: str | None = Field(default=None, description=f"Replaces {LWA_URL} (a local fake).")

    @field_validator("marketplace_ids")
    @classmethod
    def _marketplaces(cls, value: list[str]) -> list[str]:
        ids = [v.strip().upper() for v in value if v.strip()]
        bad = [v for v in ids if not _MARKETPLACE.match(v)]
        if bad or not ids:
            raise ValueError(f"Not a marketplace id: {', '.join(bad) or '(none)'} (e.g. ATVPDKIKX0DER).")
        return list(dict.fromkeys(ids))

    @field_validator("seller_id")
    @classmethod
    def _seller(cls, value: str) -> str:
        text = value.strip().upper()
        if not _MARKETPLACE.match(text):
            raise ValueError("Enter the seller id (merchant token), e.g. A2EXAMPLESELLER.")
        return text

    @field_validator("endpoint", "lwa_endpoint")
    @classmethod
    def _urls(cls, value: str | None) -> str | None:
        return _url(value)


class AmazonSecrets(BaseModel):
    model_config = ConfigDict(extra="forbid")

    lwa_client_id: str = Field(
        min_length=1, description="The app's LWA client id (amzn1.application-oa2-client...)."
    )
    lwa_client_secret: str = Field(min_length=1, description="The app's LWA client secret.")
    refresh_token: str = Field(
        min_length=1, description="The seller's refresh token (Atzr|...) from authorising the app."
    )
    access_token: str = Field(default="", description="Set by the hub: the current LWA access token.")


@registry.register
class AmazonConnector(Connector):
    key = "amazon"
    name = "Amazon"
    capabilities = frozenset(
        {Capability.ORDERS_IN, Capability.PRODUCTS_IN, Capability.INVENTORY_OUT, Capability.FULFILMENT_OUT}
    )
    settings_schema = AmazonSettings
    secrets_schema = AmazonSecrets
    topics = ("inventory.level_changed", "sales.shipment_shipped", "sales.shipment_updated")
    poll_object_types = ("order",)
    reconcile_object_types = ("inventory", "order")
    api_versions: ClassVar[Mapping[str, datetime.date | None]] = API_VERSIONS
    channel_kind = "marketplace"
    compare_and_set = True  # a stock PATCH reads Amazon's count first (pushes.StockPusher.patch)
    batch_size = 50
    rate_buckets = BUCKETS
    secret_header_names = frozenset({"x-amz-access-token", "authorization"})
    personal_fields = frozenset(
        {
            "BuyerName",
            "BuyerEmail",
            "Name",
            "AddressLine1",
            "AddressLine2",
            "AddressLine3",
            "Phone",
            "CompanyName",
        }
    )
    settings: AmazonSettings

    def __init__(self, connection: Any, http: Any) -> None:
        super().__init__(connection, http)
        self._rdt: tuple[str, datetime.datetime] | None = None
        self._rdt_refused = False

    # --- configuration -------------------------------------------------------------------

    def base_url(self) -> str:
        return self.settings.endpoint or REGIONS[self.settings.region]

    def lwa_url(self) -> str:
        return self.settings.lwa_endpoint or LWA_URL

    def hosts(self) -> frozenset[str]:
        found = {httpx.URL(self.base_url()).host.lower(), httpx.URL(self.lwa_url()).host.lower()}
        return frozenset(h for h in found if h)

    def url(self, path: str) -> str:
        return f"{self.base_url()}/{path.lstrip('/')}"

    @property
    def marketplace_id(self) -> str:
        return self.settings.marketplace_ids[0]

    def auth_headers(self, secrets: Mapping[str, Any]) -> dict[str, str]:
        return {
            "x-amz-access-token": str(secrets.get("access_token") or ""),
            "x-amz-date": timezone.now().strftime("%Y%m%dT%H%M%SZ"),
            "Accept": "application/json",
        }

    def token_rejected(self, response: httpx.Response) -> bool:
        """401, or Amazon's 403 "Unauthorized" for an access token it does not take: one that
        expired ("The access token you provided has expired."), one it does not know ("... is
        revoked, malformed or invalid.": issued for another app or account, or by a Login with
        Amazon that forgot it), or none (the hub holds none yet). The hub then refreshes it once and
        sends the request again; a refresh token Amazon refuses too needs the seller to authorise
        the app again. A 403 with no such details is a missing role, which no refresh cures."""
        if response.status_code == 401:
            return True
        if response.status_code != 403:
            return False
        said = pushes.errors_of(response.text).lower()
        if "unauthorized" not in said:
            return False
        if any(words in said for words in TOKEN_REFUSED):
            return True
        return not self.connection.get_secrets().get("access_token")

    def refresh_token(self, secrets: Mapping[str, Any]) -> TokenGrant | None:
        """Login with Amazon: a new access token (an hour) for the seller's refresh token."""
        form = {
            "grant_type": "refresh_token",
            "refresh_token": str(secrets.get("refresh_token") or ""),
            "client_id": str(secrets.get("lwa_client_id") or ""),
            "client_secret": str(secrets.get("lwa_client_secret") or ""),
        }
        try:
            response = self.http.request("POST", self.lwa_url(), data=form, auth={}, bucket="lwa")
        except PermanentError as exc:
            said = exc.body[:300]
            raise PermanentError(
                f"Login with Amazon refused the refresh token ({said}): authorise the app again in "
                "Seller Central and enter the new refresh token.",
                status=exc.status,
                body=exc.body,
            ) from exc
        try:
            body = response.json()
            token = str(body["access_token"])
            expires_in = int(body.get("expires_in") or 3600)
        except (ValueError, KeyError, TypeError) as exc:
            raise TransientError(f"Login with Amazon's answer cannot be read: {exc}") from exc
        fresh = {"access_token": token}
        if body.get("refresh_token"):
            fresh["refresh_token"] = str(body["refresh_token"])
        return TokenGrant(
            secrets=fresh,
            expires_at=timezone.now() + datetime.timedelta(seconds=expires_in),
        )

    def bucket_for(self, method: str, url: str) -> str | None:
        parsed = httpx.URL(url)
        if parsed.host and parsed.host.lower() not in self.hosts():
            return "documents"
        path = parsed.path
        for verb, pattern, operation in _OPERATIONS:
            if verb == method.upper() and pattern.search(path):
                return operation
        return None

    def rate_limit_hint(self, response: httpx.Response) -> RateLimitHint | None:
        """``x-amzn-RateLimit-Limit`` is the operation's rate: after a 429, wait for its next token."""
        try:
            rate = float(response.headers["x-amzn-ratelimit-limit"])
        except (KeyError, ValueError):
            return None
        if response.status_code != 429 or rate <= 0:
            return None
        return RateLimitHint(wait_seconds=1 / rate)

    # --- inbound ---------------------------------------------------------------------------

    def verify_webhook(self, request: WebhookRequest) -> bool:
        """Amazon sends no HTTP webhooks (its notifications go to SQS or EventBridge): none is authentic."""
        return False

    def webhook_events(self, request: WebhookRequest) -> list[WebhookEnvelope]:
        raise ValueError("Amazon sends no HTTP webhooks: orders are polled.")

    def parse_webhook(self, topic: str, headers: Mapping[str, str], body: bytes) -> list[InboundItem]:
        raise ValueError("Amazon sends no HTTP webhooks: orders are polled.")

    def account_id(self) -> str:
        return self.settings.seller_id

    def _get(
        self, path: str, params: Mapping[str, Any] | None = None, auth: Mapping[str, str] | None = None
    ) -> Any:
        return pushes.body_of(self.http.request("GET", self.url(path), params=params, auth=auth))

    def _buyer_auth(self) -> Mapping[str, str] | None:
        """The restricted-data token's headers for getOrders, when the connection reads buyer data."""
        if not self.settings.read_buyer_data or self._rdt_refused:
            return None
        now = timezone.now()
        if self._rdt is None or self._rdt[1] <= now + datetime.timedelta(minutes=5):
            payload = {
                "restrictedResources": [
                    {
                        "method": "GET",
                        "path": "/orders/v0/orders",
                        "dataElements": ["buyerInfo", "shippingAddress"],
                    }
                ]
            }
            try:
                body = pushes.body_of(
                    self.http.request("POST", self.url("tokens/2021-03-01/restrictedDataToken"), json=payload)
                )
            except PermanentError:
                self._rdt_refused = True  # no PII role: orders come redacted, and are tagged so
                return None
            expires = now + datetime.timedelta(seconds=int(body.get("expiresIn") or 3600))
            self._rdt = (str(body["restrictedDataToken"]), expires)
        return {"x-amz-access-token": self._rdt[0], "x-amz-date": now.strftime("%Y%m%dT%H%M%SZ")}

    def order_items(self, order_id: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        token: str | None = None
        while True:
            body = self._get(f"{ORDERS}/{order_id}/orderItems", {"NextToken": token} if token else None) or {}
            payload = body.get("payload") or {}
            items.extend(payload.get("OrderItems") or ())
            token = payload.get("NextToken")
            if not token:
                return items

    def read_order(self, raw: Mapping[str, Any]) -> InboundItem:
        return mapping.order_item(raw, self.order_items(str(raw["AmazonOrderId"])))

    def fetch(self, object_type: str, external_id: str) -> InboundItem:
        if object_type == "order":
            body = self._get(f"{ORDERS}/{external_id}") or {}
            return self.read_order(body.get("payload") or {})
        if object_type == "product":
            listing = pushes.Listings(self.http, self.url, self.settings.seller_id, self.marketplace_id)
            found = listing.get(external_id, "summaries,fulfillmentAvailability")
            return self._product_item(found)
        return super().fetch(object_type, external_id)

    def pull(self, object_type: str, *, since: datetime.datetime | None, page: str | None) -> PullPage:
        if object_type == "order":
            return self._pull_orders(since, page)
        if object_type == "product":
            return self._pull_listings(page)
        return super().pull(object_type, since=since, page=page)

    def _pull_orders(self, since: datetime.datetime | None, page: str | None) -> PullPage:
        """One page of getOrders, each order with its items. When Amazon's limits stop the items
        half-way through the page, the orders read so far are the page, and the next one is the
        same page again without them (``Resume``): a page is never lost, nor read twice."""
        resume = Resume.decode(page) if page and page.startswith(Resume.PREFIX) else None
        token = resume.token if resume is not None else page
        params: dict[str, Any] = {"MarketplaceIds": ",".join(self.settings.marketplace_ids)}
        if token:
            params["NextToken"] = token
        else:
            # The window starts at the hub's cursor: the latest LastUpdateDate Amazon showed, which it
            # shows only two minutes after the change, so the start is never later than two minutes
            # before Amazon's now. Should the clocks disagree and Amazon refuse it, the start is
            # taken two minutes (and half a minute for the clocks' skew) before ours instead.
            start = since if since is not None else timezone.now() - TWO_MINUTES - datetime.timedelta(days=1)
            params["LastUpdatedAfter"] = mapping.iso(start)
            params["MaxResultsPerPage"] = ORDER_PAGE
        try:
            body = self._get(ORDERS, params, auth=self._buyer_auth()) or {}
        except PermanentError as exc:
            latest = timezone.now() - TWO_MINUTES - CLOCK_SKEW
            if token or exc.status != 400 or "LastUpdatedAfter" not in (exc.body or "") or since is None:
                raise
            params["LastUpdatedAfter"] = mapping.iso(min(since, latest))
            body = self._get(ORDERS, params, auth=self._buyer_auth()) or {}
        payload = body.get("payload") or {}
        read = dict(resume.read) if resume is not None else {}
        items: list[InboundItem] = []
        for raw in payload.get("Orders") or ():
            key, updated = str(raw.get("AmazonOrderId")), str(raw.get("LastUpdateDate"))
            if read.get(key) == updated:
                continue  # read before this page was cut short
            try:
                items.append(self.read_order(raw))
            except Throttled:
                if not items:
                    raise  # nothing read: the hub keeps the position it gave
                return PullPage(items=tuple(items), next_page=Resume(token or "", read).encode())
            read[key] = updated
        return PullPage(items=tuple(items), next_page=payload.get("NextToken") or None)

    def _product_item(self, listing: Mapping[str, Any]) -> InboundItem:
        record = mapping.product(listing, self.marketplace_id, timezone.now())
        return InboundItem("product", record.external_id, updated_at=record.updated_at, record=record)

    def _pull_listings(self, page: str | None) -> PullPage:
        params: dict[str, Any] = {
            "marketplaceIds": self.marketplace_id,
            "includedData": "summaries,fulfillmentAvailability",
            "pageSize": LISTING_PAGE,
        }
        if page:
            params["pageToken"] = page
        body = self._get(f"{pushes.LISTINGS}/{self.settings.seller_id}", params) or {}
        listings = [entry for entry in body.get("items") or () if not mapping.fulfilled_by_amazon(entry)]
        items = tuple(self._product_item(entry) for entry in listings)
        return PullPage(items=items, next_page=(body.get("pagination") or {}).get("nextToken") or None)

    # --- outbound --------------------------------------------------------------------------

    def listings(self) -> pushes.Listings:
        return pushes.Listings(self.http, self.url, self.settings.seller_id, self.marketplace_id)

    def stock(self) -> pushes.StockPusher:
        return pushes.StockPusher(self.listings(), self.settings.feed_threshold)

    def push(self, item: OutboundItem, context: PushContext) -> PushResult:
        if isinstance(item, InventoryOut):
            result = self.stock().push([item])[0]
            if isinstance(result, Exception):
                raise result
            return result
        if isinstance(item, FulfilmentOut):
            if item.external_id:
                # confirmShipment of units already confirmed answers 400 (taken as "already
                # confirmed" on a retry): the new tracking would be lost without a word.
                raise PermanentError(
                    f"Amazon takes no change of a confirmed shipment: correct the tracking of "
                    f"shipment {item.shipment_number} (order {item.order_external_id}) in Seller "
                    f"Central (Manage Orders, Edit shipment) to {item.carrier or 'the carrier'} "
                    f"{item.tracking_number or '(no tracking number)'}",
                    status=None,
                )
            shipments = pushes.ShipmentPusher(self.http, self.url, self.marketplace_id)
            return shipments.push(item, context, timezone.now())
        return super().push(item, context)

    def push_batch(self, items: Sequence[tuple[OutboundItem, PushContext]]) -> list[PushResult | Exception]:
        """Stock of a few SKUs as PATCHes, of many as one feed; shipments one by one."""
        results: list[PushResult | Exception] = [PushResult() for _ in items]
        stock = [n for n, (item, _) in enumerate(items) if isinstance(item, InventoryOut)]
        levels = [item for item, _ in items if isinstance(item, InventoryOut)]
        for n, answer in zip(stock, self.stock().push(levels) if levels else [], strict=True):
            results[n] = answer
        for n, (item, context) in enumerate(items):
            if n in stock:
                continue
            try:
                results[n] = self.push(item, context)
            except PermanentError as exc:
                results[n] = exc
        return results

    def job_status(self, job_id: str) -> JobStatus:
        kind, _, feed_id = job_id.partition(":")
        if kind != "feed" or not feed_id:
            raise PermanentError(f"Not an Amazon feed job: {job_id!r}", status=None)
        return self.stock().status(feed_id)

    # --- reconciliation and health ---------------------------------------------------------

    def inventory_snapshot(self, items: list[InventoryOut]) -> dict[str, int | None]:
        """Each SKU's merchant-fulfilled quantity (getListingsItem, fulfillmentAvailability)."""
        listings = self.listings()
        return {item.external_id: listings.quantity(item.external_id or item.sku) for item in items}

    def test(self) -> str:
        """One cheap call: the seller's listings, one of them."""
        body = (
            self._get(
                f"{pushes.LISTINGS}/{self.settings.seller_id}",
                {"marketplaceIds": self.marketplace_id, "pageSize": 1},
            )
            or {}
        )
        count = body.get("numberOfResults", 0)
        return f"Seller {self.settings.seller_id}: {count} listings in {self.marketplace_id}"
