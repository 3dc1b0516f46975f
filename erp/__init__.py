"""The project package and the shared kernel: events (outbox), API keys, audit, money."""

from erp.celery import app as celery_app

__all__ = ("celery_app",)
