"""The fake QuickBooks' sign-in (consent, code, rotating refresh tokens, invalid_grant, revoke),
its 401/403 bodies, and its limits (500 a minute, 10 in flight per realm) and injected faults."""

from __future__ import annotations

import base64
import datetime
import threading
from urllib.parse import parse_qs, urlparse

import httpx

from integrations.fakes.clock import SimClock
from integrations.quickbooks.fake import CLIENT_ID, CLIENT_SECRET, REALM_ID, FakeQuickBooks
from integrations.quickbooks.fake_data import CONSENT_URL, REVOKE_URL, TOKEN_URL, sample
from tests.integrations.quickbooks.support import START, client, make, without

REDIRECT = "https://erp.example.com/integrations/quickbooks/callback"
BASIC = "Basic " + base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()


def http(fake: FakeQuickBooks) -> httpx.Client:
    return httpx.Client(transport=httpx.MockTransport(fake.handle))


def token_call(fake: FakeQuickBooks, form: dict[str, str], authorization: str = BASIC) -> httpx.Response:
    return http(fake).post(
        TOKEN_URL, data=form, headers={"Authorization": authorization, "Accept": "application/json"}
    )


def sign_in(fake: FakeQuickBooks) -> dict[str, str]:
    consent = http(fake).get(
        CONSENT_URL,
        params={
            "client_id": CLIENT_ID,
            "response_type": "code",
            "scope": "com.intuit.quickbooks.accounting",
            "redirect_uri": REDIRECT,
            "state": "st-1",
        },
    )
    assert consent.status_code == 302
    back = parse_qs(urlparse(consent.headers["Location"]).query)
    assert consent.headers["Location"].startswith(REDIRECT + "?")
    assert back["state"] == ["st-1"]
    assert back["realmId"] == [REALM_ID]
    answer = token_call(
        fake, {"grant_type": "authorization_code", "code": back["code"][0], "redirect_uri": REDIRECT}
    )
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def test_sign_in_gives_tokens_in_the_samples_shape_and_a_code_is_good_once():
    fake, _ = make()
    tokens = sign_in(fake)

    assert set(tokens) == set(sample("oauth_refresh_response.json"))
    assert tokens["token_type"] == "bearer"
    assert tokens["expires_in"] == 3600
    assert tokens["x_refresh_token_expires_in"] == 8726400
    assert client(fake, tokens["access_token"]).get("/account/4").status_code == 200
    assert [c.grant_type for c in fake.token_calls] == ["authorization_code"]


def test_the_consent_page_without_auto_approve_and_refusals():
    fake, _ = make()
    fake.auto_approve = False
    params = {
        "client_id": CLIENT_ID,
        "response_type": "code",
        "scope": "com.intuit.quickbooks.accounting",
        "redirect_uri": REDIRECT,
        "state": "s",
    }

    page = http(fake).get(CONSENT_URL, params=params)
    cancelled = http(fake).get(CONSENT_URL, params={**params, "decision": "cancel"})
    wrong_client = http(fake).get(CONSENT_URL, params={**params, "client_id": "nope"})
    wrong_scope = http(fake).get(CONSENT_URL, params={**params, "scope": "openid"})

    assert page.status_code == 200
    assert 'value="connect"' in page.text
    assert "Trailhead Outfitters LLC" in page.text
    assert parse_qs(urlparse(cancelled.headers["Location"]).query)["error"] == ["access_denied"]
    assert wrong_client.status_code == 400
    assert parse_qs(urlparse(wrong_scope.headers["Location"]).query)["error"] == ["invalid_scope"]


def test_a_code_is_good_once_and_client_auth_is_basic():
    fake, _ = make()
    consent = http(fake).get(
        CONSENT_URL,
        params={
            "client_id": CLIENT_ID,
            "response_type": "code",
            "scope": "com.intuit.quickbooks.accounting",
            "redirect_uri": REDIRECT,
            "state": "x",
        },
    )
    code = parse_qs(urlparse(consent.headers["Location"]).query)["code"][0]
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT}

    bad_client = token_call(fake, form, "Basic " + base64.b64encode(b"someone:else").decode())
    first = token_call(fake, form)
    again = token_call(fake, form)

    assert bad_client.status_code == 401
    assert bad_client.json() == {"error": "invalid_client"}
    assert first.status_code == 200
    assert again.status_code == 400
    assert again.json() == sample("oauth_refresh_error_invalid_grant.json")


def test_refresh_tokens_keep_for_a_day_then_rotate_and_the_old_one_is_invalid_grant():
    fake, clock = make()
    tokens = sign_in(fake)
    old_access = tokens["access_token"]

    clock.sleep(3601)
    expired = client(fake, old_access).get("/account/4")
    same_day = token_call(fake, {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]})
    fresh = client(fake, same_day.json()["access_token"]).get("/account/4")
    clock.sleep(24 * 3600)
    rotated = token_call(fake, {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]})
    old_again = token_call(fake, {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]})
    new_works = token_call(
        fake, {"grant_type": "refresh_token", "refresh_token": rotated.json()["refresh_token"]}
    )

    assert expired.status_code == 401
    assert expired.json()["fault"]["error"][0]["detail"].startswith("Token expired: ")
    assert same_day.status_code == 200
    assert same_day.json()["refresh_token"] == tokens["refresh_token"]  # as the sample: the same one back
    assert same_day.json()["x_refresh_token_expires_in"] == 8726400 - 3601
    assert fresh.status_code == 200
    assert rotated.status_code == 200
    assert rotated.json()["refresh_token"] != tokens["refresh_token"]
    assert rotated.json()["x_refresh_token_expires_in"] == 8726400
    assert old_again.status_code == 400
    assert old_again.json() == {"error": "invalid_grant"}
    assert new_works.status_code == 200


def test_revoking_a_refresh_token_ends_the_grant():
    fake, _ = make()
    tokens = sign_in(fake)

    revoked = http(fake).post(
        REVOKE_URL, json={"token": tokens["refresh_token"]}, headers={"Authorization": BASIC}
    )
    refresh = token_call(fake, {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]})
    api = client(fake, tokens["access_token"]).get("/account/4")

    assert revoked.status_code == 200
    assert refresh.json() == {"error": "invalid_grant"}
    assert api.status_code == 401
    assert api.json()["fault"]["error"][0]["detail"] == "Token invalid"


def test_401_is_the_lowercase_envelope_and_another_realm_is_403():
    fake, _ = make()
    fake.add_company("4620816365178965550", "Other Books")
    tokens = sign_in(fake)

    unknown = client(fake, "not-a-token").get("/account/4")
    other_realm = client(fake, tokens["access_token"], realm="4620816365178965550").get("/account/4")

    expected = sample("error_401_authentication.json")
    assert unknown.status_code == 401
    body = unknown.json()
    assert set(body) == set(expected)
    assert without(body["fault"]["error"][0], "detail") == without(expected["fault"]["error"][0], "detail")
    assert body["fault"]["type"] == "AUTHENTICATION"
    assert isinstance(body["time"], int)
    assert other_realm.status_code == 403
    assert other_realm.json()["fault"]["error"][0]["code"] == "3100"


def test_a_sandbox_company_answers_at_the_sandbox_host_only():
    fake, _ = make(environment="sandbox")
    sandbox = httpx.Client(
        transport=httpx.MockTransport(fake.handle),
        headers={"Authorization": "Bearer " + fake.issue_tokens()["access_token"]},
    )

    there = sandbox.get(
        f"https://sandbox-quickbooks.api.intuit.com/v3/company/{REALM_ID}/account/4?minorversion=75"
    )
    production = sandbox.get(
        f"https://quickbooks.api.intuit.com/v3/company/{REALM_ID}/account/4?minorversion=75"
    )

    assert there.status_code == 200
    assert production.status_code == 403


def test_500_requests_a_minute_per_realm_then_429_with_the_throttle_body():
    fake, clock = make()
    fake.add_company("4620816365178965550", "Other Books")
    api = client(fake)

    statuses = [api.get("/account/4").status_code for _ in range(500)]
    refused = api.get("/account/4")
    other_realm = client(fake, realm="4620816365178965550").get("/account/4")
    clock.sleep(60)
    later = api.get("/account/4")

    assert set(statuses) == {200}
    assert refused.status_code == 429
    assert without(refused.json(), "time") == without(sample("error_429_throttle.json"), "time")
    assert other_realm.status_code == 200
    assert later.status_code == 200


class GateClock(SimClock):
    """A simulated clock whose sleep (a slow answer) waits until the test opens the gate."""

    def __init__(self) -> None:
        super().__init__(START)
        self.gate = threading.Event()
        self.waiting = threading.Semaphore(0)

    def sleep(self, seconds: float) -> None:
        self.waiting.release()
        assert self.gate.wait(5)


def test_ten_requests_in_flight_per_realm_then_429():
    clock = GateClock()
    fake = FakeQuickBooks(clock=clock)
    fake.slow_next(10, seconds=5)
    api = client(fake)
    answers: list[int] = []
    threads = [
        threading.Thread(target=lambda: answers.append(api.get("/account/4").status_code)) for _ in range(10)
    ]
    for thread in threads:
        thread.start()
    for _ in range(10):
        assert clock.waiting.acquire(timeout=5)

    eleventh = api.get("/account/4")
    clock.gate.set()
    for thread in threads:
        thread.join(5)
    after = api.get("/account/4")

    assert eleventh.status_code == 429
    assert eleventh.json()["Fault"]["Error"][0]["code"] == "3001"
    assert sorted(answers) == [200] * 10
    assert after.status_code == 200
    assert fake.in_flight[REALM_ID] == 0


def test_injected_faults_throttle_fail_and_slow():
    fake, clock = make()
    api = client(fake)
    fake.throttle_next(match="GET account")
    fake.fail_next(match="POST customer", status=503)
    fake.slow_next(match="GET query", seconds=4)
    before = clock.now

    throttled = api.get("/account/4")
    failed = api.post("/customer", json={"DisplayName": "X"})
    slow = api.get("/query", params={"query": "select * from Customer"})

    assert throttled.status_code == 429
    assert throttled.json()["Fault"]["type"] == "SERVICE"
    assert failed.status_code == 503
    assert failed.json()["Fault"]["type"] == "SystemFault"
    assert fake.objects("Customer") == []
    assert slow.status_code == 200
    assert clock.now - before == datetime.timedelta(seconds=4)


def test_served_over_wsgi_under_a_prefix_and_shared_per_process():
    from integrations.quickbooks.fake import ACCESS_TOKEN, shared_fake, wsgi_app

    served = httpx.Client(transport=httpx.WSGITransport(app=wsgi_app()), base_url="http://fake.local/qbo")
    answer = served.get(
        f"/v3/company/{REALM_ID}/account/4?minorversion=75",
        headers={"Authorization": f"Bearer {ACCESS_TOKEN}"},
    )

    assert answer.status_code == 200
    assert answer.json()["Account"]["Name"] == "Undeposited Funds"
    assert shared_fake() is shared_fake()
