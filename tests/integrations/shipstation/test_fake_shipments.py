"""The fake ShipStation's warehouse and GET /shipments: a label per batch, SHIP_NOTIFY whose
resource_url lists that batch, partial shipments, voids that reopen the order, includeShipmentItems,
filters, sorting and pages, the sample's shape and the snapshot."""

from __future__ import annotations

import datetime
import json
from typing import Any

import httpx
import pytest

from integrations.fakes.clock import SimClock
from integrations.shipstation.fake import API_KEY, API_SECRET, BASE_URL, STORE_ID, FakeShipStation, sample

START = datetime.datetime(2026, 3, 14, 15, 0, tzinfo=datetime.UTC)  # 08:00 in Los Angeles
TARGET = "https://erp.example.com/hooks/shipstation/ship-notify?token=s3cret"


def make() -> tuple[FakeShipStation, SimClock, httpx.Client]:
    clock = SimClock(START)
    fake = FakeShipStation(clock=clock)
    api = httpx.Client(
        transport=httpx.MockTransport(fake.handle), base_url=BASE_URL, auth=(API_KEY, API_SECRET)
    )
    return fake, clock, api


def push(api: httpx.Client, number: str = "SHOP-1042", key: str = "shopify-5834021535987") -> dict[str, Any]:
    payload = sample("createorder_request.json") | {"orderNumber": number, "orderKey": key}
    answer = api.post("/orders/createorder", json=payload)
    assert answer.status_code == 200
    return dict(answer.json())


def key_paths(value: Any, prefix: str = "") -> set[str]:
    paths: set[str] = set()
    if isinstance(value, dict):
        for key, inner in value.items():
            paths.add(prefix + key)
            paths |= key_paths(inner, f"{prefix}{key}.")
    elif isinstance(value, list) and value:
        paths |= key_paths(value[0], f"{prefix}[].")
    return paths


def test_ship_queues_a_ship_notify_whose_resource_url_lists_that_batch():
    fake, _, api = make()
    fake.subscribe(TARGET, "SHIP_NOTIFY", store_id=STORE_ID)
    pushed = push(api)
    push(api, "SHOP-7", "k-7")
    fake.ship("k-7")

    label = fake.ship(pushed["orderId"], carrier="ups_walleted", service="ups_ground", tracking="1Z999")
    pending = fake.pending_webhooks("SHIP_NOTIFY")

    assert len(pending) == 2
    body = pending[-1].payload
    assert body == {
        "resource_url": f"{BASE_URL}/shipments?storeID={STORE_ID}&batchId={label['batchNumber']}"
        "&includeShipmentItems=False",
        "resource_type": "SHIP_NOTIFY",
    }
    assert list(body) == list(sample("webhook_ship_notify.json"))
    listed = api.get(body["resource_url"]).json()
    assert [s["shipmentId"] for s in listed["shipments"]] == [label["shipmentId"]]
    shipment = listed["shipments"][0]
    assert shipment["shipmentItems"] is None
    assert (shipment["trackingNumber"], shipment["carrierCode"], shipment["serviceCode"]) == (
        "1Z999",
        "ups_walleted",
        "ups_ground",
    )
    assert shipment["createDate"] == "2026-03-14T08:00:00.0000000"
    assert shipment["shipDate"] == "2026-03-14"
    shipped = fake.order(pushed["orderId"])
    assert (shipped["orderStatus"], shipped["shipDate"], shipped["carrierCode"]) == (
        "shipped",
        "2026-03-14",
        "ups_walleted",
    )


def test_the_shipments_list_is_the_samples_shape_with_items_when_asked():
    fake, _, api = make()
    pushed = push(api)
    fake.ship(pushed["orderKey"])

    with_items = api.get("/shipments", params={"orderNumber": "SHOP-1042", "includeShipmentItems": "true"})
    without = api.get("/shipments", params={"orderNumber": "SHOP-1042"}).json()

    expected = sample("list_shipments_response.json")
    assert key_paths(with_items.json()) == key_paths(expected)
    assert list(with_items.json()["shipments"][0]) == list(expected["shipments"][0])
    items = with_items.json()["shipments"][0]["shipmentItems"]
    assert [(i["lineItemKey"], i["sku"], i["quantity"]) for i in items] == [
        ("13950000000001", "TENT-2P-GRN", 1),
        ("13950000000002", "SLBAG-20F-REG", 2),
    ]
    assert [i["orderItemId"] for i in items] == [i["orderItemId"] for i in pushed["items"]]
    assert without["shipments"][0]["shipmentItems"] is None
    assert without["shipments"][0]["shipTo"]["street1"] == "410 W MAIN ST APT 3"
    assert (without["total"], without["page"], without["pages"]) == (1, 1, 1)


def test_a_partial_shipment_leaves_the_order_awaiting_shipment_until_every_unit_ships():
    fake, _, api = make()
    pushed = push(api)

    first = fake.ship(pushed["orderId"], {"TENT-2P-GRN": 1, "13950000000002": 1})
    after_first = fake.order(pushed["orderId"])
    left = fake.unshipped(pushed["orderId"])
    second = fake.ship(pushed["orderId"])

    assert after_first["orderStatus"] == "awaiting_shipment"
    assert left == {"13950000000002": 1}
    assert first["batchNumber"] != second["batchNumber"]
    assert [(i["sku"], i["quantity"]) for i in second["shipmentItems"]] == [("SLBAG-20F-REG", 1)]
    assert fake.order(pushed["orderId"])["orderStatus"] == "shipped"
    assert fake.unshipped(pushed["orderId"]) == {}
    with pytest.raises(ValueError, match="cannot be shipped"):
        fake.ship(pushed["orderId"])


def test_more_than_is_left_or_a_line_the_order_lacks_is_refused():
    fake, _, api = make()
    pushed = push(api)

    with pytest.raises(ValueError, match="fewer than"):
        fake.ship(pushed["orderId"], {"TENT-2P-GRN": 2})
    with pytest.raises(ValueError, match="no line"):
        fake.ship(pushed["orderId"], {"NOPE": 1})
    assert fake.shipments == {}


def test_a_void_reopens_the_order_without_a_webhook_and_a_relabel_is_another_ship():
    fake, clock, api = make()
    fake.subscribe(TARGET, "SHIP_NOTIFY")
    pushed = push(api)
    label = fake.ship(pushed["orderId"])
    clock.tick(datetime.timedelta(hours=2))

    voided = fake.void(label["shipmentId"])

    assert voided["voided"] is True
    assert voided["voidDate"] == "2026-03-14T10:00:00.0000000"
    reopened = fake.order(pushed["orderId"])
    assert (reopened["orderStatus"], reopened["shipDate"]) == ("awaiting_shipment", None)
    assert fake.unshipped(pushed["orderId"]) == {"13950000000001": 1, "13950000000002": 2}
    assert len(fake.pending_webhooks()) == 1  # the label's SHIP_NOTIFY only
    listed = api.get("/shipments", params={"voidDateStart": "2026-03-14 09:00:00"}).json()
    assert [s["shipmentId"] for s in listed["shipments"]] == [label["shipmentId"]]

    relabel = fake.ship(pushed["orderId"], tracking="9400111899223100000001")

    assert fake.order(pushed["orderId"])["orderStatus"] == "shipped"
    snapshot = fake.snapshot()
    assert snapshot["orders"][pushed["orderKey"]]["tracking_numbers"] == ["9400111899223100000001"]
    assert snapshot["orders"][pushed["orderKey"]]["lines"] == {
        "TENT-2P-GRN": {"quantity": 1, "shipped": 1},
        "SLBAG-20F-REG": {"quantity": 2, "shipped": 2},
    }
    assert snapshot["shipments"][str(label["shipmentId"])]["voided"] is True
    assert snapshot["shipments"][str(relabel["shipmentId"])] == {
        "order_id": pushed["orderId"],
        "order_key": pushed["orderKey"],
        "order_number": "SHOP-1042",
        "batch": relabel["batchNumber"],
        "tracking": "9400111899223100000001",
        "carrier": "stamps_com",
        "service": "usps_priority_mail",
        "voided": False,
        "lines": {"13950000000001": 1, "13950000000002": 2},
    }
    json.dumps(snapshot)  # plain JSON


def test_shipments_page_filter_by_dates_in_pacific_time_and_sort():
    fake, clock, api = make()
    for n in range(5):
        push(api, f"SHOP-{n}", f"k-{n}")
        fake.ship(f"k-{n}")
        clock.tick(datetime.timedelta(hours=6))  # 08:00, 14:00, 20:00 on the 14th; 02:00, 08:00 on the 15th

    first = api.get("/shipments", params={"pageSize": 2}).json()
    third = api.get("/shipments", params={"pageSize": 2, "page": 3}).json()
    by_day = api.get("/shipments", params={"shipDateStart": "2026-03-15", "shipDateEnd": "2026-03-15"}).json()
    created = api.get(
        "/shipments",
        params={"createDateStart": "2026-03-14 13:00:00", "createDateEnd": "2026-03-14 21:00:00"},
    ).json()
    newest = api.get("/shipments", params={"sortBy": "ShipDate", "sortDir": "DESC", "pageSize": 1}).json()
    by_order = api.get("/shipments", params={"orderId": fake.order("k-2")["orderId"]}).json()

    assert (first["total"], first["pages"], len(first["shipments"])) == (5, 3, 2)
    assert [s["orderNumber"] for s in third["shipments"]] == ["SHOP-4"]
    assert [s["orderNumber"] for s in by_day["shipments"]] == ["SHOP-3", "SHOP-4"]
    assert [s["orderNumber"] for s in created["shipments"]] == ["SHOP-1", "SHOP-2"]
    assert newest["shipments"][0]["orderNumber"] == "SHOP-4"
    assert [s["orderNumber"] for s in by_order["shipments"]] == ["SHOP-2"]
    assert api.get("/shipments", params={"createDateStart": "soon"}).status_code == 400


def test_orders_awaiting_is_the_warehouses_work_list():
    fake, _, api = make()
    push(api, "SHOP-1", "k-1")
    push(api, "SHOP-2", "k-2")
    api.post(
        "/orders/holduntil", json={"orderId": fake.order("k-2")["orderId"], "holdUntilDate": "2026-03-20"}
    )
    push(api, "SHOP-3", "k-3")
    fake.ship("k-3")

    assert [o["orderKey"] for o in fake.orders_awaiting()] == ["k-1"]
    with pytest.raises(ValueError, match="on_hold"):
        fake.ship("k-2")
