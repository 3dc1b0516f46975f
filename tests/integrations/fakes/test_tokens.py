"""TokenStore: expiry on the fake's clock, refresh rotation, keep_previous_refresh, expire_all, revoke_all."""

from __future__ import annotations

import datetime

import pytest

from integrations.fakes.clock import SimClock
from integrations.fakes.tokens import TokenStore

START = datetime.datetime(2026, 5, 4, 9, 0, tzinfo=datetime.UTC)


@pytest.fixture
def clock() -> SimClock:
    return SimClock(START)


def test_an_access_token_is_good_until_its_expiry_on_the_clock(clock):
    store = TokenStore(clock, prefix="at_")
    issued = store.issue(ttl=60)

    good = store.check(issued.access_token)
    clock.sleep(59)
    still = store.check(issued.access_token)
    clock.sleep(1)
    expired = store.check(issued.access_token)

    assert issued.access_token.startswith("at_")
    assert issued.expires_at == START + datetime.timedelta(seconds=60)
    assert issued.expires_in(START) == 60
    assert (good, still, expired) == ("ok", "ok", "expired")
    assert store.check("at_unknown") == "invalid"
    assert store.check(None) == "invalid"


def test_a_static_token_never_expires(clock):
    store = TokenStore(clock)
    store.allow("fixed")

    clock.sleep(10 * 365 * 86400)

    assert store.check("fixed") == "ok"
    assert store.expire_all() == 0
    assert store.check("fixed") == "ok"


def test_a_refresh_rotates_the_refresh_token(clock):
    store = TokenStore(clock, refresh_prefix="rt_")
    first = store.issue(ttl=3600, refresh_ttl=86400, scope="read_orders")

    second = store.refresh(first.refresh_token)
    reused = store.refresh(first.refresh_token)

    assert second is not None
    assert second.refresh_token != first.refresh_token
    assert second.refresh_token.startswith("rt_")
    assert second.scope == "read_orders"
    assert reused is None
    assert store.refreshes == 1
    assert store.check(second.access_token) == "ok"
    assert store.check(first.access_token) == "ok"  # the old access token lives out its hour


def test_an_expired_refresh_token_is_refused(clock):
    store = TokenStore(clock)
    issued = store.issue(refresh_ttl=100)

    clock.sleep(100)

    assert store.refresh(issued.refresh_token) is None
    assert store.refresh("nonsense") is None
    assert store.refresh(None) is None


def test_keep_previous_refresh_keeps_the_used_one_until_the_new_token_is_used(clock):
    store = TokenStore(clock, keep_previous_refresh=True)
    first = store.issue(ttl=3600)

    lost_answer = store.refresh(first.refresh_token)  # the answer never reached the hub
    retried = store.refresh(first.refresh_token)  # so it asks again with the same refresh token
    assert lost_answer is not None
    assert retried is not None
    assert store.check(retried.access_token) == "ok"  # the new token is used: the old refresh is done
    again = store.refresh(first.refresh_token)

    assert again is None
    assert store.refresh(retried.refresh_token) is not None


def test_without_keep_previous_refresh_a_lost_answer_strands_the_refresh_token(clock):
    store = TokenStore(clock)
    first = store.issue()
    store.refresh(first.refresh_token)

    assert store.refresh(first.refresh_token) is None


def test_expire_all_expires_every_issued_token_now(clock):
    store = TokenStore(clock)
    tokens = [store.issue(ttl=3600).access_token for _ in range(3)]
    forever = store.issue(ttl=None).access_token

    count = store.expire_all()

    assert count == 3
    assert [store.check(t) for t in tokens] == ["expired"] * 3
    assert store.check(forever) == "ok"
    assert set(store.live_tokens) == {forever}


def test_revoke_all_refuses_everything_until_a_new_issue(clock):
    store = TokenStore(clock)
    store.allow("fixed")
    issued = store.issue()

    store.revoke_all()

    assert store.check("fixed") == "invalid"
    assert store.check(issued.access_token) == "invalid"
    assert store.refresh(issued.refresh_token) is None
    fresh = store.issue()
    assert store.check(fresh.access_token) == "ok"
    assert store.check(issued.access_token) == "invalid"


def test_reset_forgets_everything(clock):
    store = TokenStore(clock)
    issued = store.issue()
    store.refresh(issued.refresh_token)

    store.reset()

    assert store.refreshes == 0
    assert store.check(issued.access_token) == "invalid"


def test_a_named_pair_expires_and_rotates_like_any_other(clock):
    store = TokenStore(clock, refresh_prefix="rt_")
    fixed = store.issue(ttl=60, refresh_ttl=3600, access_token="at-1", refresh_token="rt-1")

    assert (fixed.access_token, fixed.refresh_token) == ("at-1", "rt-1")
    assert store.check("at-1") == "ok"
    assert store.check_refresh("rt-1") == "ok"
    clock.sleep(60)
    assert store.check("at-1") == "expired"
    rotated = store.refresh("rt-1")
    assert rotated is not None
    assert rotated.refresh_token.startswith("rt_")
    assert store.check_refresh("rt-1") == "invalid"


def test_check_refresh_does_not_use_the_refresh_token(clock):
    store = TokenStore(clock)
    issued = store.issue(refresh_ttl=100)

    verdicts = [store.check_refresh(issued.refresh_token) for _ in range(2)]
    clock.sleep(100)

    assert verdicts == ["ok", "ok"]
    assert store.check_refresh(issued.refresh_token) == "expired"
    assert store.check_refresh("unknown") == "invalid"
    assert store.refreshes == 0


def test_revoking_refresh_tokens_leaves_access_tokens_their_time(clock):
    store = TokenStore(clock)
    issued = store.issue(ttl=3600)

    store.revoke_refresh_tokens()

    assert store.check(issued.access_token) == "ok"
    assert store.check_refresh(issued.refresh_token) == "invalid"
    assert store.refresh(issued.refresh_token) is None
