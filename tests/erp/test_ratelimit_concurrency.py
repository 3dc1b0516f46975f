"""The rate limit under real concurrency (PostgreSQL, threads): the upsert counts every request once."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection
from django.test import Client

from erp import ratelimit
from erp.models import RateLimitWindow
from tests.erp.factories import UserFactory, api_key_for, bearer

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_concurrent_requests_never_exceed_the_limit(monkeypatch):
    # given: a key allowed 5 requests a minute, 12 requests at once, all within one minute
    monkeypatch.setattr(ratelimit, "now_seconds", lambda: 29_000_000 * 60 + 30.0)
    user = UserFactory(roles=["Sales"])
    raw = api_key_for(user)
    user.api_keys.update(rate_limit_per_minute=5)
    start = threading.Barrier(12)

    def get(_: int) -> tuple[int, str]:
        try:
            start.wait()
            response = Client().get("/api/v1/me", **bearer(raw))
            return response.status_code, response["RateLimit-Remaining"]
        finally:
            connection.close()

    # when
    with ThreadPoolExecutor(max_workers=12) as pool:
        answers = list(pool.map(get, range(12)))

    # then: exactly five passed, each saw a different remainder, and every request was counted
    passed = sorted(remaining for status, remaining in answers if status == 200)
    assert passed == ["0", "1", "2", "3", "4"]
    assert [status for status, _ in answers].count(429) == 7
    assert RateLimitWindow.objects.get().hits == 12
