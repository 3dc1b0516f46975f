"""The fake ShipStation's rate limit (40 a minute, the three headers on every answer, the 429 and
the reset), its injected faults in ASP.NET's shapes, and its webhooks: subscriptions, thin unsigned
deliveries to the registered URL, ORDER_NOTIFY, duplicates, drops, delays, retries, deactivation."""

from __future__ import annotations

import datetime
import json
from typing import Any

import httpx
import pytest

from integrations.fakes.clock import SimClock
from integrations.shipstation.fake import (
    API_KEY,
    API_SECRET,
    BASE_URL,
    RETRY_SCHEDULE,
    STORE_ID,
    FakeShipStation,
    sample,
)

START = datetime.datetime(2026, 3, 14, 15, 0, tzinfo=datetime.UTC)
TARGET = "https://erp.example.com/hooks/shipstation/ship-notify?token=s3cret"
HEADERS = ("X-Rate-Limit-Limit", "X-Rate-Limit-Remaining", "X-Rate-Limit-Reset")


def make(**options: Any) -> tuple[FakeShipStation, SimClock, httpx.Client]:
    clock = SimClock(START)
    fake = FakeShipStation(clock=clock, **options)
    api = httpx.Client(
        transport=httpx.MockTransport(fake.handle), base_url=BASE_URL, auth=(API_KEY, API_SECRET)
    )
    return fake, clock, api


def push(api: httpx.Client, number: str = "SHOP-1042", key: str = "shopify-5834021535987") -> dict[str, Any]:
    payload = sample("createorder_request.json") | {"orderNumber": number, "orderKey": key}
    return dict(api.post("/orders/createorder", json=payload).json())


class Receiver:
    def __init__(self, *statuses: int) -> None:
        self.statuses = list(statuses) or [200]
        self.got: list[tuple[str, dict[str, str], bytes]] = []

    def __call__(self, url: str, headers: dict[str, str], body: bytes) -> int:
        self.got.append((url, headers, body))
        return self.statuses.pop(0) if len(self.statuses) > 1 else self.statuses[0]

    def bodies(self) -> list[dict[str, Any]]:
        return [json.loads(body) for _, _, body in self.got]


# --- the rate limit -----------------------------------------------------------------------------------


def test_forty_requests_a_minute_then_429_with_the_three_headers_until_the_window_resets():
    _, clock, api = make()

    answers = [api.get("/stores") for _ in range(41)]
    clock.tick(datetime.timedelta(seconds=20))
    still = api.get("/stores")
    clock.tick(datetime.timedelta(seconds=40))
    after = api.get("/stores")

    assert [a.status_code for a in answers] == [200] * 40 + [429]
    assert all(all(h in a.headers for h in HEADERS) for a in answers)
    assert [a.headers["X-Rate-Limit-Remaining"] for a in answers[:3]] == ["39", "38", "37"]
    assert answers[0].headers["X-Rate-Limit-Limit"] == "40"
    assert answers[0].headers["X-Rate-Limit-Reset"] == "60"
    refused = answers[-1]
    assert refused.json() == sample("error_429.json")
    assert refused.headers["X-Rate-Limit-Remaining"] == "0"
    assert (still.status_code, still.headers["X-Rate-Limit-Reset"]) == (429, "40")
    assert after.status_code == 200
    assert after.headers["X-Rate-Limit-Remaining"] == "39"


def test_rate_scale_shortens_the_window_for_a_faster_day():
    _, clock, api = make(rate_scale=60.0)

    answers = [api.get("/stores") for _ in range(41)]
    clock.tick(datetime.timedelta(seconds=1))

    assert answers[-1].status_code == 429
    assert answers[0].headers["X-Rate-Limit-Reset"] == "1"
    assert api.get("/stores").status_code == 200


def test_a_throttle_fault_is_the_same_429_and_a_failure_is_aspnets_500():
    fake, _, api = make()
    fake.throttle_next(1, retry_after=7, match="GET /shipments")
    fake.fail_next(1, status=500, match="createorder")
    fake.fail_next(1, status=503)

    throttled = api.get("/shipments")
    failed = api.post("/orders/createorder", json=sample("createorder_request.json"))
    unavailable = api.get("/stores")

    assert throttled.status_code == 429
    assert throttled.json() == {"message": "Too Many Requests"}
    assert (throttled.headers["X-Rate-Limit-Remaining"], throttled.headers["X-Rate-Limit-Reset"]) == (
        "0",
        "7",
    )
    assert failed.status_code == 500
    assert set(failed.json()) == set(sample("error_500_exception.json"))
    assert failed.json()["StackTrace"] is None
    assert all(h in failed.headers for h in HEADERS)
    assert unavailable.status_code == 503
    assert fake.orders == {}
    assert [r.operation for r in fake.requests] == [
        "GET /shipments",
        "POST /orders/createorder",
        "GET /stores",
    ]


def test_a_timeout_after_the_work_leaves_the_order_created():
    fake, _, api = make()
    fake.timeout_next(1, match="createorder", processed=True)

    with pytest.raises(httpx.ReadTimeout):
        push(api)

    assert len(fake.orders) == 1
    assert push(api)["orderId"] == next(iter(fake.orders))  # the retry with the key updates it


# --- webhooks ----------------------------------------------------------------------------------------


def test_subscribe_list_and_delete_webhooks():
    fake, _, api = make()

    created = api.post("/webhooks/subscribe", json=sample("webhook_subscribe_request.json"))
    listed = api.get("/webhooks").json()
    bad = api.post("/webhooks/subscribe", json={"target_url": TARGET, "event": "EVERYTHING"})
    deleted = api.delete(f"/webhooks/{created.json()['id']}")

    assert created.status_code == 200
    assert created.json() == sample("webhook_subscribe_response.json")
    hook = listed["webhooks"][0]
    assert {"WebHookID", "SellerID", "StoreID", "HookType", "MessageFormat", "Url", "Name", "Active"} <= set(
        hook
    )
    assert (hook["WebHookID"], hook["StoreID"], hook["HookType"], hook["MessageFormat"]) == (
        123456,
        STORE_ID,
        "SHIP_NOTIFY",
        "Json",
    )
    assert (hook["Url"], hook["Name"], hook["Active"]) == (
        "https://erp.example.com/hooks/shipstation/ship-notify",
        "ERP ship notify",
        True,
    )
    assert bad.status_code == 400
    assert list(bad.json()["ModelState"]) == ["request.event"]
    assert deleted.status_code == 200
    assert api.get("/webhooks").json() == {"webhooks": []}
    assert fake.webhooks == {}
    assert api.delete("/webhooks/123456").status_code == 404


def test_deliveries_are_thin_unsigned_posts_to_the_registered_url_per_store():
    fake, _, api = make(stores={STORE_ID: "Main", 777: "Other"})
    api.post(
        "/webhooks/subscribe",
        json={"target_url": TARGET, "event": "SHIP_NOTIFY", "store_id": STORE_ID, "friendly_name": "ERP"},
    )
    api.post("/webhooks/subscribe", json={"target_url": TARGET + "&all=1", "event": "SHIP_NOTIFY"})
    mine = push(api)
    theirs = sample("createorder_request.json") | {"orderKey": "other-1", "orderNumber": "O-1"}
    theirs["advancedOptions"] = theirs["advancedOptions"] | {"storeId": 777}
    api.post("/orders/createorder", json=theirs)
    fake.ship(mine["orderId"])
    fake.ship("other-1")
    receiver = Receiver()

    sent = fake.deliver_webhooks(receiver)

    assert [url for url, _, _ in receiver.got] == [TARGET, TARGET + "&all=1", TARGET + "&all=1"]
    assert all(d.state == "delivered" for d in sent)
    _, headers, body = receiver.got[0]
    assert not any("signature" in name.lower() or "hmac" in name.lower() for name in headers)
    assert json.loads(body)["resource_type"] == "SHIP_NOTIFY"
    assert "storeID=777" in receiver.bodies()[2]["resource_url"]
    assert fake.pending_webhooks() == []


def test_order_notify_points_at_the_import_batch_of_new_orders_only():
    fake, _, api = make()
    fake.subscribe(TARGET, "ORDER_NOTIFY")
    push(api, "SHOP-1", "k-1")
    push(api, "SHOP-1", "k-1")  # an update: no new order
    api.post(
        "/orders/createorders",
        json=[
            sample("createorder_request.json") | {"orderNumber": "SHOP-2", "orderKey": "k-2"},
            sample("createorder_request.json") | {"orderNumber": "SHOP-3", "orderKey": "k-3"},
        ],
    )

    pending = [d.payload for d in fake.pending_webhooks()]

    assert len(pending) == 2
    assert all(list(p) == list(sample("webhook_order_notify.json")) for p in pending)
    assert pending[0]["resource_url"].startswith(f"{BASE_URL}/orders?storeID={STORE_ID}&importBatch=")
    listed = [[o["orderNumber"] for o in api.get(p["resource_url"]).json()["orders"]] for p in pending]
    assert listed == [["SHOP-1"], ["SHOP-2", "SHOP-3"]]


def test_duplicates_drops_and_delays_and_at_least_once_with_retries():
    fake, clock, api = make()
    fake.subscribe(TARGET, "SHIP_NOTIFY")
    for n in range(4):
        push(api, f"SHOP-{n}", f"k-{n}")
    fake.duplicate_next(1)
    fake.ship("k-0")
    fake.drop_next(1)
    fake.ship("k-1")
    fake.delay_next(1, seconds=120)
    fake.ship("k-2")
    fake.ship("k-3")
    failing = Receiver(500, 200)

    first = fake.deliver_webhooks(failing)

    batches = [json.loads(d.body)["resource_url"].split("batchId=")[1].split("&")[0] for d in first]
    assert batches == ["100301", "100301", "100304"]
    assert first[0].delivery_id == first[1].delivery_id
    assert first[1].duplicate
    assert [d.state for d in first] == ["queued", "delivered", "delivered"]
    assert [d.state for d in fake.outbox if json.loads(d.body)["resource_url"].count("100302")] == ["dropped"]
    assert len(fake.pending_webhooks()) == 2  # the retry and the delayed one

    clock.tick(RETRY_SCHEDULE[0])
    retried = fake.deliver_webhooks(failing)
    clock.tick(datetime.timedelta(minutes=2))
    delayed = fake.deliver_webhooks(failing)

    assert [(d.state, len(d.attempts)) for d in retried] == [("delivered", 2)]
    assert ["100303" in json.loads(d.body)["resource_url"] for d in delayed] == [True]
    assert fake.pending_webhooks() == []


def test_a_subscription_whose_deliveries_keep_failing_is_deactivated():
    fake, clock, api = make()
    hook_id = fake.subscribe(TARGET, "SHIP_NOTIFY")
    push(api)
    fake.ship("shopify-5834021535987")
    down = Receiver(503)

    for wait in (datetime.timedelta(0), *RETRY_SCHEDULE):
        clock.tick(wait)
        fake.deliver_webhooks(down)

    assert len(down.got) == len(RETRY_SCHEDULE) + 1
    assert api.get("/webhooks").json()["webhooks"][0]["Active"] is False
    push(api, "SHOP-2", "k-2")
    fake.ship("k-2")
    assert fake.pending_webhooks() == []
    fake.activate_webhook(hook_id)
    push(api, "SHOP-3", "k-3")
    fake.ship("k-3")
    assert len(fake.pending_webhooks()) == 1


def test_reset_forgets_everything():
    fake, _, api = make()
    fake.subscribe(TARGET, "SHIP_NOTIFY")
    push(api)
    fake.ship("shopify-5834021535987")
    fake.fail_next(3)

    fake.reset()

    assert (fake.orders, fake.shipments, fake.webhooks, fake.outbox, fake.requests) == ({}, {}, {}, [], [])
    assert fake.faults.pending == 0
    assert api.get("/stores").headers["X-Rate-Limit-Remaining"] == "39"
