"""The webhooks the fake BigCommerce sends on its own, at least once, as BigCommerce does.

The queueing, retries and at-least-once faults are ``integrations.fakes.webhooks``'s
``WebhookSender``; this is BigCommerce's dialect of it. Every change of the store
(``StoreState._event``) is one thin event: ``{"created_at", "store_id", "producer", "scope",
"hash", "data"}``, compact JSON, the order never inside it. Each active hook (``/v3/hooks``)
whose ``scope`` matches (``store/order/*`` matches every order scope) gets a delivery of it:

* Standard Webhooks headers: ``webhook-id`` (kept by retries and duplicates),
  ``webhook-timestamp`` (the attempt's, unix seconds) and ``webhook-signature: v1,<base64>``
  = HMAC-SHA256 keyed with the app's client secret over ``id.timestamp.body``; each attempt
  is signed anew with its own timestamp;
* the hook's custom ``headers``, verbatim.

The event's ``hash`` is the same for every delivery and duplicate of one event (BigCommerce:
"if a hook fires twice for the same event, both request bodies rely on the same hash").
A delivery that keeps failing is retried with increasing intervals over about 48 hours
(``RETRY_SCHEDULE``), then the hook is deactivated: ``is_active`` false in ``/v3/hooks``, nothing
more sent to it until it is updated with ``is_active: true``.
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

from integrations.bigcommerce.fake_data import sample_bytes, sample_webhook_headers
from integrations.bigcommerce.fake_orders import OrderChanges
from integrations.fakes.webhooks import Exhaustion, WebhookDelivery, WebhookSender

_MINUTE = datetime.timedelta(minutes=1)
# Increasing intervals over about 48 hours (BigCommerce documents the span, not each interval).
RETRY_SCHEDULE: tuple[datetime.timedelta, ...] = tuple(
    m * _MINUTE for m in (1, 3, 3, 20, 60, 180, 360, 720, 1440)
)


def sign(secret: str, webhook_id: str, timestamp: str, body: bytes) -> str:
    """Standard Webhooks' ``webhook-signature``: ``v1,`` + base64(HMAC-SHA256(secret, id.timestamp.body))."""
    message = f"{webhook_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(secret.encode(), message, hashlib.sha256).digest()).decode()


def verify(secret: str, headers: Mapping[str, str], body: bytes) -> bool:
    """Whether a delivery's Standard Webhooks signature holds (what a receiver checks)."""
    lowered = {k.lower(): v for k, v in headers.items()}
    expected = sign(secret, lowered.get("webhook-id", ""), lowered.get("webhook-timestamp", ""), body)
    given = lowered.get("webhook-signature", "").split()
    return any(hmac.compare_digest(expected, signature) for signature in given)


def sample_webhook() -> tuple[dict[str, str], bytes]:
    """The sample store/order/created delivery: its headers and its exact body bytes."""
    return sample_webhook_headers(), sample_bytes("webhook_store_order_created.json")


def scope_matches(hook_scope: str, scope: str) -> bool:
    if hook_scope.endswith("/*"):
        return scope.startswith(hook_scope[:-1])
    return hook_scope == scope


class BigCommerceWebhooks(WebhookSender, OrderChanges):
    """BigCommerce's deliveries: thin, signed per Standard Webhooks, custom headers; hooks deactivated."""

    client_id: str
    client_secret: str
    retry_schedule: tuple[datetime.timedelta, ...] = RETRY_SCHEDULE
    exhaustion: Exhaustion = "disable"

    def reset_state(self, *, seed: bool = True) -> None:
        self.reset_webhooks()
        super().reset_state(seed=seed)

    # --- one delivery ------------------------------------------------------------------------------

    def webhook(
        self,
        body: bytes,
        *,
        webhook_id: str | None = None,
        at: datetime.datetime | None = None,
        headers: Mapping[str, str] | None = None,
        secret: str | None = None,
    ) -> dict[str, str]:
        """The headers BigCommerce sends ``body`` with: Standard Webhooks, then the hook's own headers."""
        timestamp = str(int((at or self.clock()).timestamp()))
        webhook_id = webhook_id or f"msg_{uuid.uuid4()}"
        signed = {
            "Content-Type": "application/json",
            "webhook-id": webhook_id,
            "webhook-timestamp": timestamp,
            "webhook-signature": sign(
                secret if secret is not None else self.client_secret, webhook_id, timestamp, body
            ),
        }
        return {**signed, **dict(headers or {})}

    def event_body(
        self, scope: str, data: Mapping[str, Any], *, at: datetime.datetime | None = None
    ) -> bytes:
        """A thin payload as BigCommerce serialises it (compact, the samples' key order)."""
        created_at = int((at or self.clock()).timestamp())
        digest = hashlib.sha1(f"{scope}:{json.dumps(dict(data))}:{uuid.uuid4()}".encode()).hexdigest()
        payload = {
            "created_at": created_at,
            "store_id": self.store_id,
            "producer": f"stores/{self.store_hash}",
            "scope": scope,
            "hash": digest,
            "data": dict(data),
        }
        return json.dumps(payload, separators=(",", ":")).encode()

    def _emit(self, topic: str, payload: Mapping[str, Any]) -> None:
        # One body (one hash) per event, shared by every hook it goes to.
        body = self.event_body(topic, payload["data"])
        WebhookSender._emit(self, topic, {"body": body})

    # --- the sender's dialect ----------------------------------------------------------------------

    def _subscriptions(self, topic: str) -> Iterable[Mapping[str, Any]]:
        return [
            {"id": hook["id"], "address": hook["destination"]}
            for hook in self.hooks.values()
            if hook["is_active"] and scope_matches(hook["scope"], topic)
        ]

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
        hook = self.hooks[subscription["id"]]
        body: bytes = payload["body"]
        return self.webhook(
            body, webhook_id=f"msg_{delivery_id}", at=moment, headers=hook.get("headers")
        ), body

    def _attempt_headers(self, delivery: WebhookDelivery, at: datetime.datetime) -> dict[str, str]:
        hook = self.hooks.get(delivery.subscription_id) or {}
        return self.webhook(
            delivery.body, webhook_id=delivery.headers["webhook-id"], at=at, headers=hook.get("headers")
        )

    def _give_up(self, subscription_id: Any, policy: Exhaustion) -> None:
        super()._give_up(subscription_id, policy)
        hook = self.hooks.get(subscription_id)
        if hook is not None:
            hook["is_active"] = False
            hook["updated_at"] = int(self.clock().timestamp())

    def _delete_subscription(self, subscription_id: Any) -> None:
        self.hooks.pop(subscription_id, None)

    # --- hooks (/v3/hooks) -----------------------------------------------------------------------

    def create_hook(
        self,
        scope: str,
        destination: str,
        *,
        is_active: bool = True,
        headers: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        """A hook as ``POST /v3/hooks`` creates it (the app's own client id)."""
        with self._lock:
            now = int(self.clock().timestamp())
            hook_id = next(self._hook_ids)
            hook: dict[str, Any] = {
                "id": hook_id,
                "client_id": self.client_id,
                "store_hash": self.store_hash,
                "scope": scope,
                "destination": destination,
                "headers": dict(headers) if headers else None,
                "is_active": bool(is_active),
                "created_at": now,
                "updated_at": now,
            }
            self.hooks[hook_id] = hook
            return dict(hook)

    def update_hook(self, hook_id: int, changes: Mapping[str, Any]) -> dict[str, Any]:
        with self._lock:
            hook = self.hooks[hook_id]
            for key in ("scope", "destination", "is_active", "headers"):
                if key in changes:
                    hook[key] = changes[key]
            if hook["is_active"]:
                self.enable_subscription(hook_id)
            hook["updated_at"] = int(self.clock().timestamp())
            return dict(hook)

    def deactivate_hook(self, hook_id: int) -> None:
        """BigCommerce deactivated a hook (after failed deliveries, or 90 days without events)."""
        with self._lock:
            self._give_up(hook_id, "disable")
