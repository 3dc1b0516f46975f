"""The periodic sweep dispatching a backlog of N undispatched events.

Setup bulk-inserts N events created an hour ago and never dispatched (as a crash
would leave them). Each operation is one ``erp.events.sweep(limit=100)`` call,
so operations = ceil(N / 100) and the per-operation figures are per sweep call.
"""

from __future__ import annotations

import math
from datetime import timedelta

from django.utils import timezone

from bench.scenario import Scenario
from bench.scenarios import _outbox
from erp import events
from erp.models import OutboxEvent

AGGREGATE_TYPE = "bench-sweep"
AGGREGATES = 100
LIMIT = 100

_counter = _outbox.Counter()
_expected = 0


def setup(n: int) -> int:
    global _counter, _expected
    _counter = _outbox.subscribe_counter()
    created_at = timezone.now() - timedelta(hours=1)
    OutboxEvent.objects.bulk_create(
        (
            OutboxEvent(
                topic="bench.swept",
                aggregate_type=AGGREGATE_TYPE,
                aggregate_id=str(i % AGGREGATES),
                sequence=i // AGGREGATES + 1,
                payload={"i": i, "sku": f"SKU-{i:06d}", "qty": "1.000"},
                created_at=created_at,
            )
            for i in range(n)
        ),
        batch_size=1000,
    )
    _expected = n
    return math.ceil(n / LIMIT)


def operation(i: int) -> None:
    dispatched = events.sweep(limit=LIMIT)
    if dispatched == 0:
        raise AssertionError(f"sweep call {i} dispatched nothing")


def teardown() -> None:
    try:
        _outbox.check_all_dispatched(AGGREGATE_TYPE, _expected, _counter)
    finally:
        _outbox.cleanup(AGGREGATE_TYPE)


SCENARIO = Scenario(
    name="outbox_sweep",
    description=__doc__ or "",
    setup=setup,
    operation=operation,
    teardown=teardown,
)
