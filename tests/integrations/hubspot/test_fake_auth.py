"""The fake HubSpot's sign-in and limits: OAuth tokens that expire after 30 minutes of its clock and
refresh tokens that do not rotate, the private app's token, the three rate-limit buckets apart,
injected faults, the account's details, ``run_fake hubspot`` and the snapshot."""

from __future__ import annotations

import datetime
import io
from urllib.parse import parse_qs, urlparse

import httpx
import pytest

from integrations.fakes.clock import SimClock
from integrations.hubspot.fake import BASE_URL, CLIENT_ID, CLIENT_SECRET, PRIVATE_APP_TOKEN, FakeHubSpot
from integrations.management.commands.run_fake import fakes

REDIRECT = "https://erp.example.com/integrations/oauth/callback/"
SEARCH = "/crm/v3/objects/contacts/search"


@pytest.fixture
def clock() -> SimClock:
    return SimClock(datetime.datetime(2026, 3, 14, 14, 22, 10, tzinfo=datetime.UTC))


@pytest.fixture
def fake(clock: SimClock) -> FakeHubSpot:
    return FakeHubSpot(clock=clock)


@pytest.fixture
def client(fake: FakeHubSpot) -> httpx.Client:
    return httpx.Client(transport=httpx.MockTransport(fake.handle), base_url=BASE_URL)


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _sign_in(client: httpx.Client) -> dict:
    consent = client.get(
        "/oauth/authorize",
        params={"client_id": CLIENT_ID, "redirect_uri": REDIRECT, "scope": "oauth", "state": "s1"},
    )
    assert consent.status_code == 302
    query = parse_qs(urlparse(consent.headers["Location"]).query)
    assert query["state"] == ["s1"]
    form = {
        "grant_type": "authorization_code",
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "redirect_uri": REDIRECT,
        "code": query["code"][0],
    }
    answer = client.post("/oauth/v1/token", data=form)
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_an_oauth_token_expires_after_30_minutes_of_the_fake_clock_and_refreshes(client, clock):
    tokens = _sign_in(client)
    clock.tick(datetime.timedelta(minutes=29, seconds=59))
    assert client.get("/crm/v3/objects/contacts", headers=_bearer(tokens["access_token"])).status_code == 200

    clock.tick(datetime.timedelta(minutes=2))
    expired = client.get("/crm/v3/objects/contacts", headers=_bearer(tokens["access_token"]))
    refresh = {"grant_type": "refresh_token", "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}
    first = client.post("/oauth/v1/token", data={**refresh, "refresh_token": tokens["refresh_token"]})
    second = client.post("/oauth/v1/token", data={**refresh, "refresh_token": tokens["refresh_token"]})

    assert expired.status_code == 401
    assert expired.json()["category"] == "EXPIRED_AUTHENTICATION"
    assert "expired 1 minute(s) ago" in expired.json()["message"]
    assert (first.status_code, second.status_code) == (200, 200)
    assert first.json()["refresh_token"] == second.json()["refresh_token"] == tokens["refresh_token"]
    assert (
        client.get("/crm/v3/objects/contacts", headers=_bearer(first.json()["access_token"])).status_code
        == 200
    )


def test_a_code_is_good_once_and_a_revoked_refresh_token_is_refused(client, fake):
    tokens = _sign_in(client)
    revoked = client.delete(f"/oauth/v1/refresh-tokens/{tokens['refresh_token']}")
    refresh = {
        "grant_type": "refresh_token",
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "refresh_token": tokens["refresh_token"],
    }
    refused = client.post("/oauth/v1/token", data=refresh)
    bad_secret = client.post("/oauth/v1/token", data={**refresh, "client_secret": "wrong"})

    assert revoked.status_code == 204
    assert (refused.status_code, refused.json()["status"]) == (400, "BAD_REFRESH_TOKEN")
    assert bad_secret.json()["status"] == "BAD_CLIENT_SECRET"
    assert [call.status for call in fake.token_calls] == [200, 400, 400]


def test_the_private_apps_token_never_expires_and_an_unknown_one_is_refused(client, clock, fake):
    clock.tick(datetime.timedelta(days=3))
    fake.expire_tokens()

    assert client.get("/crm/v3/objects/contacts", headers=_bearer(PRIVATE_APP_TOKEN)).status_code == 200
    unknown = client.get("/crm/v3/objects/contacts", headers=_bearer("pat-na1-nope"))
    assert (unknown.status_code, unknown.json()["category"]) == (401, "INVALID_AUTHENTICATION")


def test_the_ten_second_bucket_refuses_the_101st_request_until_the_window_moves(client, clock):
    answers = [client.get("/crm/v3/objects/contacts", headers=_bearer(PRIVATE_APP_TOKEN)) for _ in range(101)]

    assert [a.status_code for a in answers[:100]] == [200] * 100
    assert answers[99].headers["X-HubSpot-RateLimit-Remaining"] == "0"
    assert answers[100].status_code == 429
    assert answers[100].json()["policyName"] == "TEN_SECONDLY_ROLLING"
    assert "retry-after" not in answers[100].headers
    clock.tick(datetime.timedelta(seconds=10))
    assert client.get("/crm/v3/objects/contacts", headers=_bearer(PRIVATE_APP_TOKEN)).status_code == 200


def test_search_has_its_own_limit_apart_from_the_ten_second_bucket(client, clock):
    headers = _bearer(PRIVATE_APP_TOKEN)
    searches = [client.post(SEARCH, json={}, headers=headers) for _ in range(6)]
    plain = client.get("/crm/v3/objects/contacts", headers=headers)

    assert [s.status_code for s in searches] == [200] * 5 + [429]
    assert searches[5].json()["policyName"] == "SECONDLY"
    assert plain.status_code == 200
    assert plain.headers["X-HubSpot-RateLimit-Remaining"] == "99"  # the searches took none of it
    clock.tick(datetime.timedelta(seconds=1))
    assert client.post(SEARCH, json={}, headers=headers).status_code == 200


def test_the_daily_quota_is_the_private_apps_alone(client, fake):
    fake.daily_limit = 2
    tokens = _sign_in(client)
    private = [client.get("/crm/v3/objects/contacts", headers=_bearer(PRIVATE_APP_TOKEN)) for _ in range(3)]
    oauth = client.get("/crm/v3/objects/contacts", headers=_bearer(tokens["access_token"]))

    assert [p.status_code for p in private] == [200, 200, 429]
    assert private[1].headers["X-HubSpot-RateLimit-Daily-Remaining"] == "0"
    assert private[2].json()["policyName"] == "DAILY"
    assert oauth.status_code == 200
    assert "X-HubSpot-RateLimit-Daily" not in oauth.headers


def test_faults_answer_in_hubspots_envelope_and_a_lost_answer_still_writes(client, fake):
    headers = _bearer(PRIVATE_APP_TOKEN)
    fake.fail_next(1, status=502)
    failed = client.get("/crm/v3/objects/contacts", headers=headers)
    fake.lose_next_answer()

    with pytest.raises(httpx.ReadTimeout):
        client.post(
            "/crm/v3/objects/contacts", json={"properties": {"email": "a@example.com"}}, headers=headers
        )

    assert (failed.status_code, failed.json()["status"]) == (502, "error")
    assert [r.get("email") for r in (x.values for x in fake.active("contacts"))] == ["a@example.com"]


def test_the_account_details_are_the_portals(client, fake):
    details = client.get("/account-info/v3/details", headers=_bearer(PRIVATE_APP_TOKEN)).json()

    assert {k: details[k] for k in ("portalId", "timeZone", "companyCurrency", "utcOffset")} == {
        "portalId": fake.portal_id,
        "timeZone": "US/Eastern",
        "companyCurrency": "USD",
        "utcOffset": "-04:00",  # mid-March: daylight saving time in New York
    }
    assert {"uiDomain", "dataHostingLocation"} <= set(details)


def test_run_fake_serves_it_under_any_prefix_and_the_snapshot_shows_the_state():
    app = fakes()["hubspot"]()
    app.rep_creates("contacts", email="jane@example.com")
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": "/hubspot/crm/v3/objects/contacts",
        "QUERY_STRING": "properties=email",
        "HTTP_HOST": "127.0.0.1:8790",
        "HTTP_AUTHORIZATION": f"Bearer {PRIVATE_APP_TOKEN}",
        "wsgi.input": io.BytesIO(),
        "wsgi.url_scheme": "http",
    }
    statuses: list[str] = []

    body = b"".join(app(environ, lambda status, headers: statuses.append(status)))

    assert statuses == ["200 OK"]
    assert b"jane@example.com" in body
    [(contact_id, state)] = app.snapshot()["contacts"].items()
    assert state["properties"]["email"] == "jane@example.com"
    assert state["properties"]["hs_object_id"] == contact_id
