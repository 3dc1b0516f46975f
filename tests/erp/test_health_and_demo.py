from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.test import Client, override_settings

from erp.models import User

pytestmark = pytest.mark.django_db


def test_health_reports_database_and_embedded_broker(client: Client):
    response = client.get("/api/v1/health")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"]["ok"] is True
    assert body["broker"] == {"ok": True, "detail": "embedded: tasks run in process"}


@pytest.mark.real_server
def test_health_is_503_when_the_broker_is_unreachable(client: Client):
    from erp.celery import app

    with override_settings(CELERY_BROKER_URL="redis://127.0.0.1:1/0"):
        app.conf.broker_url = "redis://127.0.0.1:1/0"
        try:
            response = client.get("/api/v1/health")
        finally:
            app.conf.broker_url = None

    assert response.status_code == 503
    assert response.json()["broker"]["ok"] is False
    assert response.json()["status"] == "degraded"


def snapshot() -> list[tuple[str, bool, list[str]]]:
    return [
        (u.username, u.is_superuser, sorted(g.name for g in u.groups.all()))
        for u in User.objects.prefetch_related("groups").order_by("username")
    ]


def test_seed_demo_is_idempotent_and_prints_the_admin_login():
    # the kernel's seeder (each app's demo test seeds its own: the whole demo is minutes of work)
    out = StringIO()
    call_command("seed_demo", "--only", "users", stdout=out)
    first = snapshot()
    call_command("seed_demo", "--only", "users", stdout=StringIO())

    assert snapshot() == first
    assert "admin / admin" in out.getvalue()
    admin = User.objects.get(username="admin")
    assert admin.is_superuser
    assert admin.check_password("admin")
    assert User.objects.get(username="warehouse").groups.get() == Group.objects.get(name="Warehouse")
