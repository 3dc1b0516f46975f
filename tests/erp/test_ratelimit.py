"""The per-key rate limit: a fixed one-minute window counted in the database, 429 over it."""

from __future__ import annotations

import json

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings

from erp import ratelimit
from erp.models import ApiKey, IdempotencyRecord, RateLimitWindow
from erp.services import api_key_create
from erp.tasks import purge_api_records_task
from tests.erp.factories import UserFactory, api_key_for, bearer

pytestmark = pytest.mark.django_db

ME = "/api/v1/me"
MINUTE = 29_000_000  # some minute since the epoch


@pytest.fixture
def clock(monkeypatch):
    """Pins the rate limiter's clock; set ``clock.now`` to move it."""

    class Clock:
        now = MINUTE * 60 + 15.0  # 15 s into the minute

    monkeypatch.setattr(ratelimit, "now_seconds", lambda: Clock.now)
    return Clock


def key_with_limit(limit: int, *, name: str = "k", user=None) -> str:
    raw = api_key_for(user or UserFactory(roles=["Sales"]), name=name)
    ApiKey.objects.filter(name=name).update(rate_limit_per_minute=limit)
    return raw


def test_every_answer_carries_the_limit_and_the_request_over_it_is_429(clock, api_client: Client):
    # given
    raw = key_with_limit(3)

    # when: four requests in one minute
    answers = [api_client.get(ME, **bearer(raw)) for _ in range(4)]

    # then: three pass with what remains, the fourth is refused until the minute ends
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert [a["RateLimit-Remaining"] for a in answers] == ["2", "1", "0", "0"]
    assert {a["RateLimit-Limit"] for a in answers} == {"3"}
    assert {a["RateLimit-Reset"] for a in answers} == {"45"}
    refused = answers[3]
    assert refused["Retry-After"] == "45"
    assert refused["Content-Type"] == "application/problem+json"
    problem = refused.json()
    assert (problem["status"], problem["title"]) == (429, "Too Many Requests")
    assert "3 requests per minute" in problem["detail"]


def test_the_next_minute_starts_a_new_window(clock, api_client: Client):
    raw = key_with_limit(1)
    assert api_client.get(ME, **bearer(raw)).status_code == 200
    assert api_client.get(ME, **bearer(raw)).status_code == 429

    clock.now = (MINUTE + 1) * 60 + 0.5

    again = api_client.get(ME, **bearer(raw))
    assert again.status_code == 200
    assert (again["RateLimit-Remaining"], again["RateLimit-Reset"]) == ("0", "60")


def test_keys_are_limited_separately(clock, api_client: Client):
    user = UserFactory(roles=["Sales"])
    busy, quiet = key_with_limit(1, name="busy", user=user), key_with_limit(1, name="quiet", user=user)

    api_client.get(ME, **bearer(busy))

    assert api_client.get(ME, **bearer(busy)).status_code == 429
    assert api_client.get(ME, **bearer(quiet)).status_code == 200


def test_errors_carry_the_headers_too(clock, api_client: Client):
    raw = key_with_limit(5)

    forbidden = api_client.get("/api/v1/events", **bearer(raw))  # a Sales key has no integrations scope

    assert forbidden.status_code == 403
    assert forbidden["RateLimit-Remaining"] == "4"


def test_an_unlimited_key_counts_nothing(clock, api_client: Client):
    raw = key_with_limit(0)

    answers = [api_client.get(ME, **bearer(raw)) for _ in range(5)]

    assert {a.status_code for a in answers} == {200}
    assert not answers[0].has_header("RateLimit-Limit")
    assert not RateLimitWindow.objects.exists()


def test_browser_sessions_are_not_rate_limited(clock):
    client = Client()
    client.force_login(UserFactory(roles=["Sales"]))

    response = client.get(ME)

    assert response.status_code == 200
    assert not response.has_header("RateLimit-Limit")


def test_a_request_over_the_limit_keeps_no_idempotency_record(clock, api_client: Client):
    raw = key_with_limit(1)
    api_client.get(ME, **bearer(raw))

    response = api_client.post(
        "/api/v1/keys",
        json.dumps({"name": "x"}),
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="k",
        **bearer(raw),
    )

    assert response.status_code == 429
    assert not IdempotencyRecord.objects.exists()
    assert ApiKey.objects.count() == 1


def test_a_request_costs_one_counter_upsert_and_last_use_is_written_at_most_once_a_minute(
    clock, api_client: Client
):
    # given: a key used once already
    raw = key_with_limit(100)
    api_client.get(ME, **bearer(raw))
    first_use = ApiKey.objects.get().last_used_at
    assert first_use is not None

    # when
    with CaptureQueriesContext(connection) as queries:
        for _ in range(3):
            assert api_client.get(ME, **bearer(raw)).status_code == 200

    # then: no UPDATE of the key, one upsert of the counter per request
    sql = [q["sql"] for q in queries.captured_queries]
    assert not [s for s in sql if s.startswith("UPDATE") and "erp_apikey" in s]
    assert len([s for s in sql if "erp_ratelimitwindow" in s]) == 3
    assert ApiKey.objects.get().last_used_at == first_use
    assert RateLimitWindow.objects.get().hits == 4


def test_the_purge_deletes_past_windows(clock, api_client: Client):
    raw = key_with_limit(10)
    api_client.get(ME, **bearer(raw))
    clock.now += 60
    api_client.get(ME, **bearer(raw))
    clock.now += 60
    api_client.get(ME, **bearer(raw))

    purge_api_records_task()

    assert sorted(RateLimitWindow.objects.values_list("minute", flat=True)) == [MINUTE + 1, MINUTE + 2]


# --- what a key's limit may be ----------------------------------------------------------------


@override_settings(API_RATE_LIMIT_PER_MINUTE=120)
def test_a_new_key_gets_the_default_of_the_settings():
    issued = api_key_create(user=UserFactory(roles=["Sales"]), name="k")

    assert issued.api_key.rate_limit_per_minute == 120


@override_settings(API_RATE_LIMIT_PER_MINUTE=120)
@pytest.mark.parametrize("limit", [0, 121, -1])
def test_a_user_may_only_lower_the_limit(limit: int):
    from erp.exceptions import ValidationFailed

    with pytest.raises(ValidationFailed) as refused:
        api_key_create(user=UserFactory(roles=["Sales"]), name="k", rate_limit_per_minute=limit)

    assert "rate_limit_per_minute" in refused.value.field_errors
    assert not ApiKey.objects.exists()


@override_settings(API_RATE_LIMIT_PER_MINUTE=120)
@pytest.mark.parametrize("limit", [0, 5000])
def test_an_api_key_admin_may_set_any_limit(limit: int):
    admin = UserFactory(roles=["Integration admin"])

    issued = api_key_create(user=admin, name="k", rate_limit_per_minute=limit)

    assert issued.api_key.rate_limit_per_minute == limit
