"""The home's "waiting for you": purchase orders to approve (for approvers), the hub's quarantined
events, dead letters and open drifts (for readers of integrations), unread notifications (one's
own); each with its count and a link to act, at a constant number of queries."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client, RequestFactory
from django.utils import timezone

from erp import waiting
from erp.models import Notification
from procurement.services import POLineSpec, po_approve, po_create
from tests.erp.factories import UserFactory
from tests.integrations.factories import ConnectionFactory, DeliveryFactory, DriftFactory, InboundEventFactory
from tests.inventory.factories import ProductFactory, warehouse
from tests.procurement.factories import SupplierFactory
from tests.queries import count_queries

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _threshold(settings):
    settings.PURCHASE_APPROVAL_THRESHOLD = Decimal("100")


def items(user) -> dict[str, waiting.WaitingItem]:
    request = RequestFactory().get("/")
    request.user = user
    return {item.key: item for item in waiting.items_for(request)}


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def big_po(cost: str = "50.00"):
    return po_create(
        supplier=SupplierFactory(),
        warehouse=warehouse("WH1"),
        lines=[POLineSpec(product=ProductFactory(), quantity=10, unit_cost=cost)],
    )


def hub_trouble(name: str = "Shop"):
    connection = ConnectionFactory(name=name)
    InboundEventFactory(connection=connection, status="quarantined")
    InboundEventFactory(connection=connection, status="quarantined")
    InboundEventFactory(connection=connection, status="failed")  # retrying by itself: not waiting
    DeliveryFactory(connection=connection, dead=True)
    DriftFactory(connection=connection)
    DriftFactory(connection=connection, status="healed")
    return connection


def test_nothing_waiting_says_so():
    user = UserFactory(username="seller", roles=["Sales"])

    page = client_for(user).get("/").content.decode()

    assert 'id="waiting"' in page
    assert "Nothing is waiting for you." in page


def test_approvers_see_the_orders_above_the_threshold_with_links_to_the_list_and_each_order():
    approver = UserFactory(username="boss", roles=["Purchasing manager"])
    buyer = UserFactory(username="buyer", roles=["Purchasing"])
    first, second = big_po(), big_po()
    big_po(cost="1.00")  # below the threshold: needs no approval
    po_approve(po=big_po(), user=approver)  # approved already

    item = items(approver)["procurement.po-approval"]

    assert item.count == 2
    assert item.url == "/procurement/orders/?needs_approval=true"
    assert [link.url for link in item.links] == [
        f"/procurement/orders/{first.pk}/",
        f"/procurement/orders/{second.pk}/",
    ]
    assert first.number in item.links[0].label
    assert "procurement.po-approval" not in items(buyer)
    listed = client_for(approver).get(item.url)
    assert {po.number for po in listed.context["page"].object_list} == {first.number, second.number}


def test_readers_of_integrations_see_what_waits_per_connection_with_filtered_links():
    reader = UserFactory(username="ops", roles=["Operations manager"])
    connection = hub_trouble()
    hub_trouble("Other shop")

    found = items(reader)

    quarantine = found[f"integrations.quarantine.{connection.pk}"]
    dead = found[f"integrations.dead-letters.{connection.pk}"]
    drifts = found[f"integrations.drifts.{connection.pk}"]
    assert (quarantine.count, dead.count, drifts.count) == (2, 1, 1)
    assert quarantine.url == f"/integrations/connections/{connection.pk}/quarantine/"
    assert dead.url == f"/integrations/connections/{connection.pk}/deliveries/?status=dead"
    assert drifts.url == f"/integrations/connections/{connection.pk}/reconciliation/?status=open"
    assert len([k for k in found if k.startswith("integrations.")]) == 6
    client = client_for(reader)
    for item in (quarantine, dead, drifts):
        assert client.get(item.url).status_code == 200


def test_those_who_cannot_read_integrations_see_none_of_it():
    hub_trouble()
    producer = UserFactory(username="maker", roles=["Production"])

    assert not [k for k in items(producer) if k.startswith("integrations.")]


def test_unread_notifications_are_counted_for_their_recipient_only():
    me = UserFactory(username="me", roles=["Sales"])
    other = UserFactory(username="other", roles=["Sales"])
    Notification.objects.create(recipient=me, kind="mention", title="You were mentioned")
    Notification.objects.create(recipient=me, kind="mention", title="Again")
    Notification.objects.create(recipient=me, kind="mention", title="Seen", read_at=timezone.now())
    Notification.objects.create(recipient=other, kind="mention", title="Theirs")

    item = items(me)["notifications"]

    assert (item.count, item.url) == (2, "/notifications/")
    assert items(other)["notifications"].count == 1


def test_without_the_notifications_page_the_item_is_left_out(monkeypatch):
    me = UserFactory(username="me", roles=["Sales"])
    Notification.objects.create(recipient=me, kind="mention", title="You were mentioned")
    monkeypatch.setattr(waiting, "notifications_url", lambda: None)

    assert "notifications" not in items(me)


def test_the_section_shows_each_item_with_its_count_and_action():
    approver = UserFactory(username="boss", roles=["Purchasing manager", "Integration admin"])
    po = big_po()
    hub_trouble()

    page = client_for(approver).get("/").content.decode()
    section = page.split('id="waiting"')[1].split("</section>")[0]

    for text in (
        "Purchase orders to approve",
        po.number,
        "Quarantined events",
        "Dead letters",
        "Drifts to resolve",
    ):
        assert text in section
    assert "Nothing is waiting" not in section


def test_the_section_costs_the_same_queries_whatever_the_data():
    user = UserFactory(username="boss", roles=["Purchasing manager", "Integration admin"])
    request = RequestFactory().get("/")
    request.user = user
    big_po()
    hub_trouble()
    Notification.objects.create(recipient=user, kind="mention", title="Hi")
    waiting.section_context(request)
    before = count_queries(lambda: waiting.section_context(request))

    for n in range(4):
        big_po()
        hub_trouble(f"Shop {n}")
        Notification.objects.create(recipient=user, kind="mention", title=f"Hi {n}")

    assert count_queries(lambda: waiting.section_context(request)) == before
