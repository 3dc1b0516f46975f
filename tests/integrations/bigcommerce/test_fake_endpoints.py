"""The fake BigCommerce's store information, V3 refunds and V3 catalog products in BigCommerce's shapes,
and the merchant's edit of an order's notes (the conformance harness's control)."""

from __future__ import annotations

import datetime

import httpx
import pytest

from integrations.bigcommerce.fake import ACCESS_TOKEN, STORE_HASH, FakeBigCommerce
from integrations.bigcommerce.fake_state import Problem
from integrations.bigcommerce.mapping import product_item, refund
from integrations.fakes.clock import SimClock

BASE = f"https://api.bigcommerce.com/stores/{STORE_HASH}"
START = datetime.datetime(2026, 3, 14, 15, 0, tzinfo=datetime.UTC)


@pytest.fixture
def fake() -> FakeBigCommerce:
    return FakeBigCommerce(clock=SimClock(START))


def api(fake: FakeBigCommerce) -> httpx.Client:
    return httpx.Client(
        transport=httpx.MockTransport(fake.handle), base_url=BASE, headers={"X-Auth-Token": ACCESS_TOKEN}
    )


def test_the_store_information_is_bigcommerces_shape(fake):
    response = api(fake).get("/v2/store")

    assert response.status_code == 200
    assert "X-Rate-Limit-Requests-Left" in response.headers
    body = response.json()
    assert (body["id"], body["name"], body["currency"], body["store_id"]) == (
        STORE_HASH,
        "Trail Supply Co",
        "USD",
        1025646,
    )
    for key in ("domain", "secure_url", "control_panel_base_url", "status", "timezone", "plan_name"):
        assert key in body


def test_refunds_are_listed_in_v3s_shape(fake):
    placed = fake.create_order([("SLBAG-20F-REG", 2), ("STOVE-TI-01", 1)])
    fake.refund_order(placed["id"], {"SLBAG-20F-REG": 1}, restock=True, reason="Arrived damaged")

    response = api(fake).get(f"/v3/orders/{placed['id']}/payment_actions/refunds")

    assert response.status_code == 200
    body = response.json()
    assert body["meta"]["pagination"]["total"] == 1
    [data] = body["data"]
    bag = next(p for p in fake.order_products(placed["id"]) if p["sku"] == "SLBAG-20F-REG")
    assert data == {
        "id": 1,
        "order_id": placed["id"],
        "user_id": 0,
        "created": "2026-03-14T15:00:00Z",
        "reason": "Arrived damaged",
        "total_amount": 189.74,
        "total_tax": 10.74,
        "items": [
            {
                "item_type": "PRODUCT",
                "item_id": bag["id"],
                "reason": "Arrived damaged",
                "quantity": 1,
                "requested_amount": 189.74,
            }
        ],
        "payments": [
            {
                "id": 1,
                "provider_id": data["payments"][0]["provider_id"],
                "amount": 189.74,
                "offline": False,
                "is_declined": False,
                "declined_message": "",
            }
        ],
    }
    # and the connector's mapping reads it: one unit of the bag line, never shipped
    record = refund(data, {str(bag["id"]): bag["quantity_shipped"]})
    assert (str(record.amount), [(ln.line_external_id, ln.quantity) for ln in record.lines]) == (
        "189.74",
        [(str(bag["id"]), 1)],
    )


def test_an_amount_refunded_on_the_whole_order_is_an_order_item(fake):
    placed = fake.create_order([("STOVE-TI-01", 1)])

    fake.refund_order(placed["id"], {}, amount="5.00")

    [data] = api(fake).get(f"/v3/orders/{placed['id']}/payment_actions/refunds").json()["data"]
    assert data["total_amount"] == 5.0
    assert [(i["item_type"], i["item_id"]) for i in data["items"]] == [("ORDER", placed["id"])]
    assert fake.snapshot([placed["id"]])["orders"][str(placed["id"])]["refunds"][0]["lines"] == {}


def test_refunds_of_an_unknown_order_are_v3s_404(fake):
    response = api(fake).get("/v3/orders/9999/payment_actions/refunds")

    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


def test_an_order_without_refunds_lists_none(fake):
    body = api(fake).get("/v3/orders/250/payment_actions/refunds").json()

    assert body["data"] == []
    assert body["meta"]["pagination"]["total"] == 0


def test_catalog_products_with_their_variants_are_paged(fake):
    client = api(fake)

    first = client.get("/v3/catalog/products", params={"include": "variants", "limit": 2}).json()
    second = client.get("/v3/catalog/products", params={"include": "variants", "limit": 2, "page": 2}).json()

    assert [p["id"] for p in first["data"]] == [112, 113]
    assert [p["id"] for p in second["data"]] == [114, 130]
    pagination = first["meta"]["pagination"]
    assert (
        pagination["total"],
        pagination["count"],
        pagination["current_page"],
        pagination["total_pages"],
    ) == (
        4,
        2,
        1,
        2,
    )
    assert pagination["links"]["next"] == "?include=variants&page=2&limit=2"
    tent = first["data"][0]
    assert [(v["id"], v["sku"]) for v in tent["variants"]] == [(77, "TENT-2P-GRN"), (78, "TENT-2P-ORG")]
    assert (tent["name"], tent["type"], tent["inventory_tracking"], tent["base_variant_id"]) == (
        "Trail Tent 2P",
        "physical",
        "variant",
        77,
    )
    assert tent["inventory_level"] == 42 + 10 + 18 + 6
    assert "variants" not in client.get("/v3/catalog/products").json()["data"][0]
    # the connector's mapping reads them
    record = product_item(tent).record
    assert record is not None
    assert [(v.external_id, v.sku, v.title) for v in record.variants] == [
        ("77", "TENT-2P-GRN", "Trail Tent 2P - Green"),
        ("78", "TENT-2P-ORG", "Trail Tent 2P - Orange"),
    ]


def test_catalog_products_filter_by_id_sku_and_date_modified(fake):
    client = api(fake)

    by_ids = client.get("/v3/catalog/products", params={"id:in": "113,130"}).json()["data"]
    by_sku = client.get("/v3/catalog/products", params={"sku": "STOVE-TI-01"}).json()["data"]
    later = client.get("/v3/catalog/products", params={"date_modified:min": "2026-03-02T00:00:00+00:00"})

    assert [p["id"] for p in by_ids] == [113, 130]
    assert [p["id"] for p in by_sku] == [114]
    assert later.json()["data"] == []
    bad = client.get("/v3/catalog/products", params={"date_modified:min": "yesterday"})
    assert bad.status_code == 422


def test_one_catalog_product_with_its_variants(fake):
    client = api(fake)

    body = client.get("/v3/catalog/products/113", params={"include": "variants"}).json()
    missing = client.get("/v3/catalog/products/999")

    assert body["data"]["id"] == 113
    assert [v["sku"] for v in body["data"]["variants"]] == ["SLBAG-20F-REG"]
    assert body["meta"] == {}
    assert missing.status_code == 404
    assert missing.json()["status"] == 404


def test_a_hook_to_plain_http_is_refused_except_on_this_machine(fake):
    client = api(fake)

    remote = client.post(
        "/v3/hooks", json={"scope": "store/order/created", "destination": "http://erp.example"}
    )
    local = client.post(
        "/v3/hooks", json={"scope": "store/order/created", "destination": "http://127.0.0.1:8000/hooks/1/"}
    )

    assert remote.status_code == 422
    assert local.status_code == 200


def test_the_merchants_edit_changes_the_note_and_sends_updated(fake):
    fake.create_hook("store/order/updated", "https://erp.example/hooks/1/")
    later = START + datetime.timedelta(minutes=5)

    applied = fake.edit_order(250, customer_message="Leave at the door", at=later)
    stale = fake.edit_order(250, customer_message="older", at=START - datetime.timedelta(days=1))

    assert (applied, stale) == (True, False)
    order = fake.order(250)
    assert order["customer_message"] == "Leave at the door"
    assert order["date_modified"] == "Sat, 14 Mar 2026 15:05:00 +0000"
    assert [d.topic for d in fake.pending_webhooks()] == ["store/order/updated"]


def test_what_came_back_is_what_had_shipped_and_the_admin_ships_what_the_customer_kept(fake):
    placed = fake.create_order([("SLBAG-20F-REG", 2), ("STOVE-TI-01", 1)])
    fake.ship_order(placed["id"], {"SLBAG-20F-REG": 2})

    fake.refund_order(placed["id"], {"SLBAG-20F-REG": 1, "STOVE-TI-01": 1}, restock=True)
    with pytest.raises(Problem) as nothing_left:  # the stove was refunded before it shipped
        fake.ship_order(placed["id"])

    [refunded] = fake.snapshot([placed["id"]])["orders"][str(placed["id"])]["refunds"]
    assert refunded["restocked"] == {"SLBAG-20F-REG": 1, "STOVE-TI-01": 1}
    assert refunded["returned"] == {"SLBAG-20F-REG": 1}
    assert nothing_left.value.status == 400
