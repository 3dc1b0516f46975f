"""The webhooks the fake Shopify sends on its own, at least once, as Shopify does.

When the shop's state changes (``ShopState._emit``: an order created, updated, fulfilled,
refunded, edited or cancelled, a product updated, an inventory level set) every webhook
subscription of that topic gets a delivery, queued: the payload as it was at that moment,
signed with the app's client secret, with Shopify's headers (X-Shopify-Topic,
-Hmac-Sha256, -Shop-Domain, -API-Version, -Webhook-Id, -Event-Id, -Triggered-At). A
subscription's ``fields`` trims the payload to those keys, as Shopify does.

Nothing is sent until a test says so, deterministically:
``deliver_webhooks(send, now=None)`` sends every queued delivery that is due at ``now``
(the fake's clock by default) through ``send(url, headers, body) -> status``. A 2xx answer
delivers it; anything else (or an exception) is a failed attempt retried on a later call
once its next time has come, on ``retry_schedule``: by default Shopify's current one, 8
retries with exponential backoff over 4 hours (changelog "Updates to webhook retry
mechanism", 2024-09-10); ``LEGACY_RETRY_SCHEDULE`` is the earlier 19 retries over 48 hours.
A retry carries the original body and headers (same X-Shopify-Webhook-Id). When the last
retry fails the subscription is deleted, with whatever else was queued for it.

At-least-once, on purpose: ``duplicate_next(n)`` (the next n deliveries are queued twice,
same webhook id), ``drop_next(n)`` (lost: never sent), ``delay_next(n, seconds)`` and
``delay`` (held back), ``reorder`` (due deliveries go out newest first). ``outbox`` keeps
every delivery with its attempts, for tests to inspect.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
import json
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from integrations.shopify.fake_state import ShopState

Send = Callable[[str, dict[str, str], bytes], int]

_MINUTE = datetime.timedelta(minutes=1)
# Shopify since 2024-09: 8 retries over 4 hours, exponential backoff (the exact intervals are not published).
RETRY_SCHEDULE: tuple[datetime.timedelta, ...] = tuple(m * _MINUTE for m in (1, 2, 4, 8, 16, 32, 64, 113))
# Shopify before 2024-09: 19 retries over 48 hours.
LEGACY_RETRY_SCHEDULE: tuple[datetime.timedelta, ...] = tuple(
    m * _MINUTE for m in (1, 2, 4, 8, 16, 32, 64, 128, *([240] * 10), 225)
)
MAX_FINISHED = 2000  # finished deliveries kept in the outbox (the demo's shop runs for days)


def sign(secret: str, body: bytes) -> str:
    """base64(HMAC-SHA256(secret, body)): Shopify's X-Shopify-Hmac-Sha256."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


@dataclass(frozen=True)
class WebhookAttempt:
    at: datetime.datetime
    status: int | None  # None: the send raised
    error: str = ""


@dataclass
class WebhookDelivery:
    """One delivery of one topic to one subscription; ``state`` queued, delivered, failed,
    dropped (lost on purpose) or cancelled (its subscription was deleted)."""

    seq: int
    subscription_id: int
    address: str
    topic: str
    headers: dict[str, str]
    body: bytes
    due_at: datetime.datetime
    state: str = "queued"
    duplicate: bool = False
    attempts: list[WebhookAttempt] = field(default_factory=list)

    @property
    def webhook_id(self) -> str:
        return self.headers["X-Shopify-Webhook-Id"]

    @property
    def payload(self) -> Any:
        return json.loads(self.body)


class WebhookSender(ShopState):
    """Queues a signed delivery per subscription when the shop changes; sends them when told."""

    client_secret: str
    retry_schedule: tuple[datetime.timedelta, ...] = RETRY_SCHEDULE

    def reset_state(self, *, seed: bool = True) -> None:
        with self._lock:
            self.outbox: list[WebhookDelivery] = []
            self._seq = 0
            self._duplicates = 0
            self._drops = 0
            self._delays: list[list[Any]] = []  # [[count, timedelta]]
            self.reorder = False
            self.delay = 0.0  # seconds every new delivery is held back
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

    # --- faults ------------------------------------------------------------------------------------

    def duplicate_next(self, count: int = 1) -> None:
        """The next ``count`` deliveries are queued twice (the same X-Shopify-Webhook-Id)."""
        with self._lock:
            self._duplicates += count

    def drop_next(self, count: int = 1) -> None:
        """The next ``count`` deliveries are lost: never sent (kept in ``outbox`` as dropped)."""
        with self._lock:
            self._drops += count

    def delay_next(self, count: int = 1, *, seconds: float = 60.0) -> None:
        """The next ``count`` deliveries are due ``seconds`` after they were triggered."""
        with self._lock:
            self._delays.append([count, datetime.timedelta(seconds=seconds)])

    def pending_webhooks(self, topic: str | None = None) -> list[WebhookDelivery]:
        """Queued deliveries (due or not), oldest first."""
        with self._lock:
            return [d for d in self.outbox if d.state == "queued" and topic in (None, d.topic)]

    # --- queueing (called under the lock by every change) ------------------------------------------

    def _emit(self, topic: str, payload: Mapping[str, Any]) -> None:
        with self._lock:
            subscriptions = [w for w in self.webhooks.values() if w["topic"] == topic]
            if not subscriptions:
                return
            moment = self.clock()
            event_id = str(uuid.uuid4())
            for subscription in subscriptions:
                body = dict(payload)
                if subscription.get("fields"):
                    body = {k: v for k, v in body.items() if k in subscription["fields"]}
                headers, raw = self.webhook(
                    topic,
                    body,
                    event_id=event_id,
                    triggered_at=moment,
                    api_version=subscription.get("api_version"),
                )
                if self._drops:
                    self._drops -= 1
                    self._queue(subscription, topic, headers, raw, moment, state="dropped")
                    continue
                due = moment + datetime.timedelta(seconds=self.delay) + self._take_delay()
                self._queue(subscription, topic, headers, raw, due)
                if self._duplicates:
                    self._duplicates -= 1
                    self._queue(subscription, topic, headers, raw, due, duplicate=True)
            self._trim()

    def _take_delay(self) -> datetime.timedelta:
        for entry in self._delays:
            if entry[0] > 0:
                entry[0] -= 1
                delay: datetime.timedelta = entry[1]
                return delay
        return datetime.timedelta(0)

    def _queue(
        self,
        subscription: Mapping[str, Any],
        topic: str,
        headers: dict[str, str],
        body: bytes,
        due: datetime.datetime,
        *,
        state: str = "queued",
        duplicate: bool = False,
    ) -> None:
        self._seq += 1
        self.outbox.append(
            WebhookDelivery(
                seq=self._seq,
                subscription_id=subscription["id"],
                address=subscription["address"],
                topic=topic,
                headers=dict(headers),
                body=body,
                due_at=due,
                state=state,
                duplicate=duplicate,
            )
        )

    def _trim(self) -> None:
        finished = [d for d in self.outbox if d.state != "queued"]
        if len(finished) > MAX_FINISHED:
            gone = {id(d) for d in finished[: len(finished) - MAX_FINISHED]}
            self.outbox = [d for d in self.outbox if id(d) not in gone]

    # --- sending -------------------------------------------------------------------------------------

    def deliver_webhooks(
        self, send: Send, *, now: datetime.datetime | None = None, reorder: bool | None = None
    ) -> list[WebhookDelivery]:
        """Send every queued delivery due at ``now`` once; returns them in the order they were sent.

        ``send(url, headers, body)`` answers the HTTP status. Failures wait for their next
        retry (``retry_schedule``) and go out on a later call; after the last one the
        subscription is deleted. ``reorder`` (default: the ``reorder`` attribute) sends the
        newest first. ``send`` runs outside the shop's lock: what it changes in the shop
        queues new deliveries for a later call.
        """
        with self._lock:
            moment = now or self.clock()
            due = sorted(
                (d for d in self.outbox if d.state == "queued" and d.due_at <= moment), key=lambda d: d.seq
            )
            if self.reorder if reorder is None else reorder:
                due.reverse()
        sent = []
        for delivery in due:
            with self._lock:
                if delivery.state != "queued":  # its subscription was deleted meanwhile
                    continue
            try:
                status: int | None = int(send(delivery.address, dict(delivery.headers), delivery.body))
                error = ""
            except Exception as exc:  # a connection refused, a timeout: a failed attempt
                status, error = None, f"{type(exc).__name__}: {exc}"
            with self._lock:
                self._attempted(delivery, WebhookAttempt(moment, status, error))
            sent.append(delivery)
        return sent

    def _attempted(self, delivery: WebhookDelivery, attempt: WebhookAttempt) -> None:
        delivery.attempts.append(attempt)
        if attempt.status is not None and 200 <= attempt.status < 300:
            delivery.state = "delivered"
            return
        retries_done = len(delivery.attempts) - 1
        if retries_done < len(self.retry_schedule):
            delivery.due_at = attempt.at + self.retry_schedule[retries_done]
            return
        delivery.state = "failed"
        # Shopify deletes a subscription (made through the API) whose deliveries keep failing.
        self.webhooks.pop(delivery.subscription_id, None)
        for other in self.outbox:
            if other.subscription_id == delivery.subscription_id and other.state == "queued":
                other.state = "cancelled"
        self._trim()
