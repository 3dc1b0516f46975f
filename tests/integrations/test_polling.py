"""Polling: pages since the cursor minus the overlap, stored as poll events, cursor moved after commit."""

from __future__ import annotations

import datetime

import pytest
from django.test import override_settings
from django.utils import timezone

from integrations import inbound, polling
from integrations.canonical import content_hash, decode_item, encode_item
from integrations.models import ConnectionStatus, InboundEvent, InboundStatus
from sales.models import SalesOrder
from tests.integrations.fake_tool import (
    T0,
    AcmeFake,
    acme_connection,
    acme_environment,
    acme_order,
    order_item,
)
from tests.sales.factories import stocked_product


@pytest.fixture
def acme(db):
    with acme_environment(AcmeFake(page_size=2)) as fake:
        yield fake


@pytest.fixture
def connection(acme):
    stocked_product(10, sku="TENT")
    return acme_connection()


def at(minutes: int) -> datetime.datetime:
    return T0 + datetime.timedelta(minutes=minutes)


def since_params(acme: AcmeFake) -> list[str]:
    return [r.url.params["updated_since"] for r in acme.requests if r.url.path.endswith("/orders")]


def test_a_first_poll_pulls_every_page_stores_and_processes_and_moves_the_cursor(acme, connection):
    # given: three orders in the tool, two per page
    for i, minute in ((1, 1), (2, 3), (3, 2)):
        acme.orders[str(i)] = acme_order(str(i), updated_at=at(minute))

    # when
    with override_settings(INTEGRATIONS_POLL_INITIAL_LOOKBACK_SECONDS=10**9):
        run = polling.poll(connection=connection, object_type="order")

    # then
    assert (run.status, run.created, run.skipped, run.failed) == ("succeeded", 3, 0, 0)
    assert SalesOrder.objects.count() == 3
    events = InboundEvent.objects.filter(source="poll")
    assert sorted(e.external_id for e in events) == [
        f"poll:order:1:{at(1).isoformat()}",
        f"poll:order:2:{at(3).isoformat()}",
        f"poll:order:3:{at(2).isoformat()}",
    ]
    assert {e.status for e in events} == {InboundStatus.PROCESSED}
    connection.refresh_from_db()
    assert connection.cursors["order"] == at(3).isoformat()
    assert (run.cursor_before, run.cursor_after) == ("", at(3).isoformat())
    assert len(since_params(acme)) == 2  # two pages


def test_the_next_poll_overlaps_the_cursor_and_seen_records_are_duplicates(acme, connection):
    acme.orders["1"] = acme_order("1", updated_at=at(10))
    connection.cursors = {"order": at(0).isoformat()}
    connection.save()
    polling.poll(connection=connection, object_type="order")
    acme.requests.clear()

    # when: one order changes, the other is new; the first is still inside the overlap window
    acme.orders["1"] = acme_order("1", updated_at=at(10))
    acme.orders["2"] = acme_order("2", updated_at=at(12))
    run = polling.poll(connection=connection, object_type="order")

    # then
    assert since_params(acme)[0] == (at(10) - datetime.timedelta(seconds=300)).isoformat()
    assert (run.created, run.skipped) == (1, 1)
    assert InboundEvent.objects.count() == 2
    assert run.cursor_before == at(10).isoformat()
    assert run.cursor_after == at(12).isoformat()


def test_a_poll_failing_half_way_leaves_the_cursor_and_the_next_one_catches_up(acme, connection):
    for i in range(1, 4):
        acme.orders[str(i)] = acme_order(str(i), updated_at=at(i))
    connection.cursors = {"order": at(0).isoformat()}
    connection.save()
    acme.fail_when = lambda request: 500 if request.url.params.get("cursor") == "2" else None

    # when: the second page fails
    run = polling.poll(connection=connection, object_type="order")

    # then: the first page is stored and applied, the cursor has not moved
    assert run.status == "failed"
    assert "500" in run.errors[-1]["message"]
    assert SalesOrder.objects.count() == 2
    connection.refresh_from_db()
    assert connection.cursors["order"] == at(0).isoformat()
    assert connection.last_failure_at is not None

    # when: the tool is back
    acme.fail_when = None
    run = polling.poll(connection=connection, object_type="order")
    assert (run.status, run.created, run.skipped) == ("succeeded", 1, 2)
    connection.refresh_from_db()
    assert connection.cursors["order"] == at(3).isoformat()
    assert SalesOrder.objects.count() == 3


def test_a_polled_record_with_an_unknown_sku_is_quarantined_and_the_cursor_still_moves(acme, connection):
    lines = [{"id": "x", "sku": "NOPE", "qty": 1, "price": "5.00"}]
    acme.orders["9"] = acme_order("9", updated_at=at(5), lines=lines)
    connection.cursors = {"order": at(0).isoformat()}
    connection.save()
    run = polling.poll(connection=connection, object_type="order")
    event = InboundEvent.objects.get()
    assert (event.status, event.missing) == (InboundStatus.QUARANTINED, {"kind": "sku", "value": "NOPE"})
    assert (run.status, run.failed) == ("failed", 1)
    connection.refresh_from_db()
    assert connection.cursors["order"] == at(5).isoformat()  # the event is kept; it waits for a mapping


def test_a_poll_event_body_is_the_canonical_item_and_replays_the_same(acme, connection):
    item = order_item(acme_order("1", updated_at=at(1), payment="paid"))
    decoded = decode_item(encode_item(item))
    assert decoded == item
    assert content_hash(decoded.record) == content_hash(item.record)
    event, created = polling.store_item(connection, "order", item)
    assert created
    assert inbound.inbound_process(event.pk).status == InboundStatus.PROCESSED
    assert polling.store_item(connection, "order", item)[1] is False


def test_pollable_lists_the_active_connections_object_types(acme, connection):
    paused = acme_connection("Paused store", status=ConnectionStatus.PAUSED)
    assert (connection.pk, "order") in polling.pollable()
    assert all(pk != paused.pk for pk, _ in polling.pollable())


def test_a_first_poll_looks_back_a_day(acme, connection):
    before = timezone.now()
    polling.poll(connection=connection, object_type="order")
    since = datetime.datetime.fromisoformat(since_params(acme)[0])
    assert (
        before - datetime.timedelta(days=1, seconds=5) <= since <= timezone.now() - datetime.timedelta(days=1)
    )


def test_the_periodic_task_polls_every_active_connection(acme, connection):
    from integrations import tasks

    acme.orders["1"] = acme_order("1", updated_at=timezone.now())
    assert tasks.poll_all_task() == 1  # eager here: the poll ran
    assert SalesOrder.objects.count() == 1
    assert tasks.retry_inbound_task() == 0
