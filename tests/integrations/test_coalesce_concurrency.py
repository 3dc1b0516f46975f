"""Two workers claiming two pushes of one record at the same moment: PostgreSQL, real threads,
real transactions.

Each worker locks only its own delivery's row, and the collapse of a key skips rows it cannot
lock. Before the claims of one key were serialised, both workers went on, each missing the other,
and both pushed; the slower one's stale count landed last, and the tool kept it (found by the
simulated day with real workers in CI: a BigCommerce count off by one after a cancellation).

Two pushes of one order (not coalesced: each is its own change) go one after the other: pushed
side by side, a cancel resolved while the order's creation was on its way found nothing sent, and
ShipBob shipped a cancelled order (the workers day in CI again).
"""

from __future__ import annotations

import datetime
import threading

import pytest
from django.utils import timezone

from integrations import outbound
from integrations.models import Delivery, DeliveryStatus
from tests.integrations.factories import ConnectionFactory, DeliveryFactory, OutboxEventFactory
from tests.inventory.test_concurrency import race

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_two_pushes_of_one_key_claimed_at_once_go_out_once(monkeypatch):
    # given: two pending pushes of one product's count to one connection
    connection = ConnectionFactory()
    due = timezone.now() - datetime.timedelta(seconds=5)
    first, second = (
        DeliveryFactory(connection=connection, coalesce_key="inventory.product:7", next_attempt_at=due)
        for _ in range(2)
    )
    # each worker, having locked its own row, waits (a second at most) for the other to get there too
    arrived = [threading.Event(), threading.Event()]
    real = outbound._collapse

    def side_by_side(delivery, moment):
        mine = 0 if delivery.pk == first.pk else 1
        arrived[mine].set()
        arrived[1 - mine].wait(timeout=1.0)
        return real(delivery, moment)

    monkeypatch.setattr(outbound, "_collapse", side_by_side)

    # when: both are claimed at the same moment
    claimed = race(lambda i: outbound._claim((first, second)[i].pk), 2)

    # then: one worker pushes (the newest), the other finds it in flight and leaves it
    assert [type(c) for c in claimed if isinstance(c, Exception)] == []
    pushing = [c for c in claimed if c is not None]
    assert len(pushing) == 1
    assert Delivery.objects.filter(claimed_until__gt=timezone.now()).count() == 1
    assert (
        Delivery.objects.filter(status__in=[DeliveryStatus.PENDING, DeliveryStatus.SUPERSEDED]).count() == 2
    )


def test_two_pushes_of_one_order_claimed_at_once_go_one_after_the_other(monkeypatch):
    # given: the creation and the cancel of one order, both due to one connection (not coalesced)
    connection = ConnectionFactory()
    due = timezone.now() - datetime.timedelta(seconds=5)
    event = OutboxEventFactory(aggregate_type="sales.salesorder", aggregate_id="42")
    creation = DeliveryFactory(
        connection=connection, topic="sales.order_confirmed", event=event, next_attempt_at=due
    )
    cancel = DeliveryFactory(
        connection=connection,
        topic="sales.order_cancelled",
        event=OutboxEventFactory(aggregate_type="sales.salesorder", aggregate_id="42", sequence=2),
        next_attempt_at=due,
    )
    # each worker, having locked its own row, waits (a second at most) for the other to get there too
    arrived = [threading.Event(), threading.Event()]
    real = outbound._in_flight

    def side_by_side(connection_id, moment, *, exclude, record=None):
        mine = 0 if exclude == [creation.pk] else 1
        arrived[mine].set()
        arrived[1 - mine].wait(timeout=1.0)
        return real(connection_id, moment, exclude=exclude, record=record)

    monkeypatch.setattr(outbound, "_in_flight", side_by_side)

    # when: both are claimed at the same moment, by two workers
    claimed = race(lambda i: outbound._claim((creation, cancel)[i].pk), 2)

    # then: one is pushed; the other waits for it to land
    assert [type(c) for c in claimed if isinstance(c, Exception)] == []
    going = [c for c in claimed if c is not None]
    assert len(going) == 1
    waiting = Delivery.objects.get(pk=({creation.pk, cancel.pk} - {going[0].pk}).pop())
    assert waiting.blocked_on_id == going[0].pk
    assert waiting.claimed_until is None
