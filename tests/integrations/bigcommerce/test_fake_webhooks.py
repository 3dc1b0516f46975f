"""The fake BigCommerce's webhooks: the sample verifies byte-exact, thin signed deliveries in bursts,
custom headers verbatim, retries over about 48 hours and then the hook deactivated."""

from __future__ import annotations

import datetime
import json

import httpx

from integrations.bigcommerce.fake import (
    ACCESS_TOKEN,
    CLIENT_SECRET,
    RETRY_SCHEDULE,
    STORE_HASH,
    FakeBigCommerce,
    sample_webhook,
    sign,
    verify,
)
from integrations.bigcommerce.fake_data import sample
from integrations.fakes.clock import SimClock

DESTINATION = "https://erp.example.com/hooks/bigcommerce"


def start() -> SimClock:
    return SimClock(datetime.datetime(2026, 3, 14, 15, 0, tzinfo=datetime.UTC))


class Receiver:
    def __init__(self, status: int = 200) -> None:
        self.status = status
        self.got: list[tuple[str, dict[str, str], bytes]] = []

    def __call__(self, url: str, headers: dict[str, str], body: bytes) -> int:
        self.got.append((url, headers, body))
        return self.status

    def scopes(self) -> list[str]:
        return [json.loads(body)["scope"] for _, _, body in self.got]


def test_the_sample_delivery_verifies_byte_exact_with_the_apps_client_secret():
    headers, body = sample_webhook()

    assert body.endswith(b"}}")
    assert b"\n" not in body
    assert verify(CLIENT_SECRET, headers, body)
    assert (
        sign(CLIENT_SECRET, headers["webhook-id"], headers["webhook-timestamp"], body)
        == headers["webhook-signature"]
    )
    assert not verify(CLIENT_SECRET, headers, body + b" ")
    assert not verify("another secret", headers, body)


def test_a_new_order_is_a_burst_of_thin_signed_deliveries_with_the_hooks_headers():
    fake = FakeBigCommerce(clock=start())
    fake.create_hook("store/order/*", DESTINATION, headers={"username": "Hello", "password": "Goodbye"})
    fake.create_hook("store/sku/inventory/order/updated", DESTINATION)
    receiver = Receiver()

    order = fake.create_order([("TENT-2P-GRN", 1), ("SLBAG-20F-REG", 2)])
    fake.deliver_webhooks(receiver)

    assert receiver.scopes() == [
        "store/order/created",
        "store/order/statusUpdated",
        "store/order/updated",
        "store/sku/inventory/order/updated",
        "store/sku/inventory/order/updated",
    ]
    created = json.loads(receiver.got[0][2])
    assert list(created) == list(sample("webhook_store_order_created.json"))
    assert created["data"] == {"type": "order", "id": order["id"]}
    assert created["producer"] == f"stores/{STORE_HASH}"
    assert created["store_id"] == "1025646"
    status = json.loads(receiver.got[1][2])["data"]["status"]
    assert status == {"previous_status_id": 0, "new_status_id": 11}
    sku = json.loads(receiver.got[3][2])["data"]
    assert sku == {
        "type": "sku",
        "id": 35,
        "inventory": {"product_id": 112, "method": "relative", "value": -1, "variant_id": 77},
    }
    for _, headers, body in receiver.got:
        assert verify(CLIENT_SECRET, headers, body)
    assert receiver.got[0][1]["username"] == "Hello"
    assert receiver.got[0][1]["password"] == "Goodbye"
    assert "username" not in receiver.got[3][1]
    assert len({json.loads(body)["hash"] for _, _, body in receiver.got}) == 5


def test_the_burst_for_one_order_is_enough_to_fetch_it_once():
    fake = FakeBigCommerce(clock=start())
    fake.create_hook("store/order/*", DESTINATION)
    receiver = Receiver()
    fake.create_order([("STOVE-TI-01", 1)])
    fake.deliver_webhooks(receiver)
    api = httpx.Client(
        transport=httpx.MockTransport(fake.handle),
        base_url=f"https://api.bigcommerce.com/stores/{STORE_HASH}",
        headers={"X-Auth-Token": ACCESS_TOKEN},
    )

    ids = {json.loads(body)["data"]["id"] for _, _, body in receiver.got}
    orders = [api.get(f"/v2/orders/{order_id}").json() for order_id in ids]

    assert len(receiver.got) == 3
    assert len(orders) == 1
    assert orders[0]["status_id"] == 11
    assert len(fake.requests_to(f"v2/orders/{orders[0]['id']}", "GET")) == 1


def test_a_duplicate_keeps_the_hash_and_webhook_id_and_a_retry_is_signed_anew():
    clock = start()
    fake = FakeBigCommerce(clock=clock)
    fake.create_hook("store/order/created", DESTINATION)
    fake.duplicate_next()
    failing = Receiver(500)

    fake.create_order([("STOVE-TI-01", 1)])
    fake.deliver_webhooks(failing)
    clock.tick(RETRY_SCHEDULE[0])
    retried = Receiver()
    fake.deliver_webhooks(retried)

    first, copy = failing.got
    assert first[2] == copy[2]
    assert first[1]["webhook-id"] == copy[1]["webhook-id"]
    assert len(retried.got) == 2
    again = retried.got[0][1]
    assert again["webhook-id"] == first[1]["webhook-id"]
    assert int(again["webhook-timestamp"]) == int(first[1]["webhook-timestamp"]) + 60
    assert verify(CLIENT_SECRET, again, retried.got[0][2])


def test_failing_deliveries_retry_over_about_48_hours_then_the_hook_is_deactivated():
    clock = start()
    fake = FakeBigCommerce(clock=clock)
    hook = fake.create_hook("store/order/*", DESTINATION)
    failing = Receiver(503)
    fake.create_order([("STOVE-TI-01", 1)])
    spent = datetime.timedelta(0)

    fake.deliver_webhooks(failing)
    for interval in RETRY_SCHEDULE:
        assert fake.hooks[hook["id"]]["is_active"] is True
        clock.tick(interval)
        spent += interval
        fake.deliver_webhooks(failing)

    assert datetime.timedelta(hours=40) < spent <= datetime.timedelta(hours=49)
    assert list(RETRY_SCHEDULE) == sorted(RETRY_SCHEDULE)  # increasing intervals
    assert fake.hooks[hook["id"]]["is_active"] is False
    assert not fake.pending_webhooks()
    fake.create_order([("STOVE-TI-01", 1)])
    assert not fake.pending_webhooks()


def test_a_deactivated_hook_gets_deliveries_again_once_reactivated():
    fake = FakeBigCommerce(clock=start())
    hook = fake.create_hook("store/order/created", DESTINATION)
    fake.deactivate_hook(hook["id"])
    fake.create_order([("STOVE-TI-01", 1)])
    assert not fake.pending_webhooks()

    fake.update_hook(hook["id"], {"is_active": True})
    fake.create_order([("STOVE-TI-01", 1)])

    assert [d.topic for d in fake.pending_webhooks()] == ["store/order/created"]


def test_merchant_changes_send_their_webhooks():
    fake = FakeBigCommerce(clock=start())
    fake.create_hook("store/order/*", DESTINATION)
    receiver = Receiver()

    fake.ship_order(250, tracking_number="1Z999", carrier="ups")
    fake.refund_order(250, {"SLBAG-20F-REG": 1})
    fake.archive_order(250)
    fake.deliver_webhooks(receiver)

    assert receiver.scopes() == [
        "store/order/statusUpdated",
        "store/order/updated",
        "store/order/refund/created",
        "store/order/statusUpdated",
        "store/order/updated",
        "store/order/archived",
    ]
    statuses = [json.loads(body)["data"].get("status") for _, _, body in receiver.got]
    assert statuses[0] == {"previous_status_id": 11, "new_status_id": 2}
    assert statuses[3] == {"previous_status_id": 2, "new_status_id": 14}
