"""The fake ShipBob's webhooks: the sample signature reproduced, subscriptions over HTTP, signed
order.shipped and shipment deliveries, order.shipped without tracking, retries and the
at-least-once faults."""

from __future__ import annotations

import datetime
import json
import re
from typing import Any

import httpx

from integrations.fakes.clock import SimClock
from integrations.shipbob.fake import (
    ACCESS_TOKEN,
    CHANNEL_ID,
    RETRY_SCHEDULE,
    FakeShipBob,
    new_secret,
    sample_webhook,
    sign,
    verify,
)
from integrations.shipbob.fake_data import sample, sample_secret

START = datetime.datetime(2026, 3, 14, 15, 0, tzinfo=datetime.UTC)
API = "https://api.shipbob.com/2026-01"
HOOK = "https://erp.example.com/hooks/shipbob"
SHIPMENT_TOPICS = [
    "order.shipment.delivered",
    "order.shipment.exception",
    "order.shipment.on_hold",
    "order.shipment.cancelled",
]


class Receiver:
    def __init__(self, *statuses: int) -> None:
        self.statuses = list(statuses)
        self.got: list[tuple[str, dict[str, str], bytes]] = []

    def __call__(self, url: str, headers: dict[str, str], body: bytes) -> int:
        self.got.append((url, headers, body))
        return self.statuses.pop(0) if self.statuses else 200

    def topics(self) -> list[str]:
        return [headers["x-webhook-topic"] for _, headers, _ in self.got]


def make() -> tuple[FakeShipBob, SimClock]:
    clock = SimClock(START)
    return FakeShipBob(clock=clock), clock


def client(fake: FakeShipBob) -> httpx.Client:
    headers = {"Authorization": f"Bearer {ACCESS_TOKEN}", "shipbob_channel_id": str(CHANNEL_ID)}
    return httpx.Client(transport=httpx.MockTransport(fake.handle), base_url=API, headers=headers)


def placed(fake: FakeShipBob, reference_id: str = "shopify-5834021535987") -> dict[str, Any]:
    body = sample("order_create_request.json")
    body["reference_id"] = reference_id
    answer = client(fake).post("/order", json=body)
    assert answer.status_code == 201
    return dict(answer.json())


def subscribed(fake: FakeShipBob, topics: list[str] | None = None) -> dict[str, Any]:
    request = sample("webhook_subscribe_request.json")
    if topics is not None:
        request["topics"] = topics
    return dict(client(fake).post("/webhook", json=request).json())


def shape(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    return None


def test_the_sample_signature_is_reproduced_byte_exact():
    headers, body = sample_webhook()
    secret = sample_secret()

    assert secret == "whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYX"
    assert (
        sign(secret, headers["webhook-id"], headers["webhook-timestamp"], body)
        == headers["webhook-signature"]
    )
    assert verify(secret, headers, body)
    assert not verify(secret, headers, body + b" ")
    assert not verify(new_secret(), headers, body)


def test_subscriptions_over_http_in_the_samples_shape():
    fake, clock = make()
    api = client(fake)
    clock.now = datetime.datetime(2026, 3, 14, 14, 0, tzinfo=datetime.UTC)

    created = api.post("/webhook", json=sample("webhook_subscribe_request.json"))
    generated = api.post("/webhook", json={"topics": ["order.shipped"], "url": HOOK})
    invalid = api.post("/webhook", json={"topics": ["order.created"], "url": HOOK, "secret": "nope"})

    assert created.status_code == 200
    assert created.json() == sample("webhook_subscribe_response.json")
    secret = generated.json()["secret"]
    assert re.fullmatch(r"whsec_[A-Za-z0-9+/]{32}", secret)
    assert invalid.status_code == 400
    assert set(invalid.json()) == {"topics", "secret"}
    listed = api.get("/webhook").json()
    assert [s["id"] for s in listed["items"]] == ["12345", "12346"]
    assert all("secret" not in s and s["enabled"] for s in listed["items"])
    assert api.delete("/webhook/12346").status_code == 204
    assert api.delete("/webhook/12346").status_code == 404
    assert [s["id"] for s in api.get("/webhook").json()["items"]] == ["12345"]


def test_shipping_sends_a_signed_order_shipped_in_the_samples_shape():
    fake, clock = make()
    secret = subscribed(fake)["secret"]
    order = placed(fake)
    clock.sleep(3600)
    receiver = Receiver()

    fake.ship(order["id"])
    sent = fake.deliver_webhooks(receiver)

    assert len(sent) == 1
    url, headers, body = receiver.got[0]
    assert url == "https://erp.example.com/hooks/shipbob"
    assert verify(secret, headers, body)
    expected_headers, sample_body = sample_webhook()
    assert set(headers) == set(expected_headers)
    assert headers["x-webhook-topic"] == "order.shipped"
    assert headers["webhook-timestamp"] == str(int(clock.now.timestamp()))
    assert headers["webhook-id"].startswith("msg_")
    assert b'": ' not in body  # compact JSON, as the sample
    assert b', "' not in body
    payload = json.loads(body)
    assert shape(payload) == shape(json.loads(sample_body))
    assert payload["status"] == "Fulfilled"
    shipment = payload["shipments"][0]
    assert shipment["status"] == "Completed"
    assert shipment["tracking"]["carrier"] == "USPS"
    assert shipment["tracking"]["tracking_number"].startswith("9400111899")
    assert shipment["products"][0]["inventory_items"][0]["quantity_committed"] == 0


def test_order_shipped_may_lack_tracking_that_then_shows_on_get():
    fake, _ = make()
    subscribed(fake)
    order = placed(fake)
    receiver = Receiver()

    fake.omit_tracking_next()
    fake.ship(order["id"], carrier="UPS")
    fake.deliver_webhooks(receiver)

    sent = json.loads(receiver.got[0][2])
    assert sent["shipments"][0]["tracking"] is None
    polled = client(fake).get(f"/order/{order['id']}/shipment").json()[0]
    assert polled["tracking"]["carrier"] == "UPS"
    assert polled["tracking"]["tracking_url"].endswith(polled["tracking"]["tracking_number"])


def test_shipped_without_tracking_gets_it_later():
    fake, _ = make()
    subscribed(fake)
    order = placed(fake)
    receiver = Receiver()

    shipment = fake.ship(order["id"], tracking=False)
    fake.deliver_webhooks(receiver)

    assert json.loads(receiver.got[0][2])["shipments"][0]["tracking"] is None
    assert client(fake).get(f"/order/{order['id']}").json()["shipments"][0]["tracking"] is None
    fake.add_tracking(shipment["id"])
    tracking = client(fake).get(f"/order/{order['id']}").json()["shipments"][0]["tracking"]
    assert tracking["tracking_number"]
    assert (
        fake.snapshot()["orders"][order["reference_id"]]["shipments"][0]["tracking_number"]
        == (tracking["tracking_number"])
    )


def test_shipment_topics_carry_the_shipment():
    fake, _ = make()
    secret = subscribed(fake, SHIPMENT_TOPICS)["secret"]
    first, second, third = (placed(fake, f"ref-{n}") for n in range(3))
    receiver = Receiver()

    fake.hold(first["shipments"][0]["id"])
    fake.release(first["shipments"][0]["id"])
    fake.exception(second["shipments"][0]["id"])
    client(fake).post(f"/order/{third['id']}:cancel")
    shipped = fake.ship(first["id"])
    fake.deliver(shipped["id"])
    fake.deliver_webhooks(receiver)

    assert receiver.topics() == [
        "order.shipment.on_hold",
        "order.shipment.exception",
        "order.shipment.cancelled",
        "order.shipment.delivered",
    ]
    bodies = [json.loads(body) for _, _, body in receiver.got]
    assert [b["status"] for b in bodies] == ["OnHold", "Exception", "Cancelled", "Completed"]
    assert bodies[3]["delivery_date"] is not None
    assert set(bodies[0]) == set(sample("order_create_response_201.json")["shipments"][0])
    assert all(verify(secret, headers, body) for _, headers, body in receiver.got)


def test_a_failed_delivery_is_retried_with_the_same_id_signed_anew():
    fake, clock = make()
    secret = subscribed(fake)["secret"]
    fake.ship(placed(fake)["id"])
    receiver = Receiver(500, 503)

    fake.deliver_webhooks(receiver)
    fake.deliver_webhooks(receiver)  # not due yet
    clock.sleep(RETRY_SCHEDULE[0].total_seconds())
    fake.deliver_webhooks(receiver)
    clock.sleep(RETRY_SCHEDULE[1].total_seconds())
    fake.deliver_webhooks(receiver)

    assert len(receiver.got) == 3
    ids = {headers["webhook-id"] for _, headers, _ in receiver.got}
    assert len(ids) == 1
    timestamps = [headers["webhook-timestamp"] for _, headers, _ in receiver.got]
    assert len(set(timestamps)) == 3
    assert all(verify(secret, headers, body) for _, headers, body in receiver.got)
    assert fake.outbox[0].state == "delivered"
    assert fake.pending_webhooks() == []


def test_deliveries_that_keep_failing_disable_the_subscription():
    fake, clock = make()
    subscribed(fake)
    fake.ship(placed(fake)["id"])
    receiver = Receiver(*([500] * 20))

    for _ in range(len(RETRY_SCHEDULE) + 1):
        fake.deliver_webhooks(receiver)
        clock.sleep(12 * 3600)

    assert len(receiver.got) == len(RETRY_SCHEDULE) + 1
    assert fake.outbox[0].state == "failed"
    assert client(fake).get("/webhook").json()["items"][0]["enabled"] is False


def test_duplicate_drop_and_delay():
    fake, clock = make()
    subscribed(fake)
    orders = [placed(fake, f"ref-{n}") for n in range(3)]
    receiver = Receiver()

    fake.duplicate_next()
    fake.ship(orders[0]["id"])
    fake.drop_next()
    fake.ship(orders[1]["id"])
    fake.delay_next(seconds=120)
    fake.ship(orders[2]["id"])
    fake.deliver_webhooks(receiver)

    first_two = [json.loads(body)["reference_id"] for _, _, body in receiver.got]
    assert first_two == ["ref-0", "ref-0"]
    assert receiver.got[0][1]["webhook-id"] == receiver.got[1][1]["webhook-id"]
    assert [d.state for d in fake.outbox if d.payload["reference_id"] == "ref-1"] == ["dropped"]
    clock.sleep(120)
    fake.deliver_webhooks(receiver)
    assert json.loads(receiver.got[-1][2])["reference_id"] == "ref-2"
    assert len(receiver.got) == 3


def test_reset_forgets_everything_and_reseeds():
    fake, _ = make()
    subscribed(fake)
    fake.ship(placed(fake)["id"])

    fake.reset()

    assert fake.orders == {}
    assert fake.subscriptions == {}
    assert fake.outbox == []
    assert fake.requests == []
    assert fake.on_hand("TENT-2P-GRN", 10) == 40
    snapshot = fake.snapshot()
    assert snapshot["tool"] == "shipbob"
    assert snapshot["orders"] == {}
