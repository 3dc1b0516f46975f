"""The fake ShipBob's stock over HTTP: cursor-paged inventory levels, levels per fulfilment
centre, committed and fulfillable after an order, stock that moves on its own, and receiving."""

from __future__ import annotations

import datetime
from typing import Any

import httpx

from integrations.fakes.clock import SimClock
from integrations.shipbob.fake import ACCESS_TOKEN, CHANNEL_ID, FakeShipBob
from integrations.shipbob.fake_data import sample

START = datetime.datetime(2026, 3, 14, 15, 0, tzinfo=datetime.UTC)
ORIGIN = "https://api.shipbob.com"
API = f"{ORIGIN}/2026-01"


def make(**options: Any) -> FakeShipBob:
    return FakeShipBob(clock=SimClock(START), **options)


def client(fake: FakeShipBob) -> httpx.Client:
    headers = {"Authorization": f"Bearer {ACCESS_TOKEN}", "shipbob_channel_id": str(CHANNEL_ID)}
    return httpx.Client(transport=httpx.MockTransport(fake.handle), base_url=API, headers=headers)


def order(fake: FakeShipBob, reference_id: str, lines: list[tuple[str, int]]) -> dict[str, Any]:
    body = sample("order_create_request.json")
    body["reference_id"] = reference_id
    body["products"] = [{"reference_id": sku, "quantity": units} for sku, units in lines]
    answer = client(fake).post("/order", json=body)
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


def follow(api: httpx.Client, path: str, **params: Any) -> list[dict[str, Any]]:
    """Every page, following ``next`` (a relative URL) until it is null."""
    pages = [api.get(path, params=params).json()]
    while pages[-1]["next"] is not None:
        assert pages[-1]["next"].startswith("/2026-01/")
        pages.append(api.get(ORIGIN + pages[-1]["next"]).json())
    return pages


def test_inventory_levels_page_by_cursor_until_next_is_null():
    fake = make()
    api = client(fake)

    pages = follow(api, "/inventory-level", PageSize=3)

    assert len(pages) == 2
    first, last = pages
    assert set(first) == set(sample("inventory_level_list_response.json"))
    assert set(first["items"][0]) == set(sample("inventory_level_list_response.json")["items"][0])
    assert first["first"] == "/2026-01/inventory-level?PageSize=3"
    assert first["prev"] is None
    assert first["last"] is not None
    assert last["next"] is None
    assert last["prev"] is not None
    skus = [item["sku"] for page in pages for item in page["items"]]
    assert skus == ["TENT-2P-GRN", "SLBAG-20F-REG", "TENT-2P-ORG", "STOVE-TI-01"]
    assert api.get(ORIGIN + first["last"]).json()["items"] == last["items"]
    assert api.get(ORIGIN + last["prev"]).json()["items"] == first["items"]
    tent = first["items"][0]
    assert (tent["inventory_id"], tent["total_on_hand_quantity"]) == (8812001, 57)
    assert api.get("/inventory-level", params={"cursor": "not-ours"}).status_code == 400


def test_filters_ride_in_the_cursor():
    fake = make()
    api = client(fake)

    pages = follow(api, "/inventory-level", PageSize=1, SearchBy="tent")

    assert [p["items"][0]["sku"] for p in pages] == ["TENT-2P-GRN", "TENT-2P-ORG"]
    ids = api.get("/inventory-level", params={"InventoryIds": "8812002,8812004"}).json()
    assert [i["inventory_id"] for i in ids["items"]] == [8812002, 8812004]
    assert ids["next"] is None
    assert ids["last"] is None


def test_levels_per_location_in_the_samples_shape():
    fake = make()
    api = client(fake)

    pages = follow(api, "/inventory-level/locations", PageSize=1)

    assert len(pages) == 4
    expected = sample("inventory_level_by_location_response.json")
    assert set(pages[0]) == set(expected)
    tent = pages[0]["items"][0]
    assert set(tent) == set(expected["items"][0])
    assert [set(level) for level in tent["locations"]] == [
        set(level) for level in expected["items"][0]["locations"]
    ]
    assert [
        (level["location_id"], level["name"], level["on_hand_quantity"]) for level in tent["locations"]
    ] == [
        (10, "Cicero (IL)", 40),
        (24, "Moreno Valley (CA)", 17),
    ]


def test_an_order_commits_stock_and_shipping_takes_it_off_hand():
    fake = make()
    api = client(fake)

    placed = order(fake, "ref-1", [("TENT-2P-GRN", 3)])
    level = api.get("/inventory-level/locations", params={"SearchBy": "TENT-2P-GRN"}).json()["items"][0]
    cicero = level["locations"][0]
    total = api.get("/inventory-level/8812001").json()

    assert (cicero["on_hand_quantity"], cicero["committed_quantity"], cicero["fulfillable_quantity"]) == (
        40,
        3,
        37,
    )
    assert (total["total_on_hand_quantity"], total["total_committed_quantity"]) == (57, 3)
    assert total["total_fulfillable_quantity"] == 54
    fake.ship(placed["id"])
    assert (fake.on_hand("TENT-2P-GRN", 10), fake.committed("TENT-2P-GRN", 10)) == (37, 0)
    assert fake.fulfillable("TENT-2P-GRN", 10) == 37
    assert fake.snapshot()["stock"]["TENT-2P-GRN"]["10"] == {
        "on_hand": 37,
        "committed": 0,
        "fulfillable": 37,
        "awaiting": 0,
    }


def test_an_order_goes_to_the_first_centre_that_has_all_of_it():
    fake = make()

    placed = order(fake, "ref-west", [("TENT-2P-GRN", 20)])  # Cicero has 40, fine
    bigger = order(fake, "ref-big", [("TENT-2P-GRN", 30)])  # 20 fulfillable left in Cicero, 17 west

    assert placed["shipments"][0]["location"]["id"] == 10
    assert bigger["status"] == "Exception"
    backordered = client(fake).get("/inventory-level/8812001").json()["total_backordered_quantity"]
    assert backordered == 30


def test_partial_shipping_splits_the_shipment():
    fake = make()
    placed = order(fake, "ref-1", [("TENT-2P-GRN", 2), ("STOVE-TI-01", 1)])

    shipped = fake.ship(placed["id"], partial={"TENT-2P-GRN": 1})

    now = fake.order(placed["id"])
    assert now["status"] == "PartiallyFulfilled"
    assert [s["status"] for s in now["shipments"]] == ["Completed", "Processing"]
    assert [p["sku"] for p in shipped["products"]] == ["TENT-2P-GRN"]
    assert fake.on_hand("TENT-2P-GRN", 10) == 39
    assert fake.committed("TENT-2P-GRN", 10) == 1
    assert fake.committed("STOVE-TI-01", 10) == 1
    fake.ship(placed["id"])
    assert fake.order(placed["id"])["status"] == "Fulfilled"
    assert fake.snapshot()["orders"]["ref-1"]["shipments"][1]["products"] == {
        "TENT-2P-GRN": 1,
        "STOVE-TI-01": 1,
    }


def test_stock_moves_on_its_own():
    fake = make()

    assert fake.damage("STOVE-TI-01", 10, 4) == 21
    assert fake.count("STOVE-TI-01", 24, 3) == 3
    level = client(fake).get("/inventory-level/8812004").json()
    assert level["total_on_hand_quantity"] == 24
    assert fake.damage("STOVE-TI-01", 24, 99) == 0


def test_a_receiving_order_round_trip():
    fake = make()
    api = client(fake)
    request = {
        "fulfillment_center": {"id": 24},
        "package_type": "Package",
        "box_packaging_type": "EverythingInOneBox",
        "boxes": [
            {
                "tracking_number": "1Z999AA10123456784",
                "box_items": [
                    {"inventory_id": 8812002, "quantity": 10},
                    {"sku": "TENT-2P-ORG", "quantity": 4},
                ],
            }
        ],
        "expected_arrival_date": "2026-03-20T00:00:00Z",
        "purchase_order_number": "PO-2026-0007",
    }

    created = api.post("/receiving", json=request)

    assert created.status_code == 201
    wro = created.json()
    assert wro["status"] == "Awaiting"
    assert wro["purchase_order_number"] == "PO-2026-0007"
    assert wro["fulfillment_center"]["id"] == 24
    assert wro["fulfillment_center"]["name"] == "Moreno Valley (CA)"
    assert wro["inventory_quantities"] == [
        {
            "expected_quantity": 10,
            "inventory_id": 8812002,
            "received_quantity": 0,
            "sku": "SLBAG-20F-REG",
            "stowed_quantity": 0,
        },
        {
            "expected_quantity": 4,
            "inventory_id": 8812003,
            "received_quantity": 0,
            "sku": "TENT-2P-ORG",
            "stowed_quantity": 0,
        },
    ]
    awaiting = api.get("/inventory-level/8812002").json()["total_awaiting_quantity"]
    assert awaiting == 10

    fake.receive(wro["id"], {"SLBAG-20F-REG": 9, "TENT-2P-ORG": 4})

    polled = api.get(f"/receiving/{wro['id']}").json()
    assert polled["status"] == "Completed"
    assert [q["received_quantity"] for q in polled["inventory_quantities"]] == [9, 4]
    assert [q["stowed_quantity"] for q in polled["inventory_quantities"]] == [9, 4]
    assert [h["status"] for h in polled["status_history"]] == ["Awaiting", "Arrived", "Completed"]
    assert fake.on_hand("SLBAG-20F-REG", 24) == 9
    assert fake.on_hand("TENT-2P-ORG", 24) == 10
    assert api.get("/inventory-level/8812002").json()["total_awaiting_quantity"] == 0
    assert fake.snapshot()["receiving"][str(wro["id"])]["received"] == {"SLBAG-20F-REG": 9, "TENT-2P-ORG": 4}


def test_receiving_is_validated_and_cancelled():
    fake = make()
    api = client(fake)

    bad = api.post("/receiving", json={"fulfillment_center": {"id": 99}, "boxes": []})
    no_channel = api.post("/receiving", json={}, headers={"shipbob_channel_id": ""})

    assert bad.status_code == 400
    assert {"fulfillment_center.id", "package_type", "box_packaging_type", "boxes"} <= set(bad.json())
    assert no_channel.status_code == 400
    request = {
        "fulfillment_center": {"id": 10},
        "package_type": "Pallet",
        "box_packaging_type": "OneSkuPerBox",
        "boxes": [{"tracking_number": "T1", "box_items": [{"inventory_id": 8812001, "quantity": 5}]}],
        "expected_arrival_date": "2026-03-20T00:00:00Z",
    }
    wro = api.post("/receiving", json=request).json()
    assert api.post(f"/receiving/{wro['id']}:cancel").json()["status"] == "Cancelled"
    assert api.post(f"/receiving/{wro['id']}:cancel").status_code == 422
    assert api.get("/receiving/1").status_code == 404


def test_stock_received_allocates_waiting_orders():
    fake = make()
    placed = order(fake, "ref-wait", [("SLBAG-20F-REG", 15)])
    assert placed["status"] == "Exception"
    wro = fake.create_receiving(
        {
            "fulfillment_center": {"id": 10},
            "package_type": "Package",
            "box_packaging_type": "EverythingInOneBox",
            "boxes": [{"tracking_number": "T1", "box_items": [{"inventory_id": 8812002, "quantity": 5}]}],
            "expected_arrival_date": "2026-03-20T00:00:00Z",
        }
    )

    fake.receive(wro["id"])

    now = fake.order(placed["id"])
    assert now["status"] == "Processing"
    assert now["shipments"][0]["location"]["id"] == 10
    assert fake.committed("SLBAG-20F-REG", 10) == 15
    assert fake.fulfillable("SLBAG-20F-REG", 10) == 2
