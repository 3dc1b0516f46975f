"""The fake BigCommerce speaks its wire format: auth, quota headers and 429s, V2 pagination and 204,
shipments that move the status, V3 inventory adjustments and their 422s, catalog variants, hooks."""

from __future__ import annotations

import datetime

import httpx
import pytest

from integrations.bigcommerce.fake import ACCESS_TOKEN, STORE_HASH, FakeBigCommerce
from integrations.bigcommerce.fake_data import sample
from integrations.fakes.clock import SimClock

BASE = f"https://api.bigcommerce.com/stores/{STORE_HASH}"
QUOTA_HEADERS = (
    "X-Rate-Limit-Time-Window-Ms",
    "X-Rate-Limit-Time-Reset-Ms",
    "X-Rate-Limit-Requests-Quota",
    "X-Rate-Limit-Requests-Left",
)


def start() -> SimClock:
    return SimClock(datetime.datetime(2026, 3, 14, 15, 0, tzinfo=datetime.UTC))


def client(fake: FakeBigCommerce, token: str | None = ACCESS_TOKEN) -> httpx.Client:
    headers = {"X-Auth-Token": token} if token else {}
    return httpx.Client(transport=httpx.MockTransport(fake.handle), base_url=BASE, headers=headers)


def test_the_seed_order_is_the_samples_order():
    api = client(FakeBigCommerce(clock=start()))

    assert api.get("/v2/orders/250").json() == sample("v2_order_get_response.json")
    assert api.get("/v2/orders/250/products").json() == sample("v2_order_products_response.json")
    assert api.get("/v2/orders/250/shipping_addresses").json() == sample(
        "v2_order_shipping_addresses_response.json"
    )
    assert api.get("/v2/orders").json() == sample("v2_orders_list_response.json")


def test_without_the_token_v2_and_v3_answer_401_in_their_own_shapes():
    fake = FakeBigCommerce(clock=start())

    v2 = client(fake, token=None).get("/v2/orders/250")
    v3 = client(fake, token="wrong").get("/v3/catalog/variants")

    assert v2.status_code == 401
    assert v2.json()[0]["status"] == 401
    assert v3.status_code == 401
    assert v3.json()["status"] == 401
    assert v3.headers["content-type"] == "application/problem+json"


def test_an_unknown_order_is_the_v2_404_array():
    response = client(FakeBigCommerce(clock=start())).get("/v2/orders/9999")

    assert response.status_code == 404
    assert response.json() == sample("v2_error_404.json")


def test_v2_orders_paginate_by_page_number_and_answer_204_with_no_body_past_the_end():
    clock = start()
    fake = FakeBigCommerce(clock=clock)
    for _ in range(3):
        clock.tick(datetime.timedelta(minutes=5))
        fake.create_order([("STOVE-TI-01", 1)])
    api = client(fake)

    first = api.get("/v2/orders", params={"limit": 2, "page": 1, "sort": "date_modified:asc"})
    second = api.get("/v2/orders", params={"limit": 2, "page": 2, "sort": "date_modified:asc"})
    past = api.get("/v2/orders", params={"limit": 2, "page": 3})

    assert [o["id"] for o in first.json()] == [250, 251]
    assert [o["id"] for o in second.json()] == [252, 253]
    assert past.status_code == 204
    assert past.content == b""
    assert "X-Rate-Limit-Requests-Left" in past.headers


@pytest.mark.parametrize(
    "since", ["Sat, 14 Mar 2026 15:07:00 +0000", "2026-03-14T15:07:00+00:00", "2026-03-14T15:07:00Z"]
)
def test_min_date_modified_takes_rfc_2822_and_iso_8601(since):
    clock = start()
    fake = FakeBigCommerce(clock=clock)
    for _ in range(3):
        clock.tick(datetime.timedelta(minutes=5))
        fake.create_order([("STOVE-TI-01", 1)])

    response = client(fake).get("/v2/orders", params={"min_date_modified": since})

    assert [o["id"] for o in response.json()] == [252, 253]


def test_nothing_modified_since_is_204_and_a_bad_date_is_the_v2_400():
    api = client(FakeBigCommerce(clock=start()))

    nothing = api.get("/v2/orders", params={"min_date_modified": "Sun, 15 Mar 2026 00:00:00 +0000"})
    bad = api.get("/v2/orders", params={"min_date_modified": "yesterday"})

    assert nothing.status_code == 204
    assert nothing.content == b""
    assert bad.status_code == 400
    assert bad.json() == [{"status": 400, "message": "The field 'min_date_modified' is invalid."}]


def test_every_answer_carries_the_quota_and_past_it_a_429_with_the_quota_headers():
    clock = start()
    fake = FakeBigCommerce(clock=clock, quota=3, window_seconds=30)
    api = client(fake)

    answers = [api.get("/v2/orders/250") for _ in range(4)]

    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert [a.headers["X-Rate-Limit-Requests-Left"] for a in answers] == ["2", "1", "0", "0"]
    assert all(a.headers["X-Rate-Limit-Requests-Quota"] == "3" for a in answers)
    assert answers[0].headers["X-Rate-Limit-Time-Window-Ms"] == "30000"
    clock.tick(datetime.timedelta(seconds=12))
    refused = api.get("/v2/orders/250")
    assert refused.status_code == 429
    assert refused.headers["X-Rate-Limit-Time-Reset-Ms"] == "18000"
    clock.tick(datetime.timedelta(seconds=18))
    assert api.get("/v2/orders/250").status_code == 200


def test_platform_load_is_a_429_without_the_quota_headers():
    fake = FakeBigCommerce(clock=start())
    fake.throttle_next(1, match="v2/orders")
    api = client(fake)

    loaded = api.get("/v2/orders/250")
    after = api.get("/v2/orders/250")

    assert loaded.status_code == 429
    assert not any(name in loaded.headers for name in QUOTA_HEADERS)
    assert after.status_code == 200
    assert all(name in after.headers for name in QUOTA_HEADERS)


def test_a_shipment_ships_its_lines_and_moves_the_status_partially_then_shipped():
    fake = FakeBigCommerce(clock=start())
    api = client(fake)
    request = sample("v2_order_shipment_create_request.json")
    partial = dict(request, items=[{"order_product_id": 402, "quantity": 1}])

    first = api.post("/v2/orders/250/shipments", json=partial)
    middle = api.get("/v2/orders/250").json()
    second = api.post("/v2/orders/250/shipments", json=dict(request, items=request["items"][:1]))
    third = api.post("/v2/orders/250/shipments", json=dict(partial, tracking_number="2"))
    products = api.get("/v2/orders/250/products").json()
    done = api.get("/v2/orders/250").json()

    assert first.status_code == 201
    assert first.json()["tracking_number"] == request["tracking_number"]
    assert (middle["status_id"], middle["status"], middle["items_shipped"]) == (3, "Partially Shipped", 1)
    assert second.status_code == 201
    assert third.status_code == 201
    assert [p["quantity_shipped"] for p in products] == [1, 2]
    assert (done["status_id"], done["status"], done["items_shipped"]) == (2, "Shipped", 3)
    assert done["date_shipped"]
    assert len(api.get("/v2/orders/250/shipments").json()) == 3


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"order_address_id": 999}, "order_address_id"),
        ({"items": [{"order_product_id": 999, "quantity": 1}]}, "order_product_id"),
        ({"items": [{"order_product_id": 401, "quantity": 0}]}, "quantity"),
    ],
)
def test_a_bad_shipment_is_a_v2_400_array_and_ships_nothing(change, field):
    fake = FakeBigCommerce(clock=start())
    api = client(fake)

    response = api.post(
        "/v2/orders/250/shipments", json=sample("v2_order_shipment_create_request.json") | change
    )

    assert response.status_code == 400
    assert response.json() == [{"status": 400, "message": f"The field '{field}' is invalid."}]
    assert api.get("/v2/orders/250").json()["status_id"] == 11
    assert api.get("/v2/orders/250/shipments").status_code == 204


def test_shipping_more_than_is_left_is_refused():
    api = client(FakeBigCommerce(clock=start()))
    request = sample("v2_order_shipment_create_request.json")

    assert api.post("/v2/orders/250/shipments", json=request).status_code == 201
    again = api.post("/v2/orders/250/shipments", json=request)

    assert again.status_code == 400
    assert again.json()[0]["status"] == 400


def test_absolute_and_relative_adjustments_set_the_stock_per_location():
    fake = FakeBigCommerce(clock=start())
    api = client(fake)

    absolute = api.put(
        "/v3/inventory/adjustments/absolute", json=sample("v3_inventory_adjust_absolute_request.json")
    )
    relative = api.post(
        "/v3/inventory/adjustments/relative", json=sample("v3_inventory_adjust_relative_request.json")
    )
    moved = api.put(
        "/v3/inventory/adjustments/absolute",
        json={"reason": "east", "items": [{"location_id": 2, "sku": "STOVE-TI-01", "quantity": 7}]},
    )

    assert absolute.status_code == relative.status_code == moved.status_code == 200
    assert set(absolute.json()) == {"transaction_id"}
    assert fake.stock("TENT-2P-GRN", 1) == 40  # 42, then -2
    assert fake.stock("SLBAG-20F-REG", 1) == 12
    assert (fake.stock("STOVE-TI-01", 1), fake.stock("STOVE-TI-01", 2)) == (15, 7)


def test_a_variant_tracked_by_product_is_the_samples_422_and_nothing_is_applied():
    fake = FakeBigCommerce(clock=start())
    items = [
        {"location_id": 1, "variant_id": 77, "quantity": 5},
        {"location_id": 1, "variant_id": 106, "quantity": 3},
    ]

    response = client(fake).put("/v3/inventory/adjustments/absolute", json={"reason": "x", "items": items})
    by_product = client(fake).put(
        "/v3/inventory/adjustments/absolute",
        json={"reason": "x", "items": [{"location_id": 1, "product_id": 130, "quantity": 3}]},
    )

    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json() == sample("v3_inventory_adjust_error_422.json")
    assert fake.stock("TENT-2P-GRN", 1) == 42
    assert by_product.status_code == 200
    assert fake.stock("MUG-ENAMEL-01", 1) == 3


def test_an_unknown_location_is_a_422():
    fake = FakeBigCommerce(clock=start())

    response = client(fake).post(
        "/v3/inventory/adjustments/relative",
        json={"reason": "x", "items": [{"location_id": 9, "sku": "TENT-2P-GRN", "quantity": 1}]},
    )

    assert response.status_code == 422
    assert "Location with id 9" in response.json()["title"]
    assert response.json()["type"] == sample("v3_inventory_adjust_error_422.json")["type"]


def test_inventory_items_filter_and_paginate_with_meta():
    api = client(FakeBigCommerce(clock=start()))

    one = api.get("/v3/inventory/items", params={"sku:in": "TENT-2P-GRN"}).json()
    paged = api.get("/v3/inventory/items", params={"variant_id:in": "77,78,81", "limit": 2, "page": 2}).json()
    at_2 = api.get("/v3/inventory/items", params={"sku:in": "STOVE-TI-01", "location_id:in": "2"}).json()

    assert one["data"][0]["identity"] == sample("v3_inventory_items_response.json")["data"][0]["identity"]
    assert [loc["location_id"] for loc in one["data"][0]["locations"]] == [1, 2]
    assert one["data"][0]["locations"][0]["total_inventory_onhand"] == 42
    assert [d["identity"]["variant_id"] for d in paged["data"]] == [81]
    assert paged["meta"]["pagination"] | {"links": None} == {
        "total": 3,
        "count": 1,
        "per_page": 2,
        "current_page": 2,
        "total_pages": 2,
        "links": None,
    }
    assert "previous" in paged["meta"]["pagination"]["links"]
    assert [loc["location_id"] for loc in at_2["data"][0]["locations"]] == [2]


def test_catalog_variants_by_sku_are_the_samples_shape():
    response = client(FakeBigCommerce(clock=start())).get(
        "/v3/catalog/variants", params={"sku": "TENT-2P-GRN"}
    )
    expected = sample("v3_catalog_variants_by_sku_response.json")

    assert response.json()["meta"] == expected["meta"]
    variant = response.json()["data"][0]
    assert set(variant) == set(expected["data"][0])
    assert (variant["id"], variant["product_id"], variant["sku_id"]) == (77, 112, 35)
    assert variant["inventory_level"] == 52  # on hand over both locations


def test_hooks_are_created_listed_updated_and_deleted():
    fake = FakeBigCommerce(clock=start())
    api = client(fake)

    created = api.post("/v3/hooks", json=sample("v3_hook_create_request.json"))
    hook_id = created.json()["data"]["id"]
    bad = api.post("/v3/hooks", json={"scope": "store/order/created", "destination": "http://x"})
    updated = api.put(f"/v3/hooks/{hook_id}", json={"is_active": False})
    inactive = api.get("/v3/hooks", params={"is_active": "false"}).json()["data"]
    deleted = api.delete(f"/v3/hooks/{hook_id}")

    expected = sample("v3_hook_create_response.json")["data"]
    assert {k: v for k, v in created.json()["data"].items() if k not in ("created_at", "updated_at")} == {
        k: v for k, v in expected.items() if k not in ("created_at", "updated_at")
    }
    assert bad.status_code == 422
    assert updated.json()["data"]["is_active"] is False
    assert [h["id"] for h in inactive] == [hook_id]
    assert deleted.status_code == 200
    assert api.get(f"/v3/hooks/{hook_id}").status_code == 404


def test_run_fake_serves_the_store_as_a_wsgi_app_under_any_prefix():
    import io

    from integrations.management.commands.run_fake import fakes

    app = fakes()["bigcommerce"]()
    answered: list[str] = []
    environ = {
        "REQUEST_METHOD": "GET",
        "SCRIPT_NAME": "/bc",
        "PATH_INFO": f"/stores/{STORE_HASH}/v2/orders/250",
        "QUERY_STRING": "",
        "HTTP_HOST": "127.0.0.1:8791",
        "HTTP_X_AUTH_TOKEN": ACCESS_TOKEN,
        "wsgi.input": io.BytesIO(b""),
        "wsgi.url_scheme": "http",
    }

    body = b"".join(app(environ, lambda status, headers: answered.append(status)))

    assert answered == ["200 OK"]
    assert body.startswith(b'{"id": 250')
