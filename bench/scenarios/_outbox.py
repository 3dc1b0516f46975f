"""What the outbox scenarios share: a trivial, database-free subscriber and cleanup."""

from __future__ import annotations

from erp import events
from erp.models import AggregateSequence, OutboxEvent

SUBSCRIBER_NAME = "bench-counter"
TOPIC_PATTERN = "bench.*"


class Counter:
    """Counts the events it is given; touches no database."""

    def __init__(self) -> None:
        self.seen = 0

    def __call__(self, event: OutboxEvent) -> None:
        self.seen += 1


def subscribe_counter() -> Counter:
    counter = Counter()
    events.subscribe(TOPIC_PATTERN, counter, name=SUBSCRIBER_NAME)
    return counter


def cleanup(aggregate_type: str) -> None:
    events.unsubscribe(SUBSCRIBER_NAME)
    OutboxEvent.objects.filter(aggregate_type=aggregate_type).delete()
    AggregateSequence.objects.filter(aggregate_type=aggregate_type).delete()


def check_all_dispatched(aggregate_type: str, expected: int, counter: Counter) -> None:
    rows = OutboxEvent.objects.filter(aggregate_type=aggregate_type)
    total = rows.count()
    pending = rows.filter(dispatched_at__isnull=True).count()
    if total != expected or pending or counter.seen != expected:
        raise AssertionError(
            f"{aggregate_type}: expected {expected} events all dispatched once; "
            f"found {total} events, {pending} pending, subscriber saw {counter.seen}"
        )
