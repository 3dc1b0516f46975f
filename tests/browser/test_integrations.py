"""The integration hub in a real browser: a Shopify connection added from the catalogue (its form
drawn from the connector's schema), tested against the fake shop, every tab of it opened, a dead
letter retried, a quarantined SKU mapped with the product picker, the hub page with several
connections around the backend, and a webhook subscription whose secret is shown once.
Screenshots go to /tmp/hub_*.png."""

from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import expect

from integrations.contract import WebhookRequest
from integrations.http import mounted
from integrations.inbound import webhook_receive
from integrations.models import Connection, DeliveryStatus, InboundStatus
from integrations.shopify.fake import ACCESS_TOKEN, CLIENT_SECRET, SHOP_DOMAIN, FakeShopify, sample_webhook
from sales.models import SalesOrder
from tests.browser.conftest import SCREENSHOTS, login
from tests.erp.factories import UserFactory
from tests.integrations.ui_support import (
    delivery,
    drift,
    sync_run,
)
from tests.inventory.factories import warehouse
from tests.sales.factories import ChannelFactory, stocked_product

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def hub():
    """An integration admin, WH1 with the sample order's products (but the stove under our own SKU),
    a Shopify channel, and the fake shop mounted on the hub's HTTP client."""
    UserFactory(username="ines", password="s3cret-pass", roles=["Integration admin"], first_name="Ines")
    wh = warehouse("WH1")
    ChannelFactory(code="shopify", name="Shopify web store", warehouse=wh)
    stocked_product(20, sku="TENT-2P-GRN", name="Trail Tent 2P, green", price="249.00", wh=wh)
    stocked_product(20, sku="SLBAG-20F-REG", name="Down Sleeping Bag 20F", price="179.00", wh=wh)
    stocked_product(20, sku="STOVE-TITANIUM", name="Titanium Stove", price="59.00", wh=wh)
    fake = FakeShopify()
    with mounted(f"https://{SHOP_DOMAIN}", httpx.MockTransport(fake.handle)):
        yield fake


def shot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"hub-{name}.png"), full_page=True)


def test_a_connection_is_added_tested_and_looked_after(page, hub: FakeShopify):
    page.on("dialog", lambda dialog: dialog.accept())
    login(page, "ines", "s3cret-pass")

    # the hub, empty: it says what to do
    page.goto("/integrations/")
    expect(page.get_by_role("heading", name="No connections yet")).to_be_visible()
    page.get_by_role("link", name="Add your first connection").click()
    page.get_by_role("link", name="Add Shopify connection").click()

    # the form, drawn from the connector's schema; secrets are password inputs
    expect(page.get_by_role("heading", name="New Shopify connection")).to_be_visible()
    page.get_by_label("Name").fill("Acme Outdoors")
    page.get_by_label("Shop domain").fill(SHOP_DOMAIN)
    page.get_by_label("Location id").fill("0")
    page.get_by_label("Access token").fill(ACCESS_TOKEN)
    page.get_by_label("Client secret").fill(CLIENT_SECRET)
    page.get_by_label("Warehouse").select_option(label="WH1 · Warehouse WH1")
    page.get_by_label("Sales channel").select_option(label="Shopify web store")
    shot(page, "01_new_connection")
    page.get_by_role("button", name="Add connection").click()

    # a bad location is refused next to its field; the secrets typed are not sent back
    expect(page.locator(".field.has-error")).to_contain_text("greater than 0")
    expect(page.get_by_label("Access token")).to_have_value("")
    shot(page, "02_refused")
    page.get_by_label("Location id").fill("71234567890")
    page.get_by_label("Access token").fill(ACCESS_TOKEN)
    page.get_by_label("Client secret").fill(CLIENT_SECRET)
    page.get_by_role("button", name="Add connection").click()

    # the overview; the test button talks to the (fake) shop
    expect(page.get_by_role("heading", name="Acme Outdoors")).to_be_visible()
    connection = Connection.objects.get(name="Acme Outdoors")
    page.get_by_role("button", name="Test connection").click()
    expect(page.locator("#toasts")).to_contain_text("Connection works")
    page.get_by_role("button", name="Run health check").click()
    expect(page.locator("#health")).to_contain_text("all present")
    shot(page, "03_overview")

    # who owns what: the hub by default; the shop is made the owner of its orders
    ownership = page.locator("#ownership")
    expect(ownership.locator("tbody tr").first).to_contain_text("default")
    ownership.get_by_label("Data").select_option(label="Orders")
    ownership.get_by_label("Owner").select_option(value="tool")
    ownership.get_by_role("button", name="Set owner").click()
    expect(page.locator("#ownership tbody")).to_contain_text("Shopify")
    shot(page, "03b_ownership")

    # given: work for the other tabs (a dead letter, a drift, sync runs, and the sample order,
    # quarantined: its stove is STOVE-TI-01 in the shop, STOVE-TITANIUM here)
    dead = delivery(connection=connection)
    drift(connection, label="TENT-2P-GRN", healable=False)
    sync_run(connection, requests=3)
    headers, body = sample_webhook()
    [(event, _)] = webhook_receive(connection=connection, request=WebhookRequest.of(headers, body))
    event.refresh_from_db()
    assert event.status == InboundStatus.QUARANTINED

    # the sync log, and one run with its requests
    page.locator("nav.conn-tabs").get_by_role("link", name="Sync log").click()
    expect(page.locator("table.grid tbody tr").first).to_be_visible()
    shot(page, "04_sync_log")

    # inbound events
    page.locator("nav.conn-tabs").get_by_role("link", name="Inbound events").click()
    expect(page.locator("table.grid")).to_contain_text("orders/create")
    shot(page, "05_events")

    # deliveries: the dead letter is obvious and is retried in place
    page.locator("nav.conn-tabs").get_by_role("link", name="Deliveries").click()
    page.get_by_role("link", name="Dead letters").click()
    expect(page.get_by_role("link", name="Dead letters")).to_have_attribute("aria-current", "page")
    row = page.locator(f"#delivery-{dead.pk}")
    expect(row).to_have_class("dead")
    shot(page, "06_deliveries")
    row.get_by_role("button", name="Retry now").click()
    expect(page.locator("#toasts")).to_contain_text("etr")
    expect(page.locator(f"#delivery-{dead.pk}")).not_to_have_class("dead")
    dead.refresh_from_db()
    assert dead.status != DeliveryStatus.DEAD

    # the quarantine: find the stove with the picker, map it; the order comes in
    page.locator("nav.conn-tabs").get_by_role("link", name="Quarantine").click()
    expect(page.locator("table.grid").first).to_contain_text("STOVE-TI-01")
    picker = page.get_by_label("Find the product for SKU STOVE-TI-01")
    picker.fill("stove")
    expect(page.get_by_role("button", name="Map → STOVE-TITANIUM")).to_be_visible()
    shot(page, "07_quarantine")
    page.get_by_role("button", name="Map → STOVE-TITANIUM").click()
    expect(page.locator("#toasts")).to_contain_text("1 event replayed")
    expect(page.get_by_text("Nothing is quarantined")).to_be_visible()
    event.refresh_from_db()
    assert event.status == InboundStatus.PROCESSED, event.last_error
    assert SalesOrder.objects.filter(channel__code="shopify").count() == 1

    # reconciliation: resolve the drift by hand
    page.locator("nav.conn-tabs").get_by_role("link", name="Reconciliation").click()
    expect(page.locator("table.grid")).to_contain_text("quantity_mismatch")
    shot(page, "08_reconciliation")
    page.get_by_role("button", name="Resolve").click()
    expect(page.locator("#toasts")).to_contain_text("marked resolved")

    # mappings: the SKU mapped above, the order's refs
    page.locator("nav.conn-tabs").get_by_role("link", name="Mappings").click()
    expect(page.locator("table.grid")).to_contain_text("STOVE-TI-01")
    shot(page, "09_mappings")

    # settings: the secrets are write-only
    page.locator("nav.conn-tabs").get_by_role("link", name="Settings").click()
    expect(page.get_by_text("Set — leave blank to keep.").first).to_be_visible()
    assert ACCESS_TOKEN not in page.content()
    assert CLIENT_SECRET not in page.content()
    shot(page, "10_settings")

    # the hub, with more connections around the backend
    for name in ("EU store", "Outlet", "Wholesale portal", "Marketplace"):
        Connection.objects.create(connector="shopify", name=name, settings=connection.settings)
    Connection.objects.filter(name="Outlet").update(status="paused")
    delivery(connection=Connection.objects.get(name="EU store"))
    page.goto("/integrations/")
    expect(page.locator(".hub-node")).to_have_count(5)
    expect(page.locator(".hub-core")).to_contain_text("ERP backend")
    expect(page.locator(f"#node-{connection.pk}")).to_contain_text("Active")
    shot(page, "11_hub")
    # live: a change shows without a reload
    Connection.objects.filter(name="Marketplace").update(status="failing")
    marketplace = Connection.objects.get(name="Marketplace")
    expect(page.locator(f"#node-{marketplace.pk}-status")).to_contain_text("Failing", timeout=20_000)
    assert page.js_errors == []


def test_my_webhooks_shows_the_secret_once(page, hub: FakeShopify):
    UserFactory(username="sam", password="s3cret-pass", roles=["Sales"])
    login(page, "sam", "s3cret-pass")
    page.get_by_role("link", name="My webhooks").click()
    page.get_by_label("Endpoint URL").fill("https://crm.example.com/hooks/erp")
    page.get_by_label("Topics").fill("sales.order_created sales.order_cancelled")
    page.get_by_role("button", name="Create subscription").click()
    secret = page.locator("#webhook-secret")
    expect(secret).to_contain_text("whsec_")
    shot(page, "12_webhooks_created")
    value = secret.inner_text()
    page.get_by_role("link", name="Open the subscription →").click()
    expect(page.get_by_role("heading", name="https://crm.example.com/hooks/erp")).to_be_visible()
    assert value not in page.content()
    shot(page, "13_webhook")
    assert page.js_errors == []


def test_the_hub_page_shows_the_last_simulated_day(page, tmp_path, settings):
    # given: the report a simulated day with real workers wrote (real figures of a CI day)
    UserFactory(username="ines", password="s3cret-pass", roles=["Integration admin"], first_name="Ines")
    from integrations.simulate import Report

    report = Report(orders=200, seed=1, faults={"duplicate": 0.05, "drop": 0.02}, mode="workers")
    report.tools = ["shopify", "bigcommerce"]
    report.dead_letters = {"inbound": 0, "deliveries": 1}
    report.dead_letters_explained = 1
    timing = {"changes": 246, "p50_seconds": 29.7, "p95_seconds": 92.5, "max_seconds": 107}
    report.consistency = {"all": timing}
    path = tmp_path / "simulation.json"
    path.write_text(report.to_json())
    settings.INTEGRATIONS_SIMULATION_REPORT = path
    # when
    login(page, "ines", "s3cret-pass")
    page.goto("/integrations/")
    # then
    card = page.locator("#hub-simulation")
    expect(card).to_contain_text("200 orders, seed 1, shopify, bigcommerce")
    expect(card).to_contain_text("PostgreSQL, real worker")
    expect(card).to_contain_text("OK")
    expect(card).to_contain_text("in agreement after p50 29.7 s, p95 92.5 s")
    expect(card).to_contain_text("dead letters: 1 (1 injected on purpose)")
    card.screenshot(path=str(SCREENSHOTS / "hub-simulation-card.png"))
    shot(page, "simulation")
