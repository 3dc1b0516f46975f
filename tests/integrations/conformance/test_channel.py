"""The conformance kit's channel part: every connector that brings orders in, against its own
fake, through the whole hub.

A connector is done when it passes every part of the kit its capabilities call for (``PART``
here; shipping and accounting in their own modules). Each case runs once per such connector (see
conftest.py): Shopify, the kit's Minimal (OAuth tokens that expire), and whatever channel is
added next, with its harness (harness.py) and no change to this file.
"""

from __future__ import annotations

import datetime

import pytest
from django.test import override_settings
from django.utils import timezone

from integrations import inbound, reconcile
from integrations.contract import Capability
from integrations.models import Connection, DeliveryStatus, Drift, DriftStatus, InboundEvent, InboundStatus
from sales.models import OrderStatus, SalesOrder
from tests.integrations.conformance.conftest import HUB_STOCK
from tests.sales.factories import stocked_product

PART = frozenset({Capability.ORDERS_IN})
T0 = datetime.datetime(2026, 4, 1, 12, tzinfo=datetime.UTC)


def test_a_valid_signature_is_accepted_and_invalid_ones_get_401_storing_nothing(kit):
    kit.needs_webhooks()
    order = kit.harness.new_order(sku=kit.harness.sku, quantity=1, updated_at=T0)
    headers, body = kit.harness.order_webhook(order, created=True)

    tampered = kit.post(headers, body.replace(b"}", b" }", 1))
    foreign = kit.post(*kit.harness.wrongly_signed(order))
    assert (tampered.status_code, foreign.status_code) == (401, 401)
    assert InboundEvent.objects.count() == 0

    accepted = kit.post(headers, body)

    assert accepted.status_code == 200
    assert InboundEvent.objects.get().status == InboundStatus.PROCESSED
    assert SalesOrder.objects.get().status == OrderStatus.CONFIRMED


def test_a_validly_signed_webhook_for_another_account_gets_401_storing_nothing(kit):
    kit.needs_webhooks()
    order = kit.harness.new_order(sku=kit.harness.sku, quantity=1, updated_at=T0)
    delivery = kit.harness.other_accounts_webhook(order)
    if delivery is None:
        pytest.skip(f"{kit.harness.connector.name}'s webhooks name no account")

    response = kit.post(*delivery)

    assert response.status_code == 401
    assert kit.connection.name in response.json()["detail"]
    assert InboundEvent.objects.count() == 0
    assert SalesOrder.objects.count() == 0


def test_a_duplicate_delivery_is_processed_once(kit):
    kit.needs_webhooks()
    order = kit.harness.new_order(sku=kit.harness.sku, quantity=2, updated_at=T0)
    delivery = kit.harness.order_webhook(order, created=True)

    first, again = kit.post(*delivery), kit.post(*delivery)

    assert (first.status_code, again.status_code) == (200, 200)
    assert (first.json()["status"], again.json()["status"]) == ("received", "duplicate")
    event = InboundEvent.objects.get()
    assert (event.status, event.attempts) == (InboundStatus.PROCESSED, 1)
    assert SalesOrder.objects.count() == 1


def test_out_of_order_updates_end_in_the_latest_state(kit):
    kit.needs_webhooks()
    order = kit.harness.new_order(sku=kit.harness.sku, quantity=1, updated_at=T0)
    older = kit.harness.changed(order, note="older note", updated_at=T0 + datetime.timedelta(minutes=1))
    latest = kit.harness.changed(order, note="latest note", updated_at=T0 + datetime.timedelta(minutes=2))

    kit.post(*kit.harness.order_webhook(order, created=True))
    kit.post(*kit.harness.order_webhook(latest, created=False))
    kit.post(*kit.harness.order_webhook(older, created=False))  # arrives last, is older

    assert SalesOrder.objects.get().notes == "latest note"
    statuses = list(InboundEvent.objects.order_by("pk").values_list("status", flat=True))
    assert statuses == [InboundStatus.PROCESSED, InboundStatus.PROCESSED, InboundStatus.SKIPPED]


def test_a_429_with_retry_after_is_honoured_and_not_counted_as_a_failure(kit):
    kit.harness.throttle_next(retry_after=30)
    kit.receive_stock(2)

    [delivery] = kit.run_due_deliveries()

    assert delivery.status == DeliveryStatus.PENDING
    assert delivery.attempts == 0
    assert delivery.next_attempt_at >= timezone.now() + datetime.timedelta(seconds=28)
    connection = Connection.objects.get(pk=kit.connection.pk)
    assert connection.throttled_until >= timezone.now() + datetime.timedelta(seconds=28)
    assert kit.harness.push_requests() == 1

    Connection.objects.filter(pk=kit.connection.pk).update(throttled_until=None)  # the 30 s have passed
    [delivery] = kit.run_due_deliveries()

    assert delivery.status == DeliveryStatus.SUCCEEDED
    assert kit.harness.push_requests() == 2
    assert kit.harness.available(kit.harness.sku) == HUB_STOCK + 2


@override_settings(INTEGRATIONS_MAX_ATTEMPTS=3)
def test_a_5xx_is_retried_then_dead_lettered(kit):
    kit.harness.fail_next(10, status=503)
    kit.receive_stock(1)

    [delivery] = kit.run_due_deliveries()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.FAILED, 1)
    assert delivery.next_attempt_at > timezone.now()  # a retry is scheduled, with backoff

    kit.run_due_deliveries()
    [delivery] = kit.run_due_deliveries()

    assert (delivery.status, delivery.attempts, delivery.last_status_code) == (DeliveryStatus.DEAD, 3, 503)
    assert kit.harness.push_requests() == 3


def test_an_expired_token_is_refreshed_once(kit):
    if not kit.harness.tokens_expire:
        pytest.skip(kit.harness.no_refresh_reason)
    before = kit.connection.get_secrets()["access_token"]
    kit.harness.expire_token()

    kit.receive_stock(1)
    [first] = kit.run_due_deliveries()
    assert (first.status, kit.harness.refreshes()) == (DeliveryStatus.SUCCEEDED, 1)
    kit.receive_stock(1)
    deliveries = kit.run_due_deliveries()

    assert [d.status for d in deliveries] == [DeliveryStatus.SUCCEEDED] * 2
    assert kit.harness.refreshes() == 1  # the new token is kept: no second refresh
    connection = Connection.objects.get(pk=kit.connection.pk)
    assert connection.get_secrets()["access_token"] != before
    assert connection.token_expires_at > timezone.now()
    assert kit.harness.available(kit.harness.sku) == HUB_STOCK + 2


def test_an_unknown_sku_is_quarantined_until_mapped(kit):
    kit.needs_webhooks()
    order = kit.harness.new_order(sku=kit.harness.unknown_sku, quantity=1, updated_at=T0)

    kit.post(*kit.harness.order_webhook(order, created=True))

    event = InboundEvent.objects.get()
    assert event.status == InboundStatus.QUARANTINED
    assert event.missing == {"kind": "sku", "value": kit.harness.unknown_sku}
    assert SalesOrder.objects.count() == 0

    ours = stocked_product(3, wh=kit.warehouse, sku="OUR-OWN-NAME")
    with kit.capture(execute=True):
        replayed = inbound.quarantine_map_sku(
            connection=kit.connection, sku=kit.harness.unknown_sku, product=ours
        )

    assert replayed == 1
    event.refresh_from_db()
    assert event.status == InboundStatus.PROCESSED
    assert SalesOrder.objects.get().lines.get().product == ours


def test_an_injected_drift_is_found_and_healed_by_reconciliation(kit):
    kit.harness.set_available(kit.harness.sku, HUB_STOCK)
    in_sync = reconcile.reconcile(connection=kit.connection, object_type="inventory", heal=False)
    assert (in_sync.created, in_sync.skipped) == (0, 1)
    kit.harness.set_available(kit.harness.sku, HUB_STOCK + 7)  # someone edits the tool

    run = reconcile.reconcile(connection=kit.connection, object_type="inventory", heal=False)
    drift = Drift.objects.get()
    assert (run.created, drift.kind, drift.label) == (1, "quantity_mismatch", kit.harness.sku)
    assert (drift.hub_value, drift.tool_value, drift.healable) == (str(HUB_STOCK), str(HUB_STOCK + 7), True)

    reconcile.drift_heal(drift=drift)

    assert Drift.objects.get().status == DriftStatus.HEALED
    assert kit.harness.available(kit.harness.sku) == HUB_STOCK
    after = reconcile.reconcile(connection=kit.connection, object_type="inventory")
    assert (after.created, after.skipped) == (0, 1)
