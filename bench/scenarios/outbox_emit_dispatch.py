"""One business transaction that emits one event, commits, and dispatches it in process.

Each operation: ``transaction.atomic()`` around ``erp.events.emit()``; on commit
the eager Celery task dispatches the event to a trivial ``bench.*`` subscriber.
So an operation measures emit + commit + dispatch (its own transaction).
"""

from __future__ import annotations

from django.db import transaction

from bench.scenario import Scenario
from bench.scenarios import _outbox
from erp import events

AGGREGATE_TYPE = "bench"
AGGREGATES = 100
WARMUP = 20

_counter = _outbox.Counter()
_expected = 0


def _emit(i: int) -> None:
    with transaction.atomic():
        events.emit(
            "bench.happened",
            aggregate=(AGGREGATE_TYPE, i % AGGREGATES),
            payload={"i": i, "sku": f"SKU-{i:06d}", "qty": "1.000", "tags": ["bench", "outbox"]},
        )


def setup(n: int) -> int:
    global _counter, _expected
    _counter = _outbox.subscribe_counter()
    for i in range(WARMUP):  # imports, first connection, prepared plans: not timed
        _emit(i)
    _expected = WARMUP + n
    return n


def operation(i: int) -> None:
    _emit(WARMUP + i)


def teardown() -> None:
    try:
        _outbox.check_all_dispatched(AGGREGATE_TYPE, _expected, _counter)
    finally:
        _outbox.cleanup(AGGREGATE_TYPE)


SCENARIO = Scenario(
    name="outbox_emit_dispatch",
    description=__doc__ or "",
    setup=setup,
    operation=operation,
    teardown=teardown,
)
