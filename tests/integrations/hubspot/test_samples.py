"""What the connector sends is what HubSpot's samples show (the same keys, every value of the same
type: HubSpot's property values are all strings), and what HubSpot answers in the samples reads as
it should: the 200 and 207 batch upserts, a contact, a search page."""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from integrations.contract import PushResult
from integrations.errors import PermanentError
from integrations.hubspot import mapping
from integrations.hubspot.connector import HubSpotConnector
from tests.integrations.hubspot.test_connector import (
    ASSOCIATE,
    UPSERT_CONTACTS,
    UPSERT_DEALS,
    Api,
    associated,
    connect,
    ctx,
    customer,
    deal,
    sample,
    serving,
    upserted,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def api() -> Iterator[Api]:
    with serving() as tool:
        yield tool


@pytest.fixture
def connector(api: Api) -> HubSpotConnector:
    return connect()


def shape(value: Any) -> Any:
    """The keys and value types of a JSON value, recursively (a list by its first element)."""
    if isinstance(value, dict):
        return {key: shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    return type(value).__name__


def test_the_contacts_upsert_is_the_samples_shape(api, connector):
    api.on("POST", UPSERT_CONTACTS, sample("contacts_batch_upsert_response.json"))
    expected = sample("contacts_batch_upsert_request.json")

    connector.push_batch([(customer("C-58"), ctx("erp-cust-58")), (customer("C-59"), ctx("erp-cust-59"))])

    [body] = api.sent("POST", UPSERT_CONTACTS)
    ours, theirs = body["inputs"][0], expected["inputs"][0]
    assert shape({**ours, "properties": {}}) == shape({**theirs, "properties": {}})
    assert set(theirs["properties"]) <= set(ours["properties"])
    assert {type(v) for v in ours["properties"].values()} == {str}


def test_the_samples_200_answer_is_one_result_each(api, connector):
    api.on("POST", UPSERT_CONTACTS, sample("contacts_batch_upsert_response.json"))

    jane, sam = connector.push_batch(
        [(customer("C-58"), ctx("erp-cust-58")), (customer("C-59"), ctx("erp-cust-59"))]
    )

    assert jane == PushResult(external_id="65059681032", detail="contact 65059681032 updated")
    assert sam == PushResult(external_id="65059681101", detail="contact 65059681101 created")


def test_the_samples_207_is_one_success_and_one_permanent_error_in_hubspots_words(api, connector):
    api.on("POST", UPSERT_CONTACTS, sample("contacts_batch_upsert_response_207_with_errors.json"), 207)

    jane, sam = connector.push_batch(
        [(customer("C-58"), ctx("erp-cust-58")), (customer("C-59"), ctx("erp-cust-59"))]
    )

    assert isinstance(jane, PushResult)
    assert jane.external_id == "65059681032"
    assert isinstance(sam, PermanentError)
    assert "Email address sam.hiker@@example.com is invalid" in str(sam)
    assert "VALIDATION_ERROR" in str(sam)


def test_a_deals_properties_are_the_samples(api, connector):
    api.on("POST", UPSERT_DEALS, upserted)
    api.on("POST", ASSOCIATE.format("deals", "contacts"), associated)
    theirs = sample("deal_create_request.json")["properties"]

    connector.push_batch([(deal(), ctx("d1"))])

    ours = api.sent("POST", UPSERT_DEALS)[0]["inputs"][0]["properties"]
    # the sample keys its deal by a property of its own (erp_order_id); ours is the upsert's idProperty
    assert set(ours) == set(theirs) - {"erp_order_id"}
    assert shape(ours) == dict.fromkeys(ours, "str")
    assert datetime.datetime.fromisoformat(ours["closedate"].replace("Z", "+00:00")).tzinfo is not None


def test_the_polling_search_is_the_samples_shape(api, connector):
    api.on("POST", "/crm/v3/objects/contacts/search", sample("contacts_search_response.json"))
    expected = sample("contacts_search_request.json")

    page = connector.pull("customer", since=datetime.datetime(2026, 3, 14, tzinfo=datetime.UTC), page=None)

    [body] = api.sent("POST", "/crm/v3/objects/contacts/search")
    assert shape(body) == shape(expected)
    [item] = page.items
    assert (item.external_id, item.updated_at) == (
        "65059681032",
        datetime.datetime(2026, 3, 14, 14, 22, 11, 874000, tzinfo=datetime.UTC),
    )


def test_the_sample_contact_reads_as_our_customer(api, connector):
    contact = sample("contact_object_response.json")
    contact["associations"] = {
        "companies": {"results": [{"id": "18342998071", "type": "contact_to_company"}]}
    }
    api.on("GET", "/crm/v3/objects/contacts/65059681032", contact)

    item = connector.fetch("customer", "65059681032")

    record = item.record
    assert record is not None
    assert (record.external_id, record.name, record.email, record.phone, record.company) == (
        "65059681032",
        "Jane Buyer",
        "jane.buyer@example.com",
        "+15025550142",
        "Buyer Outdoor Supply LLC",
    )
    assert record.company_external_id == "18342998071"
    assert record.crm["lifecycle_stage"] == "customer"
    assert item.updated_at == datetime.datetime(2026, 3, 14, 14, 22, 11, 874000, tzinfo=datetime.UTC)
    [request] = api.requests
    asked = dict(httpx.URL(str(request.url)).params)
    assert asked["associations"] == "companies"
    assert set(asked["propertiesWithHistory"].split(",")) == set(mapping.HISTORY_PROPERTIES)
    assert {"firstname", "lastname", "email", "hs_merged_object_ids"} <= set(asked["properties"].split(","))


def test_hubspots_error_body_is_read_in_its_words(api, connector):
    api.on("POST", UPSERT_DEALS, sample("error_400_validation.json"), 400)

    with pytest.raises(PermanentError) as refused:
        connector.push_batch([(deal(), ctx("d1"))])

    assert str(refused.value).startswith(
        "HubSpot refused POST /crm/v3/objects/deals/batch/upsert: Property values"
    )
    assert "erp_order_idx" in str(refused.value)
    assert str(refused.value).endswith("(VALIDATION_ERROR)")
    assert json.loads(refused.value.body)["category"] == "VALIDATION_ERROR"
