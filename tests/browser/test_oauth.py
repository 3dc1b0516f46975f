"""The OAuth sign-in in a real browser: "Connect to Tally" on the connection's page, Tally's consent
page (the fake's, served over HTTP by the live server), "Allow", and back with the tokens stored;
then Tally refusing the refresh token, the connection needing re-authorisation, a "Deny" that
changes nothing, and "Re-authorise" putting it right.

The live server is the fake Tally's base URL: this module is the URL conf of its tests (the app's
own URLs, and the fake's consent page at /oauth2/authorize), and the hub's HTTP client is routed
to the fake for the API and the token endpoint at the same address. Screenshots:
artifacts/screenshots/oauth-*.png.
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
from integrations.models import Connection, ConnectionStatus
from tests.browser.conftest import login
from tests.erp.factories import UserFactory
from tests.integrations.auth_support import APP, tally_connection, tally_fixture  # noqa: F401  (a fixture)
from tests.integrations.conformance.tally.fake import FakeTally

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.urls(__name__)]

SERVED: list[FakeTally] = []  # the fake whose consent page the live server serves


def consent_page(request: HttpRequest) -> HttpResponse:
    """The fake Tally's consent page, over HTTP: what a person sees at the tool."""
    answer = SERVED[-1].handle(httpx.Request(request.method or "GET", request.build_absolute_uri()))
    response = HttpResponse(
        answer.content, status=answer.status_code, content_type=answer.headers.get("content-type")
    )
    if "location" in answer.headers:
        response["Location"] = answer.headers["location"]
    return response


urlpatterns = [path("oauth2/authorize", consent_page), *app_urls.urlpatterns]


@pytest.fixture
def books(tally: FakeTally, live_server) -> Iterator[Connection]:
    """An integration admin, and a Tally connection (the app's client entered, not signed in yet)
    whose base URL is the live server."""
    UserFactory(username="ines", password="s3cret-pass", roles=["Integration admin"], first_name="Ines")
    SERVED.append(tally)
    to_fake = httpx.MockTransport(tally.handle)
    try:
        with (
            http.mounted(f"{live_server.url}/v3/", to_fake),
            http.mounted(f"{live_server.url}/oauth2/token", to_fake),
        ):
            yield tally_connection(secrets=APP, base_url=f"{live_server.url}/v3/company")
    finally:
        SERVED.remove(tally)


def test_signing_in_to_tally_and_again_when_it_refuses_the_tokens(page, screenshot, books, tally):
    login(page, "ines", "s3cret-pass")

    # the connection's page offers the sign-in, and the address to register with Tally's app
    page.goto(f"/integrations/connections/{books.pk}/")
    sign_in = page.locator("#sign-in")
    expect(sign_in).to_contain_text("not signed in yet")
    expect(sign_in).to_contain_text("/integrations/oauth/callback/")
    screenshot("oauth-01-not-signed-in")
    sign_in.get_by_role("button", name="Connect to Tally (test accounting tool)").click()

    # Tally's consent page names the app's scope; Allow
    expect(page.get_by_role("heading", name="Connect to Tally")).to_be_visible()
    expect(page.locator("main")).to_contain_text("com.tally.accounting")
    screenshot("oauth-02-consent")
    page.get_by_role("button", name="Allow").click()

    # back on the connection's page: signed in, and when to sign in again
    expect(page.locator("#toasts")).to_contain_text("Connected to Tally (test accounting tool)")
    expect(sign_in).to_contain_text("re-authorise within 99 days")
    expect(sign_in.get_by_role("button", name="Re-authorise")).to_be_visible()
    screenshot("oauth-03-signed-in")
    secrets = Connection.objects.get(pk=books.pk).get_secrets()
    assert secrets["access_token"] == tally.auth.access_token
    assert secrets["refresh_token"] == tally.auth.refresh_token
    page.get_by_role("button", name="Test connection").click()
    expect(page.locator("#toasts")).to_contain_text("Connection works: Tally Test Books")

    # Tally forgets the app (the refresh token is refused): the connection needs a person
    tally.auth.revoke_refresh_tokens()
    tally.auth.expire_access_token()
    page.get_by_role("button", name="Test connection").click()
    callout = page.get_by_role("alert")
    expect(callout).to_contain_text("Needs re-authorisation.")
    expect(callout).to_contain_text("invalid_grant")
    screenshot("oauth-04-needs-reauthorisation")
    assert Connection.objects.get(pk=books.pk).status == ConnectionStatus.NEEDS_REAUTH

    # "Deny" at Tally changes nothing, and says so
    callout.get_by_role("button", name="Re-authorise").click()
    page.get_by_role("button", name="Deny").click()
    expect(page.locator("#toasts")).to_contain_text("did not grant access (The user denied access)")
    expect(page.get_by_role("alert")).to_contain_text("Needs re-authorisation.")
    screenshot("oauth-05-denied")

    # "Re-authorise" and Allow: active again, and it works
    page.get_by_role("alert").get_by_role("button", name="Re-authorise").click()
    page.get_by_role("button", name="Allow").click()
    expect(page.locator("#toasts")).to_contain_text("Connected to Tally")
    expect(page.get_by_role("alert")).to_have_count(0)
    page.get_by_role("button", name="Test connection").click()
    expect(page.locator("#toasts")).to_contain_text("Connection works: Tally Test Books")
    screenshot("oauth-06-active-again")
    assert Connection.objects.get(pk=books.pk).status == ConnectionStatus.ACTIVE
    assert tally.auth.token_calls == ["authorization_code", "refresh_token", "authorization_code"]
    assert page.js_errors == []
