"""Thin events in bursts (integrations.bursts): one fetch of a record settles the thin events about
it that arrived before the fetch began; one that arrives after it fetches again; a fetch in
flight is waited for, not repeated; two workers on one burst fetch once (PostgreSQL)."""

from __future__ import annotations

import datetime
import json
import time

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from integrations import bursts, inbound
from integrations.models import InboundEvent, InboundStatus, SyncRun
from sales.models import SalesOrder
from tests.integrations.fake_tool import (
    T0,
    AcmeConnector,
    AcmeFake,
    acme_connection,
    acme_environment,
    acme_order,
)
from tests.inventory.test_concurrency import race
from tests.sales.factories import stocked_product


@pytest.fixture
def acme(db):
    with acme_environment() as fake:
        yield fake


@pytest.fixture
def connection(acme):
    return acme_connection()


@pytest.fixture
def tent(db):
    return stocked_product(5, sku="TENT", price="100.00")


def touched(connection, order_id: str, delivery: str) -> InboundEvent:
    """A thin "order.touched" event, stored as the webhook endpoint stores it (not processed)."""
    event, created = inbound.store_event(
        connection=connection,
        source=InboundEvent.Source.WEBHOOK,
        external_id=delivery,
        topic="order.touched",
        headers={"X-Acme-Topic": "order.touched", "X-Acme-Delivery": delivery},
        body=json.dumps({"id": order_id}).encode(),
        enqueue=False,
    )
    assert created
    return event


def fetches(acme: AcmeFake, order_id: str) -> int:
    return sum(1 for r in acme.requests if r.method == "GET" and r.url.path == f"/api/orders/{order_id}")


def status(event: InboundEvent) -> str:
    event.refresh_from_db()
    return event.status


def test_a_burst_for_one_order_is_fetched_once_and_the_fetch_settles_the_others(acme, connection, tent):
    # given: three thin events for one order, all arrived before any is processed
    acme.orders["1001"] = acme_order("1001", note="after the burst")
    first, second, third = (touched(connection, "1001", f"d-{n}") for n in range(3))

    # when
    inbound.inbound_process(second.pk)
    inbound.inbound_process(first.pk)
    inbound.inbound_process(third.pk)

    # then: one fetch, one order; the others end skipped, covered by that fetch
    assert fetches(acme, "1001") == 1
    assert SalesOrder.objects.get().notes == "after the burst"
    assert status(second) == InboundStatus.PROCESSED
    for event in (first, third):
        assert status(event) == InboundStatus.SKIPPED
        assert event.result["covered_by"] == second.pk
        assert event.result["reason"].startswith(f"Covered by the fetch of event {second.pk} at ")
        assert event.processed_at is not None
    second.refresh_from_db()
    assert bursts.CLAIM not in second.result  # the claim is dropped with the outcome
    run = SyncRun.objects.get(job="webhook")
    assert (run.created, run.skipped) == (1, 2)


def test_an_event_that_arrives_after_the_fetch_began_fetches_again(acme, connection, tent):
    # given: once the first fetch is on the wire (its answer: the order before the change), the
    # order changes in the tool and the event saying so arrives
    acme.orders["1001"] = acme_order("1001", note="first")
    first = touched(connection, "1001", "d-1")
    late: list[InboundEvent] = []

    def meanwhile(request):
        if not late:
            late.append(touched(connection, "1001", "d-2"))
        return None

    acme.fail_when = meanwhile

    # when
    inbound.inbound_process(first.pk)
    acme.orders["1001"] = acme_order("1001", note="changed", updated_at=T0 + datetime.timedelta(minutes=5))

    # then: the late event is not covered (it carries a later change): it fetches on its own
    assert SalesOrder.objects.get().notes == "first"
    assert status(late[0]) == InboundStatus.RECEIVED
    inbound.inbound_process(late[0].pk)
    assert fetches(acme, "1001") == 2
    assert status(late[0]) == InboundStatus.PROCESSED
    assert SalesOrder.objects.get().notes == "changed"


def test_a_later_change_after_the_burst_is_fetched_again(acme, connection, tent):
    acme.orders["1001"] = acme_order("1001", note="first")
    burst = [touched(connection, "1001", f"d-{n}") for n in range(2)]
    for event in burst:
        inbound.inbound_process(event.pk)
    acme.orders["1001"] = acme_order("1001", note="later", updated_at=T0 + datetime.timedelta(hours=1))

    later = touched(connection, "1001", "d-later")
    inbound.inbound_process(later.pk)

    assert fetches(acme, "1001") == 2
    assert status(later) == InboundStatus.PROCESSED
    assert SalesOrder.objects.get().notes == "later"


def test_only_thin_events_of_the_same_record_and_connection_are_settled(acme, connection, tent):
    # given: a thin event for another order, a full one for the same order, one on another connection
    acme.orders["1001"] = acme_order("1001")
    acme.orders["1002"] = acme_order("1002")
    other_connection = acme_connection(name="Acme second store")
    ours = touched(connection, "1001", "d-1")
    other_order = touched(connection, "1002", "d-2")
    elsewhere = touched(other_connection, "1001", "d-3")
    full, _ = inbound.store_event(
        connection=connection,
        source=InboundEvent.Source.WEBHOOK,
        external_id="d-4",
        topic="order.updated",
        headers={},
        body=json.dumps(acme_order("1001")).encode(),
        enqueue=False,
    )

    # when
    inbound.inbound_process(ours.pk)

    # then
    assert status(ours) == InboundStatus.PROCESSED
    assert [status(e) for e in (other_order, elsewhere, full)] == [InboundStatus.RECEIVED] * 3


def test_a_failed_event_waiting_for_its_retry_is_settled_by_a_later_fetch(acme, connection, tent):
    acme.orders["1001"] = acme_order("1001")
    acme.fail_next = [500]
    failed = touched(connection, "1001", "d-1")
    inbound.inbound_process(failed.pk)
    assert status(failed) == InboundStatus.FAILED

    inbound.inbound_process(touched(connection, "1001", "d-2").pk)

    assert status(failed) == InboundStatus.SKIPPED
    assert (failed.next_attempt_at, failed.last_error) == (None, "")
    assert fetches(acme, "1001") == 2  # the failed one, then the one that settled it


def test_a_failed_fetch_settles_nothing_and_drops_its_claim(acme, connection, tent):
    acme.orders["1001"] = acme_order("1001")
    acme.fail_next = [500]
    first, second = touched(connection, "1001", "d-1"), touched(connection, "1001", "d-2")

    inbound.inbound_process(first.pk)

    assert status(first) == InboundStatus.FAILED
    assert bursts.CLAIM not in first.result
    assert status(second) == InboundStatus.RECEIVED
    inbound.inbound_process(second.pk)  # fetches itself, and settles the failed one
    assert (status(second), status(first)) == (InboundStatus.PROCESSED, InboundStatus.SKIPPED)


def test_an_event_a_fetch_in_flight_covers_waits_for_it_instead_of_fetching(acme, connection, tent):
    # given: the second event of the burst is processed while the first one's fetch is on the wire
    acme.orders["1001"] = acme_order("1001")
    first, second = touched(connection, "1001", "d-1"), touched(connection, "1001", "d-2")
    during: list[str] = []

    def meanwhile(request):
        if not during:
            during.append(inbound.inbound_process(second.pk).status)
        return None

    acme.fail_when = meanwhile

    # when
    inbound.inbound_process(first.pk)

    # then: the second waited (received, nothing fetched, no run left), then the fetch settled it
    assert during == [InboundStatus.RECEIVED]
    assert fetches(acme, "1001") == 1
    assert status(second) == InboundStatus.SKIPPED
    assert second.result["covered_by"] == first.pk
    assert SyncRun.objects.filter(job="webhook").count() == 1


def test_a_claim_whose_lease_ran_out_does_not_hold_an_event_back(acme, connection, tent):
    # given: a worker claimed the fetch for the first event and died (its lease ran out)
    acme.orders["1001"] = acme_order("1001")
    first, second = touched(connection, "1001", "d-1"), touched(connection, "1001", "d-2")
    past = timezone.now() - datetime.timedelta(hours=1)
    dead = bursts.Claim(
        first.pk, frozenset({("order", "1001")}), since=past + datetime.timedelta(hours=2), until=past
    )
    InboundEvent.objects.filter(pk=first.pk).update(result={bursts.CLAIM: dead.as_json()})

    # when
    inbound.inbound_process(second.pk)

    # then: it fetched, and settled the dead worker's event
    assert fetches(acme, "1001") == 1
    assert (status(second), status(first)) == (InboundStatus.PROCESSED, InboundStatus.SKIPPED)


def test_a_connector_with_a_settle_window_has_its_webhooks_processed_that_much_later(
    acme, connection, monkeypatch, django_capture_on_commit_callbacks
):
    sent: list[tuple[str, float | None]] = []

    def enqueue(task: str, *args: object, countdown: float | None = None, recovery: str = "") -> bool:
        sent.append((task, countdown))
        return True

    monkeypatch.setattr("erp.scheduling.enqueue", enqueue)
    monkeypatch.setattr(AcmeConnector, "settle_seconds", 2.0)
    hook = acme.webhook("order.touched", {"id": "1001"}, delivery="d-1")

    with django_capture_on_commit_callbacks(execute=True):
        response = Client().post(
            reverse("integrations:hook", args=[connection.pk]),
            data=hook.body,
            content_type="application/json",
            headers=hook.headers,
        )

    assert response.status_code == 200
    assert sent == [("integrations.tasks.process_inbound_task", 2.0)]
    assert InboundEvent.objects.get().status == InboundStatus.RECEIVED


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_on_one_burst_at_once_fetch_once():
    with acme_environment() as acme:
        connection = acme_connection()
        stocked_product(5, sku="TENT", price="100.00")
        acme.orders["1001"] = acme_order("1001")
        events = [touched(connection, "1001", f"d-{n}") for n in range(2)]
        # a fetch that takes a while, so that the two workers overlap
        acme.fail_when = lambda request: time.sleep(0.3)

        results = race(lambda i: inbound.inbound_process(events[i].pk).status, 2)

        assert not [r for r in results if isinstance(r, Exception)], results
        assert fetches(acme, "1001") == 1
        statuses = sorted(InboundEvent.objects.values_list("status", flat=True))
        assert statuses == [InboundStatus.PROCESSED, InboundStatus.SKIPPED]
        assert SalesOrder.objects.count() == 1
