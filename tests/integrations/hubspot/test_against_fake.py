"""The connector against the fake HubSpot, for what only the two together show: a contact someone
made in HubSpot with a customer's email before the hub sent the customer (HubSpot answers the upsert
with a CONFLICT naming the existing contact) becomes that customer's contact, not a dead letter nor
a second contact; and a company customer's deal is associated with the company as well as the
contact."""

from __future__ import annotations

import dataclasses
import datetime
from decimal import Decimal

import httpx
import pytest

from integrations import registry
from integrations.connections import connection_create
from integrations.contract import PushContext
from integrations.errors import PermanentError
from integrations.http import mounted
from integrations.hubspot.fake import BASE_URL, CLIENT_SECRET, PORTAL_ID, PRIVATE_APP_TOKEN, FakeHubSpot
from integrations.records import CustomerOut, DealOut

pytestmark = pytest.mark.django_db


@pytest.fixture
def fake():
    tool = FakeHubSpot()
    with mounted(BASE_URL, httpx.MockTransport(tool.handle)):
        yield tool


@pytest.fixture
def connector(fake):
    connection = connection_create(
        connector="hubspot",
        name="HubSpot",
        settings={
            "portal_id": str(PORTAL_ID),
            "pipeline": "orders",
            "stages": {"confirmed": "order_confirmed"},
        },
        secrets={"access_token": PRIVATE_APP_TOKEN, "client_secret": CLIENT_SECRET},
    )
    return registry.connector_for(connection)


def _customer(code: str, name: str, email: str, *, company: bool = False) -> CustomerOut:
    return CustomerOut(reference=code, external_id="", version="", name=name, email=email, is_company=company)


def _context(key: str) -> PushContext:
    return PushContext(idempotency_key=key)


def test_a_contact_made_there_with_the_customers_email_becomes_the_customers(fake, connector):
    theirs = fake.rep_creates("contacts", firstname="Ada", lastname="King", email="ada@example.com")
    ada = _customer("C-1", "Ada Lovelace", "ada@example.com")
    sam = _customer("C-2", "Sam Hiker", "sam@example.com")

    results = connector.push_batch([(ada, _context("k-1")), (sam, _context("k-2"))])

    assert results[0].external_id == theirs.id
    assert "already there with this email" in results[0].detail
    assert results[1].external_id != theirs.id
    contacts = fake.snapshot()["contacts"]
    assert len(contacts) == 2  # no second Ada
    values = fake.values("contacts", theirs.id)
    assert (values["erp_customer_code"], values["lastname"]) == ("C-1", "Lovelace")


def test_a_contact_whose_number_was_changed_there_is_found_by_its_email_and_keyed_again(fake, connector):
    first = _customer("C-1", "Ada Lovelace", "ada@example.com")
    connector.push_batch([(first, _context("k-1"))])
    fake.rep_edits("contacts", fake.snapshot()["contacts"].popitem()[0], erp_customer_code="C-9")
    again = _customer("C-1", "Ada Lovelace", "ada@example.com")

    [result] = connector.push_batch([(again, _context("k-2"))])

    assert not isinstance(result, PermanentError), result
    [(contact_id, contact)] = fake.snapshot()["contacts"].items()
    assert result.external_id == contact_id
    assert contact["properties"]["erp_customer_code"] == "C-1"


def test_a_company_customers_deal_is_associated_with_its_company_and_contact(fake, connector):
    [pushed] = connector.push_batch(
        [(_customer("C-3", "Acme Tools", "buyer@acme.example", company=True), _context("k-3"))]
    )
    company_id = pushed.extra["company_id"]
    deal = DealOut(
        reference="SO-00042",
        external_id="",
        version="",
        name="SO-00042 Acme Tools",
        amount=Decimal("120.00"),
        currency="USD",
        stage="confirmed",
        close_date=datetime.date(2026, 12, 6),
        customer_external_id=pushed.external_id,
        company_external_id=company_id,
    )

    [made] = connector.push_batch([(deal, _context("k-4"))])

    assert company_id in {str(k) for k in fake.associated_ids("deals", made.external_id, "companies")}
    assert pushed.external_id in {str(k) for k in fake.associated_ids("deals", made.external_id, "contacts")}


def test_a_contact_linked_by_its_email_is_updated_by_its_id_not_made_twice(fake, connector):
    """HubSpot told us of a contact someone made there (the hub linked it to the customer with its
    email); our first push must not make a second contact because the first one lacks our number,
    even when the email is left out (HubSpot's is newer)."""
    theirs = fake.rep_creates("contacts", firstname="Ada", lastname="King", email="ada@example.com")
    long_ago = datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC)
    item = CustomerOut(
        reference="C-1",
        external_id=theirs.id,
        version="",
        name="Ada Lovelace",
        email="ada@example.com",
        phone="+1 555 0100",
        latest=("email", "name", "phone"),
        changed_at={"email": long_ago, "name": long_ago, "phone": long_ago},
    )

    [result] = connector.push_batch([(item, _context("k-1"))])

    assert result.external_id == theirs.id
    assert len(fake.snapshot()["contacts"]) == 1
    values = fake.values("contacts", theirs.id)
    assert values["erp_customer_code"] == "C-1"
    assert values["lastname"] == "King"  # HubSpot's name is newer than ours: it stays
    assert values["phone"] == "+1 555 0100"  # HubSpot had none: ours goes


def test_a_company_follows_a_name_the_rep_gave_the_contact_after_ours(fake, connector):
    """The rep renames the contact; a push that carries our older name (the hub has not taken the
    rep's yet) leaves the person's name alone, yet the company and the contact's company name show
    what we send: they are ours, read back by nobody, and the push that follows the hub taking the
    new name carries it to them."""
    first = _customer("C-5", "Acme Tools", "buyer@acme.example", company=True)
    [pushed] = connector.push_batch([(first, _context("k-5"))])
    contact_id, company_id = pushed.external_id, pushed.extra["company_id"]
    ours_changed = datetime.datetime.now(datetime.UTC) - datetime.timedelta(hours=1)
    fake.rep_edits("contacts", contact_id, lastname="Tools Ltd")
    linked = dataclasses.replace(
        first,
        external_id=contact_id,
        name="Acme Tools Inc",  # renamed here before the rep's edit
        latest=("name", "phone"),
        changed_at={"name": ours_changed, "phone": ours_changed},
        company_external_id=company_id,
    )

    [again] = connector.push_batch([(linked, _context("k-6"))])

    assert again.extra["company_id"] == company_id
    contact = fake.get_record("contacts", contact_id)
    assert contact is not None
    assert contact.get("lastname") == "Tools Ltd"  # the rep's is newer: left as it is
    assert contact.get("company") == "Acme Tools Inc"
    company = fake.get_record("companies", company_id)
    assert company is not None
    assert company.get("name") == "Acme Tools Inc"
