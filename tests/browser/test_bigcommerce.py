"""A BigCommerce store connected in a real browser: the connection added from the catalogue (its
form drawn from the connector's schema), tested against the fake store, and two of our warehouses
mapped to two of the store's locations on the Mappings tab. Screenshots in artifacts/screenshots/."""

from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import expect

from integrations.bigcommerce.fake import ACCESS_TOKEN, STORE_HASH, FakeBigCommerce
from integrations.http import mounted
from integrations.locations import locations_of
from integrations.models import Connection
from tests.browser.conftest import SCREENSHOTS, login
from tests.erp.factories import UserFactory
from tests.inventory.factories import warehouse
from tests.sales.factories import ChannelFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def store():
    UserFactory(username="ines", password="s3cret-pass", roles=["Integration admin"], first_name="Ines")
    main = warehouse("WH1")
    warehouse("WH2")
    ChannelFactory(code="bigcommerce", name="BigCommerce store", warehouse=main)
    fake = FakeBigCommerce()
    with mounted("https://api.bigcommerce.com", httpx.MockTransport(fake.handle)):
        yield fake


def shot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"bigcommerce-{name}.png"), full_page=True)


def test_a_store_is_connected_and_its_locations_mapped_to_our_warehouses(page, store: FakeBigCommerce):
    login(page, "ines", "s3cret-pass")
    page.goto("/integrations/connectors/")
    page.get_by_role("link", name="Add BigCommerce connection").click()

    # the form, drawn from the connector's schema; secrets are password inputs
    expect(page.get_by_role("heading", name="New BigCommerce connection")).to_be_visible()
    page.get_by_label("Name").fill("Acme on BigCommerce")
    page.get_by_label("Store hash").fill(STORE_HASH)
    page.get_by_label("Access token").fill(ACCESS_TOKEN)
    page.get_by_label("Webhook secret").fill("a-long-random-webhook-secret")
    page.get_by_label("Warehouse").select_option(label="WH1 · Warehouse WH1")
    page.get_by_label("Sales channel").select_option(label="BigCommerce store")
    shot(page, "01_new_connection")
    page.get_by_role("button", name="Add connection").click()

    # the overview; the test button talks to the (fake) store
    expect(page.get_by_role("heading", name="Acme on BigCommerce")).to_be_visible()
    connection = Connection.objects.get(name="Acme on BigCommerce")
    page.get_by_role("button", name="Test connection").click()
    expect(page.locator("#toasts")).to_contain_text("Connection works")
    shot(page, "02_overview")

    # the Mappings tab: each warehouse to one of the store's locations, read from the store
    page.locator("nav.conn-tabs").get_by_role("link", name="Mappings").click()
    section = page.locator("section", has_text="location").first
    expect(section).to_be_visible()
    shot(page, "03_mappings")
    for code, location in (("WH1", "1"), ("WH2", "2")):
        page.get_by_label("Our warehouse").select_option(value=code)
        page.get_by_label("Location in Acme on BigCommerce").select_option(value=location)
        page.get_by_role("button", name="Map", exact=True).click()
        expect(page.locator("table", has_text="Ours").first).to_contain_text(code)
    shot(page, "04_mapped")

    mapped = locations_of(connection)
    assert sorted(mapped.values()) == ["1", "2"]
