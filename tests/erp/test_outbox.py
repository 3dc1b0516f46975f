from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from erp import events
from erp.models import OutboxEvent


@pytest.fixture
def recorder():
    """A subscriber that records what it was given."""
    seen: list[tuple[str, int]] = []

    def handler(event: OutboxEvent) -> None:
        seen.append((event.topic, event.sequence))

    events.subscribe("test.*", handler, name="test-recorder")
    yield seen
    events.unsubscribe("test-recorder")


@pytest.mark.django_db
def test_committed_event_is_dispatched_once_after_commit(recorder, django_capture_on_commit_callbacks):
    # given / when: an event recorded in a committed transaction
    with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
        event = events.emit("test.happened", aggregate=("thing", 7), payload={"n": 1})
        assert recorder == []  # nothing leaves before commit

    # then: dispatched exactly once, even when dispatch is attempted again
    assert len(callbacks) == 1
    assert recorder == [("test.happened", 1)]
    assert events.dispatch_event(event.pk) is False
    assert events.sweep(grace=timedelta(0)) == 0
    assert recorder == [("test.happened", 1)]
    event.refresh_from_db()
    assert event.dispatched_at is not None
    assert event.attempts == 1


@pytest.mark.django_db
def test_rolled_back_event_is_never_stored_nor_dispatched(recorder, django_capture_on_commit_callbacks):
    # given / when: the business transaction fails after emitting
    def business_operation() -> None:
        with transaction.atomic():
            events.emit("test.happened", aggregate=("thing", 7))
            raise RuntimeError("business rule failed")

    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(RuntimeError):
        business_operation()

    # then
    assert callbacks == []
    assert OutboxEvent.objects.count() == 0
    assert recorder == []


@pytest.mark.django_db
def test_rolled_back_savepoint_drops_only_its_event(recorder, django_capture_on_commit_callbacks):
    def inner_step() -> None:
        with transaction.atomic():
            events.emit("test.dropped", aggregate=("thing", 2))
            raise RuntimeError

    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        events.emit("test.kept", aggregate=("thing", 1))
        with pytest.raises(RuntimeError):
            inner_step()

    assert list(OutboxEvent.objects.values_list("topic", flat=True)) == ["test.kept"]
    assert recorder == [("test.kept", 1)]


@pytest.mark.django_db
def test_sweep_dispatches_what_a_crash_left_behind(recorder, django_capture_on_commit_callbacks):
    # given: the process died after commit, before its on-commit dispatch ran
    with django_capture_on_commit_callbacks(execute=False), transaction.atomic():
        crashed = events.emit("test.crashed", aggregate=("thing", 1))
    OutboxEvent.objects.filter(pk=crashed.pk).update(created_at=timezone.now() - timedelta(minutes=5))
    # and an event committed a moment ago, whose own dispatch is still on its way
    with django_capture_on_commit_callbacks(execute=False), transaction.atomic():
        fresh = events.emit("test.fresh", aggregate=("thing", 2))

    # when
    swept = events.sweep()

    # then: only the old one is swept; once
    assert swept == 1
    assert recorder == [("test.crashed", 1)]
    assert events.sweep() == 0
    assert OutboxEvent.objects.get(pk=fresh.pk).dispatched_at is None


@pytest.mark.django_db
def test_sequence_numbers_are_per_aggregate(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False), transaction.atomic():
        a1 = events.emit("test.a", aggregate=("order", 1))
        b1 = events.emit("test.b", aggregate=("order", 2))
        a2 = events.emit("test.a", aggregate=("order", 1))
        c1 = events.emit("test.c", aggregate=("invoice", 1))

    assert (a1.sequence, a2.sequence, b1.sequence, c1.sequence) == (1, 2, 1, 1)
    assert a1.event_id != a2.event_id


@pytest.mark.django_db(transaction=True)
def test_emit_outside_a_transaction_is_refused():
    with pytest.raises(events.OutboxError, match=r"inside transaction\.atomic"):
        events.emit("test.loose", aggregate=("thing", 1))
    assert OutboxEvent.objects.count() == 0


@pytest.mark.django_db
def test_failing_subscriber_keeps_event_pending_with_error_and_sweep_retries(
    django_capture_on_commit_callbacks,
):
    # given: a subscriber that fails once
    calls: list[int] = []

    def flaky(event: OutboxEvent) -> None:
        calls.append(event.pk)
        if len(calls) == 1:
            raise ConnectionError("downstream is down")

    events.subscribe("test.*", flaky, name="test-flaky")
    try:
        with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
            event = events.emit("test.flaky", aggregate=("thing", 1))

        # then: the failure is recorded, nothing is marked dispatched
        event.refresh_from_db()
        assert event.dispatched_at is None
        assert event.attempts == 1
        assert "downstream is down" in event.last_error

        # when the sweep comes round
        assert events.sweep(grace=timedelta(0)) == 1
        event.refresh_from_db()
        assert event.dispatched_at is not None
        assert event.last_error == ""
        assert event.attempts == 2
    finally:
        events.unsubscribe("test-flaky")


@pytest.mark.django_db
def test_payload_is_json_normalised_and_message_has_envelope(django_capture_on_commit_callbacks):
    from decimal import Decimal

    with django_capture_on_commit_callbacks(execute=False), transaction.atomic():
        event = events.emit("test.money", aggregate=("thing", 1), payload={"amount": Decimal("1.10")})

    assert event.payload == {"amount": "1.10"}
    message = event.as_message()
    assert message["id"] == str(event.event_id)
    assert message["aggregate"] == {"type": "thing", "id": "1"}
    assert message["sequence"] == 1


def test_subscription_patterns_match_topics():
    sub = events.Subscription("sales.*", lambda e: None, "x")
    assert sub.matches("sales.order_created")
    assert not sub.matches("inventory.level_changed")
    assert events.Subscription("*", lambda e: None, "y").matches("anything.at_all")
