"""Thin tasks of the kernel: they take ids and call erp.events, or purge what has expired."""

from celery import shared_task

from erp import events, idempotency, jobs, ratelimit


@shared_task(acks_late=True, ignore_result=True)
def dispatch_events_task(event_pks: list[int]) -> int:
    """The events of one transaction (erp.events sends one such task per transaction)."""
    return events.dispatch_events(event_pks)


@shared_task(acks_late=True, ignore_result=True)
def dispatch_event_task(event_pk: int) -> bool:
    """One event (what erp.events sent before events were batched: messages still queued)."""
    return events.dispatch_event(event_pk)


@shared_task(ignore_result=True)
def sweep_outbox_task() -> int:
    return events.sweep()


@shared_task(ignore_result=True)
def prune_outbox_task() -> int:
    return events.prune()


@shared_task(ignore_result=True)
def purge_api_records_task() -> int:
    """Forget expired Idempotency-Keys and the rate-limit counters of past minutes (run every
    few minutes from beat)."""
    return idempotency.purge_expired() + ratelimit.purge_windows()


@shared_task(acks_late=True, ignore_result=True)
def run_job_task(job_id: int) -> bool:
    """Run a background job (erp.jobs); a second delivery of the same job does nothing."""
    return jobs.run_job(job_id)


@shared_task(acks_late=True, ignore_result=True, queue="integrations")
def run_integrations_job_task(job_id: int) -> bool:
    """The same, on the integrations queue, for the kinds that talk to the tools."""
    return jobs.run_job(job_id)


@shared_task(ignore_result=True)
def sweep_jobs_task() -> int:
    return jobs.sweep()
