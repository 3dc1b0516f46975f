"""Thin events that say where to read what changed (ShipStation's resource_url): the hub follows
the URL only on the tool's own hosts, so a forged or mistaken event cannot send its credentials
elsewhere; one that points anywhere else waits in the quarantine."""

from __future__ import annotations

import pytest
from django.urls import reverse

from integrations.models import InboundEvent, InboundStatus
from sales.models import SalesOrder
from tests.integrations.fake_tool import acme_connection, acme_environment, acme_order
from tests.sales.factories import stocked_product


@pytest.fixture
def acme(db):
    with acme_environment() as fake:
        yield fake


@pytest.fixture
def connection(acme):
    stocked_product(10, sku="TENT", price="100.00")
    return acme_connection()


def deliver(client, connection, hook, capture):
    with capture(execute=True):
        response = client.post(
            reverse("integrations:hook", args=[connection.pk]),
            data=hook.body,
            content_type="application/json",
            headers=hook.headers,
        )
    assert response.status_code == 200, response.content


def test_a_batch_named_by_url_is_read_from_the_tool(
    client, acme, connection, django_capture_on_commit_callbacks
):
    for number in ("1001", "1002"):
        acme.orders[number] = acme_order(number)

    hook = acme.webhook("order.batch", {"resource_url": "https://acme.test/api/orders?updated_since="})
    deliver(client, connection, hook, django_capture_on_commit_callbacks)

    assert InboundEvent.objects.get().status == InboundStatus.PROCESSED
    assert sorted(SalesOrder.objects.values_list("external_reference", flat=True)) == ["A-1001", "A-1002"]


def test_a_url_on_another_host_is_not_followed_and_waits_for_a_person(
    client, acme, connection, django_capture_on_commit_callbacks
):
    hook = acme.webhook("order.batch", {"resource_url": "https://collector.example/api/orders"})
    deliver(client, connection, hook, django_capture_on_commit_callbacks)

    event = InboundEvent.objects.get()
    assert event.status == InboundStatus.QUARANTINED
    assert event.missing == {"kind": "URL host", "value": "collector.example"}
    assert (
        "collector.example is not one of the tool's hosts (acme.test); it was not followed"
        in event.last_error
    )
    assert not [r for r in acme.requests if r.url.host != "acme.test"]
    assert not SalesOrder.objects.exists()
