"""The demo's Shopify sign-in in a real browser, as ``make run`` serves it: the demo connection (to the
fake shop this app serves under /integrations/fake-shopify/), "Re-authorise" on its page (it is
signed in with the demo's static token already), the fake shop's consent page at the app's own
address naming the app and its scopes, "Cancel" changing nothing, "Install" storing a token of its
own that works, while the demo's static token keeps working. Screenshots:
artifacts/screenshots/oauth-shopify-*.png.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import expect

from integrations import demo
from integrations.http import mounted
from integrations.models import Connection
from integrations.shopify.connector import SCOPES
from integrations.shopify.fake import ACCESS_TOKEN, CLIENT_ID, FakeShopify, shared_fake
from tests.browser.conftest import login
from tests.erp.factories import UserFactory
from tests.inventory.factories import unit, warehouse
from tests.sales.factories import ChannelFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def shop(settings, live_server) -> Iterator[FakeShopify]:
    """The demo as ``make run`` has it: the fakes on, the demo's base URL this (live) server, the
    fake shop served by the app and mounted for the hub, the demo seeded, an integration admin."""
    settings.ERP_DEMO_FAKES = True
    settings.ERP_DEMO_BASE_URL = live_server.url
    UserFactory(username="ines", password="s3cret-pass", roles=["Integration admin"], first_name="Ines")
    unit("pcs")
    warehouse("MAIN")
    ChannelFactory(code="shopify", name="Shopify web store")
    fake = shared_fake()
    fake.reset()
    with mounted(demo.demo_base_url(), httpx.WSGITransport(app=fake)):
        demo.seed_integrations()
        yield fake
    fake.reset()


def test_the_demo_connection_signs_in_to_the_fake_shop(page, screenshot, shop: FakeShopify):
    connection = Connection.objects.get(name=demo.DEMO_NAME)
    login(page, "ines", "s3cret-pass")

    # the demo connection's page: signed in (the demo's static token), the callback to register
    page.goto(f"/integrations/connections/{connection.pk}/")
    sign_in = page.locator("#sign-in")
    expect(sign_in).to_contain_text("signed in")
    expect(sign_in).to_contain_text("/integrations/oauth/callback/")
    screenshot("oauth-shopify-01-demo-connection")

    # "Cancel" on the shop's consent page changes nothing, and says so
    sign_in.get_by_role("button", name="Re-authorise").click()
    expect(page.get_by_role("heading", name="Install app")).to_be_visible()
    page.get_by_role("button", name="Cancel").click()
    expect(page.locator("#toasts")).to_contain_text(
        "Shopify did not grant access (The merchant cancelled the install). Nothing changed."
    )
    assert Connection.objects.get(pk=connection.pk).get_secrets()["access_token"] == ACCESS_TOKEN

    # again: the consent page, at this app's address, names the app, the shop and the scopes
    sign_in.get_by_role("button", name="Re-authorise").click()
    expect(page.get_by_role("heading", name="Install app")).to_be_visible()
    assert page.url.startswith(f"{demo.demo_base_url()}/admin/oauth/authorize?")
    assert f"client_id={CLIENT_ID}" in page.url
    main = page.locator("main")
    expect(main).to_contain_text("ERP integration hub wants to be installed on Acme Outdoors")
    for scope in SCOPES:
        expect(main).to_contain_text(scope)
    screenshot("oauth-shopify-02-consent")
    page.get_by_role("button", name="Install").click()

    # back on the connection's page: a token of its own, stored, and it works
    expect(page.locator("#toasts")).to_contain_text("Connected to Shopify: the new tokens are stored")
    expect(sign_in).to_contain_text("signed in")
    screenshot("oauth-shopify-03-connected")
    token = Connection.objects.get(pk=connection.pk).get_secrets()["access_token"]
    assert token != ACCESS_TOKEN
    assert token in shop.issued_tokens
    page.get_by_role("button", name="Test connection").click()
    expect(page.locator("#toasts")).to_contain_text("Connection works: Acme Outdoors")
    screenshot("oauth-shopify-04-connection-works")
    assert shop.accepts_token(ACCESS_TOKEN)  # the demo's static token still works
    assert [call.status for call in shop.token_calls] == [200]
    assert page.js_errors == []
