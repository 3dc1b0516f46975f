"""An Amazon seller account connected in a real browser: the connection added from the catalogue (its
form drawn from the connector's schema), tested against the fake SP-API (Login with Amazon gives it
its first access token), its listings imported and linked by SKU, and a Pending order brought in by
"Poll now": reserved and on hold, then priced and released when Amazon authorises the payment.
Screenshots in artifacts/screenshots/."""

from __future__ import annotations

import contextlib
import datetime
import re

import httpx
import pytest
from playwright.sync_api import expect

from integrations.amazon.conformance import DOCUMENTS, ShiftedClock
from integrations.amazon.connector import REGIONS
from integrations.amazon.fake import LWA_CLIENT_ID, LWA_CLIENT_SECRET, REFRESH_TOKEN, SELLER_ID, FakeAmazon
from integrations.http import mounted
from integrations.models import Connection, ExternalRef
from sales.models import OrderStatus, SalesOrder
from tests.browser.conftest import SCREENSHOTS, login
from tests.erp.factories import UserFactory
from tests.inventory.factories import warehouse
from tests.sales.factories import ChannelFactory, stocked_product

pytestmark = pytest.mark.django_db(transaction=True)

SKUS = {"TENT-2P-GRN": "249.00", "TENT-2P-ORG": "249.00", "SLBAG-20F-REG": "129.00", "STOVE-TI-01": "59.95"}


@pytest.fixture
def amazon():
    UserFactory(username="ines", password="s3cret-pass", roles=["Integration admin"], first_name="Ines")
    main = warehouse("WH1")
    for sku, price in SKUS.items():
        stocked_product(10, wh=main, price=price, sku=sku)
    ChannelFactory(code="amazon", name="Amazon US", warehouse=main, kind="marketplace", currency="USD")
    clock = ShiftedClock()
    fake = FakeAmazon(clock=clock, documents_url=DOCUMENTS)
    transport = httpx.MockTransport(fake.handle)
    with contextlib.ExitStack() as stack:
        for origin in (REGIONS["na"], "https://api.amazon.com", DOCUMENTS):
            stack.enter_context(mounted(origin, transport))
        yield fake, clock


def shot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"amazon-{name}.png"), full_page=True)


def ago(minutes: int) -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC) - datetime.timedelta(minutes=minutes)


def test_a_seller_account_is_connected_and_a_pending_order_waits_until_priced(page, amazon):
    fake, clock = amazon
    login(page, "ines", "s3cret-pass")
    page.goto("/integrations/connectors/")
    page.get_by_role("link", name="Add Amazon connection").click()

    expect(page.get_by_role("heading", name="New Amazon connection")).to_be_visible()
    page.get_by_label("Name").fill("Amazon US")
    page.get_by_label("Marketplace ids").fill('["ATVPDKIKX0DER"]')
    page.get_by_label("Seller id").fill(SELLER_ID)
    page.get_by_label("Lwa client id").fill(LWA_CLIENT_ID)
    page.get_by_label("Lwa client secret").fill(LWA_CLIENT_SECRET)
    page.get_by_label("Refresh token").fill(REFRESH_TOKEN)
    page.get_by_label("Warehouse").select_option(label="WH1 · Warehouse WH1")
    page.get_by_label("Sales channel").select_option(label="Amazon US")
    shot(page, "01_new_connection")
    page.get_by_role("button", name="Add connection").click()

    expect(page.get_by_role("heading", name="Amazon US")).to_be_visible()
    connection = Connection.objects.get(name="Amazon US")
    page.get_by_role("button", name="Test connection").click()
    expect(page.locator("#toasts")).to_contain_text("Connection works")
    assert fake.refreshes == 1  # Login with Amazon gave it its first access token

    page.get_by_role("button", name="Import products").click()
    # the import is a background job: its page shows the counts once done, and leads to its sync run
    page.wait_for_url(re.compile(r"/jobs/\d+/$"))
    expect(page.locator("#job-progress")).to_have_attribute("data-state", "done", timeout=30_000)
    expect(page.locator(".job-summary")).to_have_text("Product import from Amazon US done: 4 created.")
    expect(page.locator("#job-progress .tile", has_text="Created")).to_contain_text("4")
    expect(page.locator("#job-progress .tile", has_text="Failed")).to_contain_text("0")
    expect(page.locator(".job-errors")).to_have_count(0)
    linked = set(
        ExternalRef.objects.filter(connection=connection, object_type="variant").values_list(
            "external_id", flat=True
        )
    )
    assert linked == set(SKUS)  # the FBA-only mug is Amazon's stock: not linked, never pushed
    shot(page, "02_listings_imported")
    page.get_by_role("link", name="Open the result").click()
    page.wait_for_url(re.compile(r"/integrations/sync-runs/\d+/$"))

    fake.set_quantity("TENT-2P-GRN", 10)  # as listed in Seller Central
    with clock.at(ago(10)):
        placed = fake.place_order([("TENT-2P-GRN", 2)], pending=True, shipping="standard")
    page.goto(f"/integrations/connections/{connection.pk}/")
    page.get_by_role("button", name="Poll now").click()
    expect(page.locator("#toasts")).to_be_visible()
    order = SalesOrder.objects.get(external_reference=placed["AmazonOrderId"])
    assert order.status == OrderStatus.ON_HOLD
    page.goto(f"/sales/orders/{order.pk}/")
    expect(page.locator("body")).to_contain_text("prices-pending")
    shot(page, "03_pending_on_hold")

    with clock.at(ago(5)):
        fake.authorize_payment(placed["AmazonOrderId"])
    page.goto(f"/integrations/connections/{connection.pk}/")
    page.get_by_role("button", name="Poll now").click()
    expect(page.locator("#toasts")).to_be_visible()
    order.refresh_from_db()
    assert order.status == OrderStatus.CONFIRMED
    assert order.total > 498
    page.goto(f"/sales/orders/{order.pk}/")
    expect(page.locator("body")).not_to_contain_text("prices-pending")
    shot(page, "04_priced_confirmed")
