"""Health: the numbers of a connection, cheaply; webhooks re-registered; the connection test."""

from __future__ import annotations

import dataclasses
import datetime

import pytest
from django.test import override_settings
from django.utils import timezone

from integrations import health
from integrations.models import ConnectionStatus
from tests.integrations.factories import DeliveryFactory, DriftFactory, InboundEventFactory, SyncRunFactory
from tests.integrations.fake_tool import AcmeConnector, AcmeFake, acme_connection, acme_environment
from tests.queries import assert_constant_queries


@pytest.fixture
def acme(db):
    with acme_environment() as fake:
        yield fake


@pytest.fixture
def connection(acme):
    return acme_connection()


def make_activity(connection) -> None:
    now = timezone.now()
    old = now - datetime.timedelta(days=2)
    SyncRunFactory(connection=connection, job="poll", status="succeeded", finished_at=now)
    SyncRunFactory(connection=connection, job="poll", status="failed", finished_at=now)
    SyncRunFactory(connection=connection, job="poll", status="failed", started_at=old)  # too old to count
    for status in ("pending", "failed", "dead", "succeeded"):
        DeliveryFactory(connection=connection, status=status)
    for status in ("quarantined", "quarantined", "failed", "dead", "processed"):
        InboundEventFactory(connection=connection, status=status)
    DriftFactory(connection=connection, label="TENT")
    DriftFactory(connection=connection, label="X", status="healed")


def test_the_numbers_of_a_connection(connection, monkeypatch):
    # given
    make_activity(connection)
    today = timezone.now().date()
    monkeypatch.setattr(
        AcmeConnector, "api_versions", {"v2": today + datetime.timedelta(days=30), "v1": None}
    )
    connection.api_version = "v2"
    connection.token_expires_at = timezone.now() + datetime.timedelta(days=2)
    connection.webhooks_missing = ["order.cancelled"]
    connection.save()

    # when
    report = health.connection_health(connection)

    # then
    assert (report.runs_24h, report.runs_failed_24h) == (2, 1)
    assert (report.deliveries_24h, report.deliveries_failed_24h) == (4, 2)
    assert report.error_rate == pytest.approx(3 / 6)
    assert (report.pending_deliveries, report.dead_deliveries) == (2, 1)
    assert (report.quarantined_events, report.failed_events, report.open_drifts) == (2, 2, 1)
    assert report.last_success_at is not None
    assert report.webhooks_missing == ("order.cancelled",)
    assert report.token_expiring is True
    assert (report.api_version, report.api_version_sunsetting) == ("v2", True)
    assert report.level == "error"  # a dead delivery
    assert "Webhooks missing: order.cancelled." in report.problems
    assert any(p.startswith("API version v2 is retired on") for p in report.problems)
    assert "3 of 6 runs and deliveries failed over 24 h (50%)." in report.problems


def test_a_small_error_rate_is_counted_not_rounded_to_nothing(connection):
    # given: one failed push among 1,000 (the demo's QuickBooks said "Error rate 0%")
    report = health._with_problems(
        dataclasses.replace(
            health.connection_health(connection), deliveries_24h=1000, deliveries_failed_24h=1
        ),
        timezone.now(),
    )
    assert "1 of 1000 runs and deliveries failed over 24 h (0.1%)." in report.problems


def test_a_quiet_connection_is_ok(connection):
    report = health.connection_health(connection)
    assert (report.error_rate, report.last_success_at, report.problems, report.level) == (0.0, None, (), "ok")
    assert (report.api_version, report.api_version_sunset) == ("v2", None)


def test_health_costs_four_queries_for_one_or_many_connections(connection, django_assert_num_queries):
    make_activity(connection)
    with django_assert_num_queries(4):
        health.connection_health(connection)
    connections = [connection]

    def grow():
        for i in range(3):
            other = acme_connection(f"Store {i}")
            make_activity(other)
            connections.append(other)

    assert assert_constant_queries(lambda: health.connections_health(list(connections)), grow) == 4
    assert set(health.connections_health(connections)) == {c.pk for c in connections}


def test_a_health_check_registers_the_missing_webhooks_at_the_public_url(acme: AcmeFake, connection):
    acme.webhooks = [{"topic": "order.created", "address": "elsewhere"}]
    with override_settings(PUBLIC_BASE_URL="https://erp.example.com/"):
        run = health.health_check(connection=connection)
    assert (run.job, run.status, run.created, run.skipped) == ("health", "succeeded", 3, 1)
    hook = f"https://erp.example.com/integrations/hooks/{connection.pk}/"
    assert acme.webhooks[1:] == [
        {"topic": t, "address": hook} for t in ("order.updated", "order.cancelled", "product.updated")
    ]
    connection.refresh_from_db()
    assert (connection.webhooks_missing, connection.webhooks_checked_at is not None) == ([], True)
    again = health.health_check(connection=connection)
    assert (again.created, again.skipped) == (0, 4)


def test_a_webhook_the_tool_refuses_stays_missing(acme: AcmeFake, connection):
    acme.fail_when = lambda r: 422 if r.method == "POST" and b"order.cancelled" in r.content else None
    run = health.health_check(connection=connection)
    assert (run.status, run.created, run.failed) == ("partial", 3, 1)
    connection.refresh_from_db()
    assert connection.webhooks_missing == ["order.cancelled"]
    assert health.connection_health(connection).webhooks_missing == ("order.cancelled",)


def test_the_hook_url_defaults_to_the_local_server(connection):
    with override_settings(PUBLIC_BASE_URL=""):
        assert health.hook_url(connection) == f"http://127.0.0.1:8000/integrations/hooks/{connection.pk}/"


def test_connection_test_records_a_run_with_the_answer(acme: AcmeFake, connection):
    run = health.connection_test(connection=connection)
    assert (run.job, run.status, run.errors) == (
        "test",
        "succeeded",
        [{"level": "info", "message": "Acme Test Shop"}],
    )
    assert run.requests.count() == 1
    connection.refresh_from_db()
    assert connection.last_success_at is not None


def test_a_failing_connection_test_says_why(acme: AcmeFake, connection):
    connection.set_secrets({"api_key": "wrong", "webhook_secret": "x"})
    connection.save()
    run = health.connection_test(connection=connection)
    assert (run.status, run.failed) == ("failed", 1)
    assert "401" in run.errors[0]["message"]
    connection.refresh_from_db()
    assert connection.status == ConnectionStatus.NEEDS_REAUTH
    assert health.connection_health(connection).level == "error"


def test_the_periodic_task_checks_every_active_connection(acme: AcmeFake, connection):
    from integrations import tasks

    assert tasks.health_check_all_task() == 1  # eager here: the check ran
    assert len(acme.webhooks) == 4
