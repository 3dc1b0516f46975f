"""OAuth 2.0 sign-in from a connection's page: "Connect to Tally" to the tool's consent page with a
state bound to the session and the connection, and the callback that checks it, trades the code
for tokens and stores them; every failure (a state that does not match, consent denied, the token
endpoint refusing) says so and changes nothing. Only users who may change integrations sign in."""

from __future__ import annotations

import datetime
import time
from typing import Any

import httpx
import pytest
from django.contrib.messages import get_messages
from django.core import signing
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from integrations import health, oauth
from integrations.contract import OAuth
from integrations.models import Connection, ConnectionStatus, RequestLog
from tests.integrations.auth_support import APP, consent, tally_connection, tally_fixture  # noqa: F401
from tests.integrations.conformance.tally.connector import REALM
from tests.integrations.conformance.tally.fake import FakeTally
from tests.integrations.conformance.tally.fake_oauth import CLIENT_ID
from tests.integrations.ui_support import (
    admin_fixture,  # noqa: F401  (a fixture)
    client_for,
    reader_fixture,  # noqa: F401  (a fixture)
)

pytestmark = pytest.mark.django_db

CALLBACK = "http://testserver/integrations/oauth/callback/"


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def snapshot(connection: Connection) -> dict[str, Any]:
    row = Connection.objects.get(pk=connection.pk)
    fields = (
        "secrets_encrypted",
        "status",
        "token_expires_at",
        "refresh_expires_at",
        "last_error",
        "updated_at",
    )
    return {name: getattr(row, name) for name in fields}


@pytest.fixture
def waiting(tally: FakeTally) -> Connection:
    """A Tally connection whose tokens Tally refused: it needs a person to sign in again."""
    connection = tally_connection(secrets=APP)
    Connection.objects.filter(pk=connection.pk).update(
        status=ConnectionStatus.NEEDS_REAUTH, last_error="The token refresh was refused: invalid_grant"
    )
    return connection


def connect(client: Client, connection: Connection) -> str:
    """ "Connect to Tally": the consent page's address we are sent to."""
    response = client.post(reverse("integrations:oauth-connect", args=[connection.pk]))
    assert response.status_code == 302, response.content
    return str(response["Location"])


# --- the round trip --------------------------------------------------------------------------------


def test_connect_sends_the_browser_to_the_consent_page_with_a_signed_state(admin: Client, waiting):
    url = httpx.URL(connect(admin, waiting))

    assert (url.host, url.path) == ("tally.test", "/oauth2/authorize")
    params = dict(url.params)
    assert params["client_id"] == CLIENT_ID
    assert params["redirect_uri"] == CALLBACK
    assert params["response_type"] == "code"
    assert params["scope"] == "com.tally.accounting"
    state = signing.loads(params["state"], salt=oauth.STATE_SALT)
    assert state["c"] == waiting.pk
    assert state["n"] in admin.session[oauth.SESSION_KEY]  # bound to this session


def test_the_round_trip_stores_the_tokens_and_the_connection_is_active_again(
    admin: Client, waiting, tally: FakeTally
):
    # when: Connect, Allow at Tally, and back
    back = consent(tally, connect(admin, waiting))
    response = admin.get(back)

    # then: to the connection's page, saying so
    assert response.status_code == 302
    assert response["Location"] == reverse("integrations:connection", args=[waiting.pk])
    assert messages_of(response) == [
        "Connected to Tally (test accounting tool): the new tokens are stored (re-authorise within 99 days)."
    ]
    row = Connection.objects.get(pk=waiting.pk)
    secrets = row.get_secrets()
    assert secrets["access_token"] == tally.auth.access_token
    assert secrets["refresh_token"] == tally.auth.refresh_token
    assert secrets["client_secret"] == APP["client_secret"]  # the app's secrets stay
    assert tally.auth.access_token not in row.secrets_encrypted  # encrypted
    assert (row.status, row.last_error) == (ConnectionStatus.ACTIVE, "")
    now = timezone.now()
    assert datetime.timedelta(minutes=59) < row.token_expires_at - now <= datetime.timedelta(hours=1)
    assert datetime.timedelta(days=99) < row.refresh_expires_at - now <= datetime.timedelta(days=100)
    assert tally.auth.token_calls == ["authorization_code"]
    # the code and the tokens are not in the request log
    log = RequestLog.objects.get(url__endswith="/oauth2/token")
    assert "tally-code-" not in log.request_body
    assert tally.auth.access_token not in log.response_body
    assert tally.auth.refresh_token not in log.response_body
    # and the connection works
    assert health.connection_test(connection=row).status == "succeeded"


def test_the_company_named_on_the_callback_becomes_the_connections(admin: Client, tally: FakeTally):
    connection = tally_connection(secrets=APP)
    Connection.objects.filter(pk=connection.pk).update(settings={**connection.settings, "realm_id": "1"})

    admin.get(consent(tally, connect(admin, connection)))

    assert Connection.objects.get(pk=connection.pk).settings["realm_id"] == REALM


def test_the_page_offers_the_sign_in_and_shows_its_end(admin: Client, tally: FakeTally):
    connection = tally_connection(secrets=APP)
    page = admin.get(reverse("integrations:connection", args=[connection.pk])).content.decode()
    assert "Connect to Tally (test accounting tool)</button>" in page
    assert "not signed in yet" in page
    assert CALLBACK in page  # the redirect URI to register with the tool's app

    admin.get(consent(tally, connect(admin, connection)))

    page = admin.get(reverse("integrations:connection", args=[connection.pk])).content.decode()
    assert "signed in" in page
    assert "re-authorise within 99 days" in page
    assert "Re-authorise</button>" in page


def test_a_paused_connection_stays_paused(admin: Client, waiting, tally: FakeTally):
    Connection.objects.filter(pk=waiting.pk).update(status=ConnectionStatus.PAUSED)

    response = admin.get(consent(tally, connect(admin, waiting)))

    assert "still paused" in messages_of(response)[0]
    assert Connection.objects.get(pk=waiting.pk).status == ConnectionStatus.PAUSED


# --- failures change nothing ---------------------------------------------------------------------------


def test_a_state_that_was_tampered_with_is_refused(admin: Client, waiting, tally: FakeTally):
    back = httpx.URL(consent(tally, connect(admin, waiting)))
    before = snapshot(waiting)
    forged = back.copy_set_param("state", back.params["state"][:-2] + "xx")

    response = admin.get(str(forged))

    assert response["Location"] == reverse("integrations:index")
    assert messages_of(response) == [
        "The sign-in could not be verified: its state is missing or does not match. Nothing changed."
    ]
    assert snapshot(waiting) == before
    assert tally.auth.token_calls == []


def test_a_missing_state_is_refused(admin: Client, waiting, tally: FakeTally):
    response = admin.get(reverse("integrations:oauth-callback"), {"code": "tally-code-1"})
    assert "state is missing or does not match" in messages_of(response)[0]
    assert tally.auth.token_calls == []


def test_a_state_from_another_session_is_refused(admin: Client, waiting, tally: FakeTally):
    # given: the consent was given in Ines' session; the answer arrives in another admin's
    back = consent(tally, connect(admin, waiting))
    before = snapshot(waiting)
    other = client_for("ida", "Integration admin")

    response = other.get(back)

    assert response["Location"] == reverse("integrations:connection", args=[waiting.pk])
    assert "not started in this browser session" in messages_of(response)[0]
    assert snapshot(waiting) == before
    assert tally.auth.token_calls == []


def test_a_state_is_good_once(admin: Client, waiting, tally: FakeTally):
    back = consent(tally, connect(admin, waiting))
    admin.get(back)
    before = snapshot(waiting)

    again = admin.get(back)

    assert "used already" in messages_of(again)[-1]
    assert snapshot(waiting) == before
    assert tally.auth.token_calls == ["authorization_code"]


def test_a_state_older_than_ten_minutes_is_refused(
    admin: Client, waiting, tally: FakeTally, monkeypatch: pytest.MonkeyPatch
):
    back = consent(tally, connect(admin, waiting))
    before = snapshot(waiting)
    later = time.time() + oauth.STATE_MAX_AGE + 5
    monkeypatch.setattr(signing.time, "time", lambda: later)

    response = admin.get(back)

    assert "took longer than 10 minutes" in messages_of(response)[0]
    monkeypatch.undo()
    assert snapshot(waiting) == before
    assert tally.auth.token_calls == []


def test_denied_consent_changes_nothing(admin: Client, waiting, tally: FakeTally):
    before = snapshot(waiting)

    response = admin.get(consent(tally, connect(admin, waiting), decision="deny"))

    assert response["Location"] == reverse("integrations:connection", args=[waiting.pk])
    assert messages_of(response) == [
        "Tally (test accounting tool) did not grant access (The user denied access). Nothing changed."
    ]
    assert snapshot(waiting) == before
    assert tally.auth.token_calls == []


@pytest.mark.parametrize(
    ("answer", "said"),
    [
        (httpx.Response(400, json={"error": "invalid_grant"}), "invalid_grant"),
        (httpx.Response(401, json={"error": "invalid_client"}), "invalid_client"),
        (httpx.Response(503, text="down"), "answered 503"),
        (httpx.Response(200, json={"token_type": "bearer"}), "has no access_token"),
    ],
    ids=["invalid-grant", "invalid-client", "down", "no-token"],
)
def test_a_token_endpoint_error_changes_nothing(
    admin: Client, waiting, tally: FakeTally, answer: httpx.Response, said: str
):
    back = consent(tally, connect(admin, waiting))
    before = snapshot(waiting)
    tally.auth.script.append(answer)

    response = admin.get(back)

    assert response["Location"] == reverse("integrations:connection", args=[waiting.pk])
    (message,) = messages_of(response)
    assert message.startswith("Tally (test accounting tool) refused to give tokens for the sign-in:")
    assert said in message
    assert message.endswith("Nothing changed.")
    assert snapshot(waiting) == before
    assert "tally-code-" not in RequestLog.objects.get(url__endswith="/oauth2/token").request_body


def test_a_code_for_another_redirect_uri_is_refused(admin: Client, waiting, tally: FakeTally):
    url = httpx.URL(connect(admin, waiting)).copy_set_param("redirect_uri", "https://evil.example/cb")
    back = httpx.URL(consent(tally, str(url)))
    ours = httpx.URL(CALLBACK).copy_merge_params(dict(back.params))  # the code, brought to us anyway

    response = admin.get(str(ours))

    assert "invalid_grant" in messages_of(response)[0]
    assert Connection.objects.get(pk=waiting.pk).status == ConnectionStatus.NEEDS_REAUTH


def test_no_sign_in_without_the_apps_client(admin: Client, tally: FakeTally):
    connection = tally_connection(secrets={"verifier_token": "v-1"})

    response = admin.post(reverse("integrations:oauth-connect", args=[connection.pk]))

    assert response["Location"] == reverse("integrations:connection", args=[connection.pk])
    assert messages_of(response) == [
        "Enter the app's client id and client secret in Settings first: Tally (test accounting tool) "
        "asks for them to sign in."
    ]
    assert oauth.SESSION_KEY not in admin.session


def test_a_tool_without_a_sign_in_offers_none(admin: Client, tally: FakeTally, monkeypatch):
    from tests.integrations.conformance.tally.connector import TallyConnector

    monkeypatch.setattr(TallyConnector, "oauth", None)
    connection = tally_connection()

    page = admin.get(reverse("integrations:connection", args=[connection.pk])).content.decode()
    response = admin.post(reverse("integrations:oauth-connect", args=[connection.pk]))

    assert 'id="sign-in"' not in page
    assert "has no sign-in" in messages_of(response)[0]


def test_the_spec_joins_relative_urls_to_the_connections_base_url():
    spec = OAuth(authorize_url="/oauth2/authorize", token_url="https://login.example/token")
    assert spec.url(spec.authorize_url, "http://localhost:8123/v3/company/1") == (
        "http://localhost:8123/oauth2/authorize"
    )
    assert spec.url(spec.token_url, "http://localhost:8123/v3") == "https://login.example/token"


# --- who may ------------------------------------------------------------------------------------------


def test_only_users_who_change_integrations_sign_in(reader: Client, admin: Client, waiting, tally: FakeTally):
    back = consent(tally, connect(admin, waiting))
    before = snapshot(waiting)

    assert reader.post(reverse("integrations:oauth-connect", args=[waiting.pk])).status_code == 403
    assert reader.get(back).status_code == 403
    anonymous = Client()
    assert anonymous.get(back)["Location"].startswith("/login/")
    assert (
        reader.get(reverse("integrations:connection", args=[waiting.pk]))
        .content.decode()
        .count(reverse("integrations:oauth-connect", args=[waiting.pk]))
        == 0
    )  # no button for a reader
    assert admin.get(reverse("integrations:oauth-connect", args=[waiting.pk])).status_code == 405  # a POST
    assert snapshot(waiting) == before
    assert tally.auth.token_calls == []
