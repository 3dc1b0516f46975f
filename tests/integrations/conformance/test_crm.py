"""The conformance kit's CRM part: every connector that takes customers out and brings them in
(a CRM), against its own fake, through the whole hub; deals too, where the connector takes them.

Customers changed here reach the CRM, several in one batch where the tool has a batch endpoint,
each with its own result (one the tool refuses dies with the tool's message, the others land), and
once whatever answer is lost. A contact edited in the CRM changes the customer here; the change we
pushed, told back by the CRM's webhook, is recognised and not applied again. The tool's webhooks
are the app's (every account's events to one address, ``app_webhooks``): a delivery of several
events is split, each de-duplicated on its own id; a stale or forged signature is refused, storing
nothing; an event for an account no connection is for goes nowhere. A confirmed order becomes a
deal after its customer, and its stage follows the order. A contact edited on both sides within a
minute ends, on both sides, as the connection's field rules say.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from erp import events
from integrations import outbound, ownership
from integrations.contract import Capability
from integrations.models import Delivery, DeliveryStatus, ExternalRef, InboundEvent, InboundStatus
from sales.models import Customer
from sales.services import customer_update, shipment_create
from tests.sales.factories import CustomerFactory

PART = frozenset({Capability.CUSTOMERS_IN, Capability.CUSTOMERS_OUT})


def _ref(kit, object_type: str, obj) -> ExternalRef:
    return ExternalRef.objects.get(connection=kit.connection, object_type=object_type, object_id=obj.pk)


def _in_the_crm(
    kit, name: str = "Ada Lovelace", email: str = "ada@example.com", kind: str = "company"
) -> tuple[Customer, str]:
    """A customer changed here, and so pushed to the CRM: the customer, and the contact's id there."""
    customer = CustomerFactory(name=name, email=email, kind=kind)
    kit.run(customer_update, customer=customer, phone="+1 555 0100")
    ref = _ref(kit, "customer", customer)
    [contact] = [c for c in kit.harness.contacts() if c["id"] == ref.external_id]
    return customer, contact["id"]


def _fresh(customer: Customer) -> Customer:
    return Customer.objects.get(pk=customer.pk)


def test_customers_changed_here_reach_the_crm_in_a_batch_each_with_its_own_result(crm_kit):
    kit = crm_kit
    refused_values, refusal = kit.harness.refused_customer()
    ada = CustomerFactory(name="Ada Lovelace", email="ada@example.com")
    sam = CustomerFactory(**{"name": "Sam Hiker", "email": "sam@example.com", **refused_values})
    grace = CustomerFactory(name="Grace Hopper", email="grace@example.com")

    with kit.capture(execute=True):  # one change each, their deliveries due together
        for customer in (ada, sam, grace):
            customer_update(customer=customer, phone="+1 555 0100")

    there = {c["reference"]: c for c in kit.harness.contacts()}
    assert sorted(there) == sorted([ada.code, grace.code])
    assert (there[ada.code]["name"], there[ada.code]["email"]) == ("Ada Lovelace", "ada@example.com")
    assert there[grace.code]["phone"] == "+1 555 0100"
    if kit.harness.connector.batch_size > 1:
        assert sum(kit.harness.batches()) == 3
        assert len(kit.harness.batches()) < 3  # several contacts in one request
    outcome = {d.event.payload["customer_id"]: d for d in kit.deliveries("sales.customer_updated")}
    assert (outcome[ada.pk].status, outcome[grace.pk].status) == (DeliveryStatus.SUCCEEDED,) * 2
    assert (outcome[sam.pk].status, outcome[sam.pk].attempts) == (DeliveryStatus.DEAD, 1)
    assert refusal in outcome[sam.pk].last_error
    assert _ref(kit, "customer", ada).external_id == there[ada.code]["id"]
    assert _ref(kit, "customer", grace).external_id == there[grace.code]["id"]
    assert not ExternalRef.objects.filter(connection=kit.connection, object_type="customer", object_id=sam.pk)


def test_a_lost_answer_makes_no_second_contact(crm_kit):
    kit = crm_kit
    customer = CustomerFactory(name="Katherine Johnson", email="kj@example.com")
    kit.harness.lose_next_answer()

    kit.run(customer_update, customer=customer, phone="+1 555 0111")

    [delivery] = kit.deliveries("sales.customer_updated")
    assert delivery.status == DeliveryStatus.FAILED  # the tool did it; the hub could not know
    Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
    with kit.capture(execute=True):
        outbound.delivery_attempt(delivery.pk)
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SUCCEEDED
    [contact] = kit.harness.contacts()
    assert (contact["reference"], contact["phone"]) == (customer.code, "+1 555 0111")
    assert _ref(kit, "customer", customer).external_id == contact["id"]


def test_a_contact_edited_in_the_crm_changes_the_customer_here(crm_kit):
    kit = crm_kit
    # a person: a company customer's company there (never read back) would take the new phone too
    customer, contact_id = _in_the_crm(kit, kind="person")

    response = kit.post(*kit.harness.edit_contact(contact_id, phone="+44 20 7946 0000"))

    assert response.status_code == 200, response.content
    assert _fresh(customer).phone == "+44 20 7946 0000"
    [event] = InboundEvent.objects.filter(connection=kit.connection)
    assert (event.status, event.attempts) == (InboundStatus.PROCESSED, 1)
    [contact] = kit.harness.contacts()
    assert contact["phone"] == "+44 20 7946 0000"
    # the CRM's own edit is not pushed back to it
    [back] = Delivery.objects.filter(connection=kit.connection, topic="sales.customer_updated").order_by(
        "-pk"
    )[:1]
    assert back.status == DeliveryStatus.SKIPPED
    assert "as it is already" in back.last_error


def test_the_change_we_pushed_told_back_by_the_crm_is_not_applied_again(crm_kit):
    kit = crm_kit
    customer, _ = _in_the_crm(kit)  # created there
    kit.run(customer_update, customer=_fresh(customer), email="ada.lovelace@example.com")  # changed there
    history, pushes = customer.history.count(), len(kit.deliveries())

    response = kit.post(*kit.harness.writes_reported())

    assert response.status_code == 200, response.content
    assert response.json()["received"] >= 2  # the contact's creation, and our change of it
    events = InboundEvent.objects.filter(connection=kit.connection)
    assert {(e.status, e.attempts) for e in events} == {(InboundStatus.SKIPPED, 1)}
    assert customer.history.count() == history  # no second change here
    assert len(kit.deliveries()) == pushes  # and so nothing to push back
    fresh = _fresh(customer)
    assert (fresh.name, fresh.email, fresh.phone) == (
        "Ada Lovelace",
        "ada.lovelace@example.com",
        "+1 555 0100",
    )


def test_a_delivery_of_several_events_is_split_and_each_processed_once(crm_kit):
    kit = crm_kit
    customer, contact_id = _in_the_crm(kit)
    delivery = kit.harness.edit_contact(
        contact_id, name="Ada King", email="ada.king@example.com", phone="+44 20 7946 0001"
    )

    first = kit.post(*delivery)
    history = customer.history.count()
    again = kit.post(*delivery)

    assert (first.status_code, again.status_code) == (200, 200)
    count = first.json()["received"]
    assert count >= 2  # one event per value changed
    assert (again.json()["received"], again.json()["duplicates"]) == (0, count)
    events = list(InboundEvent.objects.filter(connection=kit.connection))
    assert len(events) == count
    assert {e.status for e in events} <= {InboundStatus.PROCESSED, InboundStatus.SKIPPED}
    assert {e.attempts for e in events} == {1}
    assert customer.history.count() == history
    fresh = _fresh(customer)
    assert (fresh.name, fresh.email, fresh.phone) == ("Ada King", "ada.king@example.com", "+44 20 7946 0001")


def test_a_stale_or_forged_signature_is_refused_storing_nothing(crm_kit):
    kit = crm_kit
    customer, contact_id = _in_the_crm(kit)
    headers, body = kit.harness.edit_contact(contact_id, phone="+1 555 0199")

    stale = kit.post(*kit.harness.stale(headers, body))
    forged = kit.post(*kit.harness.forged(headers, body))
    tampered = kit.post(headers, body.replace(b"0199", b"0911"))

    assert (stale.status_code, forged.status_code, tampered.status_code) == (401, 401, 401)
    assert not InboundEvent.objects.exists()
    assert _fresh(customer).phone == "+1 555 0100"

    accepted = kit.post(headers, body)

    assert accepted.status_code == 200
    assert _fresh(customer).phone == "+1 555 0199"


def test_an_event_for_an_account_no_connection_is_for_goes_nowhere(crm_kit):
    kit = crm_kit
    customer, contact_id = _in_the_crm(kit)

    response = kit.post(*kit.harness.other_accounts_edit(contact_id, phone="+1 555 0122"))

    assert response.status_code == 200  # answered, so the tool does not send it again
    assert response.json()["unrouted"] == [kit.harness.other_account]
    assert not InboundEvent.objects.exists()
    assert _fresh(customer).phone == "+1 555 0100"


def test_a_confirmed_order_becomes_a_deal_after_its_customer_and_follows_shipping(crm_kit):
    kit = crm_kit
    if Capability.DEALS_OUT not in kit.harness.connector.capabilities:
        pytest.skip(f"{kit.harness.connector.name} does not take deals")
    customer = CustomerFactory(name="Dorothy Vaughan", email="dorothy@example.com")  # not in the CRM

    order = kit.sell(customer, quantity=2)

    [contact] = kit.harness.contacts()
    deal = kit.harness.deal(order.number)
    assert deal is not None
    assert (deal["contact"], Decimal(deal["amount"])) == (contact["id"], order.total)
    assert deal["stages"] == ["confirmed"]
    assert _ref(kit, "deal", order).external_id == deal["id"]
    assert _ref(kit, "customer", customer).external_id == contact["id"]
    [confirmed] = kit.deliveries("sales.order_confirmed")
    assert (confirmed.status, confirmed.blocked_on_id) == (DeliveryStatus.SUCCEEDED, None)
    [first] = kit.deliveries("sales.customer_updated")  # pushed first, for the deal
    assert first.status == DeliveryStatus.SUCCEEDED

    kit.run(shipment_create, order=order)

    shipped = kit.harness.deal(order.number)
    assert shipped is not None
    assert shipped["stages"] == ["confirmed", "shipped"]
    assert [d.status for d in kit.deliveries("sales.shipment_shipped")] == [DeliveryStatus.SUCCEEDED]


def test_a_contact_edited_on_both_sides_within_a_minute_ends_as_the_field_rules_say(crm_kit):
    """Name, email and phone are the last writer's (the CRM's defaults): on both sides, each ends as
    the side that changed it last left it, whichever side's news arrives first."""
    kit = crm_kit
    customer, contact_id = _in_the_crm(kit)
    owners = ownership.field_owners_of(kit.connection)
    assert {owners[f] for f in ("name", "email", "phone")} == {"latest"}
    # here, the phone changes first; its push has not gone yet
    customer_update(customer=_fresh(customer), phone="+1 555 0177")
    # then, in the CRM, the name and the phone: its webhook is on its way
    crm_edit = kit.harness.edit_contact(contact_id, name="Ada King", phone="+44 20 7946 0002")
    # then, here again, the email: pushed at once
    kit.run(customer_update, customer=_fresh(customer), email="ada.king@example.com")

    assert kit.post(*crm_edit).status_code == 200  # the CRM's news arrives
    kit.run(events.sweep, grace=datetime.timedelta(0))  # and ours, the phone's push, goes late

    fresh = _fresh(customer)
    [contact] = kit.harness.contacts()
    expected = ("Ada King", "ada.king@example.com", "+44 20 7946 0002")
    assert (fresh.name, fresh.email, fresh.phone) == expected
    assert (contact["name"], contact["email"], contact["phone"]) == expected
