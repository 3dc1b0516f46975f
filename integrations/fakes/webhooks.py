"""The webhooks a fake sends on its own when its state changes, at least once, as its tool does.

``WebhookSender`` is a mixin for a fake that holds ``_lock`` (an ``RLock``) and ``clock``. When
the fake's state changes it calls ``_emit(topic, payload)``: every active subscription of the
topic gets a delivery, queued in ``outbox`` (the payload as it was at that moment). The tool
supplies its dialect by overriding:

* ``_subscriptions(topic)``: the subscriptions of a topic (mappings with ``id`` and
  ``address``; whatever else the tool keeps, e.g. Shopify's ``fields`` and ``api_version``);
* ``_render(subscription, topic, payload, delivery_id=, event_id=, moment=)``: the delivery's
  headers and body bytes, signed and headered as the tool does, carrying ``delivery_id`` where
  the tool puts its delivery id (Shopify's X-Shopify-Webhook-Id, Standard Webhooks'
  ``webhook-id``);
* ``_attempt_headers(delivery, at)``: the headers of one attempt (default: the first
  attempt's, as Shopify resends them; a tool that signs each attempt anew re-signs here);
* ``_delete_subscription(subscription_id)``: when ``exhaustion`` is ``"delete"`` (Shopify).

Nothing is sent until a test (or the simulated day) says so, deterministically:
``deliver_webhooks(send, now=None, reorder=None)`` sends every queued delivery that is due at
``now`` (the fake's clock by default) through ``send(url, headers, body) -> status``. A 2xx
answer delivers it; anything else (or an exception) is a failed attempt, retried on a later call
once its next time has come on ``retry_schedule`` (the intervals after the first attempt). A
retry keeps the delivery's id. What happens when the retries run out is ``exhaustion``:

* ``"delete"``: the subscription is deleted (``_delete_subscription``), as Shopify does;
* ``"disable"``: the subscription is disabled (no new deliveries until ``enable_subscription``).

Either way what else was queued for it is cancelled. ``disable_after = N`` also disables a
subscription after N failed attempts in a row (any of its deliveries; a success resets the
count), as tools that watch an endpoint's health do.

At-least-once, on purpose: ``duplicate_next(n)`` (the next n deliveries are queued twice, the
same delivery id), ``drop_next(n)`` (lost: never sent), ``delay_next(n, seconds=)`` and
``delay`` (held back), ``reorder`` (due deliveries go out newest first). ``outbox`` keeps every
delivery with its attempts (the last ``MAX_FINISHED`` finished ones) for tests to inspect.
"""

from __future__ import annotations

import datetime
import json
import threading
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

Send = Callable[[str, dict[str, str], bytes], int]
Exhaustion = Literal["delete", "disable"]
MAX_FINISHED = 2000  # finished deliveries kept in the outbox (a fake may run for days)


@dataclass(frozen=True)
class WebhookAttempt:
    at: datetime.datetime
    status: int | None  # None: the send raised
    error: str = ""


@dataclass
class WebhookDelivery:
    """One delivery of one topic to one subscription; ``state`` queued, delivered, failed,
    dropped (lost on purpose) or cancelled (its subscription was deleted or disabled)."""

    seq: int
    subscription_id: Any
    address: str
    topic: str
    headers: dict[str, str]
    body: bytes
    due_at: datetime.datetime
    delivery_id: str = ""
    event_id: str = ""
    state: str = "queued"
    duplicate: bool = False
    attempts: list[WebhookAttempt] = field(default_factory=list)

    @property
    def webhook_id(self) -> str:
        """The tool's id of this delivery (shared by its duplicates and kept by its retries)."""
        return self.delivery_id

    @property
    def payload(self) -> Any:
        return json.loads(self.body)


class WebhookSender:
    """Queues a delivery per subscription when the fake's state changes; sends them when told."""

    clock: Callable[[], datetime.datetime]
    _lock: threading.RLock
    retry_schedule: tuple[datetime.timedelta, ...] = ()
    exhaustion: Exhaustion = "disable"
    disable_after: int | None = None

    def reset_webhooks(self) -> None:
        """Forget every delivery, the planned faults and the disabled subscriptions."""
        with self._lock:
            self.outbox: list[WebhookDelivery] = []
            self._seq = 0
            self._duplicates = 0
            self._drops = 0
            self._delays: list[list[Any]] = []  # [[count, timedelta]]
            self.reorder = False
            self.delay = 0.0  # seconds every new delivery is held back
            self.disabled_subscriptions: set[Any] = set()
            self._failed_in_a_row: dict[Any, int] = {}

    # --- the tool's dialect ---------------------------------------------------------------------

    def _subscriptions(self, topic: str) -> Iterable[Mapping[str, Any]]:
        """The subscriptions of ``topic`` (each with ``id`` and ``address``)."""
        raise NotImplementedError(f"{type(self).__name__} must say who subscribes to {topic!r}")

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
        """The delivery's (headers, body) as the tool sends it."""
        raise NotImplementedError(f"{type(self).__name__} must render its {topic!r} deliveries")

    def _attempt_headers(self, delivery: WebhookDelivery, at: datetime.datetime) -> dict[str, str]:
        """The headers of one attempt of ``delivery`` (by default the same every time)."""
        return dict(delivery.headers)

    def _delete_subscription(self, subscription_id: Any) -> None:
        """Delete a subscription for good (``exhaustion = "delete"``)."""
        raise NotImplementedError(f"{type(self).__name__} does not delete subscriptions")

    # --- faults ---------------------------------------------------------------------------------

    def duplicate_next(self, count: int = 1) -> None:
        """The next ``count`` deliveries are queued twice (the same delivery id)."""
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

    def enable_subscription(self, subscription_id: Any) -> None:
        """A disabled subscription gets deliveries again (the merchant re-enabled it)."""
        with self._lock:
            self.disabled_subscriptions.discard(subscription_id)
            self._failed_in_a_row.pop(subscription_id, None)

    def pending_webhooks(self, topic: str | None = None) -> list[WebhookDelivery]:
        """Queued deliveries (due or not), oldest first."""
        with self._lock:
            return [d for d in self.outbox if d.state == "queued" and topic in (None, d.topic)]

    # --- queueing (called under the lock by every change) -------------------------------------

    def _emit(self, topic: str, payload: Mapping[str, Any]) -> None:
        """Something ``topic`` reports happened: queue a delivery for each active subscription."""
        with self._lock:
            subscriptions = [
                s for s in self._subscriptions(topic) if s["id"] not in self.disabled_subscriptions
            ]
            if not subscriptions:
                return
            moment = self.clock()
            event_id = str(uuid.uuid4())
            for subscription in subscriptions:
                delivery_id = str(uuid.uuid4())
                headers, body = self._render(
                    subscription, topic, payload, delivery_id=delivery_id, event_id=event_id, moment=moment
                )
                dropped = self._drops > 0
                copies = 1
                if dropped:
                    self._drops -= 1
                    due = moment
                else:
                    due = moment + datetime.timedelta(seconds=self.delay) + self._take_delay()
                    if self._duplicates:
                        self._duplicates -= 1
                        copies = 2
                for copy in range(copies):
                    self._queue(
                        subscription,
                        topic,
                        headers,
                        body,
                        due,
                        delivery_id=delivery_id,
                        event_id=event_id,
                        state="dropped" if dropped else "queued",
                        duplicate=copy > 0,
                    )
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
        delivery_id: str,
        event_id: str,
        state: str = "queued",
        duplicate: bool = False,
    ) -> WebhookDelivery:
        self._seq += 1
        delivery = WebhookDelivery(
            seq=self._seq,
            subscription_id=subscription["id"],
            address=subscription["address"],
            topic=topic,
            headers=dict(headers),
            body=body,
            due_at=due,
            delivery_id=delivery_id,
            event_id=event_id,
            state=state,
            duplicate=duplicate,
        )
        self.outbox.append(delivery)
        return delivery

    def _trim(self) -> None:
        finished = [d for d in self.outbox if d.state != "queued"]
        if len(finished) > MAX_FINISHED:
            gone = {id(d) for d in finished[: len(finished) - MAX_FINISHED]}
            self.outbox = [d for d in self.outbox if id(d) not in gone]

    # --- sending ----------------------------------------------------------------------------------

    def deliver_webhooks(
        self, send: Send, *, now: datetime.datetime | None = None, reorder: bool | None = None
    ) -> list[WebhookDelivery]:
        """Send every queued delivery due at ``now`` once; returns them in the order they were sent.

        ``send(url, headers, body)`` answers the HTTP status. Failures wait for their next retry
        (``retry_schedule``) and go out on a later call; after the last one ``exhaustion``
        applies. ``reorder`` (default: the ``reorder`` attribute) sends the newest first.
        ``send`` runs outside the fake's lock: what it changes in the fake queues new
        deliveries for a later call.
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
                if delivery.state != "queued":  # its subscription went away meanwhile
                    continue
                headers = self._attempt_headers(delivery, moment)
            try:
                status: int | None = int(send(delivery.address, headers, delivery.body))
                error = ""
            except Exception as exc:  # a connection refused, a timeout: a failed attempt
                status, error = None, f"{type(exc).__name__}: {exc}"
            with self._lock:
                self._attempted(delivery, WebhookAttempt(moment, status, error))
            sent.append(delivery)
        return sent

    def _attempted(self, delivery: WebhookDelivery, attempt: WebhookAttempt) -> None:
        delivery.attempts.append(attempt)
        subscription = delivery.subscription_id
        if attempt.status is not None and 200 <= attempt.status < 300:
            delivery.state = "delivered"
            self._failed_in_a_row.pop(subscription, None)
            return
        failures = self._failed_in_a_row[subscription] = self._failed_in_a_row.get(subscription, 0) + 1
        retries_done = len(delivery.attempts) - 1
        if self.disable_after is not None and failures >= self.disable_after:
            delivery.state = "failed"
            self._give_up(subscription, "disable")
            return
        if retries_done < len(self.retry_schedule):
            delivery.due_at = attempt.at + self.retry_schedule[retries_done]
            return
        delivery.state = "failed"
        self._give_up(subscription, self.exhaustion)

    def _give_up(self, subscription_id: Any, policy: Exhaustion) -> None:
        """A subscription whose deliveries keep failing: deleted or disabled, its queue cancelled."""
        if policy == "delete":
            self._delete_subscription(subscription_id)
        else:
            self.disabled_subscriptions.add(subscription_id)
        self._failed_in_a_row.pop(subscription_id, None)
        for other in self.outbox:
            if other.subscription_id == subscription_id and other.state == "queued":
                other.state = "cancelled"
        self._trim()
