"""Data kept only as long as needed: inbound bodies and request log bodies purged after their
retention (integrations.retention), in batches, never the body an event still needs for a replay;
a purged event keeps its metadata, says so on its page, and is not replayed."""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterator
from typing import Any

import pytest
from celery.schedules import crontab
from django.db import connection as db
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from erp.celery import app
from erp.exceptions import DomainError
from integrations import inbound, retention, tasks
from integrations.models import Connection, InboundEvent, InboundStatus, RequestLog
from tests.erp.factories import UserFactory, api_key_for, bearer
from tests.integrations.factories import RequestLogFactory
from tests.integrations.ui_support import (
    admin_fixture,  # noqa: F401  (a fixture)
    connection_fixture,  # noqa: F401  (a fixture)
    inbound_event,
)

pytestmark = pytest.mark.django_db

DAY = datetime.timedelta(days=1)
RESULT = {"items": [{"object_type": "order", "external_id": "820982911946154508", "outcome": "created"}]}


def aged(connection: Connection, days: float, status: str = InboundStatus.PROCESSED, **fields: Any):
    """An event processed (or left in ``status``) ``days`` ago, with a body and headers."""
    at = timezone.now() - days * DAY
    finished = status in (InboundStatus.PROCESSED, InboundStatus.SKIPPED)
    fields.setdefault("processed_at", at if finished else None)
    fields.setdefault("result", RESULT if status == InboundStatus.PROCESSED else {})
    return inbound_event(connection, status=status, received_at=at, **fields)


def log_aged(connection: Connection, days: float) -> RequestLog:
    return RequestLogFactory.create(
        connection=connection,
        created_at=timezone.now() - days * DAY,
        request_headers={"User-Agent": "erp-integration-hub/1"},
        request_body='{"query": "orders"}',
        response_headers={"Content-Type": "application/json"},
        response_body='{"orders": []}',
    )


# --- by age and status --------------------------------------------------------------------------


def test_bodies_of_events_processed_or_skipped_long_enough_ago_are_purged(connection: Connection) -> None:
    # given
    old = aged(connection, 31)
    old_skip = aged(connection, 45, InboundStatus.SKIPPED)
    recent = aged(connection, 29)

    # when
    report = retention.purge()

    # then
    assert report.inbound_bodies == 2
    for event in (old, old_skip):
        event.refresh_from_db()
        assert (bytes(event.body), event.headers) == (b"", {})
    recent.refresh_from_db()
    assert bytes(recent.body) != b""
    assert recent.headers == {"X-Shopify-Topic": "orders/create"}


def test_a_purged_event_keeps_its_metadata_and_says_when_and_after_how_long(connection: Connection) -> None:
    event = aged(connection, 31)
    now = timezone.now()

    retention.purge(now)

    event.refresh_from_db()
    assert (event.topic, event.status, event.external_id) == ("orders/create", "processed", event.external_id)
    assert event.result["items"] == RESULT["items"]  # what processing did stays
    note = retention.purge_note(event)
    assert note is not None
    assert (note.days, note.at) == (30, now)
    assert retention.is_purged(event)


@pytest.mark.parametrize(
    "status",
    [InboundStatus.RECEIVED, InboundStatus.FAILED, InboundStatus.QUARANTINED, InboundStatus.DEAD],
)
def test_an_event_that_may_still_be_replayed_keeps_its_body_whatever_its_age(
    connection: Connection, status: str
) -> None:
    # given: a year old, even with a processed_at (a failed replay of an event processed once)
    event = aged(connection, 365, status, processed_at=timezone.now() - 365 * DAY)
    body = bytes(event.body)

    # when
    report = retention.purge()

    # then
    event.refresh_from_db()
    assert report.inbound_bodies == 0
    assert bytes(event.body) == body
    assert not retention.is_purged(event)


def test_the_periods_come_from_the_settings(connection: Connection, settings) -> None:
    settings.INTEGRATIONS_RETAIN_INBOUND_BODY_DAYS = 7
    settings.INTEGRATIONS_RETAIN_REQUEST_LOG_DAYS = 2
    event, kept = aged(connection, 8), aged(connection, 6)
    log, kept_log = log_aged(connection, 3), log_aged(connection, 1)

    report = retention.purge()

    assert (report.inbound_bodies, report.request_log_bodies) == (1, 1)
    event.refresh_from_db()
    assert retention.purge_note(event).days == 7
    kept.refresh_from_db()
    assert not retention.is_purged(kept)
    log.refresh_from_db()
    kept_log.refresh_from_db()
    assert log.response_body == retention.LOG_PURGED
    assert kept_log.response_body == '{"orders": []}'


# --- the request log ----------------------------------------------------------------------------


def test_request_log_bodies_and_headers_go_after_14_days_and_the_rows_after_90(
    connection: Connection,
) -> None:
    # given
    fresh, old, ancient = log_aged(connection, 13), log_aged(connection, 15), log_aged(connection, 91)
    url = old.url

    # when
    report = retention.purge()

    # then: the recent row as it was
    fresh.refresh_from_db()
    assert (fresh.request_body, fresh.response_body) == ('{"query": "orders"}', '{"orders": []}')
    assert fresh.request_headers == {"User-Agent": "erp-integration-hub/1"}
    # the old one an audit row: what was called, when, with what outcome; no bodies or headers
    old.refresh_from_db()
    assert (old.request_body, old.response_body) == (retention.LOG_PURGED, retention.LOG_PURGED)
    assert (old.request_headers, old.response_headers) == ({}, {})
    assert (old.method, old.url, old.status_code) == ("GET", url, 200)
    # the ancient one gone
    assert not RequestLog.objects.filter(pk=ancient.pk).exists()
    assert (report.request_log_bodies, report.request_log_rows) == (1, 1)


# --- batches, idempotency -----------------------------------------------------------------------


def test_the_purge_works_in_batches_by_primary_key(connection: Connection) -> None:
    # given: 5 expired events, 5 expired log rows, batches of 2
    events = [aged(connection, 40) for _ in range(5)]
    for _ in range(5):
        log_aged(connection, 20)

    # when
    with CaptureQueriesContext(db) as queries:
        report = retention.purge(size=2)

    # then: 3 batches each (2, 2, 1), and every write names the ids of its batch only
    assert (report.inbound_bodies, report.request_log_bodies, report.batches) == (5, 5, 6)
    writes = [q["sql"] for q in queries.captured_queries if q["sql"].startswith(("UPDATE", "DELETE"))]
    assert writes
    assert all('"id" IN (' in sql for sql in writes)
    assert all(retention.is_purged(InboundEvent.objects.get(pk=e.pk)) for e in events)


def test_the_batch_size_comes_from_the_settings(connection: Connection, settings) -> None:
    settings.INTEGRATIONS_RETENTION_BATCH_SIZE = 3
    for _ in range(7):
        aged(connection, 40)

    assert retention.purge().batches == 3  # 3, 3, 1 inbound; no request log rows


def test_running_it_again_changes_nothing(connection: Connection) -> None:
    # given: purged once
    event = aged(connection, 31)
    log_aged(connection, 20)
    first = retention.purge()
    event.refresh_from_db()
    before = (bytes(event.body), event.headers, event.result)

    # when
    second = retention.purge(first.now + datetime.timedelta(hours=1))

    # then
    assert first.total == 2
    assert (second.total, second.batches) == (0, 0)
    event.refresh_from_db()
    assert (bytes(event.body), event.headers, event.result) == before
    assert retention.purge_note(event).at == first.now  # not stamped again


def test_an_event_replayed_after_it_was_picked_keeps_its_body(
    connection: Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The batch is read, then written under the rows' locks with the conditions checked again."""
    event = aged(connection, 31)
    picked = retention._batches

    def replayed_meanwhile(candidates: Any, size: int) -> Iterator[list[int]]:
        for ids in picked(candidates, size):
            InboundEvent.objects.filter(pk=event.pk).update(status=InboundStatus.RECEIVED)
            yield ids

    monkeypatch.setattr(retention, "_batches", replayed_meanwhile)

    report = retention.purge()

    event.refresh_from_db()
    assert report.inbound_bodies == 0
    assert bytes(event.body) != b""


def test_the_partial_indexes_the_purge_reads_exist() -> None:
    with db.cursor() as cursor:
        inbound_indexes = db.introspection.get_constraints(cursor, InboundEvent._meta.db_table)
        log_indexes = db.introspection.get_constraints(cursor, RequestLog._meta.db_table)
    assert inbound_indexes["integrations_inbound_purge_idx"]["columns"] == ["processed_at"]
    assert log_indexes["integrations_reqlog_purge_idx"]["columns"] == ["created_at"]


# --- the beat job -------------------------------------------------------------------------------


def test_beat_runs_the_purge_daily(connection: Connection) -> None:
    # given
    entry = next(e for e in app.conf.beat_schedule.values() if e["task"].endswith("purge_retention_task"))
    event = aged(connection, 31)

    # when
    purged = tasks.purge_retention_task.delay().get()

    # then
    assert entry["task"] == "integrations.tasks.purge_retention_task"
    assert entry["task"] in app.tasks
    assert isinstance(entry["schedule"], crontab)
    assert entry["schedule"].hour == {3}
    assert entry["schedule"].day_of_week == set(range(7))
    assert purged == 1
    event.refresh_from_db()
    assert retention.is_purged(event)


# --- replay -------------------------------------------------------------------------------------


def test_a_purged_event_is_not_replayed(connection: Connection) -> None:
    event = aged(connection, 31)
    retention.purge()
    event.refresh_from_db()

    with pytest.raises(DomainError, match="body was purged 30 days after it was processed"):
        inbound.inbound_replay(event=event)

    event.refresh_from_db()
    assert event.status == InboundStatus.PROCESSED  # as it was
    assert event.result["items"] == RESULT["items"]


def test_the_api_refuses_to_replay_a_purged_event(connection: Connection) -> None:
    event = aged(connection, 31)
    retention.purge()
    headers = bearer(api_key_for(UserFactory(username="ines", roles=["Integration admin"])))

    response = Client().post(
        f"/api/v1/integrations/inbound-events/{event.pk}/replay", content_type="application/json", **headers
    )

    assert response.status_code == 409
    assert "cannot be replayed" in response.json()["detail"]
    detail = Client().get(f"/api/v1/integrations/inbound-events/{event.pk}", **headers).json()
    assert detail["body"] == ""
    assert detail["result"][retention.PURGED_KEY]["days"] == 30


def test_the_same_event_delivered_again_brings_its_body_back(connection: Connection) -> None:
    # given: purged
    event = aged(connection, 31, external_id="b54557e4")
    retention.purge()

    # when: the tool delivers it again (or polling reads it again under the same id)
    stored, created = inbound.store_event(
        connection=connection,
        source=InboundEvent.Source.WEBHOOK,
        external_id="b54557e4",
        topic="orders/create",
        headers={"X-Shopify-Topic": "orders/create"},
        body=b'{"id": 7}',
        enqueue=False,
    )

    # then: a duplicate, with its body again, so it can be replayed; purged again in time
    assert (stored.pk, created) == (event.pk, False)
    event.refresh_from_db()
    assert json.loads(bytes(event.body)) == {"id": 7}
    assert not retention.is_purged(event)
    Connection.objects.filter(pk=connection.pk).update(status="paused")  # nothing runs
    assert inbound.inbound_replay(event=event).status == InboundStatus.RECEIVED


# --- the event page -----------------------------------------------------------------------------


def test_the_event_page_says_the_body_was_purged_instead_of_showing_it(
    admin: Client, connection: Connection
) -> None:
    event = aged(connection, 31, body=b'{"email": "jane.buyer@example.com"}')
    url = reverse("integrations:event", args=[event.pk])
    before = admin.get(url).content.decode()
    assert "jane.buyer@example.com" in before
    assert reverse("integrations:event-replay", args=[event.pk]) in before

    retention.purge()
    content = admin.get(url).content.decode()

    assert "Body purged after 30 days" in content
    assert "jane.buyer@example.com" not in content
    assert "orders/create" in content  # the metadata stays
    assert reverse("integrations:event-replay", args=[event.pk]) not in content  # no replay offered


def test_replaying_a_purged_event_from_its_page_says_why_not(admin: Client, connection: Connection) -> None:
    event = aged(connection, 31)
    retention.purge()

    response = admin.post(reverse("integrations:event-replay", args=[event.pk]), follow=True)

    assert "cannot be replayed: its body was purged 30 days" in response.content.decode()
    event.refresh_from_db()
    assert event.status == InboundStatus.PROCESSED
