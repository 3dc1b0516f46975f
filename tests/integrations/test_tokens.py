"""Refreshing a connection's tokens: once for every worker, under a lease and not a row lock held
across the call to the token endpoint; the grant (a rotated refresh token) stored the moment it
arrives; the refresh token's own end shown; a refused refresh needing re-authorisation; and an
LWA-style refresh (a form body to a second declared host)."""

from __future__ import annotations

import datetime
import json
import threading
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from pydantic import BaseModel

from integrations import health, http, registry, tokens
from integrations.contract import Capability, Connector, TokenGrant
from integrations.errors import AuthFailed, TransientError, UndeclaredHost
from integrations.http import HubHttp
from integrations.models import Connection, ConnectionStatus, RequestLog
from tests.integrations.auth_support import tally_connection, tally_fixture  # noqa: F401  (a fixture)
from tests.integrations.conformance.tally.fake import FakeTally
from tests.integrations.conformance.tally.fake_oauth import REFRESH_TOKEN
from tests.integrations.ui_support import admin_fixture  # noqa: F401  (a fixture)

pytestmark = pytest.mark.django_db


def ask(connection: Connection) -> str:
    """One worker's request to Tally, with its own copy of the connection (as a worker loads it)."""
    own = Connection.objects.get(pk=connection.pk)
    return registry.connector_for(own).test()


def stored(connection: Connection) -> dict[str, Any]:
    return Connection.objects.get(pk=connection.pk).get_secrets()


# --- one refresh, stored at once -----------------------------------------------------------------


def test_a_401_refreshes_once_and_the_rotated_refresh_token_is_kept(tally: FakeTally):
    # given: the access token ran out at Tally
    connection = tally_connection()
    tally.auth.expire_access_token()

    # when
    answer = ask(connection)

    # then: one refresh, the request retried with the new token
    assert answer == "Tally Test Books"
    assert tally.auth.token_calls == ["refresh_token"]
    row = Connection.objects.get(pk=connection.pk)
    secrets = row.get_secrets()
    assert secrets["access_token"] == tally.auth.access_token
    assert secrets["refresh_token"] == tally.auth.refresh_token != REFRESH_TOKEN  # rotated, and kept
    assert secrets["client_secret"]  # the rest of the secrets stay
    assert row.refreshing_until is None  # the lease ended
    now = timezone.now()
    assert row.token_expires_at is not None
    assert row.token_expires_at - now > datetime.timedelta(minutes=59)
    assert row.refresh_expires_at is not None
    assert row.refresh_expires_at - now > datetime.timedelta(days=99)
    # the old refresh token is dead at Tally
    assert tally.auth.refresh_with(REFRESH_TOKEN).json() == {"error": "invalid_grant"}
    # the token endpoint's log keeps no token
    log = RequestLog.objects.get(url__endswith="/oauth2/token")
    assert secrets["access_token"] not in log.response_body
    assert secrets["refresh_token"] not in log.response_body
    assert "[redacted]" in log.response_body


class WorkerDied(BaseException):
    """The worker process is killed (nothing below it catches this)."""


@pytest.mark.django_db(transaction=True)
def test_a_worker_dying_right_after_the_token_call_keeps_the_rotated_refresh_token(
    tally: FakeTally, monkeypatch: pytest.MonkeyPatch
):
    # given: the access token ran out; the worker dies after Tally answered the refresh, before
    # the request is retried with the new token
    connection = tally_connection()
    tally.auth.expire_access_token()
    send = HubHttp._send

    def dying(self: HubHttp, method: str, url: str, *args: Any, **kwargs: Any) -> httpx.Response:
        if tally.auth.token_calls and "/oauth2/" not in url:
            raise WorkerDied
        return send(self, method, url, *args, **kwargs)

    monkeypatch.setattr(HubHttp, "_send", dying)
    with pytest.raises(WorkerDied):
        ask(connection)
    monkeypatch.undo()

    # then: the new refresh token was committed before the worker died; the old one is refused
    secrets = stored(connection)
    assert secrets["refresh_token"] == tally.auth.refresh_token != REFRESH_TOKEN
    assert tally.auth.refresh_with(REFRESH_TOKEN).json() == {"error": "invalid_grant"}
    assert Connection.objects.get(pk=connection.pk).refreshing_until is None
    # and the next worker uses the stored tokens without refreshing again
    assert ask(connection) == "Tally Test Books"
    assert tally.auth.token_calls == ["refresh_token", "refresh_token"]  # ours, and the direct try above


def test_an_expiring_token_is_refreshed_before_the_request(tally: FakeTally):
    connection = tally_connection()
    Connection.objects.filter(pk=connection.pk).update(token_expires_at=timezone.now())
    tally.auth.expire_access_token()

    assert ask(connection) == "Tally Test Books"

    assert tally.auth.token_calls == ["refresh_token"]
    assert [r.url.path for r in tally.requests] == ["/v3/company/9130357/companyinfo/9130357"]  # no 401 first


# --- giving up ------------------------------------------------------------------------------------


def test_a_refused_refresh_needs_reauthorisation_with_a_button(tally: FakeTally, admin):
    # given: the company disconnected the app at Tally
    connection = tally_connection()
    tally.auth.expire_access_token()
    tally.auth.revoke_refresh_tokens()

    # when
    with pytest.raises(AuthFailed, match="refresh was refused") as caught:
        ask(connection)

    # then: asked once, the lease ended, the connection waits for a person
    assert tally.auth.token_calls == ["refresh_token"]
    row = Connection.objects.get(pk=connection.pk)
    assert row.status == ConnectionStatus.NEEDS_REAUTH
    assert "invalid_grant" in row.last_error
    assert row.refreshing_until is None
    assert caught.value.request_log is not None
    assert caught.value.request_log.url.endswith("/oauth2/token")
    # the page says so, with the sign-in as the way out
    page = admin.get(reverse("integrations:connection", args=[connection.pk])).content.decode()
    assert "Needs re-authorisation." in page
    assert "Re-authorise</button>" in page
    assert reverse("integrations:oauth-connect", args=[connection.pk]) in page


def test_a_refused_proactive_refresh_asks_once_and_sends_nothing(tally: FakeTally):
    connection = tally_connection()
    Connection.objects.filter(pk=connection.pk).update(token_expires_at=timezone.now())
    tally.auth.revoke_refresh_tokens()

    with pytest.raises(AuthFailed):
        ask(connection)

    assert tally.auth.token_calls == ["refresh_token"]
    assert tally.requests == []


def test_a_token_endpoint_down_ends_the_lease_and_is_tried_again_later(tally: FakeTally):
    connection = tally_connection()
    tally.auth.expire_access_token()
    tally.auth.script.append(httpx.Response(503, text="down"))

    with pytest.raises(TransientError, match="503"):
        ask(connection)

    row = Connection.objects.get(pk=connection.pk)
    assert (row.status, row.refreshing_until) == (ConnectionStatus.ACTIVE, None)
    assert row.get_secrets()["refresh_token"] == REFRESH_TOKEN  # still the good one
    assert ask(connection) == "Tally Test Books"  # the next attempt refreshes


# --- the lease --------------------------------------------------------------------------------------


def test_a_worker_waits_for_another_workers_refresh_and_adopts_its_tokens(
    tally: FakeTally, monkeypatch: pytest.MonkeyPatch
):
    # given: another worker holds the lease and is at the token endpoint
    connection = tally_connection()
    tally.auth.expire_access_token()
    Connection.objects.filter(pk=connection.pk).update(
        refreshing_until=timezone.now() + datetime.timedelta(seconds=30)
    )
    looks: list[float] = []

    def other_worker_finishes(seconds: float) -> None:
        looks.append(seconds)
        if len(looks) == 2:  # while we wait, the other worker's grant arrives and is stored
            body = tally.auth.refresh_with(REFRESH_TOKEN).json()
            row = Connection.objects.get(pk=connection.pk)
            row.set_secrets({**row.get_secrets(), **body})
            Connection.objects.filter(pk=row.pk).update(
                secrets_encrypted=row.secrets_encrypted, refreshing_until=None
            )

    monkeypatch.setattr(tokens, "sleep", other_worker_finishes)

    # when
    assert ask(connection) == "Tally Test Books"

    # then: we never called the token endpoint ourselves
    assert tally.auth.token_calls == ["refresh_token"]  # the other worker's
    assert len(looks) == 2


def test_a_lease_that_ran_out_is_taken_over(tally: FakeTally):
    # given: a worker took the lease and died at the token endpoint
    connection = tally_connection()
    tally.auth.expire_access_token()
    Connection.objects.filter(pk=connection.pk).update(
        refreshing_until=timezone.now() - datetime.timedelta(seconds=1)
    )

    assert ask(connection) == "Tally Test Books"
    assert tally.auth.token_calls == ["refresh_token"]
    assert Connection.objects.get(pk=connection.pk).refreshing_until is None


def test_a_lease_held_too_long_is_a_transient_error(tally: FakeTally, settings, monkeypatch):
    settings.INTEGRATIONS_TOKEN_REFRESH_LEASE_SECONDS = 0.2
    monkeypatch.setattr(tokens, "WAIT_STEP", 0.05)
    connection = tally_connection()
    tally.auth.expire_access_token()
    Connection.objects.filter(pk=connection.pk).update(
        refreshing_until=timezone.now() + datetime.timedelta(hours=1)  # a clock gone wrong somewhere
    )

    with pytest.raises(TransientError, match="Another worker is still refreshing"):
        ask(connection)
    assert tally.auth.token_calls == []


# --- the refresh token's own end -------------------------------------------------------------------


def test_the_sign_ins_end_is_shown_and_warned_of(tally: FakeTally, admin):
    # given: Tally's refresh tokens now last 12 days and a bit
    connection = tally_connection()
    tally.auth.expire_access_token()
    tally.auth.refresh_lifetime = datetime.timedelta(days=12, hours=6)
    ask(connection)

    # then: a health warning, and the page says when to sign in again
    report = health.connection_health(Connection.objects.get(pk=connection.pk))
    assert report.reauth_due
    assert any(p.startswith("Re-authorise within 12 days (the sign-in runs out") for p in report.problems)
    assert not report.token_expiring  # an access token Tally renews itself is nobody's worry
    assert report.level == "warning"
    page = admin.get(reverse("integrations:connection", args=[connection.pk])).content.decode()
    assert "re-authorise within 12 days" in page


def test_a_far_end_is_shown_without_a_warning(tally: FakeTally):
    connection = tally_connection()
    tally.auth.expire_access_token()
    ask(connection)

    report = health.connection_health(Connection.objects.get(pk=connection.pk))
    assert report.refresh_expires_at is not None
    assert not report.reauth_due
    assert report.problems == ()


# --- PostgreSQL: real concurrency, real row locks -----------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_meeting_401_at_once_refresh_once(tally: FakeTally):
    from django.db import connection as db

    # given: two workers with the same expired token; the token endpoint answers only once both
    # have had their 401
    connection = tally_connection()
    tally.auth.expire_access_token()

    def when_both_refused(request: httpx.Request) -> None:
        deadline = time.monotonic() + 10
        while len(tally.requests) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)

    tally.auth.before_token = when_both_refused

    def worker(_: int) -> str:
        try:
            return ask(connection)
        finally:
            db.close()

    # when
    with ThreadPoolExecutor(max_workers=2) as pool:
        answers = list(pool.map(worker, range(2)))

    # then: one call to the token endpoint; both retried with the one new token
    assert answers == ["Tally Test Books", "Tally Test Books"]
    assert tally.auth.token_calls == ["refresh_token"]
    assert [r.headers["authorization"] for r in tally.requests[2:]] == [
        f"Bearer {tally.auth.access_token}"
    ] * 2
    assert stored(connection)["refresh_token"] == tally.auth.refresh_token


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_no_row_lock_is_held_while_the_token_endpoint_answers(tally: FakeTally):
    from django.db import connection as db

    # given: a worker refreshing, held at the token endpoint
    connection = tally_connection()
    tally.auth.expire_access_token()
    at_endpoint, go_on = threading.Event(), threading.Event()

    def held(request: httpx.Request) -> None:
        at_endpoint.set()
        assert go_on.wait(10)

    tally.auth.before_token = held

    def worker() -> str:
        try:
            return ask(connection)
        finally:
            db.close()

    with ThreadPoolExecutor(max_workers=1) as pool:
        refreshing = pool.submit(worker)
        assert at_endpoint.wait(10)
        try:
            # when: somebody else changes the connection meanwhile (nowait: a held lock fails at once)
            with transaction.atomic():
                row = Connection.objects.select_for_update(nowait=True).get(pk=connection.pk)
                Connection.objects.filter(pk=row.pk).update(last_error="edited meanwhile")
            lease = row.refreshing_until
        finally:
            go_on.set()
        answer = refreshing.result(timeout=20)

    # then: the row was free, the lease was there to see, and both changes are kept
    assert lease is not None
    assert lease > timezone.now() - datetime.timedelta(seconds=5)
    assert answer == "Tally Test Books"
    row = Connection.objects.get(pk=connection.pk)
    assert row.last_error == "edited meanwhile"
    assert row.get_secrets()["refresh_token"] == tally.auth.refresh_token
    assert row.refreshing_until is None


# --- Amazon's LWA: a refresh posting a form to a second declared host ---------------------------------

LWA_API = "https://sellingpartnerapi-eu.lwa.test"
LWA_TOKEN = "https://api.lwa.test/auth/o2/token"


class LwaSettings(BaseModel):
    token_hosts: str = "api.lwa.test"
    mode: str = "auth"  # "auth": auth={} (no credential headers, the host checked); "none": credentials=False


class LwaSecrets(BaseModel):
    access_token: str = ""
    refresh_token: str
    client_id: str
    client_secret: str


class LwaConnector(Connector):
    """An SP-API-shaped tool: ``x-amz-access-token`` on the API host; tokens from Login with Amazon."""

    key = "lwa-test"
    name = "LWA test tool"
    capabilities = frozenset({Capability.ORDERS_IN})
    settings_schema = LwaSettings
    secrets_schema = LwaSecrets
    secret_header_names = frozenset({"x-amz-access-token"})

    settings: LwaSettings

    def base_url(self) -> str:
        return LWA_API

    def hosts(self) -> frozenset[str]:
        return super().hosts() | {h for h in self.settings.token_hosts.split(",") if h}

    def auth_headers(self, secrets: Mapping[str, Any]) -> dict[str, str]:
        return {"x-amz-access-token": str(secrets.get("access_token", ""))}

    def refresh_token(self, secrets: Mapping[str, Any]) -> TokenGrant | None:
        form = {
            "grant_type": "refresh_token",
            "refresh_token": secrets["refresh_token"],
            "client_id": secrets["client_id"],
            "client_secret": secrets["client_secret"],
        }
        if self.settings.mode == "none":
            answer = self.http.request("POST", LWA_TOKEN, data=form, credentials=False)
        else:
            answer = self.http.request("POST", LWA_TOKEN, data=form, auth={})
        body = answer.json()
        return TokenGrant(
            secrets={"access_token": body["access_token"], "refresh_token": body["refresh_token"]},
            expires_at=timezone.now() + datetime.timedelta(seconds=int(body["expires_in"])),
        )

    def verify_webhook(self, request: Any) -> bool:
        return False

    def webhook_events(self, request: Any) -> list[Any]:
        return []

    def parse_webhook(self, topic: str, headers: Mapping[str, str], body: bytes) -> list[Any]:
        return []

    def test(self) -> str:
        return str(self.http.request("GET", "/sellers/v1/marketplaceParticipations").json()["seller"])


class FakeLwa:
    def __init__(self) -> None:
        self.access_token = "Atza|expired"
        self.forms: list[tuple[dict[str, str], httpx.Headers]] = []

    def api(self, request: httpx.Request) -> httpx.Response:
        if request.headers.get("x-amz-access-token") != self.access_token:
            return httpx.Response(401, json={"errors": [{"code": "Unauthorized"}]})
        return httpx.Response(200, json={"seller": "A2EUQ1WTGCTBG2"})

    def token(self, request: httpx.Request) -> httpx.Response:
        form = dict(parse_qsl(request.content.decode()))
        self.forms.append((form, request.headers))
        if form.get("client_secret") != "lwa-secret" or form.get("refresh_token") != "Atzr|1":
            return httpx.Response(400, json={"error": "invalid_grant"})
        self.access_token = "Atza|fresh-2"
        return httpx.Response(
            200, json={"access_token": self.access_token, "refresh_token": "Atzr|1", "expires_in": 3600}
        )


@pytest.fixture
def lwa() -> Any:
    registry.register(LwaConnector)
    fake = FakeLwa()
    try:
        with (
            http.mounted(LWA_API, httpx.MockTransport(fake.api)),
            http.mounted(LWA_TOKEN, httpx.MockTransport(fake.token)),
        ):
            yield fake
    finally:
        registry.unregister(LwaConnector.key)


def lwa_connection(**settings: str) -> Connection:
    connection = Connection(connector=LwaConnector.key, name="Amazon EU", settings=settings)
    connection.set_secrets(
        {
            "access_token": "Atza|expired-0",
            "refresh_token": "Atzr|1",
            "client_id": "amzn1.app",
            "client_secret": "lwa-secret",
        }
    )
    connection.save()
    return connection


@pytest.mark.parametrize("mode", ["auth", "none"])
def test_an_lwa_refresh_posts_a_form_to_its_token_host(lwa: FakeLwa, mode: str):
    connection = lwa_connection(mode=mode)

    assert ask(connection) == "A2EUQ1WTGCTBG2"

    # the form went to the LWA host, with the client's secret in the body and no credential header
    ((form, headers),) = lwa.forms
    assert form == {
        "grant_type": "refresh_token",
        "refresh_token": "Atzr|1",
        "client_id": "amzn1.app",
        "client_secret": "lwa-secret",
    }
    assert headers["content-type"] == "application/x-www-form-urlencoded"
    assert "x-amz-access-token" not in headers
    assert "authorization" not in headers
    assert stored(connection)["access_token"] == "Atza|fresh-2"
    log = RequestLog.objects.get(url=LWA_TOKEN)
    assert "lwa-secret" not in log.request_body  # the client secret is one of the connection's secrets
    assert "Atza|fresh-2" not in log.response_body  # the new token, taken out once known
    assert "Atza|fresh-2" not in json.dumps(
        list(RequestLog.objects.values_list("request_headers", flat=True))
    )


def test_the_client_secret_goes_to_no_undeclared_host(lwa: FakeLwa):
    connection = lwa_connection(token_hosts="")  # the LWA host not declared

    with pytest.raises(UndeclaredHost):
        ask(connection)

    assert lwa.forms == []  # nothing was sent
    row = Connection.objects.get(pk=connection.pk)
    assert (row.status, row.refreshing_until) == (
        ConnectionStatus.ACTIVE,
        None,
    )  # a bug of ours, not the tool's
