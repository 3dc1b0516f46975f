"""HubSpot's credentials through the hub's token machinery: an OAuth app's 30-minute token renewed
before it runs out and once on a 401 (the form as HubSpot's sample sends it), a private app's token
never refreshed (a 401 needs a person), and the connection test naming the portal."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from urllib.parse import parse_qsl

import httpx
import pytest
from django.utils import timezone

from integrations.errors import AuthFailed, PermanentError
from integrations.hubspot.auth import AUTHORIZE_URL
from integrations.hubspot.connector import HubSpotConnector
from integrations.models import Connection, ConnectionStatus
from tests.integrations.hubspot.test_connector import PORTAL, Api, connect, reply, sample, serving

pytestmark = pytest.mark.django_db

DETAILS = "/account-info/v3/details"
TOKEN = "/oauth/v1/token"
FORM = {k: v for k, v in sample("oauth_refresh_request.form.json").items() if not k.startswith("_")}
FRESH = sample("oauth_refresh_response.json")["access_token"]
OAUTH_SECRETS = {
    "access_token": "old-access-token",
    "client_id": FORM["client_id"],
    "client_secret": FORM["client_secret"],
    "refresh_token": FORM["refresh_token"],
}


@pytest.fixture
def api() -> Iterator[Api]:
    with serving() as tool:
        tool.on("POST", TOKEN, sample("oauth_refresh_response.json"))
        yield tool


def details_for(token: str):
    """The account details, for a request carrying ``token`` only (else HubSpot's 401)."""

    def answer(request: httpx.Request) -> httpx.Response:
        if request.headers.get("Authorization") != f"Bearer {token}":
            return reply(sample("error_401.json"), 401)
        return reply({"portalId": int(PORTAL), "timeZone": "US/Eastern", "companyCurrency": "USD"})

    return answer


def oauth_connector(expires_at: datetime.datetime | None) -> HubSpotConnector:
    connector = connect(secrets=OAUTH_SECRETS)
    Connection.objects.filter(pk=connector.connection.pk).update(token_expires_at=expires_at)
    connector.connection.refresh_from_db()
    return connector


def calls(api: Api) -> list[str]:
    return [f"{r.method} {r.url.path}" for r in api.requests]


def test_a_token_about_to_run_out_is_renewed_first_with_the_samples_form(api):
    api.on("GET", DETAILS, details_for(FRESH))
    connector = oauth_connector(timezone.now() + datetime.timedelta(seconds=10))

    assert connector.test() == f"HubSpot portal {PORTAL}"

    assert calls(api) == [f"POST {TOKEN}", f"GET {DETAILS}"]
    form = dict(parse_qsl(api.requests[0].content.decode()))
    assert form == FORM
    assert api.requests[0].headers["Content-Type"].startswith("application/x-www-form-urlencoded")
    assert "Authorization" not in api.requests[0].headers  # the client goes in the form, not as Basic
    connection = Connection.objects.get(pk=connector.connection.pk)
    assert connection.get_secrets()["access_token"] == FRESH
    assert connection.token_expires_at is not None
    assert connection.token_expires_at > timezone.now() + datetime.timedelta(minutes=29)


def test_a_401_refreshes_once_and_sends_again(api):
    api.on("GET", DETAILS, details_for(FRESH))
    connector = oauth_connector(timezone.now() + datetime.timedelta(minutes=20))

    assert connector.test() == f"HubSpot portal {PORTAL}"

    assert calls(api) == [f"GET {DETAILS}", f"POST {TOKEN}", f"GET {DETAILS}"]


def test_a_token_refused_again_after_the_refresh_needs_a_person(api):
    api.on("GET", DETAILS, details_for("a token nobody has"))
    connector = oauth_connector(None)

    with pytest.raises(AuthFailed):
        connector.test()

    assert calls(api).count(f"POST {TOKEN}") == 1
    assert Connection.objects.get(pk=connector.connection.pk).status == ConnectionStatus.NEEDS_REAUTH


def test_a_private_apps_token_is_never_refreshed(api):
    api.on("GET", DETAILS, details_for("pat-na1-good"))
    connector = connect(secrets={"access_token": "pat-na1-revoked", "client_secret": "s"})

    with pytest.raises(AuthFailed):
        connector.test()

    assert calls(api) == [f"GET {DETAILS}"]


def test_the_connection_test_refuses_another_portals_credentials(api):
    api.on("GET", DETAILS, {"portalId": 999})
    connector = connect(secrets={"access_token": "t", "client_secret": "s"})

    with pytest.raises(PermanentError, match="portal 999, not 33"):
        connector.test()


def test_the_sign_in_goes_to_hubspots_consent_page_or_a_fakes(api):
    assert connect(secrets=OAUTH_SECRETS).authorize_url() == AUTHORIZE_URL
    local = connect({"base_url": "http://127.0.0.1:8791"}, OAUTH_SECRETS, name="Local")
    assert local.authorize_url() == "http://127.0.0.1:8791/oauth/authorize"
