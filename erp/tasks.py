"""Thin tasks of the kernel: they take ids and call erp.events."""

from celery import shared_task

from erp import events


@shared_task(acks_late=True, ignore_result=True)
def dispatch_event_task(event_pk: int) -> bool:
    return events.dispatch_event(event_pk)


@shared_task(ignore_result=True)
def sweep_outbox_task() -> int:
    return events.sweep()


@shared_task(ignore_result=True)
def prune_outbox_task() -> int:
    return events.prune()
