"""The webhooks the fake HubSpot sends on its own: the app's subscriptions, every portal's events
to the app's one target URL, as JSON arrays of up to 100 events, signed v3 and v1.

An app subscribes to event types (``contact.creation``, ``contact.deletion``, ``contact.merge``,
``contact.propertyChange`` for one property each, the same for companies and deals). Every change
to an object (``fake_objects`` reports each) that a subscription covers becomes one event, in
webhook_events.json's fields: ``eventId``, ``subscriptionId``, ``portalId``, ``appId``,
``occurredAt`` (ms), ``subscriptionType``, ``attemptNumber``, ``objectId`` (int), then
``changeFlag`` (creation, deletion), ``propertyName`` and ``propertyValue`` (propertyChange) or
``primaryObjectId``, ``mergedObjectIds``, ``newObjectId`` and ``numberOfPropertiesMoved`` (merge),
and ``changeSource`` with ``sourceId``: ``INTEGRATION`` and the app id for the API's writes
(HubSpot reports the app's own writes too), ``CRM_UI`` and ``userId:<id>`` for a person's. A
creation is also reported property by property (``property_events_on_creation``, ``fake_objects``).

Events wait in ``events_pending`` until ``deliver_webhooks(send, now=None)``, which cuts them into
requests of at most 100 and sends what is due (``integrations.fakes.webhooks.WebhookSender``). The
headers are webhook_headers.json's: ``X-HubSpot-Signature-v3`` = base64(HMAC-SHA256(client secret,
method + URI + body + timestamp)) with ``X-HubSpot-Request-Timestamp`` (ms), and the v1
``X-HubSpot-Signature`` = hex(SHA-256(client secret + body)) with ``X-HubSpot-Signature-Version:
v1``. A target that answers non-2xx (or nothing) gets the request again on ``RETRY_SCHEDULE`` (ten
retries over about 24 hours [inferred from "up to 10 times over the next 24 hours"]), each attempt
with ``attemptNumber`` one higher in every event and signed anew; then HubSpot gives up on those
events only.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
import json
from collections.abc import Iterable, Mapping
from typing import Any

from integrations.fakes.webhooks import WebhookDelivery, WebhookSender
from integrations.hubspot.fake_data import CLIENT_SECRET, SINGULAR, epoch_ms
from integrations.hubspot.fake_objects import Record, Source

RETRY_SCHEDULE: tuple[datetime.timedelta, ...] = tuple(
    datetime.timedelta(minutes=m) for m in (1, 5, 15, 30, 60, 120, 180, 240, 360, 420)
)
SIGNATURE_TOLERANCE = datetime.timedelta(minutes=5)
MAX_EVENTS = 100
USER_AGENT = "HubSpot Connect 2.0 (http://dev.hubspot.com/) - WebhooksExecutorDaemon-executor"
TRACKED = {  # the properties the app's propertyChange subscriptions follow, per object type
    "contacts": (
        "email",
        "firstname",
        "lastname",
        "phone",
        "company",
        "address",
        "city",
        "state",
        "zip",
        "country",
        "lifecyclestage",
        "hubspot_owner_id",
        "hs_marketable_status",
        "erp_customer_code",
        "erp_tax_id",
        "erp_payment_terms",
    ),
    "companies": (
        "name",
        "domain",
        "phone",
        "address",
        "city",
        "state",
        "zip",
        "country",
        "erp_customer_code",
    ),
    "deals": ("dealname", "amount", "pipeline", "dealstage", "closedate"),
}


def sign_v3(secret: str, method: str, uri: str, body: bytes, timestamp: str) -> str:
    """``X-HubSpot-Signature-v3``: base64 of HMAC-SHA256 of method + URI + body + timestamp."""
    message = method.upper().encode() + uri.encode() + body + timestamp.encode()
    return base64.b64encode(hmac.new(secret.encode(), message, hashlib.sha256).digest()).decode()


def sign_v1(secret: str, body: bytes) -> str:
    """``X-HubSpot-Signature`` (version v1): hex SHA-256 of the client secret followed by the body."""
    return hashlib.sha256(secret.encode() + body).hexdigest()


def verify_v3(
    secret: str, method: str, uri: str, headers: Mapping[str, str], body: bytes, now: datetime.datetime
) -> bool:
    """Whether a delivery's v3 signature holds and its timestamp is under five minutes old."""
    lowered = {k.lower(): v for k, v in headers.items()}
    timestamp = lowered.get("x-hubspot-request-timestamp", "")
    if not timestamp.isdigit():
        return False
    sent = datetime.datetime.fromtimestamp(int(timestamp) / 1000, datetime.UTC)
    if now - sent > SIGNATURE_TOLERANCE:
        return False
    expected = sign_v3(secret, method, uri, body, timestamp)
    return hmac.compare_digest(expected, lowered.get("x-hubspot-signature-v3", ""))


def compact(events: Iterable[Mapping[str, Any]]) -> bytes:
    return json.dumps(list(events), separators=(",", ":")).encode()


class HubSpotWebhooks(WebhookSender):
    """The app's subscriptions, its events and their signed deliveries."""

    retry_schedule = RETRY_SCHEDULE
    portal_id: int
    app_id: int
    client_secret: str

    def reset_webhooks(self) -> None:
        super().reset_webhooks()
        self.target_url: str | None = getattr(self, "target_url", None)
        self.events_pending: list[dict[str, Any]] = []
        self._event_ids = 3816279340  # webhook_events.json's first eventId
        self.subscriptions: list[dict[str, Any]] = []
        for object_type, singular in SINGULAR.items():
            for kind in ("creation", "deletion", "merge"):
                self.subscribe(f"{singular}.{kind}")
            for name in TRACKED[object_type]:
                self.subscribe(f"{singular}.propertyChange", name)

    # --- controls ---------------------------------------------------------------------------------

    def set_target(self, url: str | None) -> None:
        """The app's target URL, where every portal's events go (None: nothing is sent)."""
        with self._lock:
            self.target_url = url

    def subscribe(self, subscription_type: str, property_name: str | None = None) -> int:
        """A subscription of the app (a propertyChange one names its property); its id."""
        with self._lock:
            subscription_id = 25 + len(self.subscriptions)
            self.subscriptions.append(
                {"id": subscription_id, "type": subscription_type, "property": property_name, "active": True}
            )
            return subscription_id

    def pause_subscription(self, subscription_id: int, *, active: bool = False) -> None:
        with self._lock:
            for subscription in self.subscriptions:
                if subscription["id"] == subscription_id:
                    subscription["active"] = active

    def take_events(self, source: str | None = None) -> list[dict[str, Any]]:
        """The events not sent yet (of ``changeSource`` ``source`` only, when given), taken out of
        the queue: for a test that delivers them itself (``signed``)."""
        with self._lock:
            taken = [e for e in self.events_pending if source in (None, e["changeSource"])]
            self.events_pending = [e for e in self.events_pending if e not in taken]
            return taken

    def signed(
        self,
        body: bytes,
        *,
        url: str | None = None,
        secret: str | None = None,
        sent_at: datetime.datetime | None = None,
    ) -> dict[str, str]:
        """The headers HubSpot sends ``body`` to ``url`` (the target) with, signed at ``sent_at``."""
        timestamp = str(epoch_ms(sent_at or self.clock()))
        key = secret or self.client_secret or CLIENT_SECRET
        return {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "X-HubSpot-Request-Timestamp": timestamp,
            "X-HubSpot-Signature-v3": sign_v3(key, "POST", url or self.target_url or "", body, timestamp),
            "X-HubSpot-Signature": sign_v1(key, body),
            "X-HubSpot-Signature-Version": "v1",
            "X-HubSpot-Timeout-Millis": "10000",
        }

    def deliver_webhooks(
        self, send: Any, *, now: datetime.datetime | None = None, reorder: bool | None = None
    ) -> list[WebhookDelivery]:
        """Cut the pending events into requests (at most 100 events each), then send what is due."""
        with self._lock:
            while self.target_url and self.events_pending:
                chunk, self.events_pending = (
                    self.events_pending[:MAX_EVENTS],
                    self.events_pending[MAX_EVENTS:],
                )
                self._emit("events", {"events": chunk})
        return super().deliver_webhooks(send, now=now, reorder=reorder)

    # --- events (called under the lock by every change) -------------------------------------------

    def _notify(self, kind: str, record: Record, source: Source, **fields: Any) -> None:
        subscription_type = f"{SINGULAR[record.object_type]}.{kind}"
        if kind == "propertyChange" and fields.get("propertyName") in ("hs_object_id", "createdate"):
            return
        wanted = fields.get("propertyName") if kind == "propertyChange" else None
        subscription = next(
            (
                s
                for s in self.subscriptions
                if s["active"] and s["type"] == subscription_type and s["property"] == wanted
            ),
            None,
        )
        if subscription is None:
            return
        self._event_ids += 1
        event: dict[str, Any] = {
            "eventId": self._event_ids,
            "subscriptionId": subscription["id"],
            "portalId": self.portal_id,
            "appId": self.app_id,
            "occurredAt": epoch_ms(self.clock()),
            "subscriptionType": subscription_type,
            "attemptNumber": 0,
            "objectId": int(record.id),
            **fields,
            "changeSource": source.type,
            "sourceId": source.id,
        }
        self.events_pending.append(event)

    # --- the sender's dialect ---------------------------------------------------------------------

    def _subscriptions(self, topic: str) -> Iterable[Mapping[str, Any]]:
        return [{"id": "app", "address": self.target_url}] if self.target_url else []

    def _render(
        self,
        subscription: Mapping[str, Any],
        topic: str,
        payload: Mapping[str, Any],
        *,
        delivery_id: str,
        event_id: str,
        moment: datetime.datetime,
    ) -> tuple[dict[str, str], bytes]:
        body = compact(payload["events"])
        return self.signed(body, url=subscription["address"], sent_at=moment), body

    def _attempt_headers(self, delivery: WebhookDelivery, at: datetime.datetime) -> dict[str, str]:
        """Each attempt carries its number in every event, so the body changes and is signed anew."""
        attempt = len(delivery.attempts)
        delivery.body = compact({**event, "attemptNumber": attempt} for event in json.loads(delivery.body))
        return self.signed(delivery.body, url=delivery.address, sent_at=at)

    def _give_up(self, subscription_id: Any, policy: Any) -> None:
        """HubSpot gives up on the request's events only; the target keeps getting new ones."""
        self._failed_in_a_row.pop(subscription_id, None)
