"""The Celery app. Periodic tasks are declared here, and only here."""

import os

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "erp.settings")

app = Celery("erp")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_configure.connect
def _embedded_broker(sender: Celery, **kwargs: object) -> None:
    """No broker configured (the embedded mode: tasks run in process): eager tasks still take a
    producer from the pool, so give them the in-memory transport rather than a default AMQP
    broker on localhost, which kombu warned about ("No hostname was supplied") at every start."""
    if not sender.conf.broker_url:
        sender.conf.update(broker_url="memory://localhost//")


app.conf.beat_schedule = {
    "outbox-sweep": {
        "task": "erp.tasks.sweep_outbox_task",
        "schedule": 60.0,
    },
    "inventory-check-stock": {
        "task": "inventory.tasks.check_stock_task",
        "schedule": crontab(hour=2, minute=30),
    },
    "inventory-close-ledger-days": {
        "task": "inventory.tasks.close_ledger_days_task",
        "schedule": crontab(hour=0, minute=20),
    },
    "integrations-deliveries-due": {
        "task": "integrations.tasks.attempt_due_deliveries_task",
        "schedule": 15.0,
    },
    "integrations-inbound-retry": {
        "task": "integrations.tasks.retry_inbound_task",
        "schedule": 60.0,
    },
    "integrations-poll": {
        "task": "integrations.tasks.poll_all_task",
        "schedule": 300.0,
    },
    "integrations-health": {
        "task": "integrations.tasks.health_check_all_task",
        "schedule": 1800.0,
    },
    "integrations-reconcile": {
        "task": "integrations.tasks.reconcile_all_task",
        "schedule": 3600.0,
    },
    "integrations-retention": {
        "task": "integrations.tasks.purge_retention_task",
        "schedule": crontab(hour=3, minute=45),
    },
    "jobs-sweep": {
        "task": "erp.tasks.sweep_jobs_task",
        "schedule": 60.0,
    },
    "api-purge-records": {
        "task": "erp.tasks.purge_api_records_task",
        "schedule": 600.0,
    },
    "outbox-prune": {
        "task": "erp.tasks.prune_outbox_task",
        "schedule": crontab(hour=3, minute=15),
    },
}
