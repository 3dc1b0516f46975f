"""WebhookSender: queueing per subscription, the retry schedule, at-least-once faults, exhaustion."""

from __future__ import annotations

import datetime
import json
import threading
from collections.abc import Iterable, Mapping
from typing import Any

import pytest

from integrations.fakes.clock import SimClock
from integrations.fakes.webhooks import WebhookDelivery, WebhookSender

START = datetime.datetime(2026, 5, 4, 9, 0, tzinfo=datetime.UTC)
MINUTE = datetime.timedelta(minutes=1)


class Hooks(WebhookSender):
    """A tool with subscriptions in a dict, a signed-ish header and a short retry schedule."""

    retry_schedule = (MINUTE, 5 * MINUTE)

    def __init__(self, clock: SimClock, **policy: Any) -> None:
        self.clock = clock
        self._lock = threading.RLock()
        self.subscriptions: dict[int, dict[str, Any]] = {}
        for name, value in policy.items():
            setattr(self, name, value)
        self.reset_webhooks()

    def subscribe(self, sub_id: int, topic: str, address: str) -> None:
        self.subscriptions[sub_id] = {"id": sub_id, "topic": topic, "address": address}

    def _subscriptions(self, topic: str) -> Iterable[Mapping[str, Any]]:
        return [s for s in self.subscriptions.values() if s["topic"] == topic]

    def _render(self, subscription, topic, payload, *, delivery_id, event_id, moment):
        body = json.dumps({"topic": topic, **payload}).encode()
        return {"Tool-Delivery": delivery_id, "Tool-Event": event_id, "Tool-Sent": moment.isoformat()}, body

    def _delete_subscription(self, subscription_id: Any) -> None:
        del self.subscriptions[subscription_id]


class Receiver:
    """An endpoint answering from a script (then ``default``), keeping what it got."""

    def __init__(self, *answers: int | Exception, default: int = 200) -> None:
        self.answers = list(answers)
        self.default = default
        self.got: list[tuple[str, dict[str, str], bytes]] = []

    def __call__(self, url: str, headers: dict[str, str], body: bytes) -> int:
        self.got.append((url, headers, body))
        answer = self.answers.pop(0) if self.answers else self.default
        if isinstance(answer, Exception):
            raise answer
        return answer


@pytest.fixture
def clock() -> SimClock:
    return SimClock(START)


@pytest.fixture
def hooks(clock) -> Hooks:
    sender = Hooks(clock)
    sender.subscribe(1, "order.created", "https://hub.test/a")
    sender.subscribe(2, "order.created", "https://hub.test/b")
    sender.subscribe(3, "order.shipped", "https://hub.test/a")
    return sender


def test_a_change_queues_one_delivery_per_subscription_of_its_topic(hooks):
    hooks._emit("order.created", {"id": 7})

    queued = hooks.pending_webhooks()

    assert [(d.subscription_id, d.address, d.topic) for d in queued] == [
        (1, "https://hub.test/a", "order.created"),
        (2, "https://hub.test/b", "order.created"),
    ]
    assert queued[0].payload == {"topic": "order.created", "id": 7}
    assert queued[0].headers["Tool-Delivery"] == queued[0].delivery_id == queued[0].webhook_id
    assert queued[0].delivery_id != queued[1].delivery_id
    assert queued[0].event_id == queued[1].event_id  # one event, two deliveries
    assert all(d.due_at == START for d in queued)


def test_nothing_is_queued_for_a_topic_nobody_subscribes_to(hooks):
    hooks._emit("product.deleted", {"id": 1})
    assert hooks.outbox == []


def test_a_delivered_delivery_is_sent_once(hooks):
    hooks._emit("order.shipped", {"id": 7})
    receiver = Receiver()

    sent = hooks.deliver_webhooks(receiver)
    again = hooks.deliver_webhooks(receiver)

    assert [d.state for d in sent] == ["delivered"]
    assert again == []
    assert len(receiver.got) == 1
    assert receiver.got[0][0] == "https://hub.test/a"
    assert [a.status for a in sent[0].attempts] == [200]


def test_failures_are_retried_on_the_schedule_with_the_same_id(hooks, clock):
    hooks._emit("order.shipped", {"id": 7})
    receiver = Receiver(500, ConnectionError("refused"), 200)
    [delivery] = hooks.pending_webhooks()

    hooks.deliver_webhooks(receiver)  # 09:00 fails: due again at 09:01
    too_early = hooks.deliver_webhooks(receiver, now=START + 59 * datetime.timedelta(seconds=1))
    clock.tick(MINUTE)
    hooks.deliver_webhooks(receiver)  # 09:01 raises: due again five minutes later
    due_after_second = delivery.due_at
    clock.tick(5 * MINUTE)
    hooks.deliver_webhooks(receiver)

    assert too_early == []
    assert due_after_second == START + 6 * MINUTE
    assert [a.status for a in delivery.attempts] == [500, None, 200]
    assert delivery.attempts[1].error == "ConnectionError: refused"
    assert [a.at for a in delivery.attempts] == [START, START + MINUTE, START + 6 * MINUTE]
    assert delivery.state == "delivered"
    assert {h["Tool-Delivery"] for _, h, _ in receiver.got} == {delivery.delivery_id}


def test_duplicates_share_the_delivery_id(hooks):
    hooks.duplicate_next(1)
    hooks._emit("order.shipped", {"id": 7})
    receiver = Receiver()

    sent = hooks.deliver_webhooks(receiver)

    assert [d.duplicate for d in sent] == [False, True]
    assert sent[0].delivery_id == sent[1].delivery_id
    assert [h["Tool-Delivery"] for _, h, _ in receiver.got] == [sent[0].delivery_id] * 2


def test_a_dropped_delivery_is_never_sent_and_only_the_next_count_drop(hooks):
    hooks.drop_next(1)
    hooks._emit("order.created", {"id": 7})
    receiver = Receiver()

    sent = hooks.deliver_webhooks(receiver)

    assert [d.state for d in hooks.outbox] == ["dropped", "delivered"]
    assert [d.subscription_id for d in sent] == [2]
    assert [url for url, _, _ in receiver.got] == ["https://hub.test/b"]


def test_delays_hold_deliveries_back(hooks, clock):
    hooks.delay_next(1, seconds=120)
    hooks._emit("order.shipped", {"id": 1})
    hooks._emit("order.shipped", {"id": 2})
    hooks.delay = 30
    hooks._emit("order.shipped", {"id": 3})
    receiver = Receiver()

    now = [d.payload["id"] for d in hooks.deliver_webhooks(receiver)]
    clock.tick(datetime.timedelta(seconds=30))
    later = [d.payload["id"] for d in hooks.deliver_webhooks(receiver)]
    clock.tick(datetime.timedelta(seconds=90))
    last = [d.payload["id"] for d in hooks.deliver_webhooks(receiver)]

    assert (now, later, last) == ([2], [3], [1])


def test_reorder_sends_the_newest_first(hooks):
    for order_id in (1, 2, 3):
        hooks._emit("order.shipped", {"id": order_id})

    reordered = hooks.deliver_webhooks(Receiver(), reorder=True)

    assert [d.payload["id"] for d in reordered] == [3, 2, 1]


def test_reorder_as_an_attribute(hooks):
    hooks.reorder = True
    hooks._emit("order.shipped", {"id": 1})
    hooks._emit("order.shipped", {"id": 2})

    assert [d.payload["id"] for d in hooks.deliver_webhooks(Receiver())] == [2, 1]


def exhaust(hooks: Hooks, clock: SimClock, delivery: WebhookDelivery) -> None:
    receiver = Receiver(default=503)
    for _ in range(len(hooks.retry_schedule) + 1):
        hooks.deliver_webhooks(receiver)
        clock.tick(10 * MINUTE)
    assert len(delivery.attempts) == len(hooks.retry_schedule) + 1


def test_delete_policy_deletes_the_subscription_and_cancels_its_queue(clock):
    hooks = Hooks(clock, exhaustion="delete")
    hooks.subscribe(1, "order.shipped", "https://hub.test/a")
    hooks._emit("order.shipped", {"id": 1})
    [first] = hooks.pending_webhooks()
    hooks.delay_next(1, seconds=24 * 3600)
    hooks._emit("order.shipped", {"id": 2})

    exhaust(hooks, clock, first)

    assert first.state == "failed"
    assert hooks.subscriptions == {}
    assert [d.state for d in hooks.outbox] == ["failed", "cancelled"]


def test_disable_policy_disables_the_subscription_until_enabled(clock):
    hooks = Hooks(clock)  # the default: disable
    hooks.subscribe(1, "order.shipped", "https://hub.test/a")
    hooks._emit("order.shipped", {"id": 1})
    [first] = hooks.pending_webhooks()

    exhaust(hooks, clock, first)
    hooks._emit("order.shipped", {"id": 2})
    while_disabled = hooks.pending_webhooks()
    hooks.enable_subscription(1)
    hooks._emit("order.shipped", {"id": 3})

    assert first.state == "failed"
    assert 1 in hooks.subscriptions
    assert while_disabled == []
    assert [d.payload["id"] for d in hooks.pending_webhooks()] == [3]


def test_disable_after_n_failures_in_a_row_across_deliveries(clock):
    hooks = Hooks(clock, disable_after=3, retry_schedule=(MINUTE,) * 10)
    hooks.subscribe(1, "order.shipped", "https://hub.test/a")
    hooks.subscribe(2, "order.shipped", "https://hub.test/b")
    for order_id in (1, 2):
        hooks._emit("order.shipped", {"id": order_id})

    def send(url: str, headers: dict[str, str], body: bytes) -> int:
        return 500 if url.endswith("/a") else 200

    hooks.deliver_webhooks(send)  # a: two failures (one per delivery)
    clock.tick(MINUTE)
    hooks.deliver_webhooks(send)  # a: the third failure in a row disables it

    assert hooks.disabled_subscriptions == {1}
    assert [(d.subscription_id, d.state) for d in hooks.outbox] == [
        (1, "failed"),
        (2, "delivered"),
        (1, "cancelled"),
        (2, "delivered"),
    ]


def test_a_success_resets_the_failures_in_a_row(clock):
    hooks = Hooks(clock, disable_after=2, retry_schedule=(MINUTE,) * 10)
    hooks.subscribe(1, "order.shipped", "https://hub.test/a")
    hooks._emit("order.shipped", {"id": 1})
    receiver = Receiver(500, 200, 500)

    hooks.deliver_webhooks(receiver)
    clock.tick(MINUTE)
    hooks.deliver_webhooks(receiver)
    hooks._emit("order.shipped", {"id": 2})
    hooks.deliver_webhooks(receiver)

    assert hooks.disabled_subscriptions == set()
    assert [d.state for d in hooks.outbox] == ["delivered", "queued"]


def test_a_sender_without_a_dialect_says_what_is_missing(clock):
    class Bare(WebhookSender):
        """A sender that never said who subscribes or how it signs."""

    bare = Bare()
    bare.clock, bare._lock = clock, threading.RLock()
    bare.reset_webhooks()

    with pytest.raises(NotImplementedError, match="who subscribes"):
        bare._emit("x", {})
