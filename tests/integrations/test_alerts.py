"""The hub tells the integration admins of a dead letter and of new drifts, once per connection and
kind while unread; what a connector does is recorded as the connection (erp.actor)."""

from __future__ import annotations

import httpx
import pytest
from django.db import transaction

from erp import events
from erp.models import Notification
from integrations import alerts, outbound, reconcile
from integrations.models import Delivery, DeliveryStatus
from tests.erp.factories import UserFactory
from tests.integrations.fake_tool import acme_connection, acme_environment
from tests.integrations.outbound_support import (  # noqa: F401  (fixtures)
    fake_fixture,
    make_connection,
    map_variant,
    tiny_fixture,
)
from tests.inventory.factories import ProductFactory, warehouse
from tests.sales.factories import stocked_product

pytestmark = pytest.mark.django_db


@pytest.fixture
def admins() -> list:
    return [
        UserFactory(username="ian", roles=["Integration admin"]),
        UserFactory(username="ops", roles=["Operations manager"]),  # reads integrations only
    ]


def pending_delivery(connection, product, wh) -> Delivery:
    with transaction.atomic():
        event = events.emit(
            "inventory.level_changed",
            aggregate=product,
            payload={"product_id": product.pk, "warehouse_id": wh.pk},
        )
    events.dispatch_event(event.pk)
    return Delivery.objects.filter(connection=connection).order_by("-id").first()


def test_a_dead_letter_tells_the_integration_admins_once_while_unread(tiny, fake, settings, admins):
    # given: two deliveries the tool refuses for good
    settings.INTEGRATIONS_COALESCE_SECONDS = 0
    wh = warehouse("WH1")
    connection = make_connection(warehouse=wh)
    first, second = ProductFactory(), ProductFactory()
    map_variant(connection, first, "v-1")
    map_variant(connection, second, "v-2")
    fake.then(httpx.Response(422, json={"errors": {"available": ["is out of range"]}}))
    fake.then(httpx.Response(422, json={"errors": {"available": ["is out of range"]}}))

    # when
    dead = [outbound.delivery_attempt(pending_delivery(connection, p, wh).pk) for p in (first, second)]

    # then: only the admin with integrations write, and once
    assert [d.status for d in dead] == [DeliveryStatus.DEAD, DeliveryStatus.DEAD]
    note = Notification.objects.get()
    assert (note.recipient.username, note.kind, note.key) == (
        "ian",
        "dead_letter",
        f"dead_letter:{connection.pk}",
    )
    assert note.title == f"{connection.name}: a delivery failed for good"
    assert "is out of range" in note.body
    assert note.url == f"/integrations/connections/{connection.pk}/deliveries/?status=dead"


@pytest.fixture
def acme(db):
    with acme_environment() as fake:
        yield fake


def test_new_drifts_tell_the_admins_once(acme, admins):
    # given: TENT is 10 here and 7 in the tool
    connection = acme_connection()
    tent = stocked_product(10, sku="TENT")
    map_variant(connection, tent, "v-tent", stock_item=1)
    acme.levels.update({"v-tent": 7})

    # when: found (not healed), found again (nothing new)
    reconcile.reconcile(connection=connection, object_type="inventory", heal=False)
    reconcile.reconcile(connection=connection, object_type="inventory", heal=False)

    # then
    note = Notification.objects.get()
    assert (note.recipient.username, note.kind, note.key) == ("ian", "drift", f"drift:{connection.pk}")
    assert "1 new difference" in note.title
    assert note.url == f"/integrations/connections/{connection.pk}/reconciliation/"


def test_the_connection_is_named_as_its_tool_and_its_name(acme):
    connection = acme_connection()
    assert alerts.acting_name(connection).endswith(f" · {connection.name}")


def test_an_order_a_webhook_brings_is_recorded_as_the_connection(
    acme, client, django_capture_on_commit_callbacks
):
    # given
    from django.urls import reverse

    from erp.models import OutboxEvent
    from tests.integrations.fake_tool import acme_order

    connection = acme_connection()
    stocked_product(5, sku="TENT", price="100.00")
    hook = acme.webhook("order.created", acme_order("1001"), delivery="d-1")

    # when: the webhook request is anonymous; its processing is the connection's
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("integrations:hook", args=[connection.pk]),
            data=hook.body,
            content_type="application/json",
            headers=hook.headers,
        )

    # then
    assert response.status_code == 200
    confirmed = OutboxEvent.objects.get(topic="sales.order_confirmed")
    assert (confirmed.actor, confirmed.actor_user_id) == (alerts.acting_name(connection), None)
