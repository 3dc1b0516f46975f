"""The API keys a process authenticated lately are kept for a few seconds (erp.apiauth.KeyCache):
a request with a known key costs no key lookup, yet a key revoked, or an owner deactivated, takes
effect at once in the process that did it and within ``KEY_CACHE_SECONDS`` in every other one."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from erp import apiauth
from erp.models import ApiKey
from erp.services import api_key_revoke, hash_key
from tests.erp.factories import UserFactory, api_key_for, bearer

pytestmark = pytest.mark.django_db

ME = "/api/v1/me"


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch, settings: Any) -> Any:
    """Pins the cache's clock (move it with ``clock.now``) and its seconds to the default's."""

    class Clock:
        now = 1_000.0

    settings.API_KEY_CACHE_SECONDS = apiauth.KEY_CACHE_SECONDS
    monkeypatch.setattr(apiauth, "_monotonic", lambda: Clock.now)
    return Clock


def _key_lookups(raw: str) -> tuple[int, int]:
    """The answer's status to GET /me with this key, and how many statements read the key."""
    with CaptureQueriesContext(connection) as queries:
        status = Client().get(ME, **bearer(raw)).status_code
    return status, sum('FROM "erp_apikey"' in q["sql"] for q in queries.captured_queries)


def test_a_known_key_is_not_looked_up_again_within_the_cache_seconds(clock: Any) -> None:
    # given
    raw = api_key_for(UserFactory(roles=["Sales"]))

    # when: three requests within the cache's seconds, then one after
    first, second = _key_lookups(raw), _key_lookups(raw)
    clock.now += apiauth.cache_seconds() - 0.1
    third = _key_lookups(raw)
    clock.now += 0.2
    fourth = _key_lookups(raw)

    # then: read the first time and once the seconds are over, never in between
    assert [first, second, third, fourth] == [(200, 1), (200, 0), (200, 0), (200, 1)]


def test_a_key_revoked_by_another_process_is_refused_once_the_cache_seconds_are_over(clock: Any) -> None:
    # given: the key was used here
    raw = api_key_for(UserFactory(roles=["Sales"]))
    assert _key_lookups(raw)[0] == 200

    # when: another process revokes it (no signal reaches this one)
    ApiKey.objects.filter(hashed_key=hash_key(raw)).update(revoked_at=timezone.now())

    # then: accepted at most until the cache's seconds are over, refused from then on
    clock.now += apiauth.cache_seconds() / 2
    assert _key_lookups(raw)[0] == 200
    clock.now += apiauth.cache_seconds() / 2
    assert _key_lookups(raw) == (401, 1)
    assert _key_lookups(raw) == (401, 1)  # a refused key is not kept: looked up every time


def test_a_key_revoked_in_this_process_is_refused_at_once(clock: Any) -> None:
    # given
    raw = api_key_for(UserFactory(roles=["Sales"]))
    assert _key_lookups(raw)[0] == 200

    # when
    api_key_revoke(api_key=ApiKey.objects.get(hashed_key=hash_key(raw)))

    # then: the clock has not moved
    assert _key_lookups(raw)[0] == 401


def test_an_owner_deactivated_in_this_process_is_refused_at_once(clock: Any) -> None:
    # given
    owner = UserFactory(roles=["Sales"])
    raw = api_key_for(owner)
    assert _key_lookups(raw)[0] == 200

    # when
    owner.is_active = False
    owner.save()

    # then
    assert _key_lookups(raw)[0] == 401


def test_each_request_gets_its_own_copy_of_the_key_and_its_owner(clock: Any) -> None:
    # given
    raw = api_key_for(UserFactory(roles=["Sales"]))
    first = apiauth.authenticate_key(raw)
    assert first is not None

    # when: a request sets something on what it was given
    first.user.first_name = "changed by a request"
    first.scopes.append("inventory:write")
    second = apiauth.authenticate_key(raw)

    # then: the next one does not see it
    assert second is not None
    assert (second.pk, second.user.pk) == (first.pk, first.user.pk)
    assert second is not first
    assert second.user is not first.user
    assert second.user.first_name != "changed by a request"
    assert "inventory:write" not in second.scopes


def test_without_cache_seconds_every_request_reads_its_key(clock: Any, settings: Any) -> None:
    # given
    settings.API_KEY_CACHE_SECONDS = 0
    raw = api_key_for(UserFactory(roles=["Sales"]))

    # then
    assert [_key_lookups(raw), _key_lookups(raw)] == [(200, 1), (200, 1)]
