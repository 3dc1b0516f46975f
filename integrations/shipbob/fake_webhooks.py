"""The webhooks the fake ShipBob sends on its own, at least once, as ShipBob (2026-01) does.

Subscriptions (``POST /2026-01/webhook`` ``{topics, url, description?, secret?}``) answer
``{"created_at", "description", "id", "secret", "topics", "url"}`` (``webhook_subscribe_response.json``);
without a secret ShipBob makes one: ``whsec_`` + 32 base64 characters. ``GET`` lists them
(``{"items": [{..., "enabled"}], "next", "prev"}``, no secret), ``DELETE /webhook/{id}`` 204.

Deliveries follow Standard Webhooks (``webhook_headers.json``): ``webhook-id`` (``msg_...``, kept by
retries and duplicates), ``webhook-timestamp`` (unix seconds of the attempt), ``webhook-signature``
``v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{raw body}">`` keyed by the base64-decoded part of the
secret after ``whsec_`` (each attempt signed anew), ``x-webhook-topic`` and JSON content. Bodies
are compact JSON: ``order.shipped`` the Order, ``order.shipment.*`` the Shipment. A delivery
answered with anything but 2xx is retried with backoff over about a day (``RETRY_SCHEDULE``),
then the subscription is disabled (``enabled`` false) and what was queued for it cancelled.
Queueing, retries and the at-least-once faults (``duplicate_next``, ``drop_next``,
``delay_next``) are ``integrations.fakes.webhooks``'s ``WebhookSender``.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import hashlib
import hmac
import itertools
import json
import re
import secrets
from collections.abc import Iterable, Mapping
from typing import Any

from integrations.fakes.webhooks import Exhaustion, WebhookDelivery, WebhookSender
from integrations.shipbob import fake_data
from integrations.shipbob.fake_data import (
    TOPICS,
    invalid,
    iso_seconds,
    not_found,
    sample_bytes,
    sample_webhook_headers,
)
from integrations.shipbob.fake_receiving import Receiving

# Standard Webhooks' (Svix's) schedule, trimmed to ShipBob's "up to 24 hours".
RETRY_SCHEDULE: tuple[datetime.timedelta, ...] = tuple(
    datetime.timedelta(seconds=s) for s in (5, 300, 1800, 7200, 18000, 28800, 28800)
)
_SECRET = re.compile(r"^whsec_[a-zA-Z0-9+/]{32}$")


def _key(secret: str) -> bytes:
    raw = secret[len("whsec_") :] if secret.startswith("whsec_") else secret
    try:
        return base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError):
        return raw.encode()


def sign(secret: str, webhook_id: str, timestamp: str, body: bytes) -> str:
    """``webhook-signature``: ``v1,`` + base64(HMAC-SHA256(base64-decoded secret, id.timestamp.body))."""
    message = f"{webhook_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(_key(secret), message, hashlib.sha256).digest()).decode()


def verify(secret: str, headers: Mapping[str, str], body: bytes) -> bool:
    """Whether a delivery's signature holds (any of the space-separated ``v1,`` signatures)."""
    lowered = {k.lower(): v for k, v in headers.items()}
    expected = sign(secret, lowered.get("webhook-id", ""), lowered.get("webhook-timestamp", ""), body)
    return any(hmac.compare_digest(expected, s) for s in lowered.get("webhook-signature", "").split())


def new_secret() -> str:
    """A secret as ShipBob generates one: ``whsec_`` + 32 base64 characters (24 random bytes)."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def sample_webhook() -> tuple[dict[str, str], bytes]:
    """The sample order.shipped delivery: its headers and its exact body bytes."""
    return sample_webhook_headers(), sample_bytes("webhook_order_shipped.json")


def body_bytes(payload: Any) -> bytes:
    """A body as ShipBob serialises it: compact JSON, keys in the Order's own order."""
    return json.dumps(payload, separators=(",", ":")).encode()


class ShipBobWebhooks(WebhookSender, Receiving):
    """ShipBob's subscriptions and signed deliveries."""

    retry_schedule: tuple[datetime.timedelta, ...] = RETRY_SCHEDULE
    exhaustion: Exhaustion = "disable"

    def reset_state(self, *, seed: bool = True) -> None:
        self.reset_webhooks()
        self.subscriptions: dict[str, dict[str, Any]] = {}
        self._subscription_ids = itertools.count(fake_data.FIRST_SUBSCRIPTION_ID)
        super().reset_state(seed=seed)

    # --- subscriptions ------------------------------------------------------------------------------

    def subscribe(
        self,
        topics: Iterable[str],
        url: str,
        *,
        description: str | None = None,
        secret: str | None = None,
    ) -> dict[str, Any]:
        """A subscription as ``POST /webhook`` makes it (its answer, with the secret)."""
        payload = {"topics": list(topics), "url": url, "description": description, "secret": secret}
        return self.create_subscription(payload)

    def create_subscription(self, payload: Any) -> dict[str, Any]:
        """``POST /webhook``: the new subscription, or a 400 ``Problem``."""
        with self._lock:
            if not isinstance(payload, dict):
                raise invalid({"": "A non-empty request body is required."})
            errors: dict[str, str] = {}
            topics = payload.get("topics")
            if not isinstance(topics, list) or not topics:
                errors["topics"] = "The topics field is required."
            else:
                unknown = [t for t in topics if t not in TOPICS]
                if unknown:
                    errors["topics"] = f"Invalid topic(s): {', '.join(map(str, unknown))}."
            url = payload.get("url")
            if not isinstance(url, str) or not re.match(r"^https?://[^\s/]+", url):
                errors["url"] = "The url field is required and must be an absolute URL."
            secret = payload.get("secret")
            if secret is not None and (not isinstance(secret, str) or not _SECRET.match(secret)):
                errors["secret"] = "The secret must be 'whsec_' followed by 32 base64 characters."
            if errors:
                raise invalid(errors)
            subscription: dict[str, Any] = {
                "created_at": iso_seconds(self.clock()),
                "description": payload.get("description"),
                "id": str(next(self._subscription_ids)),
                "secret": secret or new_secret(),
                "topics": list(dict.fromkeys(topics)),  # type: ignore[arg-type]
                "url": url,
            }
            self.subscriptions[subscription["id"]] = subscription
            return dict(subscription)

    def subscription_views(self) -> list[dict[str, Any]]:
        """``GET /webhook``'s items (no secret; ``enabled`` false once deliveries gave up)."""
        with self._lock:
            return [
                {
                    "created_at": s["created_at"],
                    "description": s["description"],
                    "enabled": s["id"] not in self.disabled_subscriptions,
                    "id": s["id"],
                    "topics": list(s["topics"]),
                    "url": s["url"],
                }
                for s in self.subscriptions.values()
            ]

    def delete_subscription(self, subscription_id: str) -> None:
        """``DELETE /webhook/{id}``: gone, with what was queued for it (404 ``Problem`` if unknown)."""
        with self._lock:
            if str(subscription_id) not in self.subscriptions:
                raise not_found()
            self._delete_subscription(str(subscription_id))
            for delivery in self.pending_webhooks():
                if delivery.subscription_id == str(subscription_id):
                    delivery.state = "cancelled"

    # --- the sender's dialect -----------------------------------------------------------------------

    def _subscriptions(self, topic: str) -> Iterable[Mapping[str, Any]]:
        return [
            {"id": s["id"], "address": s["url"]} for s in self.subscriptions.values() if topic in s["topics"]
        ]

    def signed_headers(
        self, topic: str, body: bytes, *, webhook_id: str, at: datetime.datetime, secret: str
    ) -> dict[str, str]:
        """The headers ShipBob sends ``body`` with."""
        timestamp = str(int(at.timestamp()))
        return {
            "Content-Type": "application/json",
            "webhook-id": webhook_id,
            "webhook-timestamp": timestamp,
            "webhook-signature": sign(secret, webhook_id, timestamp, body),
            "x-webhook-topic": topic,
        }

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
        body = body_bytes(dict(payload))
        secret = self.subscriptions[subscription["id"]]["secret"]
        webhook_id = "msg_" + delivery_id.replace("-", "")
        return self.signed_headers(topic, body, webhook_id=webhook_id, at=moment, secret=secret), body

    def _attempt_headers(self, delivery: WebhookDelivery, at: datetime.datetime) -> dict[str, str]:
        subscription = self.subscriptions.get(delivery.subscription_id)
        if subscription is None:
            return dict(delivery.headers)
        return self.signed_headers(
            delivery.topic,
            delivery.body,
            webhook_id=delivery.headers["webhook-id"],
            at=at,
            secret=subscription["secret"],
        )

    def _delete_subscription(self, subscription_id: Any) -> None:
        self.subscriptions.pop(str(subscription_id), None)
        self.disabled_subscriptions.discard(str(subscription_id))
