"""The webhooks the fake Shopify sends on its own, at least once, as Shopify does.

The queueing, the retries and the at-least-once faults are ``integrations.fakes.webhooks``'s
``WebhookSender``; this module is Shopify's dialect of it. When the shop's state changes
(``ShopState._emit``: an order created, updated, fulfilled, refunded, edited or cancelled, a
product updated, an inventory level set) every webhook subscription of that topic gets a
delivery: the payload as it was at that moment, signed with the app's client secret, with
Shopify's headers (X-Shopify-Topic, -Hmac-Sha256, -Shop-Domain, -API-Version, -Webhook-Id,
-Event-Id, -Triggered-At). A subscription's ``fields`` trims the payload to those keys, and its
``api_version`` is the delivery's, as Shopify does.

Retries follow ``retry_schedule``: by default Shopify's current one, 8 retries with exponential
backoff over 4 hours (changelog "Updates to webhook retry mechanism", 2024-09-10);
``LEGACY_RETRY_SCHEDULE`` is the earlier 19 retries over 48 hours. A retry carries the original
body and headers (same X-Shopify-Webhook-Id). When the last retry fails the subscription is
deleted, with whatever else was queued for it (``exhaustion = "delete"``).
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
import json
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from integrations.fakes.webhooks import (
    MAX_FINISHED,
    Exhaustion,
    Send,
    WebhookAttempt,
    WebhookDelivery,
    WebhookSender,
)
from integrations.shopify.fake_state import ShopState

__all__ = [
    "LEGACY_RETRY_SCHEDULE",
    "MAX_FINISHED",
    "RETRY_SCHEDULE",
    "Send",
    "ShopifyWebhooks",
    "WebhookAttempt",
    "WebhookDelivery",
    "sign",
]

_MINUTE = datetime.timedelta(minutes=1)
# Shopify since 2024-09: 8 retries over 4 hours, exponential backoff (the exact intervals are not published).
RETRY_SCHEDULE: tuple[datetime.timedelta, ...] = tuple(m * _MINUTE for m in (1, 2, 4, 8, 16, 32, 64, 113))
# Shopify before 2024-09: 19 retries over 48 hours.
LEGACY_RETRY_SCHEDULE: tuple[datetime.timedelta, ...] = tuple(
    m * _MINUTE for m in (1, 2, 4, 8, 16, 32, 64, 128, *([240] * 10), 225)
)


def sign(secret: str, body: bytes) -> str:
    """base64(HMAC-SHA256(secret, body)): Shopify's X-Shopify-Hmac-Sha256."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


class ShopifyWebhooks(WebhookSender, ShopState):
    """Shopify's deliveries: signed, headered and trimmed per subscription; failing ones deleted."""

    client_secret: str
    retry_schedule: tuple[datetime.timedelta, ...] = RETRY_SCHEDULE
    exhaustion: Exhaustion = (
        "delete"  # Shopify deletes a subscription (made through the API) that keeps failing
    )

    def reset_state(self, *, seed: bool = True) -> None:
        self.reset_webhooks()
        super().reset_state(seed=seed)

    # --- one delivery, signed --------------------------------------------------------------------

    def webhook(
        self,
        topic: str,
        payload: Mapping[str, Any] | bytes,
        *,
        webhook_id: str | None = None,
        event_id: str | None = None,
        triggered_at: datetime.datetime | None = None,
        api_version: str | None = None,
        secret: str | None = None,
    ) -> tuple[dict[str, str], bytes]:
        """A delivery of ``topic`` as Shopify sends it: (headers, raw body), signed with the client secret.

        ``payload`` bytes are signed verbatim; a mapping is serialised compactly. Every
        call is a new delivery (fresh X-Shopify-Webhook-Id / X-Shopify-Event-Id) unless ids are given.
        """
        body = payload if isinstance(payload, bytes) else json.dumps(payload, separators=(",", ":")).encode()
        moment = (triggered_at or self.clock()).astimezone(datetime.UTC)
        headers = {
            "Content-Type": "application/json",
            "X-Shopify-Topic": topic,
            "X-Shopify-Hmac-Sha256": sign(secret if secret is not None else self.client_secret, body),
            "X-Shopify-Shop-Domain": self.shop_domain,
            "X-Shopify-API-Version": api_version or self.api_version,
            "X-Shopify-Webhook-Id": webhook_id or str(uuid.uuid4()),
            "X-Shopify-Triggered-At": moment.strftime("%Y-%m-%dT%H:%M:%S.%f") + "000Z",
            "X-Shopify-Event-Id": event_id or str(uuid.uuid4()),
        }
        return headers, body

    def deliveries(self, topic: str, payload: Mapping[str, Any]) -> list[tuple[str, dict[str, str], bytes]]:
        """(address, headers, body) for each webhook subscription of ``topic``; the caller sends them."""
        with self._lock:
            subscribed = [w["address"] for w in self.webhooks.values() if w["topic"] == topic]
        return [(address, *self.webhook(topic, payload)) for address in subscribed]

    # --- the sender's dialect hooks ------------------------------------------------------------------

    def _subscriptions(self, topic: str) -> Iterable[Mapping[str, Any]]:
        return [w for w in self.webhooks.values() if w["topic"] == topic]

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
        body = dict(payload)
        if subscription.get("fields"):
            body = {k: v for k, v in body.items() if k in subscription["fields"]}
        return self.webhook(
            topic,
            body,
            webhook_id=delivery_id,
            event_id=event_id,
            triggered_at=moment,
            api_version=subscription.get("api_version"),
        )

    def _delete_subscription(self, subscription_id: Any) -> None:
        self.webhooks.pop(subscription_id, None)
