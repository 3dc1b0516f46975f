"""HubSpot's rate limits as the hub keeps them: the 10-second window read from its headers, a spent
daily quota, and a 429 waiting on the limit its ``policyName`` names (search's own, the 10-second
window, or the day's), searches counting against a bucket of their own."""

from __future__ import annotations

import datetime
from collections.abc import Iterator

import httpx
import pytest
from django.utils import timezone

from integrations.errors import Throttled
from integrations.hubspot.client import DAILY_WAIT, DEFAULT, SEARCH
from integrations.hubspot.connector import HubSpotConnector
from tests.integrations.hubspot.test_connector import Api, connect, reply, sample, serving

pytestmark = pytest.mark.django_db

SEARCH_PATH = "/crm/v3/objects/contacts/search"
HEADERS = {
    k: v for k, v in sample("response_headers_rate_limit_example.json").items() if not k.startswith("_")
}


@pytest.fixture
def api() -> Iterator[Api]:
    with serving() as tool:
        yield tool


@pytest.fixture
def connector(api: Api) -> HubSpotConnector:
    return connect()


def refused(policy: str) -> dict[str, str]:
    return {**sample("error_429_rate_limit.json"), "policyName": policy}


def waits(connector: HubSpotConnector, bucket: str) -> float:
    """How long the bucket waits from now (0: not at all)."""
    until = connector.http.limiter.state(bucket).throttled_until  # type: ignore[attr-defined]
    return max(0.0, (until - timezone.now()).total_seconds()) if until else 0.0


def test_searches_count_against_their_own_bucket(connector):
    assert connector.bucket_for("POST", "https://api.hubapi.com/crm/v3/objects/contacts/search") == SEARCH
    assert connector.bucket_for("POST", "https://api.hubapi.com/crm/v3/objects/contacts/batch/upsert") is None
    assert connector.rate_buckets[DEFAULT].burst == 100
    assert connector.rate_buckets[DEFAULT].rate * 10 == 100


def test_the_samples_headers_say_how_much_of_the_window_is_used(connector):
    hint = connector.rate_limit_hint(httpx.Response(200, headers=HEADERS))

    assert hint is not None
    assert (hint.used, hint.limit, hint.reset_seconds, hint.wait_seconds) == (3, 190, 10.0, 0.0)


def test_a_spent_daily_quota_holds_every_request_for_an_hour(connector):
    hint = connector.rate_limit_hint(
        httpx.Response(200, headers={**HEADERS, "X-HubSpot-RateLimit-Daily-Remaining": "0"})
    )

    assert hint is not None
    assert (hint.wait_seconds, hint.bucket) == (DAILY_WAIT, DEFAULT)


def test_a_search_refused_for_its_own_limit_holds_searches_only(api, connector):
    api.on("POST", SEARCH_PATH, refused("SECONDLY"), 429)

    with pytest.raises(Throttled):
        connector.pull("customer", since=None, page=None)

    assert waits(connector, SEARCH) > 0
    assert waits(connector, DEFAULT) == 0


def test_a_search_refused_for_the_ten_second_window_holds_the_window(api, connector):
    api.on("POST", SEARCH_PATH, lambda r: reply(refused("TEN_SECONDLY_ROLLING"), 429, HEADERS))

    with pytest.raises(Throttled):
        connector.pull("customer", since=None, page=None)

    assert 9 < waits(connector, DEFAULT) <= 10


def test_a_request_refused_for_the_day_holds_the_window_for_an_hour(api, connector):
    api.on("GET", "/account-info/v3/details", refused("DAILY"), 429)

    with pytest.raises(Throttled):
        connector.test()

    assert DAILY_WAIT - 5 < waits(connector, DEFAULT) <= DAILY_WAIT
    assert waits(connector, SEARCH) == 0
    assert timezone.now() + datetime.timedelta(minutes=59) < connector.connection.throttled_until
