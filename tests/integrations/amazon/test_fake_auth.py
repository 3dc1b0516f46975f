"""The fake Amazon's Login with Amazon, its token checks, its per-operation rate limits, its faults
and its WSGI front under a path prefix."""

from __future__ import annotations

import datetime
import io
import json

import httpx
import pytest

from integrations.amazon.fake import (
    LWA_CLIENT_ID,
    LWA_CLIENT_SECRET,
    MARKETPLACE_ID,
    REFRESH_TOKEN,
    FakeAmazon,
)
from integrations.fakes.clock import SimClock

START = datetime.datetime(2026, 3, 14, 15, 0, tzinfo=datetime.UTC)
SP = "https://sellingpartnerapi-na.amazon.com"
LWA = "https://api.amazon.com/auth/o2/token"
FORM = {
    "grant_type": "refresh_token",
    "refresh_token": REFRESH_TOKEN,
    "client_id": LWA_CLIENT_ID,
    "client_secret": LWA_CLIENT_SECRET,
}
ORDERS = f"/orders/v0/orders?MarketplaceIds={MARKETPLACE_ID}&CreatedAfter=2026-03-14T00:00:00Z"


def make(**options) -> tuple[FakeAmazon, SimClock]:
    clock = SimClock(START)
    return FakeAmazon(clock=clock, **options), clock


def http(fake: FakeAmazon) -> httpx.Client:
    return httpx.Client(transport=httpx.MockTransport(fake.handle))


def sp(fake: FakeAmazon, token: str | None) -> httpx.Client:
    headers = {"x-amz-access-token": token} if token else {}
    return httpx.Client(transport=httpx.MockTransport(fake.handle), base_url=SP, headers=headers)


def test_lwa_trades_the_form_encoded_refresh_token_for_an_access_token():
    fake, _ = make()

    answer = http(fake).post(LWA, data=FORM)

    assert answer.status_code == 200
    body = answer.json()
    assert set(body) == {"access_token", "refresh_token", "token_type", "expires_in"}
    assert body["access_token"].startswith("Atza|")
    assert body["refresh_token"] == REFRESH_TOKEN
    assert (body["token_type"], body["expires_in"]) == ("bearer", 3600)
    assert fake.refreshes == 1
    assert sp(fake, body["access_token"]).get(ORDERS).status_code == 200


def test_lwa_refuses_json_unknown_clients_and_bad_or_revoked_refresh_tokens():
    fake, _ = make()
    client = http(fake)

    as_json = client.post(LWA, json=FORM)
    wrong_client = client.post(LWA, data={**FORM, "client_secret": "nope"})
    wrong_grant = client.post(LWA, data={**FORM, "refresh_token": "Atzr|other"})
    fake.revoke_refresh_token()
    revoked = client.post(LWA, data=FORM)

    assert (as_json.status_code, as_json.json()["error"]) == (400, "invalid_request")
    assert wrong_client.status_code == 401
    assert wrong_client.json() == {
        "error": "invalid_client",
        "error_description": "Client authentication failed",
    }
    assert wrong_grant.status_code == 400
    assert wrong_grant.json() == {
        "error_description": "The request has an invalid grant parameter : refresh_token",
        "error": "invalid_grant",
    }
    assert revoked.json()["error"] == "invalid_grant"
    assert fake.refreshes == 0


def test_a_missing_or_unknown_token_and_an_expired_one_are_403_unauthorized_without_rate_header():
    fake, clock = make()
    token = fake.access_token()

    missing = sp(fake, None).get(ORDERS)
    unknown = sp(fake, "Atza|made-up").get(ORDERS)
    clock.tick(datetime.timedelta(seconds=3600))
    expired = sp(fake, token).get(ORDERS)

    unauthorized = {
        "code": "Unauthorized",
        "message": "Access to requested resource is denied.",
        "details": "",
    }
    assert missing.status_code == unknown.status_code == expired.status_code == 403
    assert missing.json() == {"errors": [unauthorized]}
    assert unknown.json() == {
        "errors": [
            {**unauthorized, "details": "The access token you provided is revoked, malformed or invalid."}
        ]
    }
    assert expired.json() == {
        "errors": [{**unauthorized, "details": "The access token you provided has expired."}]
    }
    for answer in (missing, unknown, expired):
        assert "x-amzn-RateLimit-Limit" not in answer.headers
        assert answer.headers["x-amzn-RequestId"]


def test_expire_tokens_expires_every_token_issued_so_far():
    fake, _ = make()
    token = http(fake).post(LWA, data=FORM).json()["access_token"]

    fake.expire_tokens()

    answer = sp(fake, token).get(ORDERS)
    assert answer.status_code == 403
    assert answer.json()["errors"][0]["details"] == "The access token you provided has expired."
    fresh = http(fake).post(LWA, data=FORM).json()["access_token"]
    assert sp(fake, fresh).get(ORDERS).status_code == 200


def test_each_operation_has_its_own_bucket_429_quota_exceeded_and_refills_over_clock_time():
    fake, clock = make()
    client = sp(fake, fake.access_token())

    answers = [client.get(ORDERS) for _ in range(21)]
    other = client.get(
        f"/listings/2021-08-01/items/A2EXAMPLESELLER/STOVE-TI-01?marketplaceIds={MARKETPLACE_ID}"
    )

    assert [a.status_code for a in answers[:20]] == [200] * 20
    assert answers[0].headers["x-amzn-RateLimit-Limit"] == "0.0167"
    assert answers[20].status_code == 429
    assert answers[20].headers["x-amzn-RateLimit-Limit"] == "0.0167"
    assert answers[20].json() == {
        "errors": [
            {
                "code": "QuotaExceeded",
                "message": "You exceeded your quota for the requested resource.",
                "details": "",
            }
        ]
    }
    assert other.status_code == 200
    assert other.headers["x-amzn-RateLimit-Limit"] == "5"
    clock.tick(datetime.timedelta(seconds=30))
    assert client.get(ORDERS).status_code == 429
    clock.tick(datetime.timedelta(seconds=31))
    assert client.get(ORDERS).status_code == 200


def test_limits_off_never_throttles():
    fake, _ = make(limits=False)
    client = sp(fake, fake.access_token())

    assert {client.get(ORDERS).status_code for _ in range(40)} == {200}


def test_throttle_next_and_fail_next_answer_amazons_bodies_for_the_matched_operation():
    fake, _ = make()
    client = sp(fake, fake.access_token())
    fake.throttle_next(match="getOrders")
    fake.fail_next(status=500, match="getOrders")

    listing = client.get(
        f"/listings/2021-08-01/items/A2EXAMPLESELLER/STOVE-TI-01?marketplaceIds={MARKETPLACE_ID}"
    )
    throttled = client.get(ORDERS)
    failed = client.get(ORDERS)
    fine = client.get(ORDERS)

    assert listing.status_code == 200
    assert (throttled.status_code, throttled.json()["errors"][0]["code"]) == (429, "QuotaExceeded")
    assert throttled.headers["x-amzn-RateLimit-Limit"] == "0.0167"
    assert failed.status_code == 500
    assert failed.json() == {
        "errors": [
            {
                "code": "InternalFailure",
                "message": "We encountered an internal error. Please try again.",
                "details": "",
            }
        ]
    }
    assert fine.status_code == 200
    assert [r.status for r in fake.requests_to("getOrders")] == [429, 500, 200]


def test_timeout_next_raises_a_read_timeout():
    fake, _ = make()
    fake.timeout_next(match="getOrders")

    with pytest.raises(httpx.ReadTimeout):
        sp(fake, fake.access_token()).get(ORDERS)


def test_the_wsgi_app_serves_lwa_and_sp_api_under_a_prefix():
    fake, _ = make()

    def call(method: str, path: str, query: str = "", body: bytes = b"", headers: dict | None = None):
        environ = {
            "REQUEST_METHOD": method,
            "PATH_INFO": path,
            "QUERY_STRING": query,
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "8123",
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(body),
            "CONTENT_LENGTH": str(len(body)),
            **{"HTTP_" + k.upper().replace("-", "_"): v for k, v in (headers or {}).items()},
        }
        if "content-type" in (headers or {}):
            environ["CONTENT_TYPE"] = headers["content-type"]  # type: ignore[index]
        seen: list[str] = []
        chunks = fake(environ, lambda status, _headers: seen.append(status))
        return seen[0], b"".join(chunks)

    form = "&".join(f"{k}={v}" for k, v in FORM.items()).replace("|", "%7C").encode()
    status, body = call(
        "POST",
        "/fake/amazon/auth/o2/token",
        body=form,
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert status == "200 OK"
    token = json.loads(body)["access_token"]

    status, body = call(
        "GET",
        "/fake/amazon/orders/v0/orders",
        f"MarketplaceIds={MARKETPLACE_ID}&LastUpdatedAfter=2026-03-14T00:00:00Z",
        headers={"x-amz-access-token": token},
    )
    assert status == "200 OK"
    assert json.loads(body)["payload"]["Orders"] == []
    assert call("GET", "/fake/amazon/nowhere")[0] == "404 Not Found"
