"""BigCommerce in the simulated business day: its shoppers and Shopify's compete for the same four SKUs
of one warehouse, with the default faults; the day ends without drift, orders on both channels."""

from __future__ import annotations

import random

import pytest

from integrations.bigcommerce.day import LOCATION_ID, SKUS, STOCK_RESOURCE, Tool
from integrations.fakes.clock import SimClock
from integrations.models import ExternalRef
from integrations.simulate import Faults, simulate_day
from integrations.simulate.tools import available
from sales.models import SalesOrder

pytestmark = pytest.mark.django_db(transaction=True)  # tasks run as each request commits


def test_the_day_finds_bigcommerces_part():
    tool = available()["bigcommerce"]

    assert tool is Tool
    assert (tool.origin, tool.stock_resource) == ("https://api.bigcommerce.com", STOCK_RESOURCE)


def test_a_day_of_20_orders_on_shopify_and_bigcommerce_ends_ok():
    report = simulate_day(orders=20, seed=5, faults=Faults.named("default"), tools=("shopify", "bigcommerce"))

    assert report.problems == [], report.to_json()
    assert report.ok
    assert report.drift_count == 0
    # both channels sold, from one warehouse, the same four SKUs
    channels = set(SalesOrder.objects.values_list("channel__code", flat=True))
    assert any(code.startswith("sim-shopify-") for code in channels)
    assert any(code.startswith("sim-bigcommerce-") for code in channels)
    bigcommerce = ExternalRef.objects.filter(
        connection__connector="bigcommerce", object_type="variant"
    ).select_related("connection__warehouse", "connection__sales_channel__warehouse")
    assert bigcommerce.count() == len(SKUS)
    connection = bigcommerce[0].connection
    assert connection.settings["location_id"] == LOCATION_ID
    assert connection.sales_channel.warehouse == connection.warehouse
    shopify = ExternalRef.objects.filter(connection__connector="shopify").first()
    assert shopify is not None
    assert shopify.connection.warehouse == connection.warehouse
    assert report.actions["ordered"] + report.actions.get("refused_out_of_stock", 0) == 20
    assert report.consistency["never_agreed"] == 0
    assert report.dead_letters_explained == sum(report.dead_letters.values())


def test_tokens_that_never_expire_count_nothing_and_a_refused_checkout_is_counted():
    tool = Tool(clock=SimClock(), rng=random.Random(1), faults=Faults.named("none"))

    tool.expire_tokens()
    assert (tool.token_refreshes(), dict(tool.api_faults)) == (0, {})

    for sku in SKUS:
        tool.fake.set_stock(sku, LOCATION_ID, 0)
    change = tool.place_order()
    assert (change.kind, change.orders) == ("refused_out_of_stock", ())
    assert tool.actions == {"refused_out_of_stock": 1}
    assert tool.placed == []
