"""The fake Shopify speaks the wire format: auth, call limits, leaky bucket, Link pagination, errors."""

from __future__ import annotations

import datetime
from urllib.parse import parse_qs, urlsplit

import httpx

from integrations.shopify.fake import ACCESS_TOKEN, LOCATION_ID, SHOP_DOMAIN, FakeShopify, sample_webhook
from integrations.shopify.fake_data import sample

BASE = f"https://{SHOP_DOMAIN}/admin/api/2025-07"
AUTH = {"X-Shopify-Access-Token": ACCESS_TOKEN}


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def client(fake: FakeShopify, **kwargs) -> httpx.Client:
    return httpx.Client(transport=httpx.MockTransport(fake.handle), headers=AUTH, **kwargs)


def rel(response: httpx.Response, name: str) -> str | None:
    for part in filter(None, response.headers.get("link", "").split(", ")):
        url, _, relation = part.partition("; ")
        if relation == f'rel="{name}"':
            return url.strip("<>")
    return None


def test_the_seed_order_is_the_sample_and_its_webhook_is_signed_as_in_the_sample():
    fake = FakeShopify()
    headers, body = sample_webhook()

    order = client(fake).get(f"{BASE}/orders/5834021535987.json").json()["order"]

    assert order == sample("webhook_orders_create.json")
    assert fake.webhook("orders/create", body)[0]["X-Shopify-Hmac-Sha256"] == headers["X-Shopify-Hmac-Sha256"]


def test_a_request_without_the_token_gets_the_401_body():
    fake = FakeShopify()

    response = httpx.Client(transport=httpx.MockTransport(fake.handle)).get(f"{BASE}/shop.json")
    revoked = FakeShopify()
    revoked.revoke_token()

    assert response.status_code == 401
    assert response.json() == sample("rest_error_401.json")
    assert client(revoked).get(f"{BASE}/shop.json").status_code == 401


def test_every_response_carries_the_call_limit_and_the_bucket_fills_then_429s():
    clock = Clock()
    fake = FakeShopify(bucket_size=4, leak_rate=2.0, monotonic=clock)
    http = client(fake)

    used = [http.get(f"{BASE}/shop.json").headers["X-Shopify-Shop-Api-Call-Limit"] for _ in range(4)]
    throttled = http.get(f"{BASE}/shop.json")
    clock.now += 0.5  # one call leaks out
    after_leak = http.get(f"{BASE}/shop.json")

    assert used == ["1/4", "2/4", "3/4", "4/4"]
    assert throttled.status_code == 429
    assert throttled.headers["Retry-After"] == "0.5"
    assert throttled.headers["X-Shopify-Shop-Api-Call-Limit"] == "4/4"
    assert throttled.json() == sample("rest_error_429.json")
    assert after_leak.status_code == 200
    assert after_leak.headers["X-Shopify-Shop-Api-Call-Limit"] == "4/4"


def test_forced_throttles_and_failures_hit_the_next_matching_calls_only():
    fake = FakeShopify()
    http = client(fake)
    fake.throttle_next(1, retry_after=3.0, match="inventory_levels")
    fake.fail_next(2, status=502)

    first, second = http.get(f"{BASE}/shop.json"), http.get(f"{BASE}/shop.json")
    levels = http.get(f"{BASE}/inventory_levels.json", params={"location_ids": LOCATION_ID})
    again = http.get(f"{BASE}/inventory_levels.json", params={"location_ids": LOCATION_ID})

    assert (first.status_code, second.status_code) == (502, 502)
    assert first.json() == {"errors": "Bad Gateway"}
    assert (levels.status_code, levels.headers["Retry-After"]) == (429, "3.0")
    assert again.status_code == 200
    assert [r.status for r in fake.requests] == [502, 502, 429, 200]


def test_orders_paginate_with_link_headers_and_page_info():
    fake = FakeShopify()
    start = datetime.datetime(2026, 4, 1, 12, tzinfo=datetime.UTC)
    made = [fake.create_order(created_at=start + datetime.timedelta(minutes=i)) for i in range(4)]
    http = client(fake)
    params = {
        "status": "any",
        "limit": 2,
        "order": "updated_at asc",
        "updated_at_min": "2026-04-01T00:00:00Z",
    }

    page1 = http.get(f"{BASE}/orders.json", params=params)
    page2 = http.get(rel(page1, "next"))
    back = http.get(rel(page2, "previous"))

    assert [o["id"] for o in page1.json()["orders"]] == [made[0]["id"], made[1]["id"]]
    assert [o["id"] for o in page2.json()["orders"]] == [made[2]["id"], made[3]["id"]]
    assert rel(page1, "previous") is None
    assert rel(page2, "next") is None
    assert [o["id"] for o in back.json()["orders"]] == [made[0]["id"], made[1]["id"]]
    query = parse_qs(urlsplit(rel(page1, "next")).query)
    assert set(query) == {"limit", "page_info"}
    assert rel(page1, "next").startswith(f"{BASE}/orders.json?")


def test_page_info_cannot_be_combined_with_filters_and_must_be_valid():
    fake = FakeShopify()
    for _ in range(3):
        fake.create_order()
    http = client(fake)
    page1 = http.get(f"{BASE}/orders.json", params={"status": "any", "limit": 1})
    next_url = rel(page1, "next")

    mixed = http.get(next_url + "&status=any")
    garbage = http.get(f"{BASE}/orders.json", params={"page_info": "nope", "limit": 1})

    assert mixed.status_code == 400
    assert "page_info" in mixed.json()["errors"]
    assert garbage.status_code == 400


def test_default_order_status_is_open_and_any_includes_cancelled():
    fake = FakeShopify()
    order = fake.create_order()
    fake.cancel_order(order["id"])
    http = client(fake)

    open_ids = [o["id"] for o in http.get(f"{BASE}/orders.json").json()["orders"]]
    any_ids = [o["id"] for o in http.get(f"{BASE}/orders.json", params={"status": "any"}).json()["orders"]]

    assert order["id"] not in open_ids
    assert order["id"] in any_ids


def test_errors_have_shopify_bodies():
    http = client(FakeShopify())

    missing = http.get(f"{BASE}/orders/1.json")
    unknown = http.get(f"{BASE}/nothing_here.json")
    invalid = http.post(
        f"{BASE}/inventory_levels/set.json", json={"location_id": LOCATION_ID, "available": 1}
    )

    assert (missing.status_code, missing.json()) == (404, {"errors": "Not Found"})
    assert unknown.status_code == 404
    assert invalid.status_code == 422
    assert invalid.json() == {"errors": {"inventory_item_id": ["is required"]}}


def test_create_order_commits_stock_and_totals_add_up():
    fake = FakeShopify()
    before = fake.available("TENT-2P-GRN")

    order = fake.create_order([("TENT-2P-GRN", 2), ("STOVE-TI-01", 1)], discount="10", note="gift")

    assert fake.available("TENT-2P-GRN") == before - 2
    assert order["name"] == "#1043"
    assert order["subtotal_price"] == "547.00"  # 2 x 249 + 59 - 10
    assert order["total_tax"] == "32.82"  # (498 - 10) x 6 % = 29.28, 59 x 6 % = 3.54
    assert order["total_price"] == "589.77"  # 547 + 9.95 + 32.82
    assert order["total_price_set"]["shop_money"] == {"amount": "589.77", "currency_code": "USD"}
    assert order["line_items"][0]["discount_allocations"][0]["amount"] == "10.00"
    assert order["created_at"] == order["updated_at"]


def test_the_fake_is_a_wsgi_app_under_any_prefix():
    fake = FakeShopify()
    for _ in range(2):
        fake.create_order()
    prefix = "http://testserver/fake/shopify/admin/api/2025-07"
    http = httpx.Client(transport=httpx.WSGITransport(app=fake), headers=AUTH)

    shop = http.get(f"{prefix}/shop.json")
    page1 = http.get(f"{prefix}/orders.json", params={"status": "any", "limit": 1})
    page2 = http.get(rel(page1, "next"))
    posted = http.post(
        f"{prefix}/inventory_levels/set.json",
        json={"location_id": LOCATION_ID, "inventory_item_id": 46012345678901, "available": 5},
    )

    assert shop.json()["shop"]["name"] == "Acme Outdoors"
    assert shop.headers["X-Shopify-Shop-Api-Call-Limit"] == "1/40"
    assert rel(page1, "next").startswith(f"{prefix}/orders.json?")
    assert page2.status_code == 200
    assert posted.json()["inventory_level"]["available"] == 5
    assert fake.available(46012345678901) == 5


def test_webhook_subscriptions_and_deliveries():
    fake = FakeShopify()
    http = client(fake)
    body = {"webhook": {"topic": "orders/create", "address": "https://hub.example/integrations/hooks/1/"}}

    created = http.post(f"{BASE}/webhooks.json", json=body)
    duplicate = http.post(f"{BASE}/webhooks.json", json=body)
    bad_topic = http.post(
        f"{BASE}/webhooks.json", json={"webhook": {"topic": "nope", "address": "https://x"}}
    )
    order = fake.create_order()
    [(address, headers, raw)] = fake.deliveries("orders/create", order)

    assert created.status_code == 201
    assert duplicate.status_code == 422
    assert duplicate.json() == {"errors": {"address": ["for this topic has already been taken"]}}
    assert bad_topic.status_code == 422
    assert address == "https://hub.example/integrations/hooks/1/"
    assert headers["X-Shopify-Topic"] == "orders/create"
    assert fake.deliveries("orders/updated", order) == []
    assert b'"id":' in raw
