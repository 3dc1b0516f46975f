"""The `make run` demo's CRM: "Demo HubSpot", seeded idempotently against the served fake portal with
our order stages mapped to its "Sales orders" pipeline; the rep's contacts come in first (the one of
a demo customer linked by its email, not made twice), then the customers go out as contacts and the
confirmed orders as deals in their stages; the rep's edit there reaches the hub through the app's
webhook endpoint."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, cast

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

from integrations import demo_fakes, health, http, onboarding
from integrations.hubspot import demo as hubspot_demo
from integrations.hubspot.fake import FakeHubSpot, shared_fake
from integrations.hubspot.fake_data import OWNER_ID
from integrations.models import Connection, Delivery, DeliveryStatus, ExternalRef, InboundEvent
from sales.models import Customer, SalesChannel, SalesOrder
from sales.services import customer_create, order_confirm
from tests.integrations.ui_support import admin_fixture  # noqa: F401  (a fixture)
from tests.inventory.factories import warehouse
from tests.sales.factories import ChannelFactory, order_for, stocked_product

pytestmark = pytest.mark.django_db


@dataclass
class Demo:
    connection: Connection
    fake: FakeHubSpot
    known: Customer  # the demo customer the rep has a contact of
    others: list[Customer]
    confirmed: list[SalesOrder]
    report: list[str]


def contacts(fake: FakeHubSpot, **where: str) -> list[dict[str, Any]]:
    """The portal's live contacts whose properties have these values."""
    rows = fake.snapshot()["contacts"].values()
    return [
        r["properties"]
        for r in rows
        if not r["archived"] and all(r["properties"].get(k) == v for k, v in where.items())
    ]


@pytest.fixture
def seeded(settings, django_capture_on_commit_callbacks) -> Iterator[Demo]:
    """The sales demo in small (three customers, one the rep knows; two confirmed orders and a
    draft), then the HubSpot demo, saved as `make run` saves it: the pushes go after commit."""
    settings.ERP_DEMO_FAKES = True
    shared_fake().reset()
    spec = hubspot_demo._demo_customer()
    with django_capture_on_commit_callbacks(execute=True):
        wh = warehouse("MAIN")
        channel = cast(SalesChannel, ChannelFactory(warehouse=wh, code="shopify"))
        product = stocked_product(20, wh=wh, price="25.00", sku="TENT-DEMO")
        known = customer_create(name=spec.name, kind="person", email=spec.email, phone="+1 555 201 3344")
        others = [
            customer_create(name=f"Buyer {n}", kind="person", email=f"buyer{n}@example.org") for n in range(2)
        ]
        confirmed = [
            order_confirm(order=order_for((product, 2), channel=channel, customer=known)),
            order_confirm(order=order_for((product, 1), channel=channel, customer=others[0])),
        ]
        order_for((product, 1), channel=channel, customer=others[1])  # a draft: no deal yet
        report = hubspot_demo.seed_hubspot()
        report += onboarding.seed_first_runs()  # as `make run` seeds it: registered last
    yield Demo(
        Connection.objects.get(name=hubspot_demo.DEMO_NAME), shared_fake(), known, others, confirmed, report
    )
    http.unmount(demo_fakes.fake_url(hubspot_demo.KEY))
    shared_fake().reset()


def test_seeding_twice_makes_the_connection_and_the_reps_contacts_once(seeded: Demo) -> None:
    # given: seeded once; when: again
    hubspot_demo.seed_hubspot()
    # then
    assert Connection.objects.filter(name=hubspot_demo.DEMO_NAME).count() == 1
    for rep in hubspot_demo.rep_contacts():
        assert len(contacts(seeded.fake, email=rep.email)) == 1
    assert hubspot_demo.is_demo(seeded.connection)
    assert seeded.connection.settings["pipeline"] == "orders"
    assert "Demo HubSpot" in seeded.report[0]


def test_the_connection_tests_ok(seeded: Demo) -> None:
    run = health.connection_test(connection=seeded.connection)
    assert run.status == "succeeded", run.errors


def test_the_customers_land_as_contacts_the_reps_one_linked_not_made_twice(seeded: Demo) -> None:
    # every push went (none waits, none refused): the known customer's contact is the rep's
    failed = Delivery.objects.filter(connection=seeded.connection).exclude(
        status__in=(DeliveryStatus.SUCCEEDED, DeliveryStatus.SKIPPED)
    )
    assert not failed.exists(), [(d.topic, d.status, d.last_error) for d in failed]
    rep = hubspot_demo.rep_contacts()
    # the rep's three contacts and the two other customers of ours: five, not six
    assert len(contacts(seeded.fake)) == len(rep) + len(seeded.others)
    [theirs] = contacts(seeded.fake, email=seeded.known.email)
    ref = ExternalRef.objects.get(
        connection=seeded.connection, object_type="customer", object_id=seeded.known.pk
    )
    assert theirs["hs_object_id"] == ref.external_id  # the contact the rep made
    assert theirs["erp_customer_code"] == seeded.known.code
    assert theirs["jobtitle"] == rep[0].jobtitle
    for customer in seeded.others:
        [contact] = contacts(seeded.fake, erp_customer_code=customer.code)
        assert contact["email"] == customer.email


def test_the_reps_contacts_come_back_with_what_only_hubspot_keeps(seeded: Demo) -> None:
    ref = ExternalRef.objects.get(
        connection=seeded.connection, object_type="customer", object_id=seeded.known.pk
    )
    kept = {field: value["value"] for field, value in ref.extra["crm"].items()}
    assert kept["lifecycle_stage"] == "opportunity"
    assert kept["owner"] == OWNER_ID
    # the rep's other contacts are customers here now, linked to them
    for rep in hubspot_demo.rep_contacts()[1:]:
        customer = Customer.objects.get(email=rep.email)
        assert ExternalRef.objects.filter(
            connection=seeded.connection, object_type="customer", object_id=customer.pk
        ).exists()


def test_the_confirmed_orders_are_deals_in_their_stages_the_draft_is_not(seeded: Demo) -> None:
    deals = {
        row["properties"]["erp_order_number"]: row
        for row in seeded.fake.snapshot()["deals"].values()
        if not row["archived"]
    }
    assert set(deals) == {order.number for order in seeded.confirmed}
    for order in seeded.confirmed:
        deal = deals[order.number]
        assert deal["properties"]["pipeline"] == "orders"
        assert deal["properties"]["dealstage"] == "order_confirmed"
        assert Decimal(deal["properties"]["amount"]) == order.total
        contact = ExternalRef.objects.get(
            connection=seeded.connection, object_type="customer", object_id=order.customer_id
        ).external_id
        assert contact in deal["associations"]["contacts"]  # associated with its contact there


def test_the_reps_edit_reaches_the_hub_through_the_apps_webhook_endpoint(
    seeded: Demo, admin: Client, django_capture_on_commit_callbacks
) -> None:
    # given: the card on the demo connection's page
    page = admin.get(reverse("integrations:connection", args=[seeded.connection.pk])).content.decode()
    assert "A sales rep edits a contact" in page
    # when: the rep moves the contact on in HubSpot, and its webhook is delivered
    with django_capture_on_commit_callbacks(execute=True):
        response = admin.post(
            reverse("integrations:connection-demo", args=[seeded.connection.pk, hubspot_demo.EDIT])
        )
    # then: the signed event reached /integrations/hooks/app/hubspot/ and the stage kept here follows
    assert response.status_code == 302
    said = [str(m) for m in get_messages(response.wsgi_request)]
    assert "Its signed webhook reached this app's HubSpot address" in said[-1], said
    ref = ExternalRef.objects.get(
        connection=seeded.connection, object_type="customer", object_id=seeded.known.pk
    )
    assert ref.extra["crm"]["lifecycle_stage"]["value"] == "customer"
    stored = InboundEvent.objects.filter(connection=seeded.connection, topic="contact.propertyChange")
    [rep_event] = [e for e in stored if b'"propertyValue":"customer"' in bytes(e.body)]
    assert b'"changeSource":"CRM_UI"' in bytes(rep_event.body)
    # read with the contact's other events of the same delivery (a burst is read once): none failed
    assert {e.status for e in stored} <= {"processed", "skipped"}, [e.last_error for e in stored]
