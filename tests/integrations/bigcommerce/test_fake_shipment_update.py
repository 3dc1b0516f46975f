"""The fake BigCommerce's ``PUT /v2/orders/{id}/shipments/{shipment_id}``: the fields of BigCommerce's
orderShipment_Put replace the shipment's, V2 400s and 404s, store/shipment/updated."""

from __future__ import annotations

import datetime
import json

import httpx
import pytest

from integrations.bigcommerce.fake import ACCESS_TOKEN, STORE_HASH, FakeBigCommerce
from integrations.bigcommerce.fake_data import sample
from integrations.fakes.clock import SimClock

BASE = f"https://api.bigcommerce.com/stores/{STORE_HASH}"
DESTINATION = "https://erp.example.com/hooks/bigcommerce"
TRACKING = ("tracking_number", "shipping_provider", "tracking_carrier", "tracking_link")
NOT_FOUND = [{"status": 404, "message": "The requested resource was not found."}]


@pytest.fixture
def fake() -> FakeBigCommerce:
    return FakeBigCommerce(clock=SimClock(datetime.datetime(2026, 3, 14, 15, 0, tzinfo=datetime.UTC)))


@pytest.fixture
def api(fake) -> httpx.Client:
    return httpx.Client(
        transport=httpx.MockTransport(fake.handle), base_url=BASE, headers={"X-Auth-Token": ACCESS_TOKEN}
    )


@pytest.fixture
def shipment(api) -> dict:
    """The sample shipment of the seed order 250 (USPS)."""
    created = api.post("/v2/orders/250/shipments", json=sample("v2_order_shipment_create_request.json"))
    assert created.status_code == 201
    return created.json()


def without(record: dict, *keys: str) -> dict:
    return {k: v for k, v in record.items() if k not in keys}


def test_a_put_changes_the_tracking_and_carrier_and_nothing_else(fake, api, shipment):
    order_before = api.get("/v2/orders/250").json()
    products_before = api.get("/v2/orders/250/products").json()
    change = {
        "tracking_number": "794600000001",
        "shipping_provider": "fedex",
        "tracking_carrier": "fedex",
        "tracking_link": "https://www.fedex.com/fedextrack/?trknbr=794600000001",
    }

    answer = api.put(f"/v2/orders/250/shipments/{shipment['id']}", json=change)

    assert answer.status_code == 200
    updated = answer.json()
    assert {k: updated[k] for k in TRACKING} == change
    assert without(updated, *TRACKING) == without(shipment, *TRACKING)
    assert api.get(f"/v2/orders/250/shipments/{shipment['id']}").json() == updated
    assert api.get("/v2/orders/250/shipments").json() == [updated]
    assert api.get("/v2/orders/250").json() == order_before
    assert api.get("/v2/orders/250/products").json() == products_before


def test_fields_left_out_stay_and_items_are_not_changed_by_a_put(api, shipment):
    answer = api.put(
        f"/v2/orders/250/shipments/{shipment['id']}",
        json={
            "tracking_number": "9400100000000000000002",
            "items": [{"order_product_id": 401, "quantity": 9}],
        },
    )

    updated = answer.json()
    assert answer.status_code == 200
    assert updated["tracking_number"] == "9400100000000000000002"
    assert (updated["shipping_provider"], updated["tracking_carrier"]) == ("usps", "usps")
    assert updated["items"] == shipment["items"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"order_address_id": 999}, "order_address_id"),
        ({"tracking_number": 123}, "tracking_number"),
        ({"shipping_provider": None}, "shipping_provider"),
    ],
)
def test_a_bad_field_is_a_v2_400_array_and_changes_nothing(api, shipment, change, field):
    answer = api.put(f"/v2/orders/250/shipments/{shipment['id']}", json={"tracking_number": "X1"} | change)

    assert answer.status_code == 400
    assert answer.json() == [{"status": 400, "message": f"The field '{field}' is invalid."}]
    assert api.get("/v2/orders/250/shipments").json() == [shipment]


def test_an_unknown_shipment_or_order_is_a_v2_404(api, shipment):
    for path in ("/v2/orders/250/shipments/99", "/v2/orders/999/shipments/1"):
        answer = api.put(path, json={"tracking_number": "X1"})

        assert answer.status_code == 404
        assert answer.json() == NOT_FOUND
    assert api.get("/v2/orders/250/shipments/99").status_code == 404
    assert api.get("/v2/orders/250/shipments").json() == [shipment]


def test_an_update_sends_store_shipment_updated_and_no_order_event(fake, api, shipment):
    fake.create_hook("store/shipment/*", DESTINATION)
    fake.create_hook("store/order/*", DESTINATION)
    got: list[dict] = []

    def receive(url: str, headers: dict[str, str], body: bytes) -> int:
        got.append(json.loads(body))
        return 200

    api.put(f"/v2/orders/250/shipments/{shipment['id']}", json={"tracking_number": "X1"})
    fake.retrack_shipment(250, shipment["id"], tracking_number="1ZADMIN", carrier="ups")
    fake.deliver_webhooks(receive)

    assert [(event["scope"], event["data"]) for event in got] == [
        ("store/shipment/updated", {"type": "shipment", "id": shipment["id"], "orderId": 250}),
        ("store/shipment/updated", {"type": "shipment", "id": shipment["id"], "orderId": 250}),
    ]
    assert api.get(f"/v2/orders/250/shipments/{shipment['id']}").json()["tracking_number"] == "1ZADMIN"
