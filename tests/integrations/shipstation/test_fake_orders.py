"""The fake ShipStation's orders over HTTP: Basic auth, createorder's upsert by orderKey (and the
duplicates without one), closed orders refused, bulk createorders one result per order, the
ASP.NET 400s, GET /orders' filters and pages, hold and restore, delete, the stores, the samples'
shapes and the WSGI front."""

from __future__ import annotations

import copy
import datetime
import io
from typing import Any

import httpx
import pytest

from integrations.fakes.clock import SimClock
from integrations.shipstation.fake import API_KEY, API_SECRET, BASE_URL, STORE_ID, FakeShipStation, sample

# 2026-03-14 07:22:15.407 Pacific daylight time (the sample's createDate)
SAMPLE_MOMENT = datetime.datetime(2026, 3, 14, 14, 22, 15, 407000, tzinfo=datetime.UTC)
START = datetime.datetime(2026, 3, 14, 15, 0, tzinfo=datetime.UTC)


def make(**options: Any) -> tuple[FakeShipStation, SimClock]:
    clock = SimClock(START)
    return FakeShipStation(clock=clock, **options), clock


def client(fake: FakeShipStation, auth: tuple[str, str] | None = (API_KEY, API_SECRET)) -> httpx.Client:
    return httpx.Client(transport=httpx.MockTransport(fake.handle), base_url=BASE_URL, auth=auth)


def order(
    number: str = "SHOP-1042", key: str | None = "shopify-5834021535987", **changes: Any
) -> dict[str, Any]:
    payload = sample("createorder_request.json")
    payload["orderNumber"] = number
    if key is None:
        del payload["orderKey"]
    else:
        payload["orderKey"] = key
    return payload | changes


def key_paths(value: Any, prefix: str = "") -> set[str]:
    """Every key path of a JSON document (lists by their first element)."""
    paths: set[str] = set()
    if isinstance(value, dict):
        for key, inner in value.items():
            paths.add(prefix + key)
            paths |= key_paths(inner, f"{prefix}{key}.")
    elif isinstance(value, list) and value:
        paths |= key_paths(value[0], f"{prefix}[].")
    return paths


def test_without_or_with_wrong_credentials_every_endpoint_answers_an_empty_401():
    fake, _ = make()

    missing = client(fake, auth=None).get("/orders")
    wrong = client(fake, auth=(API_KEY, "not the secret")).post("/orders/createorder", json=order())
    garbled = client(fake, auth=None).get("/stores", headers={"Authorization": "Basic !!!"})

    assert [r.status_code for r in (missing, wrong, garbled)] == [401, 401, 401]
    assert missing.content == b""
    assert "X-Rate-Limit-Limit" in missing.headers
    assert fake.orders == {}


def test_createorder_answers_the_samples_order_in_its_shape_and_pacific_dates():
    fake = FakeShipStation(clock=lambda: SAMPLE_MOMENT)

    answer = client(fake).post("/orders/createorder", json=sample("createorder_request.json"))

    assert answer.status_code == 200
    body, expected = answer.json(), sample("createorder_response.json")
    assert list(body) == list(expected)
    for item in (*body["items"], *expected["items"]):  # SQL datetime: trimmed, a moment earlier
        assert item.pop("createDate").startswith("2026-03-14T07:22:15")
        item.pop("modifyDate")
    assert body == expected
    assert answer.headers["Content-Type"] == "application/json; charset=utf-8"


def test_createorder_with_an_order_key_updates_that_order_in_place():
    fake, clock = make()
    api = client(fake)

    first = api.post("/orders/createorder", json=order()).json()
    clock.tick(datetime.timedelta(minutes=10))
    changed = order(customerNotes="leave at the door", items=order()["items"][:1])
    second = api.post("/orders/createorder", json=changed).json()

    assert second["orderId"] == first["orderId"]
    assert len(fake.orders) == 1
    assert second["customerNotes"] == "leave at the door"
    assert [i["orderItemId"] for i in second["items"]] == [first["items"][0]["orderItemId"]]
    assert second["orderTotal"] == 249.0 + 36.42 + 9.95
    assert second["createDate"] == first["createDate"]
    assert second["modifyDate"] == "2026-03-14T08:10:00.0000000"
    assert api.get(f"/orders/{first['orderId']}").json() == second


def test_createorder_without_an_order_key_creates_a_new_order_every_time():
    fake, _ = make()
    api = client(fake)

    first = api.post("/orders/createorder", json=order(key=None)).json()
    second = api.post("/orders/createorder", json=order(key=None)).json()
    found = api.get("/orders", params={"orderNumber": "SHOP-1042"}).json()

    assert first["orderId"] != second["orderId"]
    assert first["orderKey"] != second["orderKey"]
    assert first["orderKey"]
    assert second["orderKey"]
    assert found["total"] == 2


@pytest.mark.parametrize("close", ["ship", "cancel"])
def test_shipped_and_cancelled_orders_refuse_updates(close):
    fake, _ = make()
    api = client(fake)
    created = api.post("/orders/createorder", json=order()).json()
    if close == "ship":
        fake.ship(created["orderId"])
    else:
        assert api.post("/orders/createorder", json=order(orderStatus="cancelled")).json()["orderStatus"] == (
            "cancelled"
        )

    refused = api.post("/orders/createorder", json=order(internalNotes="changed"))

    assert refused.status_code == 400
    body = refused.json()
    assert body["Message"] == "The request is invalid."
    assert list(body["ModelState"]) == ["apiOrder.orderKey"]
    assert "can no longer be updated" in body["ModelState"]["apiOrder.orderKey"][0]
    assert fake.order(created["orderId"])["internalNotes"] == "ERP SO-2026-0042"


def test_missing_required_fields_and_an_unknown_status_are_the_model_state_400():
    fake, _ = make()
    api = client(fake)
    payload = order()
    del payload["orderDate"]

    missing = api.post("/orders/createorder", json=payload)
    unknown = api.post("/orders/createorder", json=order(orderStatus="packed"))
    nothing = api.post("/orders/createorder", json={"billTo": None})

    assert missing.status_code == 400
    assert missing.json() == sample("error_400_invalid.json")
    assert list(unknown.json()["ModelState"]) == ["apiOrder.orderStatus"]
    assert set(nothing.json()["ModelState"]) == {
        f"apiOrder.{name}" for name in ("orderNumber", "orderDate", "orderStatus", "billTo", "shipTo")
    }
    assert fake.orders == {}


def test_createorders_answers_one_result_per_order_and_a_bad_one_fails_alone():
    fake, _ = make()
    api = client(fake)
    bad = order("SHOP-2", key="k-2")
    del bad["shipTo"]

    answer = api.post(
        "/orders/createorders", json=[order("SHOP-1", key="k-1"), bad, order("SHOP-3", key=None)]
    )

    assert answer.status_code == 200
    body = answer.json()
    assert body["hasErrors"] is True
    results = body["results"]
    assert [r["success"] for r in results] == [True, False, True]
    assert [r["orderNumber"] for r in results] == ["SHOP-1", "SHOP-2", "SHOP-3"]
    assert results[1]["errorMessage"] == "The shipTo field is required."
    assert results[0]["errorMessage"] is None
    assert results[2]["orderKey"]
    assert all(set(r) == set(sample("createorders_bulk_response.json")["results"][0]) for r in results)
    assert {o["view"]["orderNumber"] for o in fake.orders.values()} == {"SHOP-1", "SHOP-3"}

    again = api.post("/orders/createorders", json=[order("SHOP-1 edited", key="k-1")]).json()
    assert again == {
        "hasErrors": False,
        "results": [
            {
                "orderId": results[0]["orderId"],
                "orderNumber": "SHOP-1 edited",
                "orderKey": "k-1",
                "success": True,
                "errorMessage": None,
            }
        ],
    }


def test_createorders_takes_at_most_100_orders():
    fake, _ = make()

    answer = client(fake).post(
        "/orders/createorders", json=[order(f"S-{n}", key=f"k-{n}") for n in range(101)]
    )

    assert answer.status_code == 400
    assert list(answer.json()["ModelState"]) == ["apiOrders"]
    assert fake.orders == {}


def test_list_orders_filters_by_number_prefix_status_store_and_modify_date_and_pages():
    fake, clock = make()
    api = client(fake)
    for n in range(1, 6):
        api.post("/orders/createorder", json=order(f"SHOP-{n}", key=f"k-{n}"))
        clock.tick(datetime.timedelta(hours=1))
    api.post("/orders/createorder", json=order("SHOP-5", key="k-5", orderStatus="on_hold"))

    first = api.get("/orders", params={"pageSize": 2, "page": 1}).json()
    last = api.get("/orders", params={"pageSize": 2, "page": 3}).json()
    since = api.get("/orders", params={"modifyDateStart": "2026-03-14 10:30:00"}).json()  # Pacific
    held = api.get("/orders", params={"orderStatus": "on_hold", "storeId": STORE_ID}).json()
    other_store = api.get("/orders", params={"storeId": 999}).json()
    prefix = api.get("/orders", params={"orderNumber": "shop-"}).json()
    newest = api.get("/orders", params={"sortBy": "ModifyDate", "sortDir": "DESC", "pageSize": 1}).json()

    assert (first["total"], first["page"], first["pages"]) == (5, 1, 3)
    assert [o["orderNumber"] for o in first["orders"]] == ["SHOP-1", "SHOP-2"]
    assert [o["orderNumber"] for o in last["orders"]] == ["SHOP-5"]
    assert [o["orderNumber"] for o in since["orders"]] == ["SHOP-4", "SHOP-5"]
    assert [o["orderNumber"] for o in held["orders"]] == ["SHOP-5"]
    assert other_store == {"orders": [], "total": 0, "page": 1, "pages": 1}
    assert prefix["total"] == 5
    assert newest["orders"][0]["orderNumber"] == "SHOP-5"
    assert api.get("/orders", params={"pageSize": 501}).status_code == 400


def test_orders_by_number_is_the_samples_list_shape():
    fake = FakeShipStation(clock=lambda: SAMPLE_MOMENT)
    api = client(fake)
    api.post("/orders/createorder", json=sample("createorder_request.json"))

    listed = api.get("/orders", params={"orderNumber": "SHOP-1042"}).json()

    assert key_paths(listed) == key_paths(sample("list_orders_by_number_response.json"))
    assert (listed["total"], listed["page"], listed["pages"]) == (1, 1, 1)


def test_an_unknown_order_is_404_and_delete_removes_one():
    fake, _ = make()
    api = client(fake)
    created = api.post("/orders/createorder", json=order()).json()

    unknown = api.get("/orders/1")
    deleted = api.delete(f"/orders/{created['orderId']}")

    assert unknown.status_code == 404
    assert "Message" in unknown.json()
    assert deleted.json() == {"success": True, "message": "The requested order has been deleted."}
    assert api.get(f"/orders/{created['orderId']}").status_code == 404
    assert api.get("/orders").json()["total"] == 0


def test_hold_until_and_restore_from_hold():
    fake, _ = make()
    api = client(fake)
    order_id = api.post("/orders/createorder", json=order()).json()["orderId"]

    held = api.post("/orders/holduntil", json={"orderId": order_id, "holdUntilDate": "2026-03-20"})
    on_hold = api.get(f"/orders/{order_id}").json()
    restored = api.post("/orders/restorefromhold", json={"orderId": order_id})
    unknown = api.post("/orders/restorefromhold", json={"orderId": 1})

    assert held.json() == {"success": True, "message": "Order held successfully."}
    assert (on_hold["orderStatus"], on_hold["holdUntilDate"]) == ("on_hold", "2026-03-20")
    assert restored.json()["success"] is True
    assert fake.order(order_id)["orderStatus"] == "awaiting_shipment"
    assert unknown.status_code == 500
    assert unknown.json() == sample("error_500_exception.json")


def test_stores_is_the_connection_test_and_paths_are_case_insensitive():
    fake, _ = make()
    api = client(fake)

    stores = api.get("/stores")
    created = api.post("/Orders/CreateOrder", json=order())

    assert stores.status_code == 200
    assert stores.json()[0]["storeId"] == STORE_ID
    assert stores.json()[0]["active"] is True
    assert {"storeId", "storeName", "marketplaceName", "active"} <= set(stores.json()[0])
    assert created.status_code == 200
    assert api.get("/nothing-here").status_code == 404
    assert api.put("/orders/createorder", json=order()).status_code == 405


def test_the_order_a_test_reads_is_a_copy():
    fake, _ = make()
    created = client(fake).post("/orders/createorder", json=order()).json()

    view = fake.order("shopify-5834021535987")
    view["orderStatus"] = "shipped"
    mutated = copy.deepcopy(view)

    assert fake.order(created["orderId"])["orderStatus"] == "awaiting_shipment"
    assert mutated["orderId"] == created["orderId"]


def test_run_fake_serves_it_as_a_wsgi_app_under_any_prefix():
    import base64

    from integrations.management.commands.run_fake import fakes

    app = fakes()["shipstation"]()
    answered: list[str] = []
    token = base64.b64encode(f"{API_KEY}:{API_SECRET}".encode()).decode()
    environ = {
        "REQUEST_METHOD": "GET",
        "SCRIPT_NAME": "/ss",
        "PATH_INFO": "/stores",
        "QUERY_STRING": "",
        "HTTP_HOST": "127.0.0.1:8792",
        "HTTP_AUTHORIZATION": f"Basic {token}",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.url_scheme": "http",
    }

    body = b"".join(app(environ, lambda status, headers: answered.append(status)))

    assert answered == ["200 OK"]
    assert body.startswith(b'[{"storeId": 12345')
