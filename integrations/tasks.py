"""Thin Celery tasks of the hub: they take primary keys and call a service.

Every task here is routed to the "integrations" queue (CELERY_TASK_ROUTES), and every task
sent from here goes through erp.scheduling (a broker that is down is logged, never raised).
"""

from __future__ import annotations

from celery import shared_task

from erp import scheduling

# --- outbound: deliveries to connections and webhook subscriptions ------------------------


@shared_task(acks_late=True, ignore_result=True)
def attempt_delivery_task(delivery_pk: int) -> None:
    from integrations import outbound

    outbound.delivery_attempt(delivery_pk)


@shared_task(ignore_result=True)
def attempt_due_deliveries_task() -> int:
    from integrations import outbound

    return outbound.deliveries_enqueue_due()


# --- inbound: webhooks, polling, reconciliation, health -------------------------------------
# Periodic (erp/celery.py): retry_inbound_task every 60 s, poll_all_task every 300 s,
# reconcile_all_task every 3600 s, health_check_all_task every 1800 s.


@shared_task(acks_late=True, ignore_result=True)
def process_inbound_task(event_pk: int) -> str:
    from integrations import inbound

    return inbound.inbound_process(event_pk).status


@shared_task(ignore_result=True)
def retry_inbound_task() -> int:
    from integrations import inbound

    return inbound.inbound_retry_due()


@shared_task(acks_late=True, ignore_result=True)
def poll_task(connection_pk: int, object_type: str) -> int:
    from integrations import polling
    from integrations.models import Connection, ConnectionStatus

    connection = Connection.objects.filter(pk=connection_pk, status=ConnectionStatus.ACTIVE).first()
    return polling.poll(connection=connection, object_type=object_type).pk if connection else 0


@shared_task(ignore_result=True)
def poll_all_task() -> int:
    from integrations import polling

    pairs = polling.pollable()
    for pk, object_type in pairs:
        scheduling.enqueue(
            poll_task, pk, object_type, recovery="the next poll_all_task (every 5 min) polls again"
        )
    return len(pairs)


@shared_task(acks_late=True, ignore_result=True)
def reconcile_task(connection_pk: int, object_type: str) -> int:
    from integrations import reconcile
    from integrations.models import Connection, ConnectionStatus

    connection = Connection.objects.filter(pk=connection_pk, status=ConnectionStatus.ACTIVE).first()
    return reconcile.reconcile(connection=connection, object_type=object_type).pk if connection else 0


@shared_task(ignore_result=True)
def reconcile_all_task() -> int:
    from integrations import reconcile

    pairs = reconcile.reconcilable()
    for pk, object_type in pairs:
        scheduling.enqueue(
            reconcile_task, pk, object_type, recovery="the next reconcile_all_task (hourly) reconciles again"
        )
    return len(pairs)


@shared_task(acks_late=True, ignore_result=True)
def health_check_task(connection_pk: int) -> int:
    from integrations import health
    from integrations.models import Connection

    connection = Connection.objects.filter(pk=connection_pk).first()
    return health.health_check(connection=connection).pk if connection else 0


@shared_task(ignore_result=True)
def health_check_all_task() -> int:
    from integrations import health

    ids = health.health_checkable()
    for pk in ids:
        scheduling.enqueue(
            health_check_task, pk, recovery="the next health_check_all_task (every 30 min) checks again"
        )
    return len(ids)


# --- retention: data kept only as long as needed ------------------------------------------------
# Periodic (erp/celery.py): purge_retention_task daily at 03:45.


@shared_task(ignore_result=True)
def purge_retention_task() -> int:
    """Purge inbound bodies and request log bodies past their retention (integrations.retention)."""
    from integrations import retention

    return retention.purge().total


# --- shopify / demo ---------------------------------------------------------------------------


@shared_task(acks_late=True, ignore_result=True)
def import_all_task(connection_pk: int, object_type: str) -> int:
    """A first (or repeated) import of every record of ``object_type``; returns the sync run id."""
    from integrations import polling
    from integrations.models import Connection

    connection = Connection.objects.filter(pk=connection_pk).first()
    return polling.import_all(connection=connection, object_type=object_type).pk if connection else 0
