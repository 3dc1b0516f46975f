"""Stock for a tool without compare-and-set leaves out the sales the hub has been told of but not
imported yet (Hub v2, "stock that channels can trust"): a pushed quantity never hands out units a
waiting order has sold already, and once the order is imported they are not subtracted twice."""

from __future__ import annotations

import pytest
from django.urls import reverse

from integrations import inbound, outbound_items
from integrations.models import InboundEvent, InboundStatus
from tests.integrations.factories import ExternalRefFactory
from tests.integrations.fake_tool import AcmeConnector, acme_connection, acme_environment, acme_order
from tests.sales.factories import stocked_product


@pytest.fixture
def acme(db):
    with acme_environment() as fake:
        yield fake


@pytest.fixture
def tent(db):
    return stocked_product(10, sku="TENT", price="100.00")


@pytest.fixture
def connection(acme, tent):
    connection = acme_connection()
    ExternalRefFactory(connection=connection, external_id="v-tent", internal=tent)
    return connection


def _receive(client, connection, acme, order, capture) -> InboundEvent:
    """The order's webhook arrives and is stored; processing has not run yet."""
    hook = acme.webhook("order.created", order)
    with capture(execute=False):
        response = client.post(
            reverse("integrations:hook", args=[connection.pk]),
            data=hook.body,
            content_type="application/json",
            headers=hook.headers,
        )
    assert response.status_code == 200
    return InboundEvent.objects.get(pk=response.json()["event"])


def _pushed(connection, tent) -> int:
    resolved = outbound_items.resolve_inventory(connection, tent.pk, force=True)
    assert not isinstance(resolved, str), resolved
    return resolved.item.available


def test_a_sale_waiting_to_be_imported_is_left_out_of_the_push_and_counted_once(
    client, acme, connection, tent, django_capture_on_commit_callbacks
):
    assert _pushed(connection, tent) == 10
    line = {"id": "1001-1", "sku": "TENT", "variant_id": "v-tent", "qty": 3, "price": "100.00"}
    event = _receive(
        client, connection, acme, acme_order("1001", lines=[line]), django_capture_on_commit_callbacks
    )
    assert event.status == InboundStatus.RECEIVED

    waiting = _pushed(connection, tent)
    inbound.inbound_process(event.pk)  # imported: reserved here now
    imported = _pushed(connection, tent)

    assert (waiting, imported) == (7, 7)


def test_a_cancelled_or_unreadable_waiting_event_subtracts_nothing(
    client, acme, connection, tent, django_capture_on_commit_callbacks
):
    line = {"id": "1002-1", "sku": "TENT", "variant_id": "v-tent", "qty": 4, "price": "100.00"}
    cancelled = acme_order("1002", lines=[line], cancelled_at="2026-03-14T15:00:00+00:00")
    _receive(client, connection, acme, cancelled, django_capture_on_commit_callbacks)

    assert _pushed(connection, tent) == 10


def test_a_tool_with_compare_and_set_gets_no_subtraction(
    client, acme, connection, tent, django_capture_on_commit_callbacks, monkeypatch
):
    line = {"id": "1003-1", "sku": "TENT", "variant_id": "v-tent", "qty": 2, "price": "100.00"}
    _receive(client, connection, acme, acme_order("1003", lines=[line]), django_capture_on_commit_callbacks)
    monkeypatch.setattr(AcmeConnector, "compare_and_set", True)

    assert _pushed(connection, tent) == 10  # the tool's count is compared instead
