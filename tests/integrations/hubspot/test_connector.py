"""The HubSpot connector's pushes against HubSpot as each test plays it (an ``httpx.MockTransport``
answering what HubSpot answers): a batch of 100 contacts with two refused, fields the tool owns
never sent, a last-writer-wins field changed there later left out, company customers, deals, and
the webhooks and the polling search. Shared here: ``Api`` and the ``api``/``connection``/``connector``
fixtures the other HubSpot connector tests import."""

from __future__ import annotations

import datetime
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

import integrations.hubspot
from integrations import registry
from integrations.connections import connection_create
from integrations.contract import Action, PushContext, PushResult, WebhookRequest
from integrations.errors import NeedsAPerson, PermanentError, Throttled
from integrations.http import mounted
from integrations.hubspot.auth import API_ROOT
from integrations.hubspot.connector import HubSpotConnector
from integrations.records import CustomerOut, DealOut

pytestmark = pytest.mark.django_db

SAMPLES = Path(integrations.hubspot.__file__).parent / "samples"
PORTAL, APP_ID = "33", "1160452"
TOKEN, CLIENT_SECRET = "pat-na1-test-token", "yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy"
UPSERT_CONTACTS = "/crm/v3/objects/contacts/batch/upsert"
UPSERT_COMPANIES = "/crm/v3/objects/companies/batch/upsert"
UPSERT_DEALS = "/crm/v3/objects/deals/batch/upsert"
READ_CONTACTS = "/crm/v3/objects/contacts/batch/read"
UPDATE_CONTACTS = "/crm/v3/objects/contacts/batch/update"
ASSOCIATE = "/crm/v4/associations/{}/{}/batch/associate/default"
Answer = Callable[[httpx.Request], httpx.Response]


def sample(name: str) -> Any:
    return json.loads((SAMPLES / name).read_text())


def reply(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(status, json=body, headers=headers)


class Api:
    """HubSpot as a test plays it: an answer per (method, path), every request kept in order."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.routes: dict[tuple[str, str], Answer] = {}

    def on(self, method: str, path: str, answer: Answer | Any, status: int = 200) -> None:
        self.routes[(method, path)] = answer if callable(answer) else (lambda _: reply(answer, status))

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.routes.get((request.method, request.url.path))
        if answer is None:
            return reply({"status": "error", "message": "Not found.", "category": "OBJECT_NOT_FOUND"}, 404)
        return answer(request)

    def sent(self, method: str, path: str) -> list[Any]:
        return [json.loads(r.content) for r in self.requests if (r.method, r.url.path) == (method, path)]


def upserted(
    request: httpx.Request, *, refuse: frozenset[str] = frozenset(), new: bool = True
) -> httpx.Response:
    """HubSpot's batch upsert answer: each input done (its id from its key), the ``refuse`` keys
    refused as the 207 sample refuses an invalid email."""
    inputs = json.loads(request.content)["inputs"]
    results, errors = [], []
    for n, given in enumerate(inputs):
        if given["id"] in refuse:
            errors.append(
                {
                    "status": "error",
                    "category": "VALIDATION_ERROR",
                    "message": f"Email address {given['id']}@@example.com is invalid",
                    "context": {"objectWriteTraceId": [given["objectWriteTraceId"]]},
                    "errors": [],
                }
            )
            continue
        results.append(
            {
                "id": str(9000 + n),
                "properties": {**given["properties"], "hs_object_id": str(9000 + n)},
                "createdAt": "2026-03-14T14:22:10.512Z",
                "updatedAt": "2026-03-14T15:00:02.117Z",
                "archived": False,
                "new": new,
                "objectWriteTraceId": given["objectWriteTraceId"],
            }
        )
    body: dict[str, Any] = {"status": "COMPLETE", "results": results}
    if errors:
        body |= {"numErrors": len(errors), "errors": errors}
    return reply(body, 207 if errors else 200)


def updated(request: httpx.Request) -> httpx.Response:
    """HubSpot's batch update answer: each input done, by its id."""
    inputs = json.loads(request.content)["inputs"]
    results = [
        {
            "id": given["id"],
            "properties": {**given["properties"], "hs_object_id": given["id"]},
            "createdAt": "2026-03-14T14:22:10.512Z",
            "updatedAt": "2026-03-14T15:00:02.117Z",
            "archived": False,
            "objectWriteTraceId": given["objectWriteTraceId"],
        }
        for given in inputs
    ]
    return reply({"status": "COMPLETE", "results": results})


def associated(request: httpx.Request) -> httpx.Response:
    inputs = json.loads(request.content)["inputs"]
    return reply({"status": "COMPLETE", "results": [{**i, "associationSpec": {}} for i in inputs]})


@contextmanager
def serving() -> Iterator[Api]:
    """HubSpot's API answered by an ``Api`` for as long as the block lasts."""
    tool = Api()
    with mounted(API_ROOT, httpx.MockTransport(tool.handle)):
        yield tool


def connect(
    settings: dict[str, Any] | None = None, secrets: dict[str, Any] | None = None, *, name: str = "CRM"
) -> HubSpotConnector:
    """A HubSpot connection's connector, as the hub makes it (its requests through the hub's client)."""
    connection = connection_create(
        connector="hubspot",
        name=name,
        settings={"portal_id": PORTAL, "app_id": APP_ID, **(settings or {})},
        secrets=secrets or {"access_token": TOKEN, "client_secret": CLIENT_SECRET},
    )
    found = registry.connector_for(connection)
    assert isinstance(found, HubSpotConnector)
    return found


@pytest.fixture
def api() -> Iterator[Api]:
    with serving() as tool:
        yield tool


@pytest.fixture
def connector(api: Api) -> HubSpotConnector:
    return connect()


def customer(code: str, **values: Any) -> CustomerOut:
    defaults: dict[str, Any] = {
        "reference": code,
        "external_id": "",
        "version": "",
        "name": "Jane Buyer",
        "email": f"{code.lower()}@buyer.test",
        "phone": "+15025550142",
        "is_company": False,
        "payment_terms": "net_30",
    }
    return CustomerOut(**(defaults | values))


def ctx(key: str) -> PushContext:
    return PushContext(idempotency_key=key)


# --- customers ---------------------------------------------------------------------------------


def test_a_batch_of_100_with_two_invalid_lands_98_and_refuses_two_with_hubspots_message(api, connector):
    api.on("POST", UPSERT_CONTACTS, lambda r: upserted(r, refuse=frozenset({"C-007", "C-042"})))
    items = [(customer(f"C-{n:03}"), ctx(f"delivery-{n}")) for n in range(100)]

    results = connector.push_batch(items)

    assert len(api.sent("POST", UPSERT_CONTACTS)) == 1
    [body] = api.sent("POST", UPSERT_CONTACTS)
    assert len(body["inputs"]) == 100
    assert {i["objectWriteTraceId"] for i in body["inputs"]} == {f"delivery-{n}" for n in range(100)}
    landed = [r for r in results if isinstance(r, PushResult)]
    refused = {n: r for n, r in enumerate(results) if isinstance(r, Exception)}
    assert len(landed) == 98
    assert sorted(refused) == [7, 42]
    assert all(isinstance(r, PermanentError) for r in refused.values())
    assert "Email address C-007@@example.com is invalid" in str(refused[7])
    assert results[8] == PushResult(external_id="9008", detail="contact 9008 created")


def test_fields_the_tool_owns_are_never_sent(api, connector):
    api.on("POST", UPSERT_CONTACTS, upserted)
    owned = customer(
        "C-1", withheld=("email", "name"), billing_address={"line1": "1 Main St", "city": "Louisville"}
    )

    connector.push(owned, ctx("k1"))

    [body] = api.sent("POST", UPSERT_CONTACTS)
    properties = body["inputs"][0]["properties"]
    assert not {"firstname", "lastname", "company", "email"} & set(properties)
    assert (properties["phone"], properties["address"], properties["city"]) == (
        "+15025550142",
        "1 Main St",
        "Louisville",
    )
    assert body["inputs"][0]["idProperty"] == "erp_customer_code"


def test_a_latest_field_changed_there_after_us_is_left_out(api, connector):
    ours = datetime.datetime(2026, 3, 14, 15, 0, tzinfo=datetime.UTC)
    history = {
        "phone": [{"value": "+15025559999", "timestamp": "2026-03-14T15:00:30.000Z", "sourceType": "CRM_UI"}],
        "email": [
            {"value": "old@buyer.test", "timestamp": "2026-03-14T14:00:00.000Z", "sourceType": "CRM_UI"}
        ],
    }
    api.on(
        "POST",
        READ_CONTACTS,
        {
            "status": "COMPLETE",
            "results": [
                {"id": "501", "properties": {"erp_customer_code": "C-1"}, "propertiesWithHistory": history}
            ],
        },
    )
    api.on("POST", UPDATE_CONTACTS, updated)
    item = customer(
        "C-1",
        external_id="501",
        latest=("email", "phone"),
        changed_at={"email": ours, "phone": ours},
    )

    [result] = connector.push_batch([(item, ctx("k1"))])

    [read] = api.sent("POST", READ_CONTACTS)
    assert read["inputs"] == [{"id": "501"}]
    assert set(read["propertiesWithHistory"]) == {"email", "phone"}
    [body] = api.sent("POST", UPDATE_CONTACTS)  # linked already: by its id, carrying our number
    assert body["inputs"][0]["id"] == "501"
    properties = body["inputs"][0]["properties"]
    assert properties["erp_customer_code"] == "C-1"
    assert "phone" not in properties  # theirs is newer: theirs stays
    assert properties["email"] == "c-1@buyer.test"  # ours is newer: ours goes
    assert isinstance(result, PushResult)


def test_a_contact_hubspot_does_not_have_yet_is_not_read_first(api, connector):
    api.on("POST", UPSERT_CONTACTS, upserted)

    connector.push(customer("C-1", latest=("phone",), changed_at={}), ctx("k1"))

    assert api.sent("POST", READ_CONTACTS) == []
    assert api.sent("POST", UPSERT_CONTACTS)[0]["inputs"][0]["properties"]["phone"] == "+15025550142"


def test_a_company_customer_is_a_company_too_associated_with_its_contact(api, connector):
    api.on("POST", UPSERT_CONTACTS, upserted)
    api.on("POST", UPSERT_COMPANIES, lambda r: upserted(r, new=True))
    api.on("POST", ASSOCIATE.format("contacts", "companies"), associated)
    company = customer(
        "C-58",
        name="Buyer Outdoor Supply LLC",
        email="orders@buyeroutdoor.test",
        is_company=True,
        lifetime_value=Decimal("1286.84"),
        last_order_date=datetime.date(2026, 3, 14),
    )
    person = customer("C-59", email="sam@gmail.com", is_company=True, name="Sam Hiker")

    first, second = connector.push_batch([(company, ctx("k58")), (person, ctx("k59"))])

    [contacts] = api.sent("POST", UPSERT_CONTACTS)
    assert contacts["inputs"][0]["properties"]["company"] == "Buyer Outdoor Supply LLC"
    assert contacts["inputs"][0]["properties"]["erp_lifetime_value"] == "1286.84"
    assert contacts["inputs"][0]["properties"]["erp_last_order_date"] == "2026-03-14"
    [companies] = api.sent("POST", UPSERT_COMPANIES)
    assert [i["id"] for i in companies["inputs"]] == ["C-58", "C-59"]
    assert companies["inputs"][0]["properties"]["domain"] == "buyeroutdoor.test"
    assert "domain" not in companies["inputs"][1]["properties"]  # a free mail provider's
    [links] = api.sent("POST", ASSOCIATE.format("contacts", "companies"))
    assert links["inputs"] == [
        {"from": {"id": "9000"}, "to": {"id": "9000"}},
        {"from": {"id": "9001"}, "to": {"id": "9001"}},
    ]
    assert isinstance(first, PushResult)
    assert isinstance(second, PushResult)
    assert (first.external_id, first.extra) == ("9000", {"company_id": "9000"})


def test_a_known_contact_and_company_are_not_associated_again(api, connector):
    api.on("POST", UPDATE_CONTACTS, updated)
    api.on("POST", UPSERT_COMPANIES, lambda r: upserted(r, new=False))
    item = customer("C-58", external_id="9000", company_external_id="9000", is_company=True)

    result = connector.push(item, ctx("k58"))

    assert result.extra == {"company_id": "9000"}
    assert not [r for r in api.requests if "/crm/v4/" in r.url.path]


def test_a_company_refused_fails_its_customer_alone(api, connector):
    api.on("POST", UPSERT_CONTACTS, upserted)
    api.on("POST", UPSERT_COMPANIES, lambda r: upserted(r, refuse=frozenset({"C-2"})))
    api.on("POST", ASSOCIATE.format("contacts", "companies"), associated)
    items = [(customer(f"C-{n}", is_company=True), ctx(f"k{n}")) for n in (1, 2)]

    first, second = connector.push_batch(items)

    assert isinstance(first, PushResult)
    assert isinstance(second, PermanentError)
    assert "company C-2" in str(second)


def test_an_error_of_the_whole_request_is_raised_for_the_batch(api, connector):
    api.on(
        "POST",
        UPSERT_CONTACTS,
        {
            "status": "error",
            "message": "You have reached your ten_secondly_rolling limit.",
            "policyName": "TEN_SECONDLY_ROLLING",
        },
        429,
    )

    with pytest.raises(Throttled):
        connector.push_batch([(customer("C-1"), ctx("k1")), (customer("C-2"), ctx("k2"))])


# --- deals -------------------------------------------------------------------------------------


def deal(number: str = "SO-2026-0042", **values: Any) -> DealOut:
    defaults: dict[str, Any] = {
        "reference": number,
        "external_id": "",
        "version": "",
        "name": "Shopify #1042 - Jane Buyer",
        "amount": Decimal("643.42"),
        "currency": "USD",
        "stage": "confirmed",
        "close_date": datetime.date(2026, 3, 14),
        "customer_external_id": "65059681032",
    }
    return DealOut(**(defaults | values))


def test_a_new_deal_is_upserted_by_our_order_number_and_associated_with_its_contact(api, connector):
    api.on("POST", UPSERT_DEALS, upserted)
    api.on("POST", ASSOCIATE.format("deals", "contacts"), associated)

    result = connector.push(deal(), ctx("d1"))

    [body] = api.sent("POST", UPSERT_DEALS)
    [given] = body["inputs"]
    assert (given["idProperty"], given["id"], given["objectWriteTraceId"]) == (
        "erp_order_number",
        "SO-2026-0042",
        "d1",
    )
    assert given["properties"] == {
        "dealname": "Shopify #1042 - Jane Buyer",
        "amount": "643.42",
        "deal_currency_code": "USD",
        "pipeline": "default",
        "dealstage": "closedwon",
        "closedate": "2026-03-14T00:00:00Z",
    }
    [links] = api.sent("POST", ASSOCIATE.format("deals", "contacts"))
    assert links["inputs"] == [{"from": {"id": "9000"}, "to": {"id": "65059681032"}}]
    assert result.external_id == "9000"


def test_a_deal_moving_on_is_not_associated_again_and_a_cancelled_one_is_lost(api, connector):
    api.on("POST", UPSERT_DEALS, lambda r: upserted(r, new=False))

    connector.push(deal(external_id="9000", stage="cancelled"), ctx("d2"))

    assert api.sent("POST", UPSERT_DEALS)[0]["inputs"][0]["properties"]["dealstage"] == "closedlost"
    assert not [r for r in api.requests if "/crm/v4/" in r.url.path]


def test_a_stage_with_no_mapping_waits_for_a_person(api):
    mapped = connect({"stages": {"confirmed": "closedwon", "shipped": ""}})
    api.on("POST", UPSERT_DEALS, upserted)
    api.on("POST", ASSOCIATE.format("deals", "contacts"), associated)

    shipped, confirmed = mapped.push_batch(
        [(deal("SO-1", stage="shipped"), ctx("d1")), (deal("SO-2"), ctx("d2"))]
    )

    assert isinstance(shipped, NeedsAPerson)
    assert shipped.value == "shipped"
    assert isinstance(confirmed, PushResult)
    assert [i["id"] for i in api.sent("POST", UPSERT_DEALS)[0]["inputs"]] == ["SO-2"]


# --- in ----------------------------------------------------------------------------------------


def test_the_sample_delivery_splits_into_three_events_and_deal_events_give_no_items(connector):
    body = (SAMPLES / "webhook_events.json").read_bytes()

    envelopes = connector.webhook_events(WebhookRequest.of({}, body))

    assert [(e.event_id, e.topic, e.account) for e in envelopes] == [
        ("3816279340", "contact.creation", PORTAL),
        ("1819912031", "contact.propertyChange", PORTAL),
        ("2001448761", "deal.propertyChange", PORTAL),
    ]
    created, changed, moved = (connector.parse_webhook(e.topic, {}, e.body or b"") for e in envelopes)
    assert created == []  # the app's own write (changeSource INTEGRATION, sourceId the app)
    assert [(i.object_type, i.external_id, i.record) for i in changed] == [("customer", "65059681032", None)]
    assert changed[0].updated_at == datetime.datetime(2026, 3, 14, 14, 22, 11, 874000, tzinfo=datetime.UTC)
    assert moved == []


def test_a_merge_names_the_survivor_and_a_deletion_deletes(connector):
    merge = {
        "eventId": 1,
        "portalId": 33,
        "occurredAt": 1773498131874,
        "subscriptionType": "contact.merge",
        "objectId": 65059681032,
        "primaryObjectId": 65059681032,
        "mergedObjectIds": [65059681101],
        "changeSource": "CRM_UI",
    }
    gone = {
        "eventId": 2,
        "portalId": 33,
        "occurredAt": 1773498131874,
        "subscriptionType": "contact.deletion",
        "objectId": 65059681101,
        "changeSource": "CRM_UI",
    }

    [merged] = connector.parse_webhook("contact.merge", {}, json.dumps(merge).encode())
    [deleted] = connector.parse_webhook("contact.deletion", {}, json.dumps(gone).encode())

    assert (merged.external_id, merged.action) == ("65059681032", Action.UPSERT)
    assert (deleted.external_id, deleted.action) == ("65059681101", Action.DELETE)


def test_a_contact_gone_from_hubspot_reads_as_deleted(api, connector):
    item = connector.fetch("customer", "404404")

    assert (item.external_id, item.action, item.record) == ("404404", Action.DELETE, None)


def test_polling_searches_contacts_modified_since_oldest_first_and_pages_on(api, connector):
    api.on(
        "POST",
        "/crm/v3/objects/contacts/search",
        {
            "total": 2,
            "results": [{"id": "7", "properties": {"lastmodifieddate": "2026-03-14T14:22:11.874Z"}}],
            "paging": {"next": {"after": "1"}},
        },
    )
    since = datetime.datetime(2026, 3, 14, 14, 0, tzinfo=datetime.UTC)

    page = connector.pull("customer", since=since, page=None)

    [body] = api.sent("POST", "/crm/v3/objects/contacts/search")
    assert body["filterGroups"] == [
        {"filters": [{"propertyName": "lastmodifieddate", "operator": "GTE", "value": "1773496800000"}]}
    ]
    assert body["sorts"] == [{"propertyName": "lastmodifieddate", "direction": "ASCENDING"}]
    assert (body["limit"], body["after"]) == (100, "0")
    assert [(i.external_id, i.record) for i in page.items] == [("7", None)]
    assert page.next_page == "1"


def test_polling_ends_the_window_where_search_stops_answering(api, connector):
    api.on(
        "POST",
        "/crm/v3/objects/contacts/search",
        {"total": 20000, "results": [], "paging": {"next": {"after": "10000"}}},
    )

    page = connector.pull("customer", since=None, page="9900")

    assert page.next_page is None
    assert api.sent("POST", "/crm/v3/objects/contacts/search")[0]["filterGroups"] == []
