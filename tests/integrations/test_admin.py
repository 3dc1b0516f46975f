"""The hub's admin: every table listed and shown, nothing edited by hand, secrets never shown,
and the actions call the services."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from integrations.models import (
    ConnectionStatus,
    Delivery,
    DeliveryStatus,
    Drift,
    DriftStatus,
    ExternalRef,
    InboundEvent,
    InboundStatus,
    RequestLog,
    SyncRun,
    WebhookSubscription,
)
from integrations.webhooks_out import subscription_create
from tests.integrations.ui_support import (
    SECRETS,
    connection_fixture,  # noqa: F401  (a fixture)
    delivery,
    drift,
    inbound_event,
    product_ref,
    sync_run,
)
from tests.inventory.factories import ProductFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def boss(admin_user) -> Client:
    client = Client()
    client.force_login(admin_user)
    return client


def test_every_table_is_listed_and_shown_without_secrets(boss: Client, connection, admin_user) -> None:
    # given: a row of every kind
    subscription, secret = subscription_create(
        user=admin_user, url="https://example.com/h", topics=["sales.*"]
    )
    rows = {
        "connection": connection,
        "externalref": product_ref(connection, ProductFactory(), "sku", "THEIRS"),
        "inboundevent": inbound_event(connection),
        "delivery": delivery(connection=connection),
        "syncrun": sync_run(connection),
        "requestlog": RequestLog.objects.first(),
        "drift": drift(connection),
        "webhooksubscription": subscription,
    }
    for name, row in rows.items():
        # when
        listed = boss.get(reverse(f"admin:integrations_{name}_changelist"))
        shown = boss.get(reverse(f"admin:integrations_{name}_change", args=[row.pk]))
        # then
        assert listed.status_code == 200, name
        assert shown.status_code == 200, name
        for value in (*SECRETS.values(), secret):
            assert value not in shown.content.decode(), name
            assert value not in listed.content.decode(), name
    shown = boss.get(reverse("admin:integrations_connection_change", args=[connection.pk])).content.decode()
    assert "set: access_token, client_secret (values are never shown)" in shown


def test_nothing_is_added_or_deleted_by_hand(boss: Client, connection) -> None:
    for name in (
        "connection",
        "externalref",
        "inboundevent",
        "delivery",
        "syncrun",
        "drift",
        "webhooksubscription",
    ):
        assert boss.get(reverse(f"admin:integrations_{name}_add")).status_code == 403, name
    assert boss.post(reverse("admin:integrations_connection_delete", args=[connection.pk])).status_code == 403


def action(client: Client, model: str, name: str, *pks: int):
    return client.post(
        reverse(f"admin:integrations_{model}_changelist"),
        {"action": name, "_selected_action": [str(pk) for pk in pks]},
        follow=True,
    )


def test_the_actions_call_the_services(boss: Client, connection, admin_user) -> None:
    # pause and resume
    action(boss, "connection", "pause", connection.pk)
    connection.refresh_from_db()
    assert connection.status == ConnectionStatus.PAUSED
    action(boss, "connection", "resume", connection.pk)
    connection.refresh_from_db()
    assert connection.status == ConnectionStatus.ACTIVE
    # retry a dead delivery
    dead = delivery(connection=connection)
    done = delivery(connection=connection, status=DeliveryStatus.SUCCEEDED)
    response = action(boss, "delivery", "retry", dead.pk, done.pk)
    assert Delivery.objects.get(pk=dead.pk).status != DeliveryStatus.DEAD
    assert "1 retried." in response.content.decode()
    assert "cannot go from" in response.content.decode()  # the succeeded one, refused by the service
    # replay an event (paused: it waits)
    connection.status = ConnectionStatus.PAUSED
    connection.save()
    failed = inbound_event(connection, status=InboundStatus.FAILED)
    action(boss, "inboundevent", "replay", failed.pk)
    assert InboundEvent.objects.get(pk=failed.pk).status == InboundStatus.RECEIVED
    # resolve a drift
    found = drift(connection)
    action(boss, "drift", "resolve", found.pk)
    assert Drift.objects.get(pk=found.pk).status == DriftStatus.RESOLVED
    # deactivate a subscription
    subscription, _ = subscription_create(user=admin_user, url="https://example.com/h", topics=["sales.*"])
    action(boss, "webhooksubscription", "deactivate", subscription.pk)
    assert not WebhookSubscription.objects.get(pk=subscription.pk).is_active


def test_a_sync_run_shows_its_requests(boss: Client, connection) -> None:
    run = sync_run(connection, requests=2)
    content = boss.get(reverse("admin:integrations_syncrun_change", args=[run.pk])).content.decode()
    assert content.count("orders.json?page=") >= 2
    assert ExternalRef.objects.count() == 0
    assert SyncRun.objects.count() == 1
