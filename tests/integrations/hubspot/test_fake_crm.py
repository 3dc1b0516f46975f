"""The fake HubSpot's CRM objects: batch upserts and their 207s, paging, conflicts, the sales rep's
edits in each property's history, merges, deals in their pipeline, associations and search."""

from __future__ import annotations

import datetime

import httpx
import pytest

from integrations.fakes.clock import SimClock
from integrations.hubspot.fake import BASE_URL, PRIVATE_APP_TOKEN, FakeHubSpot

UPSERT = "/crm/v3/objects/contacts/batch/upsert"


@pytest.fixture
def clock() -> SimClock:
    return SimClock(datetime.datetime(2026, 3, 14, 14, 22, 10, tzinfo=datetime.UTC))


@pytest.fixture
def fake(clock: SimClock) -> FakeHubSpot:
    return FakeHubSpot(clock=clock, limits=False)


@pytest.fixture
def api(fake: FakeHubSpot) -> httpx.Client:
    headers = {"Authorization": f"Bearer {PRIVATE_APP_TOKEN}"}
    return httpx.Client(transport=httpx.MockTransport(fake.handle), base_url=BASE_URL, headers=headers)


def _inputs(count: int, *, bad: tuple[int, ...] = ()) -> list[dict]:
    return [
        {
            "idProperty": "erp_customer_code",
            "id": f"CUST-{n:04d}",
            "objectWriteTraceId": f"trace-{n}",
            "properties": {
                "email": f"c{n}@@example.com" if n in bad else f"c{n}@example.com",
                "firstname": f"C{n}",
            },
        }
        for n in range(count)
    ]


def test_a_batch_of_100_with_two_invalid_emails_does_the_98_and_names_the_two(api, fake):
    response = api.post(UPSERT, json={"inputs": _inputs(100, bad=(17, 63))})

    assert response.status_code == 207
    body = response.json()
    assert (body["status"], body["numErrors"], len(body["results"])) == ("COMPLETE", 2, 98)
    assert [e["context"] for e in body["errors"]] == [
        {"objectWriteTraceId": ["trace-17"]},
        {"objectWriteTraceId": ["trace-63"]},
    ]
    assert "Email address c17@@example.com is invalid" in body["errors"][0]["message"]
    assert all(r["new"] for r in body["results"])
    assert len(fake.active("contacts")) == 98


def test_101_inputs_duplicate_ids_and_a_non_unique_id_property_are_refused_whole(api, fake):
    too_many = api.post(UPSERT, json={"inputs": _inputs(101)})
    twice = api.post(UPSERT, json={"inputs": _inputs(2) + _inputs(1)})
    by_name = api.post(UPSERT, json={"inputs": [{**_inputs(1)[0], "idProperty": "firstname"}]})

    assert [r.status_code for r in (too_many, twice, by_name)] == [400, 400, 400]
    assert {r.json()["category"] for r in (too_many, twice, by_name)} == {"VALIDATION_ERROR"}
    assert "Duplicate IDs found in batch input: [CUST-0000]" in twice.json()["message"]
    assert not fake.active("contacts")


def test_an_upsert_again_updates_the_same_contact(api, fake):
    first = api.post(UPSERT, json={"inputs": _inputs(1)})
    again = api.post(UPSERT, json={"inputs": [{**_inputs(1)[0], "properties": {"phone": "+1 555 0100"}}]})

    assert (first.json()["results"][0]["new"], again.json()["results"][0]["new"]) == (True, False)
    assert again.json()["results"][0]["id"] == first.json()["results"][0]["id"]
    assert fake.values("contacts", first.json()["results"][0]["id"])["phone"] == "+1 555 0100"


def test_a_list_pages_with_the_after_cursor_until_the_last_page(api):
    api.post(UPSERT, json={"inputs": _inputs(25)})
    seen, after, pages = [], None, 0

    while True:
        params = {"limit": 10, **({"after": after} if after else {})}
        page = api.get("/crm/v3/objects/contacts", params=params).json()
        pages += 1
        seen += [r["id"] for r in page["results"]]
        if "paging" not in page:
            break
        after = page["paging"]["next"]["after"]

    assert pages == 3
    assert len(seen) == len(set(seen)) == 25
    assert api.get("/crm/v3/objects/contacts", params={"limit": 101}).status_code == 400


def test_a_rep_edit_is_the_newest_version_in_the_property_history(api, fake, clock):
    created = api.post(
        "/crm/v3/objects/contacts", json={"properties": {"email": "a@example.com", "phone": "1"}}
    )
    contact = created.json()["id"]
    clock.tick(datetime.timedelta(minutes=3))

    fake.rep_edits("contacts", contact, phone="2", lifecyclestage="opportunity")
    read = api.get(
        f"/crm/v3/objects/contacts/{contact}",
        params={"properties": "phone,lifecyclestage", "propertiesWithHistory": "phone"},
    )

    assert read.json()["properties"]["phone"] == "2"
    assert read.json()["properties"]["lastmodifieddate"] == "2026-03-14T14:25:10.000Z"
    history = read.json()["propertiesWithHistory"]["phone"]
    assert [(v["value"], v["sourceType"], v["timestamp"]) for v in history] == [
        ("2", "CRM_UI", "2026-03-14T14:25:10.000Z"),
        ("1", "INTEGRATION", "2026-03-14T14:22:10.000Z"),
    ]
    assert history[1]["sourceId"] == str(fake.app_id)
    assert history[0]["sourceId"] == "userId:45678"


def test_a_merge_keeps_the_primary_and_the_merged_id_answers_with_it(api, fake):
    ids = [
        api.post("/crm/v3/objects/contacts", json={"properties": props}).json()["id"]
        for props in (
            {"email": "jane@example.com", "firstname": "Jane"},
            {"email": "jane.b@example.com", "phone": "+1 555 0142"},
            {"email": "jb@example.com"},
        )
    ]
    company = api.post("/crm/v3/objects/companies", json={"properties": {"name": "Buyer"}}).json()["id"]
    api.put(f"/crm/v4/objects/contacts/{ids[1]}/associations/default/companies/{company}")

    fake.rep_merges("contacts", ids[0], ids[1])
    merged = api.post(
        "/crm/v3/objects/contacts/merge", json={"primaryObjectId": ids[0], "objectIdToMerge": ids[2]}
    )
    read = api.get(f"/crm/v3/objects/contacts/{ids[1]}", params={"properties": "phone,hs_merged_object_ids"})

    assert merged.status_code == 200
    assert read.json()["id"] == ids[0]
    assert read.json()["properties"]["phone"] == "+1 555 0142"  # a blank of the primary, filled
    assert read.json()["properties"]["hs_merged_object_ids"] == f"{ids[1]};{ids[2]}"
    assert fake.associated_ids("contacts", ids[0], "companies") == {company: [279]}
    assert [r.id for r in fake.active("contacts")] == [ids[0]]
    events = [e for e in fake.take_events() if e["subscriptionType"] == "contact.merge"]
    assert [(e["primaryObjectId"], e["mergedObjectIds"], e["changeSource"]) for e in events] == [
        (int(ids[0]), [int(ids[0]), int(ids[1])], "CRM_UI"),
        (int(ids[0]), [int(ids[0]), int(ids[2])], "INTEGRATION"),
    ]


def test_a_deals_stage_must_belong_to_its_pipeline(api):
    def deal(props: dict) -> httpx.Response:
        return api.post("/crm/v3/objects/deals", json={"properties": {"dealname": "SO-1", **props}})

    ok = deal({"pipeline": "orders", "dealstage": "order_confirmed"})
    wrong = deal({"pipeline": "orders", "dealstage": "closedwon"})
    moved = api.patch(
        f"/crm/v3/objects/deals/{ok.json()['id']}", json={"properties": {"dealstage": "order_shipped"}}
    )
    stray = api.patch(
        f"/crm/v3/objects/deals/{ok.json()['id']}", json={"properties": {"dealstage": "contractsent"}}
    )

    assert (ok.status_code, wrong.status_code, moved.status_code, stray.status_code) == (201, 400, 200, 400)
    assert "INVALID_OPTION" in wrong.json()["message"]
    assert "dealstage" in wrong.json()["message"]
    pipelines = api.get("/crm/v3/pipelines/deals").json()["results"]
    assert [(p["id"], len(p["stages"])) for p in pipelines] == [("default", 7), ("orders", 6)]
    assert pipelines[1]["label"] == "Sales orders"


def test_a_deal_upserted_again_after_a_lost_answer_is_the_same_deal(api, fake):
    body = {
        "inputs": [
            {
                "idProperty": "erp_order_number",
                "id": "SO-0042",
                "properties": {"dealname": "SO-0042", "amount": "10"},
            }
        ]
    }
    fake.lose_next_answer(match="deals/batch/upsert")

    with pytest.raises(httpx.ReadTimeout):
        api.post("/crm/v3/objects/deals/batch/upsert", json=body)
    again = api.post("/crm/v3/objects/deals/batch/upsert", json=body)

    assert again.status_code == 200
    assert again.json()["results"][0]["new"] is False
    assert len(fake.active("deals")) == 1


def test_associations_v4_one_at_a_time_and_in_a_batch(api, fake):
    contact = api.post("/crm/v3/objects/contacts", json={"properties": {"email": "a@example.com"}}).json()[
        "id"
    ]
    one, two = (
        api.post("/crm/v3/objects/companies", json={"properties": {"name": n}}).json()["id"]
        for n in ("One", "Two")
    )

    primary = api.put(
        f"/crm/v4/objects/contacts/{contact}/associations/companies/{one}",
        json=[{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 1}],
    )
    batch = api.post(
        "/crm/v4/associations/contacts/companies/batch/associate/default",
        json={
            "inputs": [
                {"from": {"id": contact}, "to": {"id": two}},
                {"from": {"id": contact}, "to": {"id": "1"}},
            ]
        },
    )
    listed = api.get(f"/crm/v4/objects/contacts/{contact}/associations/companies").json()["results"]

    assert (primary.status_code, primary.json()["labels"]) == (201, ["Primary"])
    assert batch.status_code == 207
    assert batch.json()["numErrors"] == 1
    assert {r["toObjectId"]: [t["typeId"] for t in r["associationTypes"]] for r in listed} == {
        int(one): [1, 279],
        int(two): [279],
    }
    assert fake.associated_ids("companies", one, "contacts") == {contact: [2, 280]}


def test_search_filters_sorts_pages_and_stops_at_10000(api, fake, clock):
    api.post(UPSERT, json={"inputs": _inputs(12)})
    clock.tick(datetime.timedelta(hours=1))
    fake.rep_edits("contacts", fake.active("contacts")[3].id, phone="+1")
    since = int((clock() - datetime.timedelta(minutes=1)).timestamp() * 1000)

    recent = api.post(
        "/crm/v3/objects/contacts/search",
        json={
            "filterGroups": [
                {"filters": [{"propertyName": "lastmodifieddate", "operator": "GTE", "value": since}]}
            ]
        },
    )
    first = api.post(
        "/crm/v3/objects/contacts/search",
        json={"sorts": [{"propertyName": "erp_customer_code", "direction": "DESCENDING"}], "limit": 5},
    )
    beyond = api.post("/crm/v3/objects/contacts/search", json={"after": "10000", "limit": 10})

    assert [r["id"] for r in recent.json()["results"]] == [fake.active("contacts")[3].id]
    assert first.json()["total"] == 12
    assert first.json()["paging"]["next"]["after"] == "5"
    assert first.json()["results"][0]["properties"]["createdate"]
    assert beyond.status_code == 400


def test_a_property_the_portal_keeps_itself_cannot_be_written(api, fake):
    response = api.post(
        "/crm/v3/objects/contacts", json={"properties": {"hs_object_id": "5", "email": "a@b.co"}}
    )

    assert response.status_code == 400
    assert "READ_ONLY_VALUE" in response.json()["message"]
    assert not fake.active("contacts")
