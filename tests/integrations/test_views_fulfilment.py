"""The Fulfilment page (who ships each warehouse's orders), and the rule shown where people look for
it: on the warehouse's page and on the connection's."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from integrations import routing
from integrations.connections import connection_create
from integrations.models import Connection, FulfilmentRule
from integrations.shipstation.fake import API_KEY, API_SECRET, STORE_ID
from sales.models import SalesChannel
from tests.integrations.ui_support import (
    admin_fixture,  # noqa: F401  (a fixture)
    client_for,
    reader_fixture,  # noqa: F401  (a fixture)
)
from tests.inventory.factories import warehouse
from tests.queries import assert_constant_queries
from tests.sales.factories import ChannelFactory

pytestmark = pytest.mark.django_db

URL = reverse("integrations:fulfilment")


@pytest.fixture
def shipping(db) -> Connection:
    return connection_create(
        connector="shipstation",
        name="Shipping",
        settings={"store_id": STORE_ID},
        secrets={"api_key": API_KEY, "api_secret": API_SECRET, "webhook_token": "t"},
    )


@pytest.fixture
def wh1(db):
    return warehouse("WH1")


def test_the_page_lists_every_warehouse_and_who_ships_it_in_constant_queries(admin: Client, shipping, wh1):
    web = ChannelFactory(warehouse=wh1, code="web", name="Web")
    routing.route_set(warehouse=wh1, connection=shipping)
    routing.route_set(warehouse=wh1, channel=web, connection=None)
    made = iter(range(100))

    def grow() -> None:
        for _ in range(3):
            wh = warehouse(f"W{next(made)}")
            routing.route_set(warehouse=wh, connection=shipping)
            routing.route_set(
                warehouse=wh, channel=ChannelFactory(warehouse=wh, code=f"c{next(made)}"), connection=None
            )

    response = admin.get(URL)
    assert response.status_code == 200
    page = response.content.decode()
    assert "WH1" in page
    assert "Shipping" in page
    assert "Web" in page
    assert "shipped here" in page
    assert_constant_queries(lambda: admin.get(URL), grow)


def test_saving_a_rule_moves_nothing_without_open_orders_and_says_who_ships(admin: Client, shipping, wh1):
    response = admin.post(URL, {"warehouse": wh1.pk, "channel": "", "connection": shipping.pk}, follow=True)

    assert response.status_code == 200
    assert "Shipping ships the orders of WH1 from now on." in response.content.decode()
    assert FulfilmentRule.objects.get().connection == shipping
    # back to the warehouse's own staff: the rule for every channel goes (it is the default)
    admin.post(URL, {"warehouse": wh1.pk, "channel": "", "connection": ""})
    assert not FulfilmentRule.objects.exists()


def test_a_channel_of_another_warehouse_is_refused_next_to_the_field_and_nothing_changes(
    admin: Client, shipping, wh1
):
    elsewhere: SalesChannel = ChannelFactory(warehouse=warehouse("WH2"), code="eu", name="EU store")

    response = admin.post(URL, {"warehouse": wh1.pk, "channel": elsewhere.pk, "connection": shipping.pk})

    assert response.status_code == 422
    assert "EU store sells from WH2, not from WH1." in response.content.decode()
    assert not FulfilmentRule.objects.exists()


def test_a_connection_that_ships_nothing_is_not_offered(admin: Client, wh1):
    store = connection_create(
        connector="shopify",
        name="Store",
        settings={"shop_domain": "acme.myshopify.com", "location_id": 1},
        secrets={"access_token": "x", "client_secret": "y"},
    )
    response = admin.post(URL, {"warehouse": wh1.pk, "connection": store.pk})
    assert response.status_code == 422
    assert "Choose a shipping tool or 3PL connection" in response.content.decode()


def test_readers_see_the_rules_but_cannot_change_them(reader: Client, shipping, wh1):
    assert "Set who ships" not in reader.get(URL).content.decode()
    assert reader.post(URL, {"warehouse": wh1.pk, "connection": shipping.pk}).status_code == 403
    assert not FulfilmentRule.objects.exists()


def test_the_warehouse_and_the_connection_show_who_ships(admin: Client, shipping, wh1):
    routing.route_set(warehouse=wh1, connection=shipping)

    warehouse_page = admin.get(reverse("inventory:warehouse", args=[wh1.pk])).content.decode()
    assert 'id="fulfilment"' in warehouse_page
    assert "Shipping" in warehouse_page
    connection_page = admin.get(reverse("integrations:connection", args=[shipping.pk])).content.decode()
    assert "Ships the orders of" in connection_page
    assert "WH1" in connection_page

    # the warehouse staff see who ships, without links into the hub they cannot open
    staff = client_for("wendy", "Warehouse").get(reverse("inventory:warehouse", args=[wh1.pk]))
    page = staff.content.decode()
    assert "<strong>Shipping</strong>" in page
    assert reverse("integrations:connection", args=[shipping.pk]) not in page


def test_without_a_shipping_tool_the_warehouse_page_says_nothing_of_it(admin: Client, wh1):
    page = admin.get(reverse("inventory:warehouse", args=[wh1.pk])).content.decode()
    assert 'id="fulfilment"' not in page
