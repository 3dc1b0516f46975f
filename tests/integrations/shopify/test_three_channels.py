"""Three shops selling the last units of one SKU, their webhooks late: no oversell.

Three Shopify shops sell the same three tents from one warehouse. Each sells one while its
orders/create webhook is still on its way, so each shows 2 and the hub still counts 3 free. When
the first webhook arrives, the hub's pushes find the shops' counts moved (compare-and-set); it
pulls the recent orders of every shop selling that stock before pushing, so no shop is ever told
a number above what is really free, and all end at 0 with every order in the hub.
"""

from __future__ import annotations

import datetime

import httpx
import pytest
from django.utils import timezone

from integrations import outbound
from integrations.connections import connection_create
from integrations.http import mounted
from integrations.models import Delivery, DeliveryStatus
from integrations.shopify.fake import ACCESS_TOKEN, CLIENT_SECRET, FakeShopify
from integrations.shopify.fake_data import sample
from inventory import availability
from inventory.services import stock_receive
from sales.models import SalesOrder
from tests.integrations.shopify.conftest import shopify_settings
from tests.integrations.shopify.scenario import deliver
from tests.inventory.factories import bin_of, warehouse
from tests.sales.factories import stocked_product

TENT = "TENT-2P-GRN"
DOMAINS = ("north.myshopify.com", "south.myshopify.com", "west.myshopify.com")


def run_due_deliveries(capture) -> None:
    for _ in range(4):  # each round may start new level changes (imported orders)
        Delivery.objects.filter(status__in=[DeliveryStatus.PENDING, DeliveryStatus.FAILED]).update(
            next_attempt_at=timezone.now() - datetime.timedelta(seconds=1)
        )
        with capture(execute=True):
            outbound.deliveries_enqueue_due()


def buy(shop: FakeShopify, quantity: int = 1) -> dict | None:
    """A shopper buys, as the shop allows it: only what it shows as available (no overselling)."""
    if (shop.available(TENT) or 0) < quantity:
        return None
    return shop.create_order([(TENT, quantity)])


def pushes(shop: FakeShopify) -> list[tuple[int, int | None]]:
    """(quantity, changeFromQuantity) of every inventorySetQuantities the shop received."""
    sets = [r.json["variables"] for r in shop.requests_to("graphql.json")]
    return [
        (v["input"]["quantities"][0]["quantity"], v["input"]["quantities"][0]["changeFromQuantity"])
        for v in sets
        if "input" in v
    ]


@pytest.fixture
def shops():
    fakes = [FakeShopify(shop_domain=domain) for domain in DOMAINS]
    with (
        mounted(f"https://{DOMAINS[0]}", httpx.MockTransport(fakes[0].handle)),
        mounted(f"https://{DOMAINS[1]}", httpx.MockTransport(fakes[1].handle)),
        mounted(f"https://{DOMAINS[2]}", httpx.MockTransport(fakes[2].handle)),
    ):
        yield fakes


def test_three_shops_selling_the_last_units_with_late_webhooks_never_oversell(
    client, db, shops, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    wh = warehouse("WH1")
    tent = stocked_product(2, wh=wh, sku=TENT, price="249.00")
    connections = [
        connection_create(
            connector="shopify",
            name=domain.split(".")[0].title(),
            settings=shopify_settings(shop_domain=domain, api_version="2026-01", inventory_api="graphql"),
            secrets={"access_token": ACCESS_TOKEN, "client_secret": CLIENT_SECRET},
            warehouse=wh,
        )
        for domain in DOMAINS
    ]
    for connection, shop in zip(connections, shops, strict=True):
        for product in sample("rest_products_list_response.json")["products"]:
            deliver(client, connection, shop.webhook("products/update", product), capture)
    # given: three tents, pushed to every shop
    with capture(execute=True):
        stock_receive(product=tent, location=bin_of(wh), quantity=1, unit_cost=100)
    run_due_deliveries(capture)
    assert [shop.available(TENT) for shop in shops] == [3, 3, 3]
    for shop in shops:
        shop.requests.clear()

    # when: each shop sells one tent; the webhooks are late
    placed = [buy(shop) for shop in shops]
    assert [shop.available(TENT) for shop in shops] == [2, 2, 2]
    # the first webhook arrives
    deliver(client, connections[0], shops[0].webhook("orders/create", placed[0]), capture)
    run_due_deliveries(capture)

    # then: every order is in the hub, nothing is free, every shop shows 0
    assert SalesOrder.objects.count() == 3
    assert availability.of(tent.pk, wh.pk).available == 0
    assert [shop.available(TENT) for shop in shops] == [0, 0, 0]
    # and no shop was ever set above what was really free (0 once the three sold): every first push
    # was against the old count of 3, which Shopify refused (changeFromQuantity stale), and the only
    # number above 0 ever offered (2, to the north shop, before the hub knew of the other sales)
    # was one of those; the hub pulled the shops' orders, then pushed 0 against their count of 2
    assert pushes(shops[0]) == [(2, 3), (0, 2)]
    assert pushes(shops[1]) == pushes(shops[2]) == [(0, 3), (0, 2)]
    # a fourth shopper finds the tent sold out everywhere
    assert [buy(shop) for shop in shops] == [None, None, None]

    # the late webhooks arrive at last: duplicates of what the hub pulled, nothing changes
    for connection, shop, order in zip(connections[1:], shops[1:], placed[1:], strict=True):
        deliver(client, connection, shop.webhook("orders/create", order), capture)
    run_due_deliveries(capture)
    assert SalesOrder.objects.count() == 3
    assert [shop.available(TENT) for shop in shops] == [0, 0, 0]
