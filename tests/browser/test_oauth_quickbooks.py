"""Signing in to QuickBooks Online in a real browser: "Connect to QuickBooks Online" on the
connection's page, Intuit's consent page (the fake's, served by the live server) naming the
company, "Connect", and back with the tokens stored and the company (``realmId``) in the settings;
the sign-in's expiry shown; then the hourly refresh rotating the refresh token, the newest kept.

The live server is the fake's base URL: this module is the URL conf of its test (the app's URLs and
the fake's consent page at /connect/oauth2); the hub's HTTP client is routed to the fake for the API
and the token endpoint at the same address. Screenshots: artifacts/screenshots/quickbooks-*.png.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from django.http import HttpRequest, HttpResponse
from django.urls import path
from playwright.sync_api import expect

from erp import urls as app_urls
from integrations import http
from integrations.connections import connection_create
from integrations.models import Connection
from integrations.quickbooks.fake import CLIENT_ID, CLIENT_SECRET, REALM_ID, VERIFIER_TOKEN, FakeQuickBooks
from tests.browser.conftest import login
from tests.erp.factories import UserFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.urls(__name__)]

SERVED: list[FakeQuickBooks] = []


def consent_page(request: HttpRequest) -> HttpResponse:
    """Intuit's consent page, the fake's, over HTTP."""
    answer = SERVED[-1].handle(httpx.Request(request.method or "GET", request.build_absolute_uri()))
    response = HttpResponse(
        answer.content, status=answer.status_code, content_type=answer.headers.get("content-type")
    )
    if "location" in answer.headers:
        response["Location"] = answer.headers["location"]
    return response


urlpatterns = [path("connect/oauth2", consent_page), *app_urls.urlpatterns]


@pytest.fixture
def books(live_server) -> Iterator[tuple[Connection, FakeQuickBooks]]:
    """A finance admin's QuickBooks connection: the app's keys entered, not signed in yet."""
    UserFactory(username="fiona", password="s3cret-pass", roles=["Integration admin"], first_name="Fiona")
    fake = FakeQuickBooks(limits=False)
    fake.auto_approve = False  # a person decides on the consent page
    SERVED.append(fake)
    to_fake = httpx.MockTransport(fake.handle)
    try:
        with (
            http.mounted(f"{live_server.url}/v3/", to_fake),
            http.mounted(f"{live_server.url}/oauth2/", to_fake),
        ):
            connection = connection_create(
                connector="quickbooks",
                name="Books",
                settings={"base_url": f"{live_server.url}/v3"},
                secrets={
                    "client_id": CLIENT_ID,
                    "client_secret": CLIENT_SECRET,
                    "verifier_token": VERIFIER_TOKEN,
                },
            )
            yield connection, fake
    finally:
        SERVED.remove(fake)


def test_signing_in_to_quickbooks_names_the_company_and_keeps_the_rotated_token(page, screenshot, books):
    connection, fake = books
    login(page, "fiona", "s3cret-pass")
    page.goto(f"/integrations/connections/{connection.pk}/")
    sign_in = page.locator("#sign-in")
    expect(sign_in).to_contain_text("not signed in yet")
    screenshot("quickbooks-01-not-signed-in")
    sign_in.get_by_role("button", name="Connect to QuickBooks Online").click()

    # Intuit's consent page names the company; Connect
    expect(page.get_by_role("heading", name="Connect to QuickBooks")).to_be_visible()
    expect(page.locator("body")).to_contain_text(fake.company_name(REALM_ID))
    screenshot("quickbooks-02-consent")
    page.get_by_role("button", name="Connect").click()

    # back: signed in to that company, and when to sign in again (Intuit's 101 days)
    expect(page.locator("#toasts")).to_contain_text("Connected to QuickBooks Online")
    expect(sign_in).to_contain_text("re-authorise within 100 days")
    screenshot("quickbooks-03-signed-in")
    connection.refresh_from_db()
    assert connection.settings["realm_id"] == REALM_ID
    first = connection.get_secrets()["refresh_token"]
    page.get_by_role("button", name="Test connection").click()
    expect(page.locator("#toasts")).to_contain_text(f"Connection works: {fake.company_name(REALM_ID)}")

    # an hour later: the hub refreshes, QuickBooks rotates the refresh token, the newest is kept
    fake.rotate_after = 0
    fake.expire_tokens()
    page.get_by_role("button", name="Test connection").click()
    newest = first
    for _ in range(150):  # the earlier "Connection works" toast may still show: wait for the refresh
        connection.refresh_from_db()
        newest = connection.get_secrets()["refresh_token"]
        if newest != first:
            break
        page.wait_for_timeout(100)
    expect(page.locator("#toasts")).to_contain_text("Connection works")
    assert newest != first
    assert newest in fake.grants
    assert first not in fake.grants
    assert [c.grant_type for c in fake.token_calls] == ["authorization_code", "refresh_token"]
    screenshot("quickbooks-04-refreshed")
    assert page.js_errors == []
