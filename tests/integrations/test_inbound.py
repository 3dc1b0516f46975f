"""Inbound webhooks: verify, store once, answer 200, process once; quarantine, failures, replay."""

from __future__ import annotations

import datetime
import json
from decimal import Decimal as D

import pytest
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from integrations import inbound
from integrations.models import ConnectionStatus, InboundEvent, InboundStatus, RequestLog, SyncRun
from sales.models import OrderStatus, SalesOrder
from sales.selectors import reserved_by_line
from tests.integrations.fake_tool import T0, AcmeFake, acme_connection, acme_environment, acme_order
from tests.sales.factories import stocked_product


@pytest.fixture
def acme(db):
    with acme_environment() as fake:
        yield fake


@pytest.fixture
def connection(acme):
    return acme_connection()


@pytest.fixture
def tent(db):
    return stocked_product(5, sku="TENT", price="100.00")


def post(client, connection, hook, *, connection_id=None):
    url = reverse("integrations:hook", args=[connection_id or connection.pk])
    return client.post(url, data=hook.body, content_type="application/json", headers=hook.headers)


def deliver(client, connection, hook, capture):
    with capture(execute=True):
        response = post(client, connection, hook)
    assert response.status_code == 200, response.content
    return response


def test_a_signed_webhook_is_stored_answered_and_processed_into_a_confirmed_order(
    client, acme: AcmeFake, connection, tent, django_capture_on_commit_callbacks
):
    # given
    hook = acme.webhook("order.created", acme_order("1001"), delivery="d-1")

    # when
    response = deliver(client, connection, hook, django_capture_on_commit_callbacks)

    # then: one event, processed, one confirmed order with its reservation
    assert response.json()["status"] == "received"
    event = InboundEvent.objects.get()
    assert (event.external_id, event.topic, event.status) == ("d-1", "order.created", InboundStatus.PROCESSED)
    assert bytes(event.body) == hook.body
    assert "X-Acme-Signature" in event.headers
    order = SalesOrder.objects.get()
    assert (order.status, order.external_reference, order.channel) == (
        OrderStatus.CONFIRMED,
        "A-1001",
        connection.sales_channel,
    )
    assert sum(reserved_by_line([ln.pk for ln in order.lines.all()]).values()) == 1
    assert event.result["items"][0]["outcome"] == "created"
    run = SyncRun.objects.get(job="webhook")
    assert (run.status, run.created, run.failed) == ("succeeded", 1, 0)


def test_a_bad_signature_gets_401_and_stores_nothing(client, acme, connection, tent):
    hook = acme.webhook("order.created", acme_order("1001"), secret="not-the-secret")
    response = post(client, connection, hook)
    assert response.status_code == 401
    assert response["Content-Type"].startswith("application/problem+json")
    assert response.json()["status"] == 401
    assert InboundEvent.objects.count() == 0
    assert SyncRun.objects.count() == 0
    unsigned = acme.webhook("order.created", acme_order("1001"))
    unsigned.headers.pop("X-Acme-Signature")
    assert post(client, connection, unsigned).status_code == 401
    assert InboundEvent.objects.count() == 0


def test_an_unknown_connection_is_404_and_get_is_405(client, acme, connection):
    hook = acme.webhook("order.created", acme_order())
    assert post(client, connection, hook, connection_id=connection.pk + 99).status_code == 404
    assert client.get(reverse("integrations:hook", args=[connection.pk])).status_code == 405


def test_a_duplicate_delivery_is_answered_200_stored_once_and_processed_once(
    client, acme, connection, tent, django_capture_on_commit_callbacks
):
    hook = acme.webhook("order.created", acme_order("1001"), delivery="same")
    deliver(client, connection, hook, django_capture_on_commit_callbacks)

    # when: the tool delivers it again
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = post(client, connection, hook)

    # then
    assert (response.status_code, response.json()["status"]) == (200, "duplicate")
    assert callbacks == []  # nothing enqueued for a duplicate
    assert InboundEvent.objects.count() == 1
    assert SalesOrder.objects.count() == 1
    assert SyncRun.objects.filter(job="webhook").count() == 1


def test_the_same_order_under_five_event_ids_gives_one_order(
    client, acme, connection, tent, django_capture_on_commit_callbacks
):
    for i in range(5):
        deliver(
            client,
            connection,
            acme.webhook("order.updated", acme_order("1001"), delivery=f"d-{i}"),
            django_capture_on_commit_callbacks,
        )
    assert SalesOrder.objects.count() == 1
    statuses = list(InboundEvent.objects.order_by("id").values_list("status", flat=True))
    assert statuses == ["processed"] + ["skipped"] * 4
    assert InboundEvent.objects.filter(status="skipped").first().result["items"][0]["reason"] == "unchanged"


def test_out_of_order_updates_end_in_the_latest_state_and_stale_ones_are_dropped(
    client, acme, connection, tent, django_capture_on_commit_callbacks
):
    later = T0 + datetime.timedelta(minutes=10)
    first = acme_order("1001", updated_at=T0, note="first", tags=["web"])
    newest = acme_order("1001", updated_at=later, note="newest", payment="paid", tags=["web", "vip"])
    middle = acme_order("1001", updated_at=T0 + datetime.timedelta(minutes=5), note="middle")

    # when: created, then the newest update, then an older one arrives late
    for topic, payload in (("order.created", first), ("order.updated", newest), ("order.updated", middle)):
        deliver(client, connection, acme.webhook(topic, payload), django_capture_on_commit_callbacks)

    # then
    order = SalesOrder.objects.get()
    assert order.notes == "newest"
    assert order.tags == ["paid", "vip", "web"]
    late = InboundEvent.objects.order_by("id").last()
    assert late.status == InboundStatus.SKIPPED
    assert late.result["items"][0]["reason"].startswith("stale")
    assert order.status == OrderStatus.CONFIRMED


def test_a_cancel_cancels_the_order_and_releases_its_reservation(
    client, acme, connection, tent, django_capture_on_commit_callbacks
):
    deliver(
        client,
        connection,
        acme.webhook("order.created", acme_order("1001")),
        django_capture_on_commit_callbacks,
    )
    cancelled = acme_order(
        "1001",
        updated_at=T0 + datetime.timedelta(hours=1),
        cancelled_at=T0.isoformat(),
        cancel_reason="customer",
    )
    deliver(
        client, connection, acme.webhook("order.cancelled", cancelled), django_capture_on_commit_callbacks
    )
    order = SalesOrder.objects.get()
    assert order.status == OrderStatus.CANCELLED
    assert "customer" in order.notes
    assert reserved_by_line([ln.pk for ln in order.lines.all()]) == {}
    assert InboundEvent.objects.order_by("id").last().result["items"][0]["outcome"] == "cancelled"


def test_an_unknown_sku_is_quarantined_then_mapped_and_replayed_into_an_order(
    client, acme, connection, tent, django_capture_on_commit_callbacks
):
    # given: a line whose SKU the hub does not know
    lines = [{"id": "l-1", "sku": "GHOST-1", "variant_id": "v-ghost", "qty": 2, "price": "10.00"}]
    deliver(
        client,
        connection,
        acme.webhook("order.created", acme_order("2001", lines=lines)),
        django_capture_on_commit_callbacks,
    )
    event = InboundEvent.objects.get()
    assert event.status == InboundStatus.QUARANTINED
    assert event.missing == {"kind": "sku", "value": "GHOST-1"}
    assert "GHOST-1" in event.last_error
    assert "map it" in event.last_error
    assert SalesOrder.objects.count() == 0

    # when: a person maps the SKU
    with django_capture_on_commit_callbacks(execute=True):
        replayed = inbound.quarantine_map_sku(connection=connection, sku="GHOST-1", product=tent)

    # then
    assert replayed == 1
    event.refresh_from_db()
    assert (event.status, event.missing, event.last_error) == (InboundStatus.PROCESSED, {}, "")
    line = SalesOrder.objects.get().lines.get()
    assert (line.product, line.quantity) == (tent, 2)
    # mapping again replays nothing more
    assert inbound.quarantine_map_sku(connection=connection, sku="GHOST-1", product=tent) == 0


def test_a_failure_keeps_the_event_with_its_error_and_backs_off_until_dead(
    client, acme, connection, tent, django_capture_on_commit_callbacks, monkeypatch
):
    # given: applying fails in a way that may pass later (a bug fixed, a database back)
    def broken(*args, **kwargs):
        raise RuntimeError("the ledger is away")

    monkeypatch.setattr(inbound.appliers, "apply", broken)
    before = timezone.now()

    # when
    deliver(
        client,
        connection,
        acme.webhook("order.created", acme_order("1001")),
        django_capture_on_commit_callbacks,
    )

    # then
    event = InboundEvent.objects.get()
    assert (event.status, event.attempts) == (InboundStatus.FAILED, 1)
    assert event.last_error == "RuntimeError: the ledger is away"
    assert (  # full jitter (erp.retry): 1 to 30 s after the first failure
        before + datetime.timedelta(seconds=1)
        <= event.next_attempt_at
        <= timezone.now() + datetime.timedelta(seconds=31)
    )
    assert SyncRun.objects.get().status == "failed"

    # the second failure may wait longer (1 to 60 s), the last one is dead
    with override_settings(INTEGRATIONS_MAX_ATTEMPTS=3):
        started = timezone.now()
        inbound.inbound_process(event.pk)
        event.refresh_from_db()
        assert event.attempts == 2
        assert (
            started + datetime.timedelta(seconds=1)
            <= event.next_attempt_at
            <= timezone.now() + datetime.timedelta(seconds=61)
        )
        inbound.inbound_process(event.pk)
    event.refresh_from_db()
    assert (event.status, event.attempts, event.next_attempt_at) == (InboundStatus.DEAD, 3, None)


def test_totals_that_differ_from_the_tools_fail_loudly_naming_both(
    client, acme, connection, tent, django_capture_on_commit_callbacks
):
    payload = acme_order("1001")
    payload["totals"]["total"] = "99.00"
    deliver(client, connection, acme.webhook("order.created", payload), django_capture_on_commit_callbacks)
    event = InboundEvent.objects.get()
    # deterministic: quarantined at once for a person, not retried for hours
    assert (event.status, event.attempts, event.next_attempt_at) == (InboundStatus.QUARANTINED, 0, None)
    assert event.missing == {"kind": "totals of order", "value": "A-1001"}
    assert "total 100.00 here, 99.00 in acme" in event.last_error
    assert SalesOrder.objects.count() == 0  # rolled back


def test_totals_with_more_places_than_the_currency_are_compared_at_its_minor_unit(
    client, acme, connection, tent, django_capture_on_commit_callbacks
):
    payload = acme_order("1001")
    payload["totals"] = {k: f"{v}00" for k, v in payload["totals"].items()}  # "100.0000"
    payload["totals"]["total"] = "100.0049"  # still 100.00 at the cent
    deliver(client, connection, acme.webhook("order.created", payload), django_capture_on_commit_callbacks)

    assert InboundEvent.objects.get().status == InboundStatus.PROCESSED
    assert SalesOrder.objects.get().total == D("100.00")


def test_a_connection_without_a_channel_quarantines_its_orders_until_one_is_chosen_then_replays_them(
    client, acme, connection, tent, django_capture_on_commit_callbacks, admin_user
):
    # given: the connection lost its channel; two orders arrive
    channel = connection.sales_channel
    connection.sales_channel = None
    connection.save()
    for number in ("1001", "1002"):
        deliver(
            client,
            connection,
            acme.webhook("order.created", acme_order(number)),
            django_capture_on_commit_callbacks,
        )
    assert set(InboundEvent.objects.values_list("status", flat=True)) == {InboundStatus.QUARANTINED}
    assert InboundEvent.objects.first().missing == {"kind": "setting", "value": "sales channel"}
    client.force_login(admin_user)
    page = client.get(f"/integrations/connections/{connection.pk}/quarantine/")
    assert b"Replay 2 events" in page.content

    # when: a person chooses the channel again and replays them
    connection.sales_channel = channel
    connection.save()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/integrations/connections/{connection.pk}/quarantine/replay/",
            {"kind": "setting", "value": "sales channel"},
        )

    # then
    assert response.status_code == 302
    assert set(InboundEvent.objects.values_list("status", flat=True)) == {InboundStatus.PROCESSED}
    assert SalesOrder.objects.count() == 2


def test_a_thin_event_is_read_again_from_the_tool(
    client, acme, connection, tent, django_capture_on_commit_callbacks
):
    acme.orders["1001"] = acme_order("1001", note="from the API")
    deliver(
        client, connection, acme.webhook("order.touched", {"id": "1001"}), django_capture_on_commit_callbacks
    )
    assert SalesOrder.objects.get().notes == "from the API"
    run = SyncRun.objects.get(job="webhook")
    assert RequestLog.objects.filter(sync_run=run, url__endswith="/orders/1001", status_code=200).exists()


def test_a_throttled_fetch_waits_without_counting_an_attempt(
    client, acme, connection, tent, django_capture_on_commit_callbacks
):
    acme.orders["1001"] = acme_order("1001")
    acme.fail_next = [429]
    deliver(
        client, connection, acme.webhook("order.touched", {"id": "1001"}), django_capture_on_commit_callbacks
    )
    event = InboundEvent.objects.get()
    assert (event.status, event.attempts) == (InboundStatus.FAILED, 0)
    assert event.next_attempt_at is not None
    assert "Throttled" in event.last_error


def test_a_paused_connection_stores_events_and_processes_them_once_resumed(
    client, acme, connection, tent, django_capture_on_commit_callbacks
):
    connection.status = ConnectionStatus.PAUSED
    connection.save()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = post(client, connection, acme.webhook("order.created", acme_order("1001")))
    assert response.status_code == 200
    assert callbacks == []
    event = InboundEvent.objects.get()
    assert inbound.inbound_process(event.pk).status == InboundStatus.RECEIVED  # not while paused

    # when: resumed, the periodic sweep picks it up
    connection.status = ConnectionStatus.ACTIVE
    connection.save()
    InboundEvent.objects.filter(pk=event.pk).update(
        received_at=timezone.now() - datetime.timedelta(minutes=5)
    )
    assert inbound.inbound_retry_due() == 1
    event.refresh_from_db()
    assert event.status == InboundStatus.PROCESSED
    assert SalesOrder.objects.count() == 1


def test_retry_due_takes_failed_events_whose_time_has_come(acme, connection, tent):
    event, _ = inbound.store_event(
        connection=connection,
        source="webhook",
        external_id="x",
        topic="order.created",
        headers={},
        body=b"{}",
    )
    InboundEvent.objects.filter(pk=event.pk).update(
        status=InboundStatus.FAILED, next_attempt_at=timezone.now() + datetime.timedelta(minutes=1)
    )
    assert inbound.inbound_retry_due() == 0
    InboundEvent.objects.filter(pk=event.pk).update(next_attempt_at=timezone.now())
    assert inbound.inbound_retry_due() == 1
    event.refresh_from_db()
    assert event.status == InboundStatus.FAILED
    assert event.attempts == 1


def test_replay_resets_an_event_and_processes_it_again(
    client, acme, connection, tent, django_capture_on_commit_callbacks
):
    deliver(
        client,
        connection,
        acme.webhook("order.created", acme_order("1001")),
        django_capture_on_commit_callbacks,
    )
    event = InboundEvent.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        replayed = inbound.inbound_replay(event=event)
    assert replayed.status == InboundStatus.RECEIVED
    event.refresh_from_db()
    assert event.status == InboundStatus.SKIPPED  # the order is there already: no change
    assert SalesOrder.objects.count() == 1


def test_the_stored_body_is_the_raw_bytes_signed(client, acme, connection, tent):
    raw = json.dumps(acme_order("1001"), indent=2).encode()  # not the compact form
    hook = acme.webhook("order.created", {})
    hook.body = raw
    from tests.integrations.fake_tool import sign

    hook.headers["X-Acme-Signature"] = sign(raw)
    assert post(client, connection, hook).status_code == 200
    assert bytes(InboundEvent.objects.get().body) == raw
    assert D(json.loads(raw)["totals"]["total"]) == D("100.00")
