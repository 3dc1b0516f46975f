"""The fake Shopify on the base: its snapshot for drift checks, and the faults the base adds to it."""

from __future__ import annotations

import datetime
import json

import httpx
import pytest

from integrations.shopify.fake import ACCESS_TOKEN, LOCATION_ID, SHOP_DOMAIN, FakeShopify
from tests.integrations.shopify.fakeshop.support import START, Clock

BASE = f"https://{SHOP_DOMAIN}/admin/api/2025-07"
TENT, BAG, STOVE = "TENT-2P-GRN", "SLBAG-20F-REG", "STOVE-TI-01"


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def shop(clock) -> FakeShopify:
    return FakeShopify(clock=clock)


def client(shop: FakeShopify) -> httpx.Client:
    return httpx.Client(
        transport=httpx.MockTransport(shop.handle), headers={"X-Shopify-Access-Token": ACCESS_TOKEN}
    )


def test_a_new_order_in_the_snapshot(shop):
    order = shop.create_order([(TENT, 1), (BAG, 2), (TENT, 2)])

    snapshot = shop.snapshot()

    assert snapshot["tool"] == "shopify"
    assert snapshot["at"] == START.isoformat()
    assert snapshot["orders"][str(order["id"])] == {
        "name": "#1043",
        "cancelled": False,
        "financial_status": "paid",
        "fulfillment_status": None,
        "current_total_price": "1181.25",  # 3 x 249 + 2 x 179, 6% tax, 9.95 shipping
        "lines": {  # the two tent lines summed under their SKU
            TENT: {"quantity": 3, "current_quantity": 3, "fulfilled": 0, "refunded": 0},
            BAG: {"quantity": 2, "current_quantity": 2, "fulfilled": 0, "refunded": 0},
        },
        "tracking_numbers": [],
        "refunds": [],
    }
    assert snapshot["stock"][TENT] == {str(LOCATION_ID): shop.available(TENT)}
    json.dumps(snapshot)  # plain JSON all the way down


def test_fulfilments_refunds_and_restocks_in_the_snapshot(shop, clock):
    order = shop.create_order([(TENT, 2), (BAG, 2)])
    tent_line, bag_line = (line["id"] for line in order["line_items"])
    bags_before = shop.available(BAG)
    shop.fulfil_order(order["id"], {tent_line: 2}, tracking_number="1Z999AA10123456784")
    clock.tick(minutes=5)
    returned = shop.refund_order(order["id"], {tent_line: 1}, restock_type="return", amount="100.00")
    released = shop.refund_order(order["id"], {bag_line: 1}, restock_type="cancel", amount="0")
    kept = shop.refund_order(order["id"], {tent_line: 1}, restock_type="no_restock", amount="12.5")

    entry = shop.snapshot()["orders"][str(order["id"])]

    assert entry["financial_status"] == "partially_refunded"
    assert entry["fulfillment_status"] == "partial"  # one bag is still to ship
    assert entry["tracking_numbers"] == ["1Z999AA10123456784"]
    assert entry["lines"] == {
        TENT: {"quantity": 2, "current_quantity": 0, "fulfilled": 2, "refunded": 2},
        BAG: {"quantity": 2, "current_quantity": 1, "fulfilled": 0, "refunded": 1},
    }
    assert entry["refunds"] == [
        {
            "id": str(returned["id"]),
            "amount": "100.00",
            "lines": {TENT: 1},
            "restocked": {TENT: 1},
            "returned": {TENT: 1},
        },
        {
            "id": str(released["id"]),
            "amount": "0.00",
            "lines": {BAG: 1},
            "restocked": {BAG: 1},
            "returned": {},
        },
        {"id": str(kept["id"]), "amount": "12.50", "lines": {TENT: 1}, "restocked": {}, "returned": {}},
    ]
    assert entry["current_total_price"] == f"{float(shop.order(order['id'])['current_total_price']):.2f}"
    assert shop.snapshot()["stock"][BAG][str(LOCATION_ID)] == bags_before + 1


def test_a_cancelled_order_and_stock_set_behind_the_hubs_back(shop, clock):
    order = shop.create_order([(STOVE, 1)])
    shop.cancel_order(order["id"])
    shop.set_available(STOVE, 3)
    clock.tick(hours=2)

    snapshot = shop.snapshot()

    entry = snapshot["orders"][str(order["id"])]
    assert (entry["cancelled"], entry["financial_status"]) == (True, "refunded")
    assert entry["refunds"][0]["lines"] == {STOVE: 1}
    assert snapshot["stock"][STOVE] == {str(LOCATION_ID): 3}
    assert snapshot["at"] == (START + datetime.timedelta(hours=2)).isoformat()


def test_the_shop_times_out_and_answers_slowly_through_the_base(shop, clock):
    shop.timeout_next(1, match="orders.json")
    shop.slow_next(1, seconds=4, match="shop.json")
    slept: list[float] = []
    shop.clock.sleep = slept.append  # the test's clock has no sleep: record it instead

    with pytest.raises(httpx.ReadTimeout):
        client(shop).get(f"{BASE}/orders.json")
    slow = client(shop).get(f"{BASE}/shop.json")

    assert slow.status_code == 200
    assert slept == [4]
    assert [(r.resource, r.status) for r in shop.requests] == [("orders.json", 0), ("shop.json", 200)]


def test_the_shop_answers_a_timeout_over_wsgi_with_a_504(shop):
    shop.timeout_next(1, seconds=0)
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": "/admin/api/2025-07/shop.json",
        "HTTP_HOST": "127.0.0.1:8790",
        "HTTP_X_SHOPIFY_ACCESS_TOKEN": ACCESS_TOKEN,
        "wsgi.input": None,
    }
    statuses: list[str] = []

    body = shop(environ, lambda status, headers: statuses.append(status))
    again = shop(dict(environ), lambda status, headers: statuses.append(status))

    assert statuses == ["504 Gateway Timeout", "200 OK"]
    assert json.loads(body[0]) == {"error": "Gateway Timeout"}
    assert json.loads(again[0])["shop"]["myshopify_domain"] == SHOP_DOMAIN
