"""Stock that channels can trust: a pushed quantity never erases a sale the hub has not imported.

Shopify's inventory mutation compares and sets (``changeFromQuantity``). When the shop's count
moved since our last push (a shopper bought while the orders/create webhook is still on its way),
the hub imports the shop's recent orders first and then pushes what is really available, against
the count the shop has; it never sets the old number back over the sale.
"""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from integrations import outbound
from integrations.connections import connection_create
from integrations.errors import CountMoved
from integrations.models import Delivery, DeliveryStatus, ExternalRef
from integrations.shopify.fake import ACCESS_TOKEN, CLIENT_SECRET
from integrations.shopify.fake_data import sample
from inventory.services import stock_receive
from sales.models import SalesOrder
from sales.services import order_confirm
from tests.integrations.shopify.conftest import shopify_settings
from tests.integrations.shopify.scenario import deliver, stocked_store
from tests.inventory.factories import bin_of
from tests.sales.factories import order_for

TENT = "TENT-2P-GRN"


@pytest.fixture
def store(db):
    return stocked_store()


@pytest.fixture
def connection(store, shop):
    return connection_create(
        connector="shopify",
        name="Acme Outdoors",
        settings=shopify_settings(api_version="2026-01", inventory_api="graphql"),
        secrets={"access_token": ACCESS_TOKEN, "client_secret": CLIENT_SECRET},
        warehouse=store["warehouse"],
        sales_channel=store["channel"],
    )


def run_due_deliveries(capture) -> None:
    Delivery.objects.filter(status__in=[DeliveryStatus.PENDING, DeliveryStatus.FAILED]).update(
        next_attempt_at=timezone.now() - datetime.timedelta(seconds=1)
    )
    with capture(execute=True):
        outbound.deliveries_enqueue_due()


def test_a_sale_in_shopify_the_hub_has_not_imported_is_pulled_before_the_push(
    client, connection, store, shop, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    tent = store["products"][TENT]
    for product in sample("rest_products_list_response.json")["products"]:  # variants linked by SKU
        deliver(client, connection, shop.webhook("products/update", product), capture)
    # given: the hub pushed its 12 tents to the shop
    with capture(execute=True):
        stock_receive(product=tent, location=bin_of(store["warehouse"]), quantity=2, unit_cost=100)
    run_due_deliveries(capture)
    assert shop.available(TENT) == 12
    # a shopper buys 2 in the shop; the orders/create webhook has not reached the hub
    shop.create_order([(TENT, 2)])
    assert shop.available(TENT) == 10
    assert not SalesOrder.objects.exists()

    # when: a sale here (one tent) changes what the hub would push
    with capture(execute=True):
        order_confirm(order=order_for((tent, 1), channel=store["channel"]))
    run_due_deliveries(capture)

    # then: the shop's order was imported first, and the shop shows what is really left
    assert shop.available(TENT) == 9  # 12 - 2 sold in the shop - 1 sold here; never 11
    assert SalesOrder.objects.filter(external_reference__startswith="#").count() == 1
    # the imported order's own level change pushes nothing more (9 is what the shop has)
    run_due_deliveries(capture)
    statuses = set(Delivery.objects.filter(topic="inventory.level_changed").values_list("status", flat=True))
    assert statuses <= {DeliveryStatus.SUCCEEDED, DeliveryStatus.SUPERSEDED, DeliveryStatus.SKIPPED}
    assert shop.available(TENT) == 9
    variant = ExternalRef.objects.get(connection=connection, object_type="variant", object_id=tent.pk)
    assert variant.extra["pushed_available"] == 9


def test_the_connector_reports_a_moved_count_instead_of_overwriting_it(connection, store, shop):
    from integrations import registry
    from integrations.contract import PushContext
    from integrations.records import InventoryOut

    connector = registry.connector_for(connection)
    shop.set_available(TENT, 39)  # a sale in Shopify since our last push of 42
    item = InventoryOut(sku=TENT, external_id="44012345678901", extra={}, available=30, previous=42)

    with pytest.raises(CountMoved) as moved:
        connector.push(item, PushContext("erp-delivery-1"))

    assert moved.value.current == 39
    assert shop.available(TENT) == 39  # untouched
