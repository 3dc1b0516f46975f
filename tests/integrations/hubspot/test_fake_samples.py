"""The fake HubSpot answers what the shared samples show: the same shapes and the same error texts,
for the samples' own requests."""

from __future__ import annotations

import datetime
import json
from typing import Any

import httpx
import pytest

from integrations.fakes.clock import SimClock
from integrations.hubspot.fake import BASE_URL, PRIVATE_APP_TOKEN, FakeHubSpot
from integrations.hubspot.fake_data import sample


@pytest.fixture
def fake() -> FakeHubSpot:
    return FakeHubSpot(clock=SimClock(datetime.datetime(2026, 3, 14, 14, 22, 10, tzinfo=datetime.UTC)))


@pytest.fixture
def api(fake: FakeHubSpot) -> httpx.Client:
    headers = {"Authorization": f"Bearer {PRIVATE_APP_TOKEN}"}
    return httpx.Client(transport=httpx.MockTransport(fake.handle), base_url=BASE_URL, headers=headers)


def _shape(body: Any) -> Any:
    """The keys of a JSON body, nested (lists by their first item), without the values."""
    if isinstance(body, dict):
        return {k: _shape(v) for k, v in body.items() if k != "properties"}
    if isinstance(body, list):
        return [_shape(body[0])] if body else []
    return type(body).__name__


def _company(api: httpx.Client) -> str:
    response = api.post(
        "/crm/v3/objects/companies", json={"properties": {"name": "Buyer Outdoor Supply LLC"}}
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def test_the_contact_create_sample_answers_the_contact_sample(api):
    request = sample("contact_create_request.json")
    request["associations"][0]["to"]["id"] = _company(api)

    response = api.post("/crm/v3/objects/contacts", json=request)

    assert response.status_code == 201
    expected = sample("contact_object_response.json")
    assert _shape(response.json()) == _shape(expected)
    assert set(response.json()["properties"]) == set(expected["properties"])
    assert {k: response.json()["properties"][k] for k in request["properties"]} == request["properties"]


def test_the_deal_create_sample_answers_the_deal_sample_and_is_associated(api, fake):
    company = _company(api)
    contact = api.post("/crm/v3/objects/contacts", json={"properties": {"email": "jane.buyer@example.com"}})
    request = sample("deal_create_request.json")
    request["associations"][0]["to"]["id"] = contact.json()["id"]
    request["associations"][1]["to"]["id"] = company

    response = api.post("/crm/v3/objects/deals", json=request)

    assert response.status_code == 201
    expected = sample("deal_object_response.json")
    assert _shape(response.json()) == _shape(expected)
    assert set(response.json()["properties"]) == set(expected["properties"])
    deal = response.json()["id"]
    assert fake.associated_ids("deals", deal, "contacts") == {contact.json()["id"]: [3]}
    assert fake.associated_ids("deals", deal, "companies") == {company: [5, 341]}


def test_the_batch_upsert_sample_answers_the_upsert_sample(api):
    api.post("/crm/v3/objects/contacts", json={"properties": {"email": "jane.buyer@example.com"}})

    response = api.post(
        "/crm/v3/objects/contacts/batch/upsert", json=sample("contacts_batch_upsert_request.json")
    )

    assert response.status_code == 200
    expected = sample("contacts_batch_upsert_response.json")
    assert _shape(response.json()) == _shape(expected)
    got = [(r["new"], r["objectWriteTraceId"], r["properties"]["email"]) for r in response.json()["results"]]
    want = [(r["new"], r["objectWriteTraceId"], r["properties"]["email"]) for r in expected["results"]]
    assert got == want


def test_an_invalid_email_in_a_batch_is_the_207_samples_error_word_for_word(api):
    request = sample("contacts_batch_upsert_request.json")
    request["inputs"][1]["id"] = "sam.hiker@@example.com"

    response = api.post("/crm/v3/objects/contacts/batch/upsert", json=request)

    assert response.status_code == 207
    expected = sample("contacts_batch_upsert_response_207_with_errors.json")
    assert response.json()["errors"] == expected["errors"]
    assert response.json()["numErrors"] == 1
    assert [r["objectWriteTraceId"] for r in response.json()["results"]] == ["erp-cust-58"]


def test_an_unknown_property_is_the_400_sample(api):
    deal = sample("deal_create_request.json")
    deal["properties"]["erp_order_idx"] = deal["properties"].pop("erp_order_id")
    deal.pop("associations")

    response = api.post("/crm/v3/objects/deals", json=deal)

    assert response.status_code == 400
    expected = sample("error_400_validation.json")
    assert {k: response.json()[k] for k in ("status", "message", "category")} == {
        k: expected[k] for k in ("status", "message", "category")
    }


def test_a_missing_token_is_the_401_sample(fake):
    client = httpx.Client(transport=httpx.MockTransport(fake.handle), base_url=BASE_URL)

    response = client.get("/crm/v3/objects/contacts")

    assert response.status_code == 401
    body, expected = response.json(), sample("error_401.json")
    assert {**body, "correlationId": ""} == {**expected, "correlationId": ""}


def test_a_duplicate_email_is_the_409_sample_with_the_existing_id(api):
    first = api.post("/crm/v3/objects/contacts", json={"properties": {"email": "jane.buyer@example.com"}})

    again = api.post("/crm/v3/objects/contacts", json={"properties": {"email": "Jane.Buyer@example.com"}})

    assert again.status_code == 409
    expected = sample("error_409_conflict.json")
    assert again.json()["message"] == f"Contact already exists. Existing ID: {first.json()['id']}"
    assert again.json()["category"] == expected["category"]


def test_a_throttled_answer_is_the_429_sample_with_the_rate_limit_headers(api, fake):
    fake.throttle_next()

    response = api.get("/crm/v3/objects/contacts")

    assert response.status_code == 429
    expected = sample("error_429_rate_limit.json")
    assert set(response.json()) == set(expected)
    for key in ("status", "message", "errorType", "policyName"):
        assert response.json()[key] == expected[key]
    assert response.json()["groupName"] == f"publicapi:private-app:{fake.app_id}:{fake.portal_id}"
    headers = sample("response_headers_rate_limit_example.json")
    assert {h.lower() for h in headers if not h.startswith("_")} <= set(response.headers)


def test_the_list_and_search_samples(api):
    for email in ("jane.buyer@example.com", "sam.hiker@example.com"):
        api.post("/crm/v3/objects/contacts", json={"properties": {"email": email, "firstname": "x"}})

    page = api.get("/crm/v3/objects/contacts", params={"limit": 1})
    found = api.post("/crm/v3/objects/contacts/search", json=sample("contacts_search_request.json"))

    assert _shape(page.json()) == _shape(sample("contacts_list_page_response.json"))
    after = page.json()["paging"]["next"]["after"]
    assert (
        page.json()["paging"]["next"]["link"] == f"{BASE_URL}/crm/v3/objects/contacts?after={after}&limit=1"
    )
    assert found.status_code == 200
    assert _shape(found.json()) == _shape(sample("contacts_search_response.json"))
    assert [r["properties"]["email"] for r in found.json()["results"]] == ["jane.buyer@example.com"]
    assert set(found.json()["results"][0]["properties"]) == set(
        sample("contacts_search_response.json")["results"][0]["properties"]
    )


def test_the_oauth_refresh_sample_answers_the_token_sample(fake):
    fake.client_id = sample("oauth_refresh_request.form.json")["client_id"]
    fake.client_secret = sample("oauth_refresh_request.form.json")["client_secret"]
    fake.issue_tokens()  # the sign-in that gave the sample's refresh token
    form = {k: v for k, v in sample("oauth_refresh_request.form.json").items() if not k.startswith("_")}
    client = httpx.Client(transport=httpx.MockTransport(fake.handle), base_url=BASE_URL)

    response = client.post("/oauth/v1/token", data=form)

    assert response.status_code == 200
    expected = sample("oauth_refresh_response.json")
    assert set(response.json()) == set(expected)
    assert (response.json()["refresh_token"], response.json()["expires_in"]) == (
        expected["refresh_token"],
        expected["expires_in"],
    )
    assert json.loads(response.content)["token_type"] == "bearer"
