"""Reachability of the shared state: the database and the broker."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db import connection


@dataclass(frozen=True)
class Check:
    ok: bool
    detail: str


def check_database() -> Check:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        return Check(ok=True, detail=connection.vendor)
    except Exception as exc:
        return Check(ok=False, detail=f"{type(exc).__name__}: {exc}")


def check_broker() -> Check:
    if not settings.CELERY_BROKER_URL:
        return Check(ok=True, detail="embedded: tasks run in process")
    from erp.celery import app

    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
            return Check(ok=True, detail=conn.as_uri())
    except Exception as exc:
        return Check(ok=False, detail=f"{type(exc).__name__}: {exc}")
