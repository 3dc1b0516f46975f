"""The webhooks the fake Shopify sends on its own: at least once, with retries on Shopify's schedule,
duplicates, drops, reordering and delays."""

from __future__ import annotations

import datetime
import json

import pytest

from integrations.shopify.fake import (
    CLIENT_SECRET,
    LEGACY_RETRY_SCHEDULE,
    RETRY_SCHEDULE,
    SHOP_DOMAIN,
    sign,
)
from tests.integrations.shopify.fakeshop.support import (
    EVERYTHING,
    HOOK,
    OTHER_HOOK,
    Receiver,
    line_ids,
    rest,
    subscribe,
)

# --- webhooks the shop sends on its own ------------------------------------------------------------------


def test_a_change_queues_one_signed_delivery_per_subscribed_topic(fake, clock):
    subscribe(fake, "orders/create", "orders/updated")
    subscribe(fake, "orders/create", address=OTHER_HOOK)
    receiver = Receiver()

    placed = fake.create_order(EVERYTHING)
    sent = fake.deliver_webhooks(receiver)

    assert [(d.topic, d.address) for d in sent] == [
        ("orders/create", HOOK),
        ("orders/create", OTHER_HOOK),
        ("orders/updated", HOOK),
    ]  # orders/paid fired too, nobody subscribed to it
    _, headers, body = receiver.calls[0]
    assert json.loads(body) == placed
    assert headers["X-Shopify-Hmac-Sha256"] == sign(CLIENT_SECRET, body)
    assert headers["X-Shopify-Shop-Domain"] == SHOP_DOMAIN
    assert headers["X-Shopify-API-Version"] == fake.api_version
    assert headers["X-Shopify-Triggered-At"] == "2026-05-04T14:00:00.000000000Z"
    assert headers["Content-Type"] == "application/json"
    ids = [h["X-Shopify-Webhook-Id"] for _, h, _ in receiver.calls]
    assert len(set(ids)) == 3
    # one event, one id, whoever is subscribed to it
    assert receiver.calls[0][1]["X-Shopify-Event-Id"] == receiver.calls[1][1]["X-Shopify-Event-Id"]
    assert {d.state for d in fake.outbox} == {"delivered"}
    assert fake.deliver_webhooks(receiver) == []


def test_every_change_sends_the_topics_shopify_sends(fake, clock):
    subscribe(
        fake,
        "orders/create",
        "orders/paid",
        "orders/updated",
        "orders/fulfilled",
        "orders/partially_fulfilled",
        "orders/edited",
        "orders/cancelled",
        "fulfillments/create",
        "refunds/create",
        "products/update",
        "inventory_levels/update",
    )
    receiver = Receiver()

    def topics_of(change) -> list[str]:
        receiver.calls.clear()
        change()
        fake.deliver_webhooks(receiver)
        return receiver.topics

    placed = {}
    assert topics_of(lambda: placed.update(fake.create_order(EVERYTHING))) == [
        "inventory_levels/update",
        "inventory_levels/update",
        "inventory_levels/update",
        "orders/create",
        "orders/paid",
        "orders/updated",
    ]
    lines = line_ids(placed)
    assert topics_of(lambda: fake.edit_order(placed["id"], {lines["STOVE-TI-01"]: 1})) == [
        "inventory_levels/update",
        "orders/edited",
        "refunds/create",
        "orders/updated",
    ]
    assert receiver.bodies("orders/edited")[0]["order_edit"]["line_items"]["removals"] == [
        {"id": lines["STOVE-TI-01"], "delta": 1}
    ]
    assert topics_of(lambda: fake.fulfil_order(placed["id"], {lines["TENT-2P-GRN"]: 1})) == [
        "fulfillments/create",
        "orders/partially_fulfilled",
        "orders/updated",
    ]
    assert receiver.bodies("fulfillments/create")[0]["line_items"][0]["id"] == lines["TENT-2P-GRN"]
    assert topics_of(lambda: fake.fulfil_order(placed["id"])) == [
        "fulfillments/create",
        "orders/fulfilled",
        "orders/updated",
    ]
    assert topics_of(lambda: fake.refund_order(placed["id"], {lines["TENT-2P-GRN"]: 1})) == [
        "inventory_levels/update",
        "refunds/create",
        "orders/updated",
    ]
    assert receiver.bodies("refunds/create")[0]["refund_line_items"][0]["restock_type"] == "return"
    assert topics_of(lambda: fake.update_order(placed["id"], note="Gift")) == ["orders/updated"]
    assert topics_of(lambda: fake.update_product(8012345678903, title="Titanium Stove II")) == [
        "products/update"
    ]
    assert receiver.bodies("products/update")[0]["title"] == "Titanium Stove II"
    assert topics_of(lambda: fake.set_available("TENT-2P-GRN", 3)) == ["inventory_levels/update"]
    assert receiver.bodies("inventory_levels/update")[0]["available"] == 3
    other = fake.create_order([("STOVE-TI-01", 1)])
    fake.deliver_webhooks(receiver)  # its creation
    assert topics_of(lambda: fake.cancel_order(other["id"])) == [
        "inventory_levels/update",
        "refunds/create",
        "orders/cancelled",
        "orders/updated",
    ]


def test_a_fulfilment_the_hub_pushes_comes_back_as_webhooks_too(fake, order):
    subscribe(fake, "orders/updated", "fulfillments/create")
    http = rest(fake)
    [fo] = http.get(f"/orders/{order['id']}/fulfillment_orders.json").json()["fulfillment_orders"]
    request = {
        "line_items_by_fulfillment_order": [{"fulfillment_order_id": fo["id"]}],
        "tracking_info": {"number": "1ZHUB"},
    }
    receiver = Receiver()

    assert http.post("/fulfillments.json", json={"fulfillment": request}).status_code == 201
    fake.deliver_webhooks(receiver)

    assert receiver.topics == ["fulfillments/create", "orders/updated"]
    assert receiver.bodies("orders/updated")[0]["fulfillments"][0]["tracking_number"] == "1ZHUB"


def test_a_delivery_carries_the_payload_as_it_was_when_it_was_triggered(fake, order, clock):
    subscribe(fake, "orders/updated")
    fake.update_order(order["id"], note="first")
    clock.tick(minutes=1)
    fake.update_order(order["id"], note="second")
    receiver = Receiver()

    fake.deliver_webhooks(receiver)

    assert [b["note"] for b in receiver.bodies("orders/updated")] == ["first", "second"]
    assert [h["X-Shopify-Triggered-At"][:19] for _, h, _ in receiver.calls] == [
        "2026-05-04T14:05:00",
        "2026-05-04T14:06:00",
    ]


def test_a_subscriptions_fields_trim_the_payload(fake, order):
    subscribe(fake, "orders/updated", fields=["id", "updated_at", "note"])
    receiver = Receiver()

    fake.update_order(order["id"], note="Gift wrap")
    fake.deliver_webhooks(receiver)

    assert set(receiver.bodies("orders/updated")[0]) == {"id", "updated_at", "note"}


def test_a_failed_delivery_is_retried_on_shopifys_schedule_with_the_same_ids(fake, order, clock):
    subscribe(fake, "orders/updated")
    fake.update_order(order["id"], note="Gift")
    receiver = Receiver(500, ConnectionError("refused"), 200)

    first = fake.deliver_webhooks(receiver)
    too_early = fake.deliver_webhooks(
        receiver, now=clock() + RETRY_SCHEDULE[0] - datetime.timedelta(seconds=1)
    )
    second = fake.deliver_webhooks(receiver, now=clock() + RETRY_SCHEDULE[0])
    third = fake.deliver_webhooks(receiver, now=clock() + RETRY_SCHEDULE[0] + RETRY_SCHEDULE[1])

    assert (len(first), too_early, len(second), len(third)) == (1, [], 1, 1)
    [delivery] = fake.outbox
    assert delivery.state == "delivered"
    assert [(a.status, a.error) for a in delivery.attempts] == [
        (500, ""),
        (None, "ConnectionError: refused"),
        (200, ""),
    ]
    assert len({(h["X-Shopify-Webhook-Id"], h["X-Shopify-Event-Id"], b) for _, h, b in receiver.calls}) == 1


def test_shopifys_schedules(fake):
    assert len(RETRY_SCHEDULE) == 8  # 8 retries over 4 hours (since 2024-09)
    assert sum(RETRY_SCHEDULE, datetime.timedelta()) == datetime.timedelta(hours=4)
    assert len(LEGACY_RETRY_SCHEDULE) == 19  # 19 retries over 48 hours (before)
    assert sum(LEGACY_RETRY_SCHEDULE, datetime.timedelta()) == datetime.timedelta(hours=48)
    assert list(RETRY_SCHEDULE) == sorted(RETRY_SCHEDULE)
    assert fake.retry_schedule == RETRY_SCHEDULE


@pytest.mark.parametrize("schedule", [RETRY_SCHEDULE, LEGACY_RETRY_SCHEDULE], ids=["current", "legacy"])
def test_a_subscription_whose_deliveries_keep_failing_is_deleted(fake, order, clock, schedule):
    fake.retry_schedule = schedule
    [failing] = subscribe(fake, "orders/updated")
    [healthy] = subscribe(fake, "orders/updated", address=OTHER_HOOK)
    fake.update_order(order["id"], note="Gift")
    receiver = Receiver(*([503] * 100))
    healthy_receiver = Receiver()

    def send(url, headers, body):
        return (healthy_receiver if url == OTHER_HOOK else receiver)(url, headers, body)

    moment = clock()
    fake.deliver_webhooks(send, now=moment)
    fake.update_order(order["id"], note="Later")  # queued for both while the first keeps failing
    for wait in schedule:
        moment += wait
        assert failing in fake.webhooks, "deleted before the last retry"
        fake.deliver_webhooks(send, now=moment)

    first, later = (d for d in fake.outbox if d.address == HOOK)
    assert (first.state, len(first.attempts)) == ("failed", 1 + len(schedule))
    assert first.attempts[-1].at - first.attempts[0].at == sum(schedule, datetime.timedelta())
    assert later.state == "cancelled"  # gone with its subscription
    assert failing not in fake.webhooks
    assert healthy in fake.webhooks
    assert [w["address"] for w in rest(fake).get("/webhooks.json").json()["webhooks"]] == [OTHER_HOOK]
    assert [d.state for d in fake.outbox if d.address == OTHER_HOOK] == ["delivered", "delivered"]
    fake.update_order(order["id"], note="After")
    assert [d.address for d in fake.pending_webhooks()] == [OTHER_HOOK]


def test_duplicate_next_sends_the_same_delivery_twice(fake, order):
    subscribe(fake, "orders/updated")
    fake.duplicate_next()
    receiver = Receiver()

    fake.update_order(order["id"], note="twice")
    fake.update_order(order["id"], note="once")
    fake.deliver_webhooks(receiver)

    notes = [b["note"] for b in receiver.bodies("orders/updated")]
    assert notes == ["twice", "twice", "once"]
    first, again, _ = receiver.calls
    assert first[1] == again[1]
    assert first[2] == again[2]
    assert [d.duplicate for d in fake.outbox] == [False, True, False]


def test_drop_next_loses_a_delivery_for_good(fake, order, clock):
    subscribe(fake, "orders/updated")
    fake.drop_next()
    receiver = Receiver()

    fake.update_order(order["id"], note="lost")
    fake.update_order(order["id"], note="kept")
    fake.deliver_webhooks(receiver)
    fake.deliver_webhooks(receiver, now=clock() + datetime.timedelta(days=3))

    assert [b["note"] for b in receiver.bodies("orders/updated")] == ["kept"]
    assert [d.state for d in fake.outbox] == ["dropped", "delivered"]


def test_reorder_sends_the_newest_first(fake, order, clock):
    subscribe(fake, "orders/updated")
    for note in ("one", "two", "three"):
        fake.update_order(order["id"], note=note)
    receiver = Receiver()

    fake.deliver_webhooks(receiver, reorder=True)

    assert [b["note"] for b in receiver.bodies("orders/updated")] == ["three", "two", "one"]
    fake.reorder = True
    fake.update_order(order["id"], note="four")
    fake.update_order(order["id"], note="five")
    fake.deliver_webhooks(receiver)
    assert [b["note"] for b in receiver.bodies("orders/updated")][3:] == ["five", "four"]


def test_delayed_deliveries_wait_and_arrive_after_later_ones(fake, order, clock):
    subscribe(fake, "orders/updated")
    fake.delay_next(1, seconds=120)
    receiver = Receiver()

    fake.update_order(order["id"], note="late")
    fake.update_order(order["id"], note="on time")
    fake.deliver_webhooks(receiver)
    fake.deliver_webhooks(receiver, now=clock() + datetime.timedelta(seconds=120))

    assert [b["note"] for b in receiver.bodies("orders/updated")] == ["on time", "late"]
    fake.delay = 30
    fake.update_order(order["id"], note="held")
    assert fake.deliver_webhooks(receiver) == []
    assert len(fake.deliver_webhooks(receiver, now=clock() + datetime.timedelta(seconds=30))) == 1


def test_webhook_still_signs_one_delivery_as_before(fake):
    headers, body = fake.webhook("orders/create", {"id": 1}, webhook_id="w-1", event_id="e-1")

    assert body == b'{"id":1}'
    assert (headers["X-Shopify-Webhook-Id"], headers["X-Shopify-Event-Id"]) == ("w-1", "e-1")
    assert headers["X-Shopify-Hmac-Sha256"] == sign(CLIENT_SECRET, body)
    assert fake.outbox == []  # not queued: the test sends it


def test_reset_forgets_the_outbox_and_the_faults(fake, order):
    subscribe(fake, "orders/updated")
    fake.drop_next(5)
    fake.reorder = True
    fake.update_order(order["id"], note="x")

    fake.reset()

    assert (fake.outbox, fake.webhooks, fake.reorder) == ([], {}, False)
    subscribe(fake, "orders/updated")
    fake.update_order(next(iter(fake.orders)), note="y")
    assert [d.state for d in fake.outbox] == ["queued"]
