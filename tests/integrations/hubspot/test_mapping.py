"""HubSpot's properties and the hub's records: every value a string, our fields to the properties
holding them (the tool's left out), company domains, and a contact read with its history giving
when each of our fields changed there, its CRM-kept values, its company and the records merged
into it. The connection's settings refuse an unknown field owner or order stage."""

from __future__ import annotations

import dataclasses
import datetime
from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from integrations.field_owners import Owner
from integrations.hubspot import mapping
from integrations.hubspot.client import HubSpotSettings
from integrations.records import CustomerOut
from tests.integrations.hubspot.test_connector import connect, sample

T = datetime.datetime(2026, 3, 14, 15, 0, tzinfo=datetime.UTC)
ADDRESS = {
    "line1": "1 Main St",
    "line2": "Suite 4",
    "city": "Louisville",
    "region": "KY",
    "postal_code": "40202",
    "country": "US",
}


def item(**values: Any) -> CustomerOut:
    base: dict[str, Any] = {
        "reference": "C-58",
        "external_id": "",
        "version": "",
        "name": "Jane Q Buyer",
        "email": "jane@buyer.test",
        "phone": "+15025550142",
        "is_company": False,
        "tax_id": "US-123",
        "payment_terms": "net_30",
        "billing_address": ADDRESS,
    }
    return CustomerOut(**(base | values))


def test_a_customers_contact_properties_are_strings_by_our_fields():
    properties = mapping.contact_properties(
        item(lifetime_value=Decimal("10.50"), last_order_date=datetime.date(2026, 3, 1))
    )

    assert properties == {
        "firstname": "Jane",
        "lastname": "Q Buyer",
        "email": "jane@buyer.test",
        "phone": "+15025550142",
        "address": "1 Main St, Suite 4",
        "city": "Louisville",
        "state": "KY",
        "zip": "40202",
        "country": "US",
        "erp_tax_id": "US-123",
        "erp_payment_terms": "net_30",
        "erp_lifetime_value": "10.50",
        "erp_last_order_date": "2026-03-01",
    }


def test_a_left_out_field_takes_all_its_properties_with_it():
    withheld = dataclasses.replace(item(is_company=True), withheld=("name",))
    properties = mapping.contact_properties(withheld, leave_out={"name", "address", "payment_terms"})

    assert not {"firstname", "lastname", "company", "address", "city", "state", "zip", "country"} & set(
        properties
    )
    assert "erp_payment_terms" not in properties
    assert properties["erp_tax_id"] == "US-123"


def test_a_company_customers_name_newer_on_the_contact_still_goes_to_its_company_property():
    """Left out as newer there, the person's name stays HubSpot's; the company name is ours."""
    properties = mapping.contact_properties(item(is_company=True), leave_out={"name"})

    assert not {"firstname", "lastname"} & set(properties)
    assert properties["company"] == item(is_company=True).name


def test_a_company_takes_its_domain_from_the_email_unless_a_free_mail_providers():
    company = mapping.company_properties(
        item(name="Buyer Outdoor Supply LLC", email="orders@BuyerOutdoor.test")
    )

    assert (company["name"], company["domain"], company["address"], company["address2"]) == (
        "Buyer Outdoor Supply LLC",
        "buyeroutdoor.test",
        "1 Main St",
        "Suite 4",
    )
    assert "domain" not in mapping.company_properties(item(email="jane@gmail.com"))
    assert "domain" not in mapping.company_properties(item(email="jane@buyer.test"), leave_out={"email"})
    assert mapping.company_domain("no-at-sign") == ""


def test_only_a_latest_field_changed_there_after_here_is_newer_there():
    there = {
        "name": T + datetime.timedelta(seconds=1),
        "email": T - datetime.timedelta(seconds=1),
        "phone": T,
    }
    ours = item(latest=("email", "name", "phone", "tax_id"), changed_at={"name": T, "email": T, "phone": T})

    assert mapping.newer_there(ours, there) == {"name"}  # same time: ours goes; no time here: ours goes


def test_a_contact_with_history_reads_as_our_customer():
    contact = sample("contact_object_response.json")
    contact["properties"] |= {
        "hs_merged_object_ids": "65059681101;65059681032",
        "hubspot_owner_id": "45678",
        "hs_marketable_status": "true",
        "erp_tax_id": "US-9",
        "city": "Louisville",
    }
    contact["propertiesWithHistory"] = {
        "firstname": [
            {"value": "Jane", "timestamp": "2026-03-14T14:22:10.512Z", "sourceType": "INTEGRATION"}
        ],
        "lastname": [
            {"value": "Buyer", "timestamp": "2026-03-14T14:30:00.000Z", "sourceType": "CRM_UI"},
            {"value": "Byer", "timestamp": "2026-03-14T14:22:10.512Z", "sourceType": "INTEGRATION"},
        ],
        "phone": [{"value": "+15025550142", "timestamp": "1773498131874", "sourceType": "CRM_UI"}],
        "city": [{"value": "Louisville", "timestamp": "2026-03-14T14:40:00Z", "sourceType": "CRM_UI"}],
    }
    contact["associations"] = {
        "companies": {
            "results": [
                {"id": "111", "type": "contact_to_company_unlabeled"},
                {"id": "18342998071", "type": "contact_to_company"},
            ]
        }
    }

    record = mapping.customer_record(contact)

    assert record.changed_at == {
        "name": datetime.datetime(2026, 3, 14, 14, 30, tzinfo=datetime.UTC),  # the later of first and last
        "phone": datetime.datetime(2026, 3, 14, 14, 22, 11, 874000, tzinfo=datetime.UTC),
        "address": datetime.datetime(2026, 3, 14, 14, 40, tzinfo=datetime.UTC),
    }
    assert record.crm == {
        "lifecycle_stage": "customer",
        "owner": "45678",
        "marketing": "true",
        # what the hub sends and keeps no rule for, read back to be compared
        "payment_terms": "",
        "lifetime_value": "",
        "last_order_date": "",
    }
    assert record.merged_external_ids == ("65059681101",)
    assert record.company_external_id == "18342998071"
    assert (record.tax_id, record.address) == (
        "US-9",
        {"line1": "", "city": "Louisville", "region": "", "postal_code": "", "country": ""},
    )


def test_the_settings_refuse_an_unknown_owner_or_stage_and_give_the_rules():
    with pytest.raises(ValidationError, match="must be hub, tool or latest"):
        HubSpotSettings.model_validate({"field_owners": {"email": "sales"}})
    with pytest.raises(ValidationError, match="always the hub's"):
        HubSpotSettings.model_validate({"field_owners": {"code": "tool"}})
    with pytest.raises(ValidationError, match="Unknown order stage"):
        HubSpotSettings.model_validate({"stages": {"won": "closedwon"}})
    defaults = HubSpotSettings.model_validate({})
    assert defaults.stages["cancelled"] == "closedlost"
    assert {defaults.stages[s] for s in ("confirmed", "shipped", "invoiced", "paid", "closed")} == {
        "closedwon"
    }


@pytest.mark.django_db
def test_the_connections_field_owners_are_the_defaults_with_its_overrides():
    owners = connect({"field_owners": {"email": "tool", "address": "latest"}}).field_owners()

    assert (owners["email"], owners["address"], owners["name"], owners["code"]) == (
        Owner.TOOL,
        Owner.LATEST,
        Owner.LATEST,
        Owner.HUB,
    )
