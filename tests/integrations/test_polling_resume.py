"""A backlog pulled under a rate limit: each committed page saves where the poll goes on, so a poll
stopped by a 429, by the hub's own bucket or by a killed worker resumes from the next page instead of
starting over; a throttled poll is not a failed one."""

from __future__ import annotations

import datetime

import httpx
import pytest
from django.test import override_settings

from integrations import polling
from integrations.contract import Bucket
from integrations.models import Connection, InboundEvent
from sales.models import SalesOrder
from tests.integrations.fake_tool import (
    T0,
    AcmeConnector,
    AcmeFake,
    acme_connection,
    acme_environment,
    acme_order,
)
from tests.integrations.ratelimit_support import clock_fixture  # noqa: F401  (fixture)
from tests.sales.factories import stocked_product


@pytest.fixture
def acme(db):
    with acme_environment(AcmeFake(page_size=2)) as fake:
        yield fake


@pytest.fixture
def connection(acme):
    stocked_product(50, sku="TENT")
    for i in range(1, 7):  # a backlog of three pages
        acme.orders[str(i)] = acme_order(str(i), updated_at=at(i))
    connection = acme_connection()
    connection.cursors = {"order": at(0).isoformat()}
    connection.save()
    return connection


def at(minutes: int) -> datetime.datetime:
    return T0 + datetime.timedelta(minutes=minutes)


def pages_asked(acme: AcmeFake) -> list[str]:
    return [r.url.params.get("cursor", "") for r in acme.requests if r.url.path.endswith("/orders")]


def since_asked(acme: AcmeFake) -> set[str]:
    return {r.url.params["updated_since"] for r in acme.requests if r.url.path.endswith("/orders")}


def cursors(connection: Connection) -> dict:
    connection.refresh_from_db()
    return dict(connection.cursors)


def test_a_429_half_way_keeps_the_committed_pages_and_the_next_poll_goes_on_from_there(
    acme, connection, clock
):
    # given: the tool answers the third page with a 429
    acme.fail_when = lambda request: 429 if request.url.params.get("cursor") == "4" else None

    # when
    run = polling.poll(connection=connection, object_type="order")

    # then: not failed; the two committed pages are applied, and the position of the third is kept
    assert run.status == "partial"
    assert (run.created, run.failed) == (4, 0)
    assert "Throttled after 2 pages" in run.errors[-1]["message"]
    assert "goes on from page 4" in run.errors[-1]["message"]
    assert SalesOrder.objects.count() == 4
    saved = cursors(connection)
    assert saved["order"] == at(0).isoformat()  # the window is not done: the cursor has not moved
    assert saved["order:resume"] == {
        "since": (at(0) - polling.overlap()).isoformat(),
        "page": "4",
        "seen": at(4).isoformat(),
    }
    connection.refresh_from_db()
    assert connection.last_failure_at is None
    assert connection.throttled_until is not None  # the summary the health pages read

    # when: the tool lets us go on (its Retry-After has passed)
    acme.fail_when = None
    clock.advance(2)
    acme.requests.clear()
    run = polling.poll(connection=connection, object_type="order")

    # then: only the third page is pulled, in the same window; the cursor moves and the position goes
    assert pages_asked(acme) == ["4"]
    assert since_asked(acme) == {(at(0) - polling.overlap()).isoformat()}
    assert (run.status, run.created, run.skipped) == ("succeeded", 2, 0)
    assert run.errors[0] == {"level": "info", "message": "Resumed at page 4 of the last poll."}
    assert SalesOrder.objects.count() == 6
    saved = cursors(connection)
    assert saved["order"] == at(6).isoformat()
    assert "order:resume" not in saved
    assert (run.cursor_before, run.cursor_after) == (at(0).isoformat(), at(6).isoformat())


def test_a_backlog_under_a_strict_bucket_is_pulled_a_page_per_token_never_twice(
    acme, connection, clock, monkeypatch
):
    # given: two requests at once, then one every 100 s (Amazon's getOrders is one a minute)
    monkeypatch.setattr(AcmeConnector, "rate_buckets", {"default": Bucket(rate=0.01, burst=2)})

    # when: polls follow one another as the tokens come
    first = polling.poll(connection=connection, object_type="order")
    clock.advance(100)
    second = polling.poll(connection=connection, object_type="order")

    # then: the first stopped at its bucket after two pages, the second pulled the third only
    assert (first.status, first.created) == ("partial", 4)
    assert "rate limited for 100.0 s more" in first.errors[-1]["message"]
    assert (second.status, second.created) == ("succeeded", 2)
    assert pages_asked(acme) == ["0", "2", "4"]
    assert InboundEvent.objects.filter(source="poll").count() == 6
    assert cursors(connection)["order"] == at(6).isoformat()


def test_out_of_pages_goes_on_next_time(acme, connection):
    with override_settings(INTEGRATIONS_POLL_MAX_PAGES=2):
        first = polling.poll(connection=connection, object_type="order")
        second = polling.poll(connection=connection, object_type="order")

    assert "Stopped after 2 pages" in first.errors[-1]["message"]
    assert cursors(connection)["order"] == at(6).isoformat()
    assert (first.created, second.created, second.skipped) == (4, 2, 0)
    assert pages_asked(acme) == ["0", "2", "4"]


class Killed(BaseException):
    """A worker killed in the middle of a poll (nothing catches it)."""


def test_a_worker_killed_half_way_leaves_the_position_of_its_last_committed_page(acme, connection):
    def killed_on_the_third_page(request: httpx.Request) -> int | None:
        if request.url.params.get("cursor") == "4":
            raise Killed
        return None

    acme.fail_when = killed_on_the_third_page
    with pytest.raises(Killed):
        polling.poll(connection=connection, object_type="order")
    assert cursors(connection)["order:resume"]["page"] == "4"

    acme.fail_when = None
    acme.requests.clear()
    run = polling.poll(connection=connection, object_type="order")

    assert pages_asked(acme) == ["4"]
    assert (run.status, run.created) == ("succeeded", 2)
    assert SalesOrder.objects.count() == 6


def test_a_position_the_tool_refuses_fails_the_poll_and_the_window_starts_again(acme, connection, clock):
    acme.fail_when = lambda request: 429 if request.url.params.get("cursor") == "4" else None
    polling.poll(connection=connection, object_type="order")
    assert cursors(connection)["order:resume"]["page"] == "4"

    # when: the page token has expired at the tool
    acme.fail_when = lambda request: 400 if request.url.params.get("cursor") == "4" else None
    clock.advance(2)
    failed = polling.poll(connection=connection, object_type="order")

    # then: failed, the position dropped, the cursor unmoved
    assert failed.status == "failed"
    assert "order:resume" not in cursors(connection)
    assert cursors(connection)["order"] == at(0).isoformat()

    # and the next poll pulls the whole window again: what was stored is a duplicate
    acme.fail_when = None
    acme.requests.clear()
    run = polling.poll(connection=connection, object_type="order")
    assert pages_asked(acme) == ["0", "2", "4"]
    assert (run.status, run.created, run.skipped) == ("succeeded", 2, 4)
    assert cursors(connection)["order"] == at(6).isoformat()
