"""A channel that sold what is not here is told our level again (a stock recheck), forced.

Shopify with "continue selling when out of stock" takes its own count below zero on an order for
units we no longer have. The imported order is confirmed but backordered: nothing is reserved, no
level changes, and the level we would push (0, never below) is what we pushed last. The hub emits
a ``STOCK_RECHECK`` for that connection alone, and its delivery pushes our level even though it is
unchanged, so the shop shows 0 again instead of -2 until stock arrives.
"""

from __future__ import annotations

import datetime

import httpx
import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.utils import timezone

from erp import events
from erp.models import OutboxEvent
from integrations import fanout, outbound, outbound_items
from integrations.connections import connection_create
from integrations.http import mounted
from integrations.models import Connection, Delivery, DeliveryStatus, ExternalRef
from integrations.outbound_items import LEVEL_CHANGED, PUSHED_AVAILABLE, STOCK_RECHECK, inventory_hash
from integrations.shopify.fake import ACCESS_TOKEN, CLIENT_SECRET, FakeShopify
from integrations.shopify.fake_data import sample
from integrations.webhooks_out import subscription_create
from inventory import availability
from inventory.models import Product
from sales.models import OrderStatus, SalesOrder
from sales.selectors import reserved_by_line
from tests.erp.factories import UserFactory
from tests.integrations.shopify.conftest import shopify_settings
from tests.integrations.shopify.scenario import deliver
from tests.inventory.factories import warehouse
from tests.sales.factories import ChannelFactory, stocked_product

TENT = "TENT-2P-GRN"
NORTH, SOUTH = "north.myshopify.com", "south.myshopify.com"

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop():
    fake = FakeShopify(shop_domain=NORTH)
    with mounted(f"https://{NORTH}", httpx.MockTransport(fake.handle)):
        yield fake


def shopify(domain: str, wh, channel=None) -> Connection:
    return connection_create(
        connector="shopify",
        name=domain.split(".")[0].title(),
        settings=shopify_settings(shop_domain=domain, api_version="2026-01", inventory_api="graphql"),
        secrets={"access_token": ACCESS_TOKEN, "client_secret": CLIENT_SECRET},
        warehouse=wh,
        sales_channel=channel or ChannelFactory(warehouse=wh),
    )


def pushed_already(connection: Connection, product: Product, available: int) -> ExternalRef:
    """The variant's ref as after a push of ``available`` (what the hub compares a new level with)."""
    ref = ExternalRef.objects.get(
        connection=connection,
        object_type="variant",
        content_type=ContentType.objects.get_for_model(Product),
        object_id=product.pk,
    )
    ref.pushed_hash = inventory_hash(available)
    ref.extra = {**ref.extra, PUSHED_AVAILABLE: available}
    ref.save()
    return ref


def pushes(shop: FakeShopify) -> list[int]:
    """The quantity of every inventorySetQuantities the shop received."""
    sets = [r.json["variables"] for r in shop.requests_to("graphql.json")]
    return [v["input"]["quantities"][0]["quantity"] for v in sets if "input" in v]


def run_due_deliveries(capture) -> None:
    Delivery.objects.filter(status__in=[DeliveryStatus.PENDING, DeliveryStatus.FAILED]).update(
        next_attempt_at=timezone.now() - datetime.timedelta(seconds=1)
    )
    with capture(execute=True):
        outbound.deliveries_enqueue_due()


@pytest.fixture
def store(client, shop, django_capture_on_commit_callbacks):
    """WH1 with ``on_hand`` tents (0 by default), the north shop linked to it and told 0 already."""

    def make(on_hand: int = 0) -> dict:
        capture = django_capture_on_commit_callbacks
        wh = warehouse("WH1")
        tent = stocked_product(on_hand, wh=wh, sku=TENT, price="249.00")
        connection = shopify(NORTH, wh)
        for product in sample("rest_products_list_response.json")["products"]:  # variants by SKU
            deliver(client, connection, shop.webhook("products/update", product), capture)
        shop.set_available(TENT, on_hand)
        pushed_already(connection, tent, on_hand)
        shop.requests.clear()
        return {"warehouse": wh, "tent": tent, "connection": connection}

    return make


def sell_in_the_shop(client, shop: FakeShopify, connection: Connection, capture, quantity: int = 2):
    """A shopper buys in the shop (its count goes down, below zero if need be); the webhook arrives."""
    order = shop.create_order([(TENT, quantity)])
    deliver(client, connection, shop.webhook("orders/create", order), capture)
    return SalesOrder.objects.get(external_reference=order["name"])


def test_an_order_sold_beyond_our_stock_pushes_our_level_again_to_that_shop(
    client, shop, store, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    given = store(on_hand=0)
    connection, tent = given["connection"], given["tent"]
    assert shop.available(TENT) == 0

    # when: the shop sells 2 it does not have (continue selling when out of stock)
    order = sell_in_the_shop(client, shop, connection, capture)

    # then: the order is here, confirmed but backordered: nothing reserved, no level changed
    assert shop.available(TENT) == -2
    assert order.status == OrderStatus.CONFIRMED
    assert sum(reserved_by_line(order.lines.values_list("pk", flat=True)).values()) == 0
    assert not OutboxEvent.objects.filter(topic=LEVEL_CHANGED).exists()
    recheck = OutboxEvent.objects.get(topic=STOCK_RECHECK)
    assert (recheck.aggregate_type, recheck.aggregate_id) == ("inventory.product", str(tent.pk))
    assert recheck.payload == {
        "connection_id": connection.pk,
        "product_id": tent.pk,
        "sku": TENT,
        "reason": "sold in Shopify beyond what is available here",
    }
    delivery = Delivery.objects.get(event=recheck)
    assert (delivery.connection_id, delivery.coalesce_key) == (connection.pk, f"inventory.product:{tent.pk}")
    assert delivery.next_attempt_at > timezone.now()  # after the coalescing window, like level changes

    # when: it comes due
    run_due_deliveries(capture)

    # then: 0 pushed although 0 was pushed last; the shop shows 0 again
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SUCCEEDED, delivery.last_error
    assert pushes(shop)[-1] == 0
    assert shop.available(TENT) == 0
    assert availability.of(tent.pk, given["warehouse"].pk).available == 0
    assert SalesOrder.objects.count() == 1  # the pull before the push imported nothing twice


def test_an_order_reserved_in_full_asks_for_no_recheck(
    client, shop, store, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    given = store(on_hand=5)

    order = sell_in_the_shop(client, shop, given["connection"], capture)

    assert sum(reserved_by_line(order.lines.values_list("pk", flat=True)).values()) == 2
    assert not OutboxEvent.objects.filter(topic=STOCK_RECHECK).exists()
    assert set(Delivery.objects.values_list("topic", flat=True)) == {LEVEL_CHANGED}


def test_only_the_shop_that_sold_gets_the_recheck(client, shop, store, django_capture_on_commit_callbacks):
    capture = django_capture_on_commit_callbacks
    given = store(on_hand=0)
    tent = given["tent"]
    # a second shop selling the same stock, its variant mapped and told 0 too
    south = shopify(SOUTH, given["warehouse"])
    ExternalRef.objects.create(
        connection=south,
        object_type="variant",
        external_id="44099999999999",
        content_type=ContentType.objects.get_for_model(Product),
        object_id=tent.pk,
    )
    pushed_already(south, tent, 0)

    sell_in_the_shop(client, shop, given["connection"], capture)

    recheck = OutboxEvent.objects.get(topic=STOCK_RECHECK)
    assert list(Delivery.objects.filter(event=recheck).values_list("connection_id", flat=True)) == [
        given["connection"].pk
    ]
    assert not Delivery.objects.filter(connection=south).exists()
    # and should it reach the other shop anyway, the recheck pushes nothing there
    resolver = outbound_items.resolver_for(STOCK_RECHECK, south)
    assert resolver is not None
    assert isinstance(resolver(south, recheck, False), str)


def test_a_recheck_is_not_lost_behind_a_newer_level_change_of_the_product(
    client, shop, store, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    given = store(on_hand=0)
    connection, tent, wh = given["connection"], given["tent"], given["warehouse"]
    sell_in_the_shop(client, shop, connection, capture)
    # a level change of the product after the recheck (nothing available either way)
    with capture(execute=True), transaction.atomic():
        events.emit(
            LEVEL_CHANGED,
            aggregate=("inventory.product", tent.pk),
            payload={"product_id": tent.pk, "sku": TENT, "warehouse_id": wh.pk, "available": "0"},
        )
    recheck = Delivery.objects.get(topic=STOCK_RECHECK)
    level = Delivery.objects.get(topic=LEVEL_CHANGED)
    assert level.coalesce_key == recheck.coalesce_key
    assert level.pk > recheck.pk

    run_due_deliveries(capture)

    # then: collapsed into the recheck, which pushed the unchanged 0 (the level change would have
    # skipped it as "no change", leaving the shop at -2)
    recheck.refresh_from_db()
    level.refresh_from_db()
    assert recheck.status == DeliveryStatus.SUCCEEDED, recheck.last_error
    assert level.status == DeliveryStatus.SUPERSEDED
    assert level.last_error == f"Coalesced into delivery {recheck.pk}."
    assert pushes(shop)[-1] == 0
    assert shop.available(TENT) == 0


def test_a_webhook_subscription_to_the_hubs_topics_gets_no_recheck(
    client, shop, store, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    given = store(on_hand=0)
    admin = UserFactory(roles=["Integration admin"])
    subscription, _ = subscription_create(
        user=admin, url="https://hooks.example.com/erp", topics=["integrations.*"]
    )
    assert fanout._may_read(admin, STOCK_RECHECK)  # it would match, and may read it

    sell_in_the_shop(client, shop, given["connection"], capture)

    recheck = OutboxEvent.objects.get(topic=STOCK_RECHECK)
    assert not Delivery.objects.filter(event=recheck, subscription=subscription).exists()
    assert not Delivery.objects.filter(subscription=subscription).exists()
    assert list(Delivery.objects.filter(event=recheck).values_list("connection_id", flat=True)) == [
        given["connection"].pk
    ]
