"""Outcomes of delivery attempts: backoff with jitter, dead letters, throttling, auth, manual retry."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from django.db import transaction
from django.utils import timezone

from erp import events, retry
from erp.exceptions import InvalidTransition
from integrations import outbound
from integrations.models import Connection, ConnectionStatus, Delivery, DeliveryStatus, SyncRun, SyncRunStatus
from tests.erp.factories import UserFactory
from tests.integrations.outbound_support import (  # noqa: F401  (fixtures)
    fake_fixture,
    make_connection,
    map_variant,
    tiny_fixture,
)
from tests.inventory.factories import ProductFactory, warehouse

pytestmark = pytest.mark.django_db


@pytest.fixture
def pending(tiny, settings):
    """A due inventory delivery to a Tiny connection (its attempt not run yet)."""
    settings.INTEGRATIONS_COALESCE_SECONDS = 0
    settings.INTEGRATIONS_MAX_ATTEMPTS = 3
    wh = warehouse("WH1")
    connection = make_connection(warehouse=wh)
    product = ProductFactory()
    map_variant(connection, product, "v-1")
    with transaction.atomic():
        event = events.emit(
            "inventory.level_changed",
            aggregate=product,
            payload={"product_id": product.pk, "warehouse_id": wh.pk},
        )
    events.dispatch_event(event.pk)
    return Delivery.objects.get(connection=connection)


def due_now(delivery: Delivery) -> None:
    Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())


def test_backoff_is_exponential_with_full_jitter(settings, monkeypatch):
    settings.INTEGRATIONS_RETRY_BASE_SECONDS = 10
    settings.INTEGRATIONS_RETRY_CAP_SECONDS = 100
    monkeypatch.setattr(retry.random, "uniform", lambda low, high: high)
    assert [outbound.backoff_seconds(n) for n in range(1, 6)] == [10, 20, 40, 80, 100]
    monkeypatch.setattr(retry.random, "uniform", lambda low, high: low)
    assert outbound.backoff_seconds(4) == 1.0  # full jitter: anywhere from (almost) nothing


def test_inbound_events_back_off_by_the_same_rule_with_their_own_base_and_cap(settings, monkeypatch):
    from integrations import inbound

    settings.INTEGRATIONS_INBOUND_BACKOFF_SECONDS = 30
    settings.INTEGRATIONS_INBOUND_BACKOFF_MAX_SECONDS = 100
    monkeypatch.setattr(retry.random, "uniform", lambda low, high: high)
    assert [inbound.backoff(n).total_seconds() for n in range(1, 5)] == [30, 60, 100, 100]
    monkeypatch.setattr(retry.random, "uniform", lambda low, high: low)
    assert inbound.backoff(3).total_seconds() == 1.0


def test_a_5xx_is_retried_with_backoff_then_dead_lettered(pending, fake, settings):
    settings.INTEGRATIONS_RETRY_BASE_SECONDS = 10
    fake.then(*[httpx.Response(502, text="bad gateway")] * 3)

    delays = []
    for attempt in (1, 2):
        before = timezone.now()
        delivery = outbound.delivery_attempt(pending.pk)
        assert delivery.status == DeliveryStatus.FAILED
        assert delivery.attempts == attempt
        assert "502" in delivery.last_error
        delays.append((delivery.next_attempt_at - before).total_seconds())
        assert outbound.delivery_attempt(pending.pk) is None  # not due yet
        due_now(delivery)
    assert 0 < delays[0] <= 10.5
    assert 0 < delays[1] <= 20.5

    delivery = outbound.delivery_attempt(pending.pk)

    assert delivery.status == DeliveryStatus.DEAD
    assert delivery.attempts == 3
    assert delivery.last_error.startswith("Gave up after 3 attempts")
    assert delivery.last_status_code == 502
    assert "bad gateway" in delivery.response_excerpt
    assert not outbound.deliveries_due().exists()
    connection = Connection.objects.get(pk=pending.connection_id)
    assert connection.status == ConnectionStatus.FAILING
    assert connection.last_failure_at is not None
    assert "502" in connection.last_error
    assert list(SyncRun.objects.values_list("status", flat=True)) == [SyncRunStatus.FAILED] * 3


def test_every_attempt_of_a_delivery_carries_the_same_idempotency_key(pending, fake):
    # a lost answer: the tool may have done it; the retry must be recognisable as the same request
    fake.then(httpx.Response(502, text="bad gateway"), httpx.Response(200, json={}))

    outbound.delivery_attempt(pending.pk)
    due_now(pending)
    delivery = outbound.delivery_attempt(pending.pk)

    assert delivery.status == DeliveryStatus.SUCCEEDED
    sent = [(r.headers["Idempotency-Key"], r.headers["X-Attempt"]) for r in fake.requests]
    assert sent == [(f"erp-delivery-{pending.pk}", "1"), (f"erp-delivery-{pending.pk}", "2")]


def test_a_timeout_counts_as_a_failed_attempt(pending, fake):
    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectTimeout("too slow", request=request)

    fake.then(slow)
    delivery = outbound.delivery_attempt(pending.pk)
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.FAILED, 1)
    assert delivery.last_status_code is None


def test_a_429_waits_as_asked_and_is_not_counted(pending, fake):
    fake.then(httpx.Response(429, headers={"Retry-After": "30"}))
    before = timezone.now()

    delivery = outbound.delivery_attempt(pending.pk)

    assert delivery.status == DeliveryStatus.PENDING
    assert delivery.attempts == 0
    assert 29 <= (delivery.next_attempt_at - before).total_seconds() <= 31
    assert delivery.last_status_code == 429
    connection = Connection.objects.get(pk=pending.connection_id)
    assert connection.status == ConnectionStatus.ACTIVE
    assert connection.last_failure_at is None
    assert connection.throttled_until >= before + timedelta(seconds=29)


def test_a_refused_push_is_dead_at_once_with_the_tools_message(pending, fake):
    fake.then(httpx.Response(422, json={"errors": {"available": ["is out of range"]}}))

    delivery = outbound.delivery_attempt(pending.pk)

    assert delivery.status == DeliveryStatus.DEAD
    assert delivery.attempts == 1
    assert "is out of range" in delivery.last_error
    assert delivery.last_status_code == 422
    assert Connection.objects.get(pk=pending.connection_id).status == ConnectionStatus.ACTIVE


def test_a_push_that_needs_a_person_is_dead_at_once_not_retried_for_hours(pending, fake, monkeypatch):
    from integrations.appliers import NotConfigured
    from tests.integrations.outbound_support import TinyConnector

    def unmapped(self, item, context):
        raise NotConfigured("The tax code 'Exempt' has no mapping in Tiny: map it, then retry.")

    monkeypatch.setattr(TinyConnector, "push", unmapped)

    delivery = outbound.delivery_attempt(pending.pk)

    assert (delivery.status, delivery.attempts) == (DeliveryStatus.DEAD, 1)
    assert delivery.last_error == "The tax code 'Exempt' has no mapping in Tiny: map it, then retry."
    assert fake.requests == []


def test_rejected_credentials_leave_the_delivery_failed_uncounted_and_the_connection_needing_reauth(
    pending, fake, settings
):
    settings.INTEGRATIONS_REAUTH_RETRY_SECONDS = 600
    connection = Connection.objects.get(pk=pending.connection_id)
    connection.set_secrets({"access_token": "revoked"})  # no refresh token
    connection.save()
    before = timezone.now()

    delivery = outbound.delivery_attempt(pending.pk)

    assert delivery.status == DeliveryStatus.FAILED
    assert delivery.attempts == 0
    assert delivery.next_attempt_at >= before + timedelta(seconds=599)
    connection.refresh_from_db()
    assert connection.status == ConnectionStatus.NEEDS_REAUTH

    # re-authorised: the next attempt lands and the connection is healthy again
    connection.set_secrets({"access_token": "tok-1"})
    connection.save()
    due_now(delivery)
    assert outbound.delivery_attempt(pending.pk).status == DeliveryStatus.SUCCEEDED
    connection.refresh_from_db()
    assert connection.status == ConnectionStatus.ACTIVE


def test_an_unexpected_error_in_the_connector_is_retried(pending, fake, monkeypatch):
    from tests.integrations.outbound_support import TinyConnector

    def broken(self, item, context):
        raise KeyError("inventory_item_id")

    monkeypatch.setattr(TinyConnector, "push", broken)
    delivery = outbound.delivery_attempt(pending.pk)
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.FAILED, 1)
    assert delivery.last_error == "KeyError: 'inventory_item_id'"
    assert delivery.claimed_until is None


def test_a_dead_delivery_is_retried_from_the_ui_and_lands(pending, fake, django_capture_on_commit_callbacks):
    fake.then(httpx.Response(400, json={"errors": "bad"}))
    assert outbound.delivery_attempt(pending.pk).status == DeliveryStatus.DEAD
    admin = UserFactory(username="ops")

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        retried = outbound.delivery_retry(delivery=pending, user=admin)

    assert retried.attempts == 0
    assert callbacks  # the attempt is queued after the commit, not made in the request
    pending.refresh_from_db()
    assert pending.status == DeliveryStatus.SUCCEEDED
    assert fake.levels == {"v-1": 0}


def test_only_dead_or_failed_deliveries_can_be_retried(pending):
    with pytest.raises(InvalidTransition):
        outbound.delivery_retry(delivery=pending)


def test_deliveries_due_skips_claimed_future_and_paused(pending, tiny):
    assert list(outbound.deliveries_due()) == [pending]
    Delivery.objects.filter(pk=pending.pk).update(claimed_until=timezone.now() + timedelta(minutes=1))
    assert not outbound.deliveries_due().exists()
    Delivery.objects.filter(pk=pending.pk).update(claimed_until=timezone.now() - timedelta(seconds=1))
    assert outbound.deliveries_due().exists()  # a crashed worker's claim expires
    Delivery.objects.filter(pk=pending.pk).update(next_attempt_at=timezone.now() + timedelta(minutes=1))
    assert not outbound.deliveries_due().exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_attempting_one_delivery_push_it_once(tiny, fake, settings):
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connection as db

    # given: a due delivery; the tool answers slowly
    settings.INTEGRATIONS_COALESCE_SECONDS = 60  # the after-commit attempt finds it not due yet
    wh = warehouse("WH1")
    connection = make_connection(warehouse=wh)
    product = ProductFactory()
    map_variant(connection, product, "v-1")
    with transaction.atomic():
        events.emit(
            "inventory.level_changed",
            aggregate=product,
            payload={"product_id": product.pk, "warehouse_id": wh.pk},
        )
    delivery = Delivery.objects.get(connection=connection)  # dispatched after the commit
    due_now(delivery)
    start = threading.Barrier(2)

    def slowly(request: httpx.Request) -> httpx.Response:
        threading.Event().wait(0.3)
        return httpx.Response(200, json={})

    fake.then(slowly, slowly)

    def worker(_: int) -> str | None:
        try:
            start.wait(timeout=10)
            result = outbound.delivery_attempt(delivery.pk)
            return result.status if result else None
        finally:
            db.close()

    # when
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(worker, range(2)))

    # then
    assert results.count(DeliveryStatus.SUCCEEDED) == 1
    assert results.count(None) == 1  # the other worker found it claimed
    assert len(fake.requests) == 1
