"""Outbound webhooks for API users: subscriptions, Standard Webhooks signatures, retries, 410, replay."""

from __future__ import annotations

import base64
import json

import httpx
import pytest
from django.db import transaction
from standardwebhooks import Webhook, WebhookVerificationError

from erp import events
from erp.exceptions import ValidationFailed
from integrations import http, outbound
from integrations.models import Delivery, DeliveryStatus, RequestLog, WebhookSubscription
from integrations.webhooks_out import (
    delivery_replay,
    subscription_create,
    subscription_delete,
    subscription_rotate_secret,
    subscription_update,
)
from tests.erp.factories import UserFactory

pytestmark = pytest.mark.django_db

HOOKS = "https://hooks.example.com"


class Receiver:
    """An API user's endpoint: records what arrives; answers from a script, then 204."""

    def __init__(self) -> None:
        self.received: list[httpx.Request] = []
        self.script: list[httpx.Response] = []

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.received.append(request)
        return self.script.pop(0) if self.script else httpx.Response(204)


@pytest.fixture
def receiver():
    endpoint = Receiver()
    with http.mounted(HOOKS, httpx.MockTransport(endpoint.handle)):
        yield endpoint


@pytest.fixture
def admin():
    return UserFactory(roles=["Integration admin"])


def emit_sales_event(*, number: str = "SO-1"):
    with transaction.atomic():
        return events.emit(
            "sales.order_created",
            aggregate=("sales.salesorder", 7),
            payload={"number": number, "total": "9.90"},
        )


def dispatched(event) -> Delivery:
    events.dispatch_event(event.pk)
    return Delivery.objects.get(event=event, subscription__isnull=False)


def verify(secret: str, request: httpx.Request):
    return Webhook(secret).verify(request.content, dict(request.headers))


# --- subscriptions ----------------------------------------------------------------------------------


def test_a_subscription_gets_a_standard_webhooks_secret_shown_once_stored_encrypted(admin):
    subscription, secret = subscription_create(
        user=admin, url=f"{HOOKS}/erp", topics=["sales.*", "inventory.level_changed"], description=" ERP "
    )
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"))) == 32
    stored = WebhookSubscription.objects.get()
    assert secret not in stored.secret_encrypted
    assert stored.get_secret() == secret
    assert (stored.topics, stored.description, stored.created_by) == (
        ["sales.*", "inventory.level_changed"],
        "ERP",
        admin,
    )
    assert subscription.is_active


def test_a_given_secret_must_be_a_standard_webhooks_secret(admin):
    good = "whsec_" + base64.b64encode(b"k" * 24).decode()
    assert subscription_create(user=admin, url=f"{HOOKS}/a", topics=["sales.*"], secret=good)[1] == good
    with pytest.raises(ValidationFailed) as caught:
        subscription_create(user=admin, url=f"{HOOKS}/a", topics=["sales.*"], secret="hunter2")
    assert "secret" in caught.value.field_errors


@pytest.mark.parametrize(
    ("url", "topics", "field"),
    [
        ("ftp://hooks.example.com/x", ["sales.*"], "url"),
        ("not a url", ["sales.*"], "url"),
        ("http://127.0.0.1:8000/hook", ["sales.*"], "url"),
        ("http://localhost/hook", ["sales.*"], "url"),
        (f"{HOOKS}/x", [], "topics"),
        (f"{HOOKS}/x", ["payroll.*"], "topics"),
    ],
)
def test_subscriptions_are_validated(admin, settings, url, topics, field):
    settings.INTEGRATIONS_WEBHOOK_ALLOW_PRIVATE_URLS = False
    with pytest.raises(ValidationFailed) as caught:
        subscription_create(user=admin, url=url, topics=topics)
    assert field in caught.value.field_errors
    assert not WebhookSubscription.objects.exists()


def test_a_user_cannot_subscribe_to_an_area_they_may_not_read():
    seller = UserFactory(roles=["Sales"])
    with pytest.raises(ValidationFailed, match="may not read procurement"):
        subscription_create(user=seller, url=f"{HOOKS}/x", topics=["procurement.*"])


def test_update_rotate_and_delete(admin):
    subscription, first_secret = subscription_create(user=admin, url=f"{HOOKS}/a", topics=["sales.*"])
    updated = subscription_update(
        subscription=subscription, user=admin, url=f"{HOOKS}/b", topics=["inventory.*"], is_active=False
    )
    assert (updated.url, updated.topics, updated.is_active) == (f"{HOOKS}/b", ["inventory.*"], False)

    _, second_secret = subscription_rotate_secret(subscription=subscription, user=admin)
    assert second_secret != first_secret
    assert WebhookSubscription.objects.get().get_secret() == second_secret

    subscription_delete(subscription=subscription, user=admin)
    assert not WebhookSubscription.objects.exists()


# --- delivery -----------------------------------------------------------------------------------------


def test_an_event_arrives_signed_and_verifiable_with_standardwebhooks(
    admin, receiver, django_capture_on_commit_callbacks
):
    # given
    _, secret = subscription_create(user=admin, url=f"{HOOKS}/erp", topics=["sales.*"])

    # when
    with django_capture_on_commit_callbacks(execute=True):
        event = emit_sales_event()

    # then
    [request] = receiver.received
    assert request.method == "POST"
    assert request.headers["content-type"] == "application/json"
    assert request.headers["webhook-id"] == str(event.event_id)
    assert request.headers["webhook-signature"].startswith("v1,")
    payload = verify(secret, request)
    assert payload == json.loads(json.dumps(event.as_message()))
    assert payload["sequence"] == event.sequence
    assert payload["data"] == {"number": "SO-1", "total": "9.90"}
    with pytest.raises(WebhookVerificationError):
        Webhook(subscription_rotate_secret(subscription=WebhookSubscription.objects.get())[1]).verify(
            request.content, dict(request.headers)
        )
    delivery = Delivery.objects.get(event=event)
    assert delivery.status == DeliveryStatus.SUCCEEDED
    assert delivery.last_status_code == 204
    log = RequestLog.objects.get(delivery=delivery)
    assert log.connection is None
    assert log.request_headers["webhook-signature"] == http.REDACTED
    assert log.request_headers["webhook-id"] == str(event.event_id)


def test_a_failed_send_is_retried_with_the_same_id_and_body_and_a_fresh_signature(admin, receiver, settings):
    settings.INTEGRATIONS_MAX_ATTEMPTS = 2
    _, secret = subscription_create(user=admin, url=f"{HOOKS}/erp", topics=["sales.*"])
    delivery = dispatched(emit_sales_event())
    receiver.script = [httpx.Response(500, text="oops")]

    failed = outbound.delivery_attempt(delivery.pk)
    assert (failed.status, failed.attempts, failed.last_status_code) == (DeliveryStatus.FAILED, 1, 500)
    assert "answered 500" in failed.last_error
    Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=failed.created_at)
    assert list(outbound.deliveries_due()) == [delivery]

    landed = outbound.delivery_attempt(delivery.pk)

    assert landed.status == DeliveryStatus.SUCCEEDED
    first, second = receiver.received
    assert first.headers["webhook-id"] == second.headers["webhook-id"]
    assert first.content == second.content
    assert verify(secret, second)["id"] == second.headers["webhook-id"]
    assert RequestLog.objects.filter(delivery=delivery).count() == 2


def test_any_non_2xx_is_retried_until_the_dead_letter(admin, receiver, settings):
    settings.INTEGRATIONS_MAX_ATTEMPTS = 2
    subscription_create(user=admin, url=f"{HOOKS}/erp", topics=["sales.*"])
    delivery = dispatched(emit_sales_event())
    receiver.script = [httpx.Response(400), httpx.Response(302, headers={"Location": "/elsewhere"})]

    assert outbound.delivery_attempt(delivery.pk).status == DeliveryStatus.FAILED
    Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=delivery.created_at)
    dead = outbound.delivery_attempt(delivery.pk)

    assert dead.status == DeliveryStatus.DEAD
    assert dead.last_status_code == 302


def test_a_429_from_the_endpoint_waits_and_is_not_counted(admin, receiver):
    subscription_create(user=admin, url=f"{HOOKS}/erp", topics=["sales.*"])
    delivery = dispatched(emit_sales_event())
    receiver.script = [httpx.Response(429, headers={"Retry-After": "120"})]

    waiting = outbound.delivery_attempt(delivery.pk)

    assert (waiting.status, waiting.attempts) == (DeliveryStatus.PENDING, 0)
    assert (waiting.next_attempt_at - delivery.created_at).total_seconds() >= 119


def test_410_gone_deactivates_the_subscription(admin, receiver):
    subscription, _ = subscription_create(user=admin, url=f"{HOOKS}/erp", topics=["sales.*"])
    delivery = dispatched(emit_sales_event())
    receiver.script = [httpx.Response(410)]

    gone = outbound.delivery_attempt(delivery.pk)

    assert gone.status == DeliveryStatus.DEAD
    assert "Gone" in gone.last_error
    subscription.refresh_from_db()
    assert not subscription.is_active
    # and later events are not sent there any more
    events.dispatch_event(emit_sales_event(number="SO-2").pk)
    assert Delivery.objects.filter(subscription=subscription).count() == 1


def test_a_replay_is_a_new_delivery_of_the_same_event(admin, receiver, django_capture_on_commit_callbacks):
    _, secret = subscription_create(user=admin, url=f"{HOOKS}/erp", topics=["sales.*"])
    with django_capture_on_commit_callbacks(execute=True):
        event = emit_sales_event()
    original = Delivery.objects.get(event=event)

    with django_capture_on_commit_callbacks(execute=True):
        replay = delivery_replay(delivery=original, user=admin)

    replay.refresh_from_db()
    assert replay.pk != original.pk
    assert (replay.event_id, replay.subscription_id, replay.replay_of) == (
        event.pk,
        original.subscription_id,
        original,
    )
    assert replay.status == DeliveryStatus.SUCCEEDED
    assert Delivery.objects.filter(event=event).count() == 2  # the log keeps both
    first, again = receiver.received
    assert again.headers["webhook-id"] == first.headers["webhook-id"] == str(event.event_id)
    assert verify(secret, again)["id"] == str(event.event_id)


def test_a_replay_to_an_inactive_subscription_is_refused(admin, receiver):
    subscription, _ = subscription_create(user=admin, url=f"{HOOKS}/erp", topics=["sales.*"])
    delivery = dispatched(emit_sales_event())
    subscription_update(subscription=subscription, is_active=False)
    with pytest.raises(ValidationFailed, match="inactive"):
        delivery_replay(delivery=delivery)


def test_pending_deliveries_of_a_deactivated_subscription_are_skipped(admin, receiver):
    subscription, _ = subscription_create(user=admin, url=f"{HOOKS}/erp", topics=["sales.*"])
    delivery = dispatched(emit_sales_event())
    subscription_update(subscription=subscription, is_active=False)

    skipped = outbound.delivery_attempt(delivery.pk)

    assert skipped.status == DeliveryStatus.SKIPPED
    assert receiver.received == []
