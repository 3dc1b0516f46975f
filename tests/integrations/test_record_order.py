"""Pushes of one record to one connection go one at a time, in any database: a delivery whose
record another worker is pushing waits for it (``outbound._claim``), and goes as soon as it lands.
The race itself, two workers at once on PostgreSQL, is in test_coalesce_concurrency.py; what it
did to a 3PL, in shipbob/test_end_to_end.py."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from django.utils import timezone

from integrations import outbound
from integrations.models import Delivery, DeliveryStatus
from integrations.outcomes import Kind, Outcome
from tests.integrations.factories import ConnectionFactory, DeliveryFactory, OutboxEventFactory

pytestmark = pytest.mark.django_db

SEQUENCE = itertools.count(1)  # each record's events are numbered (unique per record)


def push_of(connection, order_id: int, topic: str = "sales.order_updated") -> Delivery:
    event = OutboxEventFactory(
        topic=topic, aggregate_type="sales.salesorder", aggregate_id=str(order_id), sequence=next(SEQUENCE)
    )
    return DeliveryFactory(
        connection=connection, topic=topic, event=event, next_attempt_at=timezone.now() - timedelta(seconds=1)
    )


def test_a_push_of_an_order_in_flight_makes_the_next_one_wait_and_land_after_it(
    django_capture_on_commit_callbacks,
):
    connection = ConnectionFactory()
    creation = push_of(connection, 7, "sales.order_confirmed")
    cancel = push_of(connection, 7, "sales.order_cancelled")
    other_order = push_of(connection, 8)
    elsewhere = push_of(ConnectionFactory(), 7)  # the same order to another tool
    claimed = outbound._claim(creation.pk)  # a worker is pushing the creation
    assert claimed is not None

    assert outbound._claim(cancel.pk) is None
    cancel.refresh_from_db()
    assert cancel.blocked_on_id == creation.pk
    assert cancel.next_attempt_at > timezone.now()
    assert cancel.status == DeliveryStatus.PENDING
    assert outbound._claim(other_order.pk) is not None  # other records go on
    assert outbound._claim(elsewhere.pk) is not None  # and other tools

    # the creation lands: the cancel is attempted then (the hub pushes nothing for a bare test
    # event, so it is skipped: what matters is that it went)
    with django_capture_on_commit_callbacks(execute=True):
        outbound._finish(claimed, Outcome(Kind.SUCCESS, "made"))
    cancel.refresh_from_db()
    assert cancel.status == DeliveryStatus.SKIPPED


def test_a_push_that_fails_lets_the_waiting_one_go_when_due():
    connection = ConnectionFactory()
    creation = push_of(connection, 7, "sales.order_confirmed")
    cancel = push_of(connection, 7, "sales.order_cancelled")
    claimed = outbound._claim(creation.pk)
    assert claimed is not None
    assert outbound._claim(cancel.pk) is None

    outbound._finish(claimed, Outcome(Kind.TRANSIENT, "503 from the tool"))

    Delivery.objects.filter(pk=cancel.pk).update(next_attempt_at=timezone.now() - timedelta(seconds=1))
    assert outbound._claim(cancel.pk) is not None


def test_a_batch_leaves_out_the_records_another_worker_is_pushing():
    connection = ConnectionFactory()
    first = push_of(connection, 1)
    with_first = push_of(connection, 1)  # the same record as the batch's own: goes with it
    busy = push_of(connection, 2)
    behind_busy = push_of(connection, 2)
    free = push_of(connection, 3)
    Delivery.objects.filter(pk=busy.pk).update(claimed_until=timezone.now() + timedelta(minutes=5))
    claimed = outbound._claim(first.pk)
    assert claimed is not None

    more = outbound._claim_more(claimed, claimed.claimed_until)

    assert sorted(d.pk for d in more) == sorted([with_first.pk, free.pk])
    behind_busy.refresh_from_db()
    assert behind_busy.claimed_until is None
