"""ShipStation connected in a real browser and handed a warehouse: the connection added from the
catalogue and tested against the fake ShipStation, WH1's orders routed to it on the Fulfilment page
(the rule then shows on the warehouse and on the connection), an order confirmed here goes to
ShipStation, and the label its staff print comes back as the order's shipment when the hub polls.
Screenshots in artifacts/screenshots/."""

from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import expect

from integrations.http import mounted
from integrations.models import Connection, FulfilmentRule
from integrations.shipstation.fake import API_KEY, API_SECRET, BASE_URL, STORE_ID, FakeShipStation
from inventory.models import Product
from sales.models import OrderStatus, SalesChannel
from sales.services import order_confirm
from tests.browser.conftest import SCREENSHOTS, login
from tests.erp.factories import UserFactory
from tests.inventory.factories import warehouse
from tests.sales.factories import ChannelFactory, order_for, stocked_product

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def shipstation():
    UserFactory(username="ines", password="s3cret-pass", roles=["Integration admin"], first_name="Ines")
    main = warehouse("WH1")
    ChannelFactory(code="web", name="Web store", warehouse=main)
    stocked_product(10, wh=main, price="249.00", sku="TENT-2P-GRN")
    fake = FakeShipStation()
    with mounted(BASE_URL, httpx.MockTransport(fake.handle)):
        yield fake


def shot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"shipstation-{name}.png"), full_page=True)


def test_shipstation_is_connected_handed_a_warehouse_and_ships_its_orders(page, shipstation):
    login(page, "ines", "s3cret-pass")
    page.goto("/integrations/connectors/")
    page.get_by_role("link", name="Add ShipStation connection").click()
    page.get_by_label("Name").fill("Shipping")
    page.get_by_label("Store id").fill(str(STORE_ID))
    page.get_by_label("Api key").fill(API_KEY)
    page.get_by_label("Api secret").fill(API_SECRET)
    shot(page, "01_new_connection")
    page.get_by_role("button", name="Add connection").click()

    expect(page.get_by_role("heading", name="Shipping")).to_be_visible()
    connection = Connection.objects.get(name="Shipping")
    assert connection.get_secrets()[
        "webhook_token"
    ]  # made for it: the address ShipStation posts to carries it
    page.get_by_role("button", name="Test connection").click()
    expect(page.locator("#toasts")).to_contain_text("Connection works")
    expect(page.locator("#fulfilment")).to_contain_text("No warehouse sends it orders yet")

    page.locator("#fulfilment").get_by_role("link", name="choose one").click()
    expect(page.get_by_role("heading", name="Fulfilment")).to_be_visible()
    page.get_by_label("Warehouse").select_option(label="WH1 · Warehouse WH1")
    page.get_by_label("Shipped by").select_option(label="Shipping")
    shot(page, "02_fulfilment_form")
    page.get_by_role("button", name="Save rule").click()
    expect(page.locator("body")).to_contain_text("Shipping ships the orders of WH1 from now on.")
    assert FulfilmentRule.objects.get().connection == connection
    shot(page, "03_fulfilment_saved")

    page.get_by_role("link", name="WH1").click()
    expect(page.locator("#fulfilment")).to_contain_text("Shipping")
    shot(page, "04_warehouse_shipped_by")

    # a customer orders two tents on the web store: confirmed, reserved, and off to ShipStation
    tent, web = Product.objects.get(sku="TENT-2P-GRN"), SalesChannel.objects.get(code="web")
    order = order_confirm(order=order_for((tent, 2), channel=web))
    [there] = shipstation.orders_awaiting()
    assert (there["orderNumber"], there["items"][0]["quantity"]) == (order.number, 2)
    shipstation.ship(order.number, tracking="9400111899223197428490")

    page.goto(f"/integrations/connections/{connection.pk}/")
    page.get_by_role("button", name="Poll now").click()
    expect(page.locator("#toasts")).to_be_visible()
    order.refresh_from_db()
    assert order.status == OrderStatus.SHIPPED
    page.goto(f"/sales/orders/{order.pk}/")
    expect(page.locator("body")).to_contain_text("9400111899223197428490")
    shot(page, "05_order_shipped_by_shipstation")
