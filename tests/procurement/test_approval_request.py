"""A buyer asks for an approval instead of being offered a "Send" that can only fail; the purchasing
managers are told; the approval tells the buyer.

Before: a buyer on a draft above the threshold saw "Send to supplier", which answered "Nothing was
changed", and nobody heard of the order (the first test failed then: no "request-approval" action,
no notification).
"""

from __future__ import annotations

import json
from decimal import Decimal as D

import pytest
from django.test import Client, override_settings

from erp.models import Notification, OutboxEvent
from procurement.services.approval import po_approval_request
from tests.erp.factories import UserFactory
from tests.procurement.test_views import make_world

pytestmark = [pytest.mark.django_db]

HTMX = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "po"}


@pytest.fixture
def world() -> dict:
    return make_world()  # a draft of 3 boxes at 60 = 180


@pytest.fixture
def people() -> dict:
    return {
        "bea": UserFactory(username="bea", first_name="Bea", last_name="Buyer", roles=["Purchasing"]),
        "max": UserFactory(
            username="max", first_name="Max", last_name="Manager", roles=["Purchasing manager"]
        ),
        "mia": UserFactory(username="mia", roles=["Purchasing manager"]),
        "old": UserFactory(username="old", roles=["Purchasing manager"], is_active=False),
    }


def as_user(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@override_settings(PURCHASE_APPROVAL_THRESHOLD=D("100"))
def test_a_buyer_requests_approval_and_every_active_manager_is_told_once(world, people):
    # given
    po = world["draft"]
    bea = as_user(people["bea"])

    # when: the page offers the request, not the send; Bea asks (twice)
    page = bea.get(f"/procurement/orders/{po.pk}/")
    asked = bea.post(f"/procurement/orders/{po.pk}/request-approval/", **HTMX)
    bea.post(f"/procurement/orders/{po.pk}/request-approval/", **HTMX)

    # then
    keys = [a.key for a in page.context["actions"]]
    assert keys == ["request-approval", "cancel"]
    assert "Request approval" in page.content.decode()
    assert json.loads(asked["HX-Trigger"])["toast"] == {
        "message": f"Approval of {po.number} requested: the purchasing managers are told.",
        "level": "success",
    }
    told = Notification.objects.order_by("recipient__username")
    assert [(n.recipient.username, n.kind) for n in told] == [
        ("max", "approval_requested"),
        ("mia", "approval_requested"),
    ]
    assert told[0].title == f"Bea Buyer asks you to approve {po.number} ($180.00)"
    assert told[0].url == f"/procurement/orders/{po.pk}/"
    event = OutboxEvent.objects.filter(topic="procurement.po_approval_requested").first()
    assert (event.actor, event.actor_user_id) == ("Bea Buyer", people["bea"].pk)
    assert "Approval requested for $180.00" in asked.content.decode()  # on the timeline


@override_settings(PURCHASE_APPROVAL_THRESHOLD=D("100"))
def test_the_manager_sees_approve_and_the_approval_tells_the_buyer(world, people):
    # given: Bea asked
    po = world["draft"]
    po_approval_request(po=po, user=people["bea"])
    max_client = as_user(people["max"])

    # when
    page = max_client.get(f"/procurement/orders/{po.pk}/")
    approved = max_client.post(f"/procurement/orders/{po.pk}/approve/", **HTMX)

    # then
    assert [a.key for a in page.context["actions"]] == ["approve", "cancel"]
    assert json.loads(approved["HX-Trigger"])["toast"]["level"] == "success"
    told = Notification.objects.get(recipient=people["bea"])
    assert (told.kind, told.title) == ("approved", f"{po.number} is approved by Max Manager: it can be sent")
    # then: and once approved, Bea is offered the send
    after = as_user(people["bea"]).get(f"/procurement/orders/{po.pk}/")
    assert [a.key for a in after.context["actions"]] == ["send", "cancel"]


@pytest.mark.parametrize(
    ("threshold", "who", "message"),
    [
        ("1000", "bea", "within the approval threshold"),
        ("100", "max", "You can approve"),
    ],
)
def test_a_request_that_makes_no_sense_changes_nothing(world, people, threshold, who, message):
    # given
    po = world["draft"]

    # when
    with override_settings(PURCHASE_APPROVAL_THRESHOLD=D(threshold)):
        response = as_user(people[who]).post(f"/procurement/orders/{po.pk}/request-approval/", **HTMX)

    # then
    toast = json.loads(response["HX-Trigger"])["toast"]
    assert toast["level"] == "error"
    assert message in toast["message"]
    assert not OutboxEvent.objects.filter(topic="procurement.po_approval_requested").exists()
    assert Notification.objects.count() == 0


@override_settings(PURCHASE_APPROVAL_THRESHOLD=D("100"))
def test_a_reader_cannot_request(world, people):
    po = world["draft"]
    reader = as_user(UserFactory(username="wendy", roles=["Warehouse"]))
    response = reader.post(f"/procurement/orders/{po.pk}/request-approval/", **HTMX)
    assert response.status_code == 403
    assert Notification.objects.count() == 0
