"""ShipBob's OAuth sign-in beside the PAT: "Connect to ShipBob" to the fake's consent page on
auth.shipbob.com, back with a code traded (client credentials in the body) for an hour's access
token and a refresh token; the hub refreshes it before the hour is up and keeps the rotated
refresh token; a PAT connection works as before; a connection with neither is refused."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qsl

import httpx
import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from erp.exceptions import ValidationFailed
from integrations import registry
from integrations.connections import connection_create
from integrations.http import mounted
from integrations.models import Connection, ConnectionStatus, RequestLog
from integrations.shipbob.auth import SCOPES
from integrations.shipbob.connector import BASE_URL
from integrations.shipbob.fake import (
    ACCESS_TOKEN,
    AUTH_URL,
    CHANNEL_ID,
    CLIENT_ID,
    CLIENT_SECRET,
    FakeShipBob,
)
from integrations.shipbob.fake_data import sample_secret
from tests.integrations.ui_support import admin_fixture  # noqa: F401  (a fixture)

pytestmark = pytest.mark.django_db

CALLBACK = "http://testserver/integrations/oauth/callback/"
APP = {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "webhook_secret": sample_secret()}


@pytest.fixture
def fake() -> Iterator[FakeShipBob]:
    tool = FakeShipBob(limits=False)
    transport = httpx.MockTransport(tool.handle)
    with mounted(BASE_URL, transport), mounted(AUTH_URL, transport):
        yield tool


def connect_app(secrets: dict[str, str] | None = None) -> Connection:
    return connection_create(
        connector="shipbob", name="ShipBob", settings={"channel_id": CHANNEL_ID}, secrets=secrets or APP
    )


def query(url: str) -> dict[str, str]:
    return dict(parse_qsl(httpx.URL(url).query.decode()))


def consent(fake: FakeShipBob, authorize_url: str, decision: str = "allow") -> str:
    page = fake.handle(httpx.Request("GET", authorize_url))
    assert page.status_code == 200, page.text
    assert ">Allow</button>" in page.text
    assert ">Deny</button>" in page.text
    answer = fake.handle(
        httpx.Request("GET", httpx.URL(authorize_url).copy_merge_params({"decision": decision}))
    )
    assert answer.status_code == 302, answer.text
    return str(answer.headers["location"])


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def signed_in(fake: FakeShipBob, admin: Client) -> Connection:
    connection = connect_app()
    response = admin.post(reverse("integrations:oauth-connect", args=[connection.pk]))
    assert response.status_code == 302, messages_of(response)
    back = admin.get(reverse("integrations:oauth-callback"), query(consent(fake, response["Location"])))
    assert back.status_code == 302
    return Connection.objects.get(pk=connection.pk)


def test_connecting_to_shipbob_stores_tokens_that_work(admin: Client, fake: FakeShipBob) -> None:
    connection = connect_app()
    response = admin.post(reverse("integrations:oauth-connect", args=[connection.pk]))
    authorize = response["Location"]
    assert authorize.startswith(f"{AUTH_URL}/connect/authorize?")
    params = query(authorize)
    assert (params["client_id"], params["redirect_uri"], params["response_type"]) == (
        CLIENT_ID,
        CALLBACK,
        "code",
    )
    assert params["scope"].split() == list(SCOPES)
    assert "offline_access" in params["scope"].split()

    callback = consent(fake, authorize)
    assert callback.startswith(CALLBACK)
    back = admin.get(reverse("integrations:oauth-callback"), query(callback))

    assert back["Location"] == reverse("integrations:connection", args=[connection.pk])
    assert messages_of(back) == ["Connected to ShipBob (3PL): the new tokens are stored."]
    row = Connection.objects.get(pk=connection.pk)
    stored = row.get_secrets()
    assert stored["access_token"] in fake.tokens.live_tokens
    assert stored["refresh_token"]
    assert stored["client_id"] == CLIENT_ID
    assert "token" not in stored
    assert row.status == ConnectionStatus.ACTIVE
    assert row.token_expires_at is not None
    assert 3500 < (row.token_expires_at - timezone.now()).total_seconds() <= 3600
    assert [(c.grant_type, c.status) for c in fake.token_calls] == [("authorization_code", 200)]
    # the access token is what the API gets, and the sign-in's secrets stay out of the request log
    assert registry.connector_for(row).test() == "ERP Connector"
    assert fake.requests[-1].headers["authorization"] == f"Bearer {stored['access_token']}"
    logged = " ".join(f"{log.url} {log.request_body} {log.response_body}" for log in RequestLog.objects.all())
    assert "connect/token" in logged
    for secret in (stored["access_token"], stored["refresh_token"], CLIENT_SECRET, query(callback)["code"]):
        assert secret not in logged


def test_a_denied_consent_changes_nothing(admin: Client, fake: FakeShipBob) -> None:
    connection = connect_app()
    authorize = admin.post(reverse("integrations:oauth-connect", args=[connection.pk]))["Location"]

    back = admin.get(reverse("integrations:oauth-callback"), query(consent(fake, authorize, "deny")))

    assert messages_of(back) == [
        "ShipBob (3PL) did not grant access (The user denied access). Nothing changed."
    ]
    assert "access_token" not in Connection.objects.get(pk=connection.pk).get_secrets()
    assert fake.token_calls == []


def test_the_hub_refreshes_before_the_hour_is_up_and_keeps_the_rotated_refresh_token(
    admin: Client, fake: FakeShipBob
) -> None:
    row = signed_in(fake, admin)
    first = row.get_secrets()
    soon = timezone.now() + timezone.timedelta(seconds=30)  # within the hub's refresh skew
    Connection.objects.filter(pk=row.pk).update(token_expires_at=soon)

    assert registry.connector_for(Connection.objects.get(pk=row.pk)).test() == "ERP Connector"

    after = Connection.objects.get(pk=row.pk)
    renewed = after.get_secrets()
    assert [c.grant_type for c in fake.token_calls] == ["authorization_code", "refresh_token"]
    assert renewed["access_token"] != first["access_token"]
    assert renewed["refresh_token"] != first["refresh_token"]  # it rotated
    assert after.token_expires_at is not None
    assert after.token_expires_at > soon
    assert fake.requests[-1].headers["authorization"] == f"Bearer {renewed['access_token']}"
    # the used refresh token is refused from now on
    used = fake.handle(
        httpx.Request(
            "POST",
            f"{AUTH_URL}/connect/token",
            data={
                "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET,
                "grant_type": "refresh_token",
                "refresh_token": first["refresh_token"],
            },
        )
    )
    assert (used.status_code, used.json()) == (400, {"error": "invalid_grant"})


def test_a_refused_refresh_leaves_the_connection_needing_sign_in(admin: Client, fake: FakeShipBob) -> None:
    row = signed_in(fake, admin)
    fake.revoke_refresh_tokens()
    fake.expire_tokens()
    Connection.objects.filter(pk=row.pk).update(token_expires_at=timezone.now())

    with pytest.raises(Exception, match="ShipBob refused the refresh token"):
        registry.connector_for(Connection.objects.get(pk=row.pk)).test()

    after = Connection.objects.get(pk=row.pk)
    assert after.status == ConnectionStatus.NEEDS_REAUTH
    assert "Re-authorise" in after.last_error


def test_a_pat_connection_works_as_before_and_is_never_refreshed(fake: FakeShipBob) -> None:
    connection = connect_app({"token": ACCESS_TOKEN, "webhook_secret": sample_secret()})
    connector = registry.connector_for(connection)

    assert connector.test() == "ERP Connector"
    assert fake.requests[-1].headers["authorization"] == f"Bearer {ACCESS_TOKEN}"
    assert connector.refresh_token(connection.get_secrets()) is None
    assert fake.token_calls == []
    assert connection.token_expires_at is None


@pytest.mark.parametrize(
    "secrets",
    [
        {"webhook_secret": "whsec_x"},
        {"client_id": CLIENT_ID, "webhook_secret": "whsec_x"},
        {"token": " ", "client_secret": CLIENT_SECRET, "webhook_secret": "whsec_x"},
    ],
)
def test_a_connection_with_neither_a_pat_nor_an_app_is_refused(fake: FakeShipBob, secrets) -> None:
    with pytest.raises(ValidationFailed) as refused:
        connect_app(secrets)

    assert refused.value.field_errors == {
        "secrets.token": [
            "Value error, Enter a Personal Access Token, or the OAuth app's client id and client "
            "secret to connect with ShipBob's sign-in."
        ]
    }
    assert not Connection.objects.exists()


def test_the_token_endpoint_refuses_a_used_code_and_another_apps_credentials(fake: FakeShipBob) -> None:
    def token(**form: str) -> httpx.Response:
        return fake.handle(httpx.Request("POST", f"{AUTH_URL}/connect/token", data=form))

    authorize = httpx.URL(f"{AUTH_URL}/connect/authorize").copy_merge_params(
        {"client_id": CLIENT_ID, "redirect_uri": CALLBACK, "response_type": "code", "scope": "orders_read"}
    )
    code = query(consent(fake, str(authorize)))["code"]
    app = {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}
    grant = {"grant_type": "authorization_code", "code": code, "redirect_uri": CALLBACK}

    assert token(**grant, client_id=CLIENT_ID, client_secret="wrong").json() == {"error": "invalid_client"}
    first = token(**grant, **app)
    assert first.status_code == 200
    assert "refresh_token" not in first.json()  # no offline_access asked: no refresh token
    assert first.json()["expires_in"] == 3600
    assert token(**grant, **app).json() == {"error": "invalid_grant"}  # good once
    assert token(grant_type="refresh_token", refresh_token="unknown", **app).json() == {
        "error": "invalid_grant"
    }
