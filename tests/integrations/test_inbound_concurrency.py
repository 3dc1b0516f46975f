"""The same order delivered five times at once: PostgreSQL, real threads, real transactions."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from integrations.models import ExternalRef, InboundEvent, InboundStatus, SyncRun
from sales.models import Customer, SalesOrder
from sales.selectors import reserved_by_line
from tests.integrations.fake_tool import acme_connection, acme_environment, acme_order
from tests.inventory.test_concurrency import race
from tests.sales.factories import stocked_product

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def acme():
    with acme_environment() as fake:
        yield fake


def post_all(connection, hooks) -> list:
    url = reverse("integrations:hook", args=[connection.pk])

    def send(i: int):
        response = Client().post(
            url, data=hooks[i].body, content_type="application/json", headers=hooks[i].headers
        )
        return response.status_code, response.json()["status"]

    return race(send, len(hooks))


def test_five_event_ids_for_one_new_order_at_once_give_one_order(acme):
    # given
    connection = acme_connection()
    stocked_product(5, sku="TENT")
    hooks = [acme.webhook("order.created", acme_order("1001"), delivery=f"d-{i}") for i in range(5)]

    # when: five deliveries of the same new order, each processed as it is stored
    results = post_all(connection, hooks)

    # then: every one stored and answered, one order, one customer, the others no-ops
    assert results == [(200, "received")] * 5
    assert SalesOrder.objects.count() == 1
    assert Customer.objects.count() == 1
    statuses = sorted(InboundEvent.objects.values_list("status", flat=True))
    assert statuses == [InboundStatus.PROCESSED] + [InboundStatus.SKIPPED] * 4
    assert ExternalRef.objects.filter(object_type="order").count() == 1
    assert not ExternalRef.objects.filter(object_id=0).exists()  # no placeholder left behind
    order = SalesOrder.objects.get()
    assert sum(reserved_by_line([ln.pk for ln in order.lines.all()]).values()) == 1


def test_one_delivery_five_times_at_once_is_stored_once_and_processed_once(acme):
    connection = acme_connection()
    stocked_product(5, sku="TENT")
    hook = acme.webhook("order.created", acme_order("1001"), delivery="same")

    results = post_all(connection, [hook] * 5)

    assert sorted(results) == [(200, "duplicate")] * 4 + [(200, "received")]
    assert InboundEvent.objects.get().status == InboundStatus.PROCESSED
    assert SyncRun.objects.filter(job="webhook").count() == 1
    assert SalesOrder.objects.count() == 1
