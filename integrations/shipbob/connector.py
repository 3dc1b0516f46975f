"""ShipBob (3PL), API version 2026-01: orders out to be shipped from its fulfilment centres,
shipments back by signed webhooks, and its on-hand per fulfilment centre polled (it owns that stock).

Wire format notes: ``samples/FORMAT.md``, beside the samples.

* ``Authorization: Bearer <token>``: a Personal Access Token (``token``: it never expires), or
  the access token of ShipBob's OAuth 2.0 sign-in (``auth``: "Connect to ShipBob" with the app's
  ``client_id`` and ``client_secret``). ``offline_access`` brings a refresh token: the access token
  lasts an hour and the hub refreshes it before then (``refresh_token``; the refresh token
  rotates, and one unused for 30 days lapses: "Re-authorise"). Every request carries
  ``shipbob_channel_id`` (the connection's channel: writes need it, and on reads it keeps the
  order list to our channel). ``test`` reads ``GET /channel`` and refuses a channel that is
  unknown or cannot write orders.
* Orders out: ``POST /order`` with ``reference_id`` = our key for the order
  (``OrderOut.tool_key``), unique per channel there. A create whose answer was lost is refused
  when repeated (422 "already exists"): the order is found by its reference
  (``GET /order?ReferenceIds=``) and the hub links ours to it (``AlreadyExists``) once ShipBob's
  order says what ours does. ShipBob holds shipments, not orders: a hold here places the order's
  shipments not shipped yet on hold (``POST /shipment:bulkPlaceOnHold``, documented for 2026-01;
  the stock stays committed there) and a release lifts it (``shipment:bulkReleaseHold``, which
  lifts only a merchant's holds). A held order not sent yet is created, then held. An address
  changed here goes to each of the order's shipments not shipped yet
  (``PUT /shipment/{id}:updateAddress``; one that shipped keeps its address, and an order with
  nothing left to ship is refused). ShipBob's API changes no products of an order: an update that
  would is refused (``PermanentError``: a person changes it in ShipBob's dashboard).
  ``OrderCancelOut`` is ``POST /order/{id}:cancel`` (the id found by reference when the hub never
  learned it); a shipped order answers 422: refused with ShipBob's words.
  The shipping method is the connection's mapping of the customer's shipping (kind
  "shipping_method"), else the setting's default.
* Shipments in: Standard Webhooks (``webhook-id``, ``webhook-timestamp``, ``webhook-signature``
  ``v1,<base64>``, several space-separated; HMAC-SHA256 keyed by the base64 part after
  ``whsec_``), refused five minutes after they were sent. ``order.shipped`` carries the Order: each
  shipment that left becomes a ``ShipmentRecord``; one without tracking (ShipBob sends some) is
  read again (``fetch``), and while ShipBob has none yet the event is retried later. Orders of
  other channels of the account are not ours and are ignored, and so is
  ``order.shipment.cancelled`` (the hub cancels through the API; it learns nothing from it).
  The hub also polls our channel's orders whose tracking changed since its cursor
  (``LastTrackingUpdateStartDate``): an ``order.shipped`` ShipBob gave up sending is caught.
* Inventory in: ShipBob sends no inventory webhook; ``GET /inventory-level/locations`` (cursor
  paging by its ``next`` URL) is polled. With fulfilment centres mapped to our warehouses (kind
  "fulfillment_center"), one count per mapped centre; with none mapped, the whole network's
  on-hand per SKU is the connection's warehouse's.
* Inbound stock (``receiving``): a purchase order delivered to a mapped centre's warehouse is a
  warehouse receiving order there, cancelled with the PO; the open ones are polled (poll object
  type "receiving") and what ShipBob stowed comes back as receipts here.
* 150 requests a minute (sliding): ``x-remaining-calls`` and, on a 429, ``x-retry-after``.
"""

from __future__ import annotations

import binascii
import datetime
import hmac
import json
import re
from collections.abc import Mapping
from typing import Any, ClassVar, Literal

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
    TokenGrant,
    WebhookEnvelope,
    WebhookRequest,
)
from integrations.errors import AlreadyExists, PermanentError, TransientError
from integrations.locations import locations_of
from integrations.models import ValueMapping
from integrations.records import (
    InventoryOut,
    OrderCancelOut,
    OrderOut,
    OutboundItem,
    ReceivingCancelOut,
    ReceivingOut,
)
from integrations.shipbob import mapping, receiving
from integrations.shipbob.auth import AUTH_URL, OAUTH, ShipBobSecrets, sign

BASE_URL = "https://api.shipbob.com"
API_VERSION = "2026-01"
RATE_LIMIT = 150  # requests a minute, sliding
SIGNATURE_TOLERANCE_SECONDS = 5 * 60
SHIPPED, SHIPMENT_CANCELLED = "order.shipped", "order.shipment.cancelled"
SHIPMENT, LEVEL, RECEIVING = "shipment", "inventory_level", receiving.RECEIVING
FULFILLMENT_CENTER = "fulfillment_center"  # mapping kind: our warehouse -> a fulfilment centre id
SHIPPING_METHOD = "shipping_method"  # mapping kind: the customer's shipping -> ShipBob's method
INVENTORY_PAGE = 100
ORDER_PAGE = 250  # ShipBob's most orders a page
_EXISTING = re.compile(r"\(order (\d+)\)")


class ShipBobSettings(BaseModel):
    base_url: str = Field(
        BASE_URL, description="Replaces https://api.shipbob.com (the sandbox, a local fake)."
    )
    api_version: Literal["2026-01"] = Field("2026-01", description="ShipBob's dated API version.")
    channel_id: int = Field(description="The ShipBob channel the orders go to (shipbob_channel_id).")
    shipping_method: str = Field(
        "Standard", description="ShipBob's shipping method when the customer's shipping is not mapped."
    )
    partial_orders: bool = Field(
        False, description="send an order once part of it is reserved (else once all of it is)"
    )


@registry.register
class ShipBobConnector(Connector):
    key = "shipbob"
    name = "ShipBob (3PL)"
    capabilities = frozenset(
        {
            Capability.ORDERS_OUT,
            Capability.SHIPMENTS_IN,
            Capability.INVENTORY_IN,
            Capability.RECEIVING_OUT,
            Capability.RECEIPTS_IN,
        }
    )
    tool_owns = frozenset({"inventory"})  # its on-hand in its fulfilment centres is its truth
    settings_schema = ShipBobSettings
    secrets_schema = ShipBobSecrets
    topics = (
        "sales.order_confirmed",
        "sales.order_allocated",
        "sales.order_updated",
        "sales.order_held",
        "sales.order_released",
        "sales.order_cancelled",
        "procurement.po_sent",
        "procurement.po_cancelled",
    )
    # no inventory webhook: the counts are polled; shipments too, where a webhook went missing; and
    # the receiving orders the hub sent, first: what ShipBob stowed is received before a count has it
    poll_object_types = (RECEIVING, LEVEL, SHIPMENT)
    reconcile_object_types = ("inventory",)
    webhook_topics = (SHIPPED, SHIPMENT_CANCELLED)
    api_versions: ClassVar[Mapping[str, datetime.date | None]] = {API_VERSION: None}
    channel_kind = "shipping"
    rate_limit_per_second = RATE_LIMIT / 60
    rate_limit_burst = RATE_LIMIT
    rate_buckets = {"default": Bucket(RATE_LIMIT / 60, RATE_LIMIT)}
    webhook_headers = frozenset({"webhook-id", "webhook-timestamp", "x-webhook-topic"})
    personal_fields = frozenset({"email", "phone_number", "address1", "address2", "full_name"})
    mapping_kinds = (
        MappingKind(
            FULFILLMENT_CENTER,
            "fulfilment centre",
            "warehouse",
            help="Each of our warehouses whose stock a ShipBob fulfilment centre holds; none mapped: "
            "the connection's warehouse is the whole of ShipBob's stock.",
        ),
        MappingKind(
            SHIPPING_METHOD,
            "shipping method",
            "service",
            help="The customer's shipping as ShipBob's shipping method (free text set up in ShipBob, "
            'e.g. "Standard", "Expedited"); unmapped: the connection\'s default.',
        ),
    )

    oauth = OAUTH

    settings: ShipBobSettings

    # --- configuration -------------------------------------------------------------------------

    def base_url(self) -> str:
        return self.settings.base_url.rstrip("/")

    def url(self, path: str) -> str:
        return f"{self.base_url()}/{self.settings.api_version}/{path.lstrip('/')}"

    def hosts(self) -> frozenset[str]:
        """The API's host and ShipBob's sign-in host (its token endpoint takes the client secret)."""
        return super().hosts() | {httpx.URL(AUTH_URL).host}

    def auth_headers(self, secrets: Mapping[str, Any]) -> dict[str, str]:
        """The sign-in's access token when there is one, else the PAT."""
        token = secrets.get("access_token") or secrets.get("token") or ""
        return {"Authorization": f"Bearer {token}", "shipbob_channel_id": str(self.settings.channel_id)}

    def refresh_token(self, secrets: Mapping[str, Any]) -> TokenGrant | None:
        """A new access token (and a new refresh token: it rotates) for the stored refresh token.
        None without one: a PAT never expires."""
        refresh = str(secrets.get("refresh_token") or "")
        if not refresh:
            return None
        data, headers = OAUTH.token_request(
            secrets, {"grant_type": "refresh_token", "refresh_token": refresh}
        )
        try:
            response = self.http.request("POST", OAUTH.token_url, data=data, auth=headers)
        except PermanentError as exc:
            if exc.status not in (400, 401):
                raise
            raise PermanentError(
                f"ShipBob refused the refresh token ({mapping.error_text(exc.body) or exc.status}): it "
                "was used already, lapsed after 30 days unused, or the app was uninstalled. Sign in "
                'again with "Re-authorise" on the connection\'s page.',
                status=exc.status,
                body=exc.body,
            ) from exc
        try:
            return OAUTH.grant(response.json())
        except (ValueError, TypeError, AttributeError) as exc:
            raise TransientError(f"ShipBob's token refresh answer cannot be read: {exc}") from exc

    def rate_limit_hint(self, response: httpx.Response) -> RateLimitHint | None:
        headers = response.headers
        try:
            left = int(headers["x-remaining-calls"])
        except (KeyError, ValueError):
            left = None
        try:
            retry: float | None = float(headers["x-retry-after"])
        except (KeyError, ValueError):
            retry = None
        if left is None and retry is None:
            return None
        used = RATE_LIMIT - left if left is not None else None
        return RateLimitHint(
            wait_seconds=retry if retry is not None else 0.0,
            used=used,
            limit=RATE_LIMIT,
            reset_seconds=retry,
        )

    def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        """One call; a refusal says what ShipBob said."""
        try:
            response = self.http.request(method, self.url(path), **kwargs)
        except PermanentError as exc:
            detail = mapping.error_text(exc.body) or str(exc)
            where = path.split("?")[0]
            raise PermanentError(
                f"ShipBob refused {method} {where}: {detail}", status=exc.status, body=exc.body
            ) from exc
        return response.json() if response.content else None

    # --- inbound -------------------------------------------------------------------------------

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
            expected = sign(secret, message_id, timestamp, request.body).encode()
        except (binascii.Error, ValueError):
            return False
        given = [p.partition(",") for p in request.headers.get("webhook-signature", "").split()]
        return any(
            version == "v1" and hmac.compare_digest(expected, value.encode()) for version, _, value in given
        )

    def webhook_events(self, request: WebhookRequest) -> list[WebhookEnvelope]:
        topic = request.headers.get("x-webhook-topic", "")
        if not topic:
            raise ValueError("Not a ShipBob webhook: no x-webhook-topic header.")
        # One event per delivery: its id is the webhook-id, the same on a retry or a duplicate.
        return [WebhookEnvelope(event_id=request.headers.get("webhook-id", ""), topic=topic)]

    def parse_webhook(self, topic: str, headers: Mapping[str, str], body: bytes) -> list[InboundItem]:
        if topic != SHIPPED:
            return []  # the shipment topics tell the hub nothing it acts on
        try:
            order = json.loads(body)
            channel = (order.get("channel") or {}).get("id")
            if channel is not None and int(channel) != self.settings.channel_id:
                return []  # an order of another channel of the account: not the hub's
            return [
                self._shipment_item(s, order) for s in order["shipments"] if s["status"] == mapping.SHIPPED
            ]
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"Not a ShipBob {topic} body: {exc}") from exc

    def _shipment_item(self, shipment: Mapping[str, Any], order: Mapping[str, Any]) -> InboundItem:
        if not mapping.has_tracking(shipment):
            # ShipBob sends order.shipped before the tracking sometimes: read it again (fetch)
            return InboundItem(SHIPMENT, str(shipment["id"]))
        record = mapping.shipment_record(shipment, order)
        return InboundItem(SHIPMENT, record.external_id, updated_at=record.created_at, record=record)

    def fetch(self, object_type: str, external_id: str) -> InboundItem:
        """A shipment read again (its order.shipped came without tracking): recorded once ShipBob
        has its tracking; until then a ``TransientError``, and the hub retries later."""
        if object_type != SHIPMENT:
            return super().fetch(object_type, external_id)
        found = self._json("GET", f"shipment/{external_id}") or {}
        order = self._json("GET", f"order/{found['order_id']}") or {}
        shipment = next((s for s in order.get("shipments") or () if str(s["id"]) == str(external_id)), found)
        if shipment.get("status") != mapping.SHIPPED:
            raise TransientError(
                f"ShipBob's shipment {external_id} is {shipment.get('status')}, not shipped."
            )
        if not mapping.has_tracking(shipment):
            raise TransientError(f"ShipBob has no tracking for shipment {external_id} yet.")
        return self._shipment_item(shipment, order)

    def _mapped_centres(self) -> set[str] | None:
        """The fulfilment centres the connection maps to our warehouses (None: it maps none)."""
        mapped = set(locations_of(self.connection).values())
        return mapped or None

    def _levels(self, page: str | None) -> dict[str, Any]:
        if page:
            return dict(self.http.request("GET", f"{self.base_url()}{page}").json())
        return dict(self._json("GET", "inventory-level/locations", params={"PageSize": INVENTORY_PAGE}) or {})

    def _shipments_page(self, since: datetime.datetime | None, page: str | None) -> PullPage:
        """Our channel's orders whose tracking changed since ``since``, oldest first: each shipment
        that left with its tracking (what an ``order.shipped`` ShipBob gave up on would have said)."""
        number = int(page or 1)
        params: dict[str, Any] = {"Page": number, "Limit": ORDER_PAGE, "SortOrder": "Oldest"}
        if since is not None:
            params["LastTrackingUpdateStartDate"] = since.astimezone(datetime.UTC).isoformat()
        response = self.http.request("GET", self.url("order"), params=params)
        orders = response.json() if response.content else []
        items = tuple(
            self._shipment_item(shipment, order)
            for order in orders
            if int((order.get("channel") or {}).get("id") or self.settings.channel_id)
            == self.settings.channel_id
            for shipment in order.get("shipments") or ()
            if shipment.get("status") == mapping.SHIPPED and mapping.has_tracking(shipment)
        )
        more = "next-page" in response.headers or number < int(response.headers.get("total-pages") or 0)
        return PullPage(items, str(number + 1) if more else None)

    def pull(self, object_type: str, *, since: datetime.datetime | None, page: str | None) -> PullPage:
        """Shipments since the cursor (``_shipments_page``); or one page of the levels per
        fulfilment centre (ShipBob filters them by no date: every page is read each time; the
        counts are as of the reading)."""
        if object_type == SHIPMENT:
            return self._shipments_page(since, page)
        if object_type == RECEIVING:
            return receiving.pull(self, page)
        if object_type != LEVEL:
            return super().pull(object_type, since=since, page=page)
        if page and not page.startswith(f"/{self.settings.api_version}/"):
            raise PermanentError(f"Not a page of ShipBob's inventory levels: {page!r}")
        body = self._levels(page)
        counted_at = datetime.datetime.now(datetime.UTC)
        centres = self._mapped_centres()
        items = tuple(
            InboundItem(
                LEVEL, f"{record.location_external_id}|{record.sku}", updated_at=counted_at, record=record
            )
            for raw in body.get("items") or ()
            for record in mapping.level_records(raw, locations=centres, counted_at=counted_at)
        )
        next_page = body.get("next")
        return PullPage(items, str(next_page) if next_page else None)

    def inventory_snapshot(self, items: list[InventoryOut]) -> dict[str, int | None]:
        """What is fulfillable per SKU: at the item's fulfilment centre (``location_id``), else at
        the mapped centres, else across the network. None: ShipBob has no such product."""
        centres = self._mapped_centres()
        by_centre: dict[tuple[str, str], int] = {}
        page: str | None = None
        while True:
            body = self._levels(page)
            for raw in body.get("items") or ():
                sku = str(raw.get("sku") or "").casefold()
                for level in raw.get("locations") or ():
                    key = (sku, str(level["location_id"]))
                    by_centre[key] = by_centre.get(key, 0) + int(level.get("fulfillable_quantity") or 0)
            page = str(body["next"]) if body.get("next") else None
            if page is None:
                break
        result: dict[str, int | None] = {}
        for item in items:
            sku = (item.sku or item.external_id).casefold()
            wanted = {item.location_id} if item.location_id else centres
            found = [q for (s, c), q in by_centre.items() if s == sku and (wanted is None or c in wanted)]
            result[item.external_id] = sum(found) if found else None
        return result

    # --- outbound ------------------------------------------------------------------------------

    def _shipping_method(self, item: OrderOut) -> str:
        if item.service:
            found = (
                ValueMapping.objects.filter(
                    connection=self.connection, kind=SHIPPING_METHOD, our_value=item.service
                )
                .values_list("tool_value", flat=True)
                .first()
            )
            if found and found.strip():
                return found.strip()
        return self.settings.shipping_method

    def _body(self, item: OrderOut) -> dict[str, Any]:
        return mapping.order_body(item, shipping_method=self._shipping_method(item))

    def push(self, item: OutboundItem, context: PushContext) -> PushResult:
        if isinstance(item, ReceivingOut | ReceivingCancelOut):
            centres = next(k for k in self.mapping_kinds if k.key == FULFILLMENT_CENTER)
            return receiving.push(self, item, centres)
        if isinstance(item, OrderCancelOut):
            return self._cancel(item)
        if isinstance(item, OrderOut):
            body = self._body(item)
            if item.external_id:
                return self._update(item, item.external_id, body)
            return self._create(item, body)
        return super().push(item, context)

    def _create(self, item: OrderOut, body: dict[str, Any]) -> PushResult:
        try:
            answer = self._json("POST", "order", json=body) or {}
        except PermanentError as error:
            existing = self._existing_id(error, item.tool_key)
            if existing is None:
                raise
        else:
            order_id = str(answer["id"])
            held = self._hold_as(item, order_id, answer) if item.on_hold else ""
            return PushResult(
                external_id=order_id, detail=f"{item.reference}: {held or answer.get('status')}"
            )
        # ShipBob has the order already (an earlier attempt whose answer was lost). The hub links ours
        # to it and records this item as what ShipBob has: make it so first (a hold that went out as
        # this create is not lost), or refuse when ShipBob's order cannot become what ours is.
        self._bring_up_to_date(item, existing, body)
        raise AlreadyExists(
            f"ShipBob has {item.reference} already as order {existing}.", external_id=existing
        )

    def _update(self, item: OrderOut, order_id: str, body: dict[str, Any]) -> PushResult:
        detail = self._bring_up_to_date(item, order_id, body)
        return PushResult(external_id=order_id, detail=f"{item.reference}: {detail}")

    def _bring_up_to_date(self, item: OrderOut, order_id: str, body: dict[str, Any]) -> str:
        """Make ShipBob's order what ``item`` says: its address (on the shipments not shipped yet),
        held or released. Its products cannot be changed through ShipBob's API: a difference there
        is refused (a person changes it in ShipBob's dashboard)."""
        order = self._json("GET", f"order/{order_id}") or {}
        if order.get("status") == mapping.CANCELLED:
            raise PermanentError(f"ShipBob's order {order_id} of {item.reference} is cancelled there.")
        changed = mapping.differences(order, body)
        if "its products" in changed:
            raise PermanentError(
                f"ShipBob's order {order_id} of {item.reference} differs in its products, which "
                "ShipBob's API cannot change: change them in ShipBob's dashboard."
            )
        done = [self._move(item, order_id, order, body)] if "its address" in changed else []
        done.append(self._hold_as(item, order_id, order))
        return ", ".join(d for d in done if d) or "ShipBob has it as it is"

    def _move(self, item: OrderOut, order_id: str, order: Mapping[str, Any], body: dict[str, Any]) -> str:
        """Send our address to each shipment not shipped yet (``shipment/{id}:updateAddress``); a
        shipment that left keeps the address it went to. An order with nothing left to ship is
        refused: ShipBob can no longer change where it goes."""
        moved = mapping.moved_shipments(order, body)
        if not moved:
            gone = ", ".join(
                f"shipment {s.get('id')} {s.get('status')}" for s in order.get("shipments") or ()
            )
            raise PermanentError(
                f"ShipBob's order {order_id} of {item.reference} ships to another address, and it has "
                f"no shipment left to send it to ({gone or order.get('status')}): the new address "
                "cannot reach ShipBob."
            )
        update = mapping.address_update(body["recipient"])
        for shipment in moved:
            answer = self._json("PUT", f"shipment/{shipment['id']}:updateAddress", json=update) or {}
            if answer.get("is_success") is False:
                why = (answer.get("error") or {}).get("message") or "refused"
                raise PermanentError(
                    f"ShipBob refused the new address of shipment {shipment['id']} of order {order_id} "
                    f"({item.reference}): {why}"
                )
        ids = ", ".join(str(s["id"]) for s in moved)
        return f"address changed on shipment{'s' if len(moved) > 1 else ''} {ids}"

    def _hold_as(self, item: OrderOut, order_id: str, order: Mapping[str, Any]) -> str:
        """Hold (or release) the order's shipments not shipped yet, as ``item`` is; what was done ("":
        nothing to do). ShipBob holds shipments, not orders (``shipment:bulkPlaceOnHold``, committed
        stock kept; ``shipment:bulkReleaseHold`` lifts only holds a merchant placed)."""
        waiting = [s for s in order.get("shipments") or () if s.get("status") in mapping.OPEN]
        if item.on_hold:
            if not waiting:
                raise PermanentError(
                    f"ShipBob's order {order_id} of {item.reference} has nothing left to hold "
                    f"(it is {order.get('status')})."
                )
            ids = [s["id"] for s in waiting if s.get("status") != mapping.ON_HOLD]
            if ids:
                self._bulk("shipment:bulkPlaceOnHold", ids, item, order_id)
            return "held"
        ids = [s["id"] for s in waiting if s.get("status") == mapping.ON_HOLD]
        if not ids:
            return ""
        self._bulk("shipment:bulkReleaseHold", ids, item, order_id)
        return "released"

    def _bulk(self, action: str, shipment_ids: list[Any], item: OrderOut, order_id: str) -> None:
        answer = self._json("POST", action, json={"shipment_ids": shipment_ids}) or {}
        failed = [r for r in answer.get("results") or () if not r.get("is_success")]
        if failed:
            reasons = "; ".join(
                f"shipment {r.get('id')}: {(r.get('error') or {}).get('message') or 'refused'}"
                for r in failed
            )
            what = action.partition(":")[2]
            raise PermanentError(
                f"ShipBob refused {what} for order {order_id} of {item.reference}: {reasons}"
            )

    def _existing_id(self, error: PermanentError, reference: str) -> str | None:
        """ShipBob's id of the order a 422 says has our reference_id already; None for another error."""
        if error.status != 422 or "already exists" not in mapping.error_text(error.body):
            return None
        found = _EXISTING.search(mapping.error_text(error.body))
        return found.group(1) if found else (self._order_id(reference) or None)

    def _order_id(self, reference: str) -> str:
        """ShipBob's id of the order with our reference in our channel ("": none)."""
        orders = self._json("GET", "order", params={"ReferenceIds": reference}) or []
        return next((str(o["id"]) for o in orders if str(o.get("reference_id")) == reference), "")

    def _cancel(self, item: OrderCancelOut) -> PushResult:
        order_id = item.external_id or self._order_id(item.tool_key)
        if not order_id:
            return PushResult(detail=f"{item.reference}: ShipBob never had it, nothing to cancel")
        try:
            answer = self._json("POST", f"order/{order_id}:cancel") or {}
        except PermanentError as error:
            if error.status == 422 and "already cancelled" in mapping.error_text(error.body):
                return PushResult(external_id=order_id, detail=f"{item.reference}: cancelled already")
            raise
        return PushResult(
            external_id=order_id, detail=f"{item.reference}: {answer.get('status', 'cancelled')}"
        )

    # --- mappings, webhooks and health ----------------------------------------------------------

    def mapping_choices(self, kind: str) -> list[tuple[str, str]]:
        """The fulfilment centres the account stocks (as its inventory levels name them)."""
        if kind != FULFILLMENT_CENTER:
            return super().mapping_choices(kind)
        centres: dict[str, str] = {}
        page: str | None = None
        while True:
            body = self._levels(page)
            for raw in body.get("items") or ():
                for level in raw.get("locations") or ():
                    centres.setdefault(
                        str(level["location_id"]), str(level.get("name") or level["location_id"])
                    )
            page = str(body["next"]) if body.get("next") else None
            if page is None:
                break
        return sorted(centres.items(), key=lambda c: c[1])

    def list_webhooks(self) -> list[str]:
        """The topics of the enabled subscriptions."""
        body = self._json("GET", "webhook") or {}
        return sorted(
            {str(t) for s in body.get("items") or () if s.get("enabled", True) for t in s.get("topics") or ()}
        )

    def register_webhook(self, topic: str, address: str) -> None:
        payload = {
            "topics": [topic],
            "url": address,
            "description": f"ERP {topic} ({self.connection.name})"[:100],
            "secret": str(self.connection.get_secrets().get("webhook_secret") or "") or None,
        }
        self._json("POST", "webhook", json=payload)

    def test(self) -> str:
        body = self._json("GET", "channel") or {}
        channel = next((c for c in body.get("items") or () if c.get("id") == self.settings.channel_id), None)
        if channel is None:
            raise PermanentError(f"ShipBob has no channel {self.settings.channel_id} for this token.")
        if "orders_write" not in (channel.get("scopes") or ()):
            raise PermanentError(
                f"ShipBob's channel {channel.get('name')} ({self.settings.channel_id}) cannot write orders."
            )
        return str(channel.get("name") or channel["id"])
