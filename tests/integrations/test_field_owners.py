"""Field ownership of customers, outbound: what a CRM with field rules gets of a customer (the fields
it owns withheld, when each field took its value here, terms and order history), what every other
tool still gets, the order history kept current, and the rules set on the connection (the service,
the connection page, the API)."""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterator
from decimal import Decimal

import httpx
import pytest
from django.db import transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from erp import events
from erp.exceptions import ValidationFailed
from erp.models import OutboxEvent
from integrations import field_owners, http, outbound_crm, ownership, registry
from integrations.connections import connection_create
from integrations.field_owners import Owner
from integrations.models import Connection, Delivery, DeliveryStatus, ExternalRef
from integrations.outbound_accounting import customer_out, resolve_customer
from integrations.outbound_items import Resolved
from sales.models import Customer, SalesOrder
from sales.services import customer_update, order_cancel, order_confirm
from tests.erp.factories import UserFactory, api_key_for, bearer
from tests.integrations.conformance.pipeline.connector import BASE_URL, PORTAL, PipelineConnector
from tests.integrations.conformance.pipeline.fake import ACCESS_TOKEN, CLIENT_SECRET, FakePipeline
from tests.integrations.factories import ConnectionFactory, DeliveryFactory, ExternalRefFactory
from tests.integrations.ui_support import (
    admin_fixture,  # noqa: F401  (a fixture)
    htmx,
    reader_fixture,  # noqa: F401  (a fixture)
)
from tests.queries import assert_constant_queries
from tests.sales.factories import CustomerFactory, order_for, stocked_product

pytestmark = pytest.mark.django_db

API = "/api/v1/integrations/connections"


@pytest.fixture(name="crm")
def crm_fixture(db) -> Iterator[Connection]:
    """A connection of Pipeline, the kit's test CRM: field rules over the defaults (code the hub's;
    name, email and phone the last writer's)."""
    known = PipelineConnector.key in {c.key for c in registry.all_connectors()}
    if not known:
        registry.register(PipelineConnector)
    try:
        yield connection_create(
            connector=PipelineConnector.key,
            name="Pipeline CRM",
            settings={"base_url": BASE_URL, "portal_id": PORTAL},
            secrets={"access_token": ACCESS_TOKEN, "client_secret": CLIENT_SECRET},
        )
    finally:
        if not known:
            registry.unregister(PipelineConnector.key)


def linked(crm: Connection, customer: Customer, external_id: str = "9101", **extra: str) -> None:
    ExternalRefFactory(
        connection=crm, object_type="customer", external_id=external_id, internal=customer, extra=extra
    )


def changed(customer: Customer) -> OutboxEvent:
    return OutboxEvent(topic="sales.customer_updated", payload={"customer_id": customer.pk})


def resolved(crm: Connection, customer: Customer) -> Resolved:
    found = resolve_customer(crm, changed(customer), True)
    assert isinstance(found, Resolved), found
    return found


def confirmed(customer: Customer, quantity: int = 1) -> SalesOrder:
    return order_confirm(order=order_for((stocked_product(10), quantity), customer=customer))


# --- what a CRM gets ------------------------------------------------------------------------------


def test_a_crm_gets_what_it_owns_withheld_when_each_field_changed_here_and_the_order_history(crm):
    customer = CustomerFactory(name="Ada", email="ada@example.com", payment_terms="net_15")
    customer = customer_update(customer=customer, name="Ada Lovelace")
    renamed_at = customer.history.latest().history_date
    customer = customer_update(customer=customer, phone="+1 555 0100")  # later: the name's time stays
    phoned_at = customer.history.latest().history_date
    first, second = confirmed(customer, 2), confirmed(customer, 3)
    order_cancel(order=confirmed(customer, 1))
    order_for((stocked_product(10), 1), customer=customer)  # a draft counts for nothing
    linked(crm, customer, company_id="77")
    crm = ownership.field_owners_set(connection=crm, owners={"phone": "tool"})

    item = resolved(crm, customer).item

    assert (item.withheld, item.latest) == (("phone",), ("email", "name"))
    assert set(item.changed_at) == {"code", "name", "email", "phone"}
    assert (item.changed_at["name"], item.changed_at["phone"]) == (renamed_at, phoned_at)
    assert item.changed_at["email"] < renamed_at  # set when the customer was created
    assert item.payment_terms == "net_15"
    assert item.lifetime_value == first.total + second.total
    assert item.last_order_date == timezone.localdate(max(first.order_date, second.order_date))
    assert item.company_external_id == "77"


def test_a_new_contact_gets_every_value_even_those_the_crm_owns_afterwards(crm):
    customer = CustomerFactory(name="Grace Hopper")
    crm = ownership.field_owners_set(connection=crm, owners={"name": "tool"})

    item = resolved(crm, customer).item

    assert (item.external_id, item.withheld, item.name) == ("", (), "Grace Hopper")
    assert (item.lifetime_value, item.last_order_date) == (Decimal(0), None)


def test_a_tool_without_field_rules_gets_the_customer_as_it_always_did(crm):
    books = ConnectionFactory(connector="quickbooks", settings={"realm_id": "1", "environment": "sandbox"})
    customer = CustomerFactory(name="Katherine Johnson")
    confirmed(customer)
    linked(books, customer, external_id="58")

    item = resolved(books, customer).item

    assert item == customer_out(Customer.objects.get(pk=customer.pk), "58", "")
    assert (item.withheld, item.latest, item.changed_at, item.lifetime_value) == ((), (), {}, None)


def test_a_crm_customer_costs_the_same_queries_whatever_its_history_and_orders(crm):
    customer = CustomerFactory(name="Dorothy Vaughan")
    linked(crm, customer)

    def grow() -> None:
        for n in range(4):
            customer_update(customer=Customer.objects.get(pk=customer.pk), phone=f"+1 555 010{n}")
            confirmed(customer)

    assert_constant_queries(lambda: resolved(crm, customer), grow)


# --- the order history kept current ---------------------------------------------------------------


@pytest.fixture(name="tool")
def tool_fixture() -> Iterator[FakePipeline]:
    fake = FakePipeline()
    with http.mounted(BASE_URL, httpx.MockTransport(fake.handle)):
        yield fake


def test_an_order_confirmed_or_cancelled_pushes_the_customers_order_history_again(
    crm, tool, django_capture_on_commit_callbacks
):
    customer = CustomerFactory(name="Mary Jackson", email="mary@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        customer_update(customer=customer, phone="+1 555 0142")  # now in the CRM
    [contact] = tool.contacts.values()
    assert contact["values"]["lifetime_value"] == "0"

    order = order_for((stocked_product(10), 2), customer=customer)
    with django_capture_on_commit_callbacks(execute=True):
        order = order_confirm(order=order)

    assert Decimal(contact["values"]["lifetime_value"]) == order.total
    assert contact["values"]["last_order"] == timezone.localdate(order.order_date).isoformat()
    [again] = Delivery.objects.filter(connection=crm, topic=outbound_crm.CUSTOMER_AGAIN)
    assert again.status == DeliveryStatus.SUCCEEDED

    with django_capture_on_commit_callbacks(execute=True):
        order_cancel(order=order)

    assert contact["values"]["lifetime_value"] == "0"


def test_a_push_of_the_customer_waiting_unclaimed_takes_the_new_history_with_it(crm):
    customer = CustomerFactory(name="Annie Easley")
    linked(crm, customer)
    waiting = DeliveryFactory(
        connection=crm,
        topic="sales.customer_updated",
        event__topic="sales.customer_updated",
        event__aggregate_type="sales.customer",
        event__aggregate_id=str(customer.pk),
        event__sequence=99,  # far from what the outbox numbers next
    )

    with transaction.atomic():
        assert not outbound_crm.customer_again(crm, customer, why="order history")
        Delivery.objects.filter(pk=waiting.pk).update(claimed_until=timezone.now() + datetime.timedelta(60))
        assert outbound_crm.customer_again(crm, customer, why="order history")  # in flight: read already

    [event] = OutboxEvent.objects.filter(topic=outbound_crm.CUSTOMER_AGAIN)
    assert event.payload == {"connection_id": crm.pk, "customer_id": customer.pk, "why": "order history"}


def test_an_order_confirmed_while_the_first_push_of_its_customer_is_on_its_way_pushes_it_again(
    crm, django_capture_on_commit_callbacks
):
    """The customer's first push read its history (none) and is waiting for HubSpot's answer, so
    the tool has no link yet: the order's confirmation still pushes the customer again, else the
    tool keeps a lifetime value of 0 (what the simulated day with real workers found)."""
    customer = CustomerFactory(name="Katherine Johnson")
    order = order_for((stocked_product(10), 1), customer=customer)
    assert not ExternalRef.objects.filter(connection=crm, object_type="customer").exists()

    with django_capture_on_commit_callbacks(execute=False):
        order_confirm(order=order)
    [confirmed_event] = OutboxEvent.objects.filter(topic="sales.order_confirmed")
    events.dispatch_event(confirmed_event.pk)  # its subscribers run as the dispatcher would run them

    [event] = OutboxEvent.objects.filter(topic=outbound_crm.CUSTOMER_AGAIN)
    assert event.payload["customer_id"] == customer.pk
    assert event.payload["connection_id"] == crm.pk


# --- the rules -------------------------------------------------------------------------------------


def test_rules_refuse_what_only_one_side_can_own():
    assert field_owners.rules({"email": "tool"})["email"] == Owner.TOOL
    with pytest.raises(ValueError, match="always the tool's"):
        field_owners.rules({"lifecycle_stage": "hub"})
    with pytest.raises(ValueError, match="always the hub's"):
        field_owners.rules({"code": "latest"})


def test_setting_field_owners_saves_them_in_the_settings_and_refuses_with_a_reason(crm):
    saved = ownership.field_owners_set(connection=crm, owners={"email": "tool"})
    assert saved.settings["field_owners"] == {"email": "tool"}
    assert ownership.field_owners_of(saved)["email"] == Owner.TOOL

    with pytest.raises(ValidationFailed) as refused:
        ownership.field_owners_set(connection=saved, owners={"phone": "nobody", "address": "tool"})

    assert refused.value.field_errors == {
        "field_owners.phone": ["The owner of phone must be hub, tool or latest, not 'nobody'."],
        "field_owners.address": ["Pipeline CRM does not keep address."],
    }
    assert Connection.objects.get(pk=crm.pk).settings["field_owners"] == {"email": "tool"}
    books = ConnectionFactory(connector="quickbooks", settings={"realm_id": "1", "environment": "sandbox"})
    with pytest.raises(ValidationFailed, match="keeps no customer fields"):
        ownership.field_owners_set(connection=books, owners={"email": "tool"})


def test_the_connection_page_shows_the_customer_fields_and_staff_set_their_owners(
    admin: Client, reader: Client, crm
):
    page = reverse("integrations:connection", args=[crm.pk])
    content = reader.get(page).content.decode()
    assert 'id="field-owners"' in content
    assert "Owner (sales rep)" not in content  # Pipeline keeps no owner
    assert 'name="fields-email"' not in content  # a reader sees the owners, not the form

    url = reverse("integrations:connection-field-owners", args=[crm.pk])
    response = admin.post(
        url, {"fields-name": "tool", "fields-email": "latest", "fields-phone": "hub"}, **htmx("ownership")
    )

    assert response.status_code == 200
    assert json.loads(response["HX-Trigger"])["toast"]["level"] == "success"
    owners = ownership.field_owners_of(Connection.objects.get(pk=crm.pk))
    assert (owners["name"], owners["email"], owners["phone"]) == (Owner.TOOL, Owner.LATEST, Owner.HUB)
    refused = admin.post(url, {"fields-name": "nobody"}, **htmx("ownership"))
    assert "Choose the hub, the tool or the last writer." in refused.content.decode()


def test_the_api_lists_and_sets_field_owners(crm):
    headers = bearer(api_key_for(UserFactory(username="ines", roles=["Integration admin"])))
    client = Client()

    listed = client.get(f"{API}/{crm.pk}/field-owners", **headers).json()
    assert [(r["field"], r["owner"], r["default"]) for r in listed] == [
        ("code", "hub", True),
        ("name", "latest", True),
        ("email", "latest", True),
        ("phone", "latest", True),
    ]
    put = client.put(
        f"{API}/{crm.pk}/field-owners",
        {"owners": {"phone": "tool"}},
        content_type="application/json",
        **headers,
    )
    assert put.status_code == 200
    assert [r["owner"] for r in put.json() if r["field"] == "phone"] == ["tool"]
    refused = client.put(
        f"{API}/{crm.pk}/field-owners",
        {"owners": {"code": "tool"}},
        content_type="application/json",
        **headers,
    )
    assert refused.status_code == 422
    assert "always the hub's" in refused.content.decode()
