"""The hub's seam to Celery: what the engine queues, by task name.

The engine (inbound, outbound, webhooks_out) hands work to Celery only through these
functions, which go through ``erp.scheduling`` (an enqueue never fails a committed
request; a broker that is down is logged and left to the periodic sweeps). This module
imports no engine module and no task module: ``integrations.tasks`` imports the engine, so
naming the tasks here keeps the engine free of import cycles (an import-linter contract
holds that). tests/integrations/test_queueing.py checks that every name is a registered task.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.utils import timezone

from erp import scheduling

PROCESS_INBOUND = "integrations.tasks.process_inbound_task"
ATTEMPT_DELIVERY = "integrations.tasks.attempt_delivery_task"

# What sends an event whose task could not be queued (the broker down): see erp.scheduling.
INBOUND_RECOVERY = (
    "the inbound retry (integrations.inbound.inbound_retry_due, every minute) processes events "
    "still received after INTEGRATIONS_INBOUND_STALE_SECONDS (120 s)"
)
DELIVERY_RECOVERY = (
    "the due-deliveries sweep (integrations.outbound.deliveries_enqueue_due, every 15 s) queues "
    "the delivery once it is due"
)


def process_inbound(event_pk: int) -> bool:
    """Queue the processing of an inbound event now; False if the broker could not be reached."""
    return scheduling.enqueue(PROCESS_INBOUND, event_pk, recovery=INBOUND_RECOVERY)


def process_inbound_on_commit(event_pk: int) -> None:
    scheduling.enqueue_on_commit(PROCESS_INBOUND, event_pk, recovery=INBOUND_RECOVERY)


def attempt_deliveries(deliveries: Iterable[tuple[int, datetime]]) -> int:
    """Queue an attempt of each delivery when it comes due; how many were queued.

    One the broker does not take stays due in the database, for the due-deliveries sweep.
    """
    moment = timezone.now()
    queued = 0
    for pk, due in deliveries:
        countdown = (due - moment).total_seconds()
        queued += scheduling.enqueue(
            ATTEMPT_DELIVERY, pk, countdown=countdown if countdown > 0 else None, recovery=DELIVERY_RECOVERY
        )
    return queued


def attempt_deliveries_on_commit(deliveries: list[tuple[int, datetime]]) -> None:
    """``attempt_deliveries`` once the current transaction commits (countdowns counted from then)."""
    scheduling.run_on_commit(attempt_deliveries, deliveries)
