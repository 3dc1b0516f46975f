"""The Celery app. Periodic tasks are declared here, and only here."""

import os

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "erp.settings")

app = Celery("erp")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

app.conf.beat_schedule = {
    "outbox-sweep": {
        "task": "erp.tasks.sweep_outbox_task",
        "schedule": 60.0,
    },
    "inventory-check-stock": {
        "task": "inventory.tasks.check_stock_task",
        "schedule": crontab(hour=2, minute=30),
    },
    "outbox-prune": {
        "task": "erp.tasks.prune_outbox_task",
        "schedule": crontab(hour=3, minute=15),
    },
}
