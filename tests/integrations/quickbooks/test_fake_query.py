"""The fake QuickBooks' query language and CDC: the samples' shapes, operators, paging, errors,
inactive names, deletions, voids and the 30-day limit."""

from __future__ import annotations

import datetime

import pytest

from integrations.quickbooks.fake_data import QBOFault, sample
from integrations.quickbooks.fake_query import parse
from tests.integrations.quickbooks.support import client, fault_code, make, seeded_sale, without


def customers(fake, names):
    api = client(fake)
    for name in names:
        assert api.post("/customer", json={"DisplayName": name}).status_code == 200


def test_the_samples_query_over_get_and_post_answers_the_samples_shapes():
    fake, _ = make()
    api = client(fake)
    text = sample("query_customer_request.txt.json")["body"]

    empty = api.get("/query", params={"query": text})
    api.post("/customer", json=sample("customer_create_request.json"))
    found = api.get("/query", params={"query": text})
    posted = api.post("/query", content=text.encode(), headers={"Content-Type": "application/text"})

    assert without(empty.json(), "time") == without(sample("query_customer_response_empty.json"), "time")
    expected = sample("query_customer_response_found.json")["QueryResponse"]
    got = found.json()["QueryResponse"]
    assert got["startPosition"] == 1
    assert got["maxResults"] == 1
    assert "totalCount" not in got
    assert [without(c, "MetaData", "V4IDPseudonym") for c in got["Customer"]] == [
        without(c, "MetaData", "V4IDPseudonym") for c in expected["Customer"]
    ]
    assert posted.json()["QueryResponse"] == got


@pytest.mark.parametrize(
    ("where", "names"),
    [
        ("DisplayName = 'o\\'brien supply'", ["O'Brien Supply"]),
        ("DisplayName IN ('Alpha Outfitters', 'gamma gear', 'Nobody')", ["Alpha Outfitters", "Gamma Gear"]),
        ("DisplayName LIKE '%outfit%'", ["Alpha Outfitters", "Beta Outfitters"]),
        ("DisplayName LIKE 'Beta%'", ["Beta Outfitters"]),
        ("Id >= '60' AND DisplayName LIKE '%a%'", ["Gamma Gear"]),
        ("Id > '9'", ["Alpha Outfitters", "Beta Outfitters", "Gamma Gear", "O'Brien Supply"]),
        ("Id < '59'", ["Alpha Outfitters"]),
    ],
)
def test_where_operators(where, names):
    fake, _ = make()
    customers(fake, ["Alpha Outfitters", "Beta Outfitters", "Gamma Gear", "O'Brien Supply"])

    answer = client(fake).get("/query", params={"query": f"select * from Customer where {where}"})

    assert answer.status_code == 200, answer.text
    assert [c["DisplayName"] for c in answer.json()["QueryResponse"].get("Customer", [])] == names


def test_last_updated_time_filters_count_and_orderby():
    fake, clock = make()
    customers(fake, ["Alpha Outfitters", "Beta Outfitters"])
    clock.sleep(3600)
    customers(fake, ["Gamma Gear"])
    api = client(fake)

    recent = api.get(
        "/query",
        params={
            "query": "select * from Customer where MetaData.LastUpdatedTime > '2026-03-14T08:00:00-07:00'"
        },
    )
    count = api.get("/query", params={"query": "SELECT COUNT(*) FROM Customer"})
    ordered = api.get("/query", params={"query": "select * from Customer orderby DisplayName desc"})
    projected = api.get(
        "/query", params={"query": "select Id, DisplayName from Customer where DisplayName = 'Gamma Gear'"}
    )

    assert [c["DisplayName"] for c in recent.json()["QueryResponse"]["Customer"]] == ["Gamma Gear"]
    assert without(count.json(), "time") == {"QueryResponse": {"totalCount": 3}}
    assert [c["DisplayName"] for c in ordered.json()["QueryResponse"]["Customer"]] == [
        "Gamma Gear",
        "Beta Outfitters",
        "Alpha Outfitters",
    ]
    assert projected.json()["QueryResponse"]["Customer"] == [
        {"DisplayName": "Gamma Gear", "Id": "60", "domain": "QBO", "sparse": True}
    ]


def test_paging_with_startposition_and_maxresults_capped_at_1000():
    fake, _ = make(limits=False)
    customers(fake, [f"Customer {n:04d}" for n in range(1, 1006)])
    api = client(fake)

    page = api.get("/query", params={"query": "select * from Customer STARTPOSITION 11 MAXRESULTS 5"})
    capped = api.get("/query", params={"query": "select * from Customer MAXRESULTS 5000"})
    default = api.get("/query", params={"query": "select * from Customer"})
    past = api.get("/query", params={"query": "select * from Customer startposition 2000"})

    got = page.json()["QueryResponse"]
    assert [c["DisplayName"] for c in got["Customer"]] == [f"Customer {n:04d}" for n in range(11, 16)]
    assert (got["startPosition"], got["maxResults"]) == (11, 5)
    assert capped.json()["QueryResponse"]["maxResults"] == 1000
    assert default.json()["QueryResponse"]["maxResults"] == 100
    assert past.json()["QueryResponse"] == {}


def test_inactive_names_only_when_asked_for():
    fake, _ = make()
    customers(fake, ["Alpha Outfitters", "Beta Outfitters"])
    fake.edit_customer_in_qbo("58", Active=False)
    api = client(fake)

    default = api.get("/query", params={"query": "select * from Customer"})
    inactive = api.get("/query", params={"query": "select * from Customer where Active = false"})
    both = api.get("/query", params={"query": "select * from Customer where Active IN (true, false)"})

    assert [c["Id"] for c in default.json()["QueryResponse"]["Customer"]] == ["59"]
    assert [c["Id"] for c in inactive.json()["QueryResponse"]["Customer"]] == ["58"]
    assert len(both.json()["QueryResponse"]["Customer"]) == 2


def test_invoices_by_customer_ref_and_doc_number():
    fake, _ = make()
    seeded_sale(fake)
    api = client(fake)

    by_ref = api.get("/query", params={"query": "select * from Invoice where CustomerRef = '58'"})
    by_doc = api.get(
        "/query", params={"query": "select * from Invoice where DocNumber = 'SHOP-1042' and Balance > 600"}
    )

    assert [i["Id"] for i in by_ref.json()["QueryResponse"]["Invoice"]] == ["1207"]
    assert [i["Id"] for i in by_doc.json()["QueryResponse"]["Invoice"]] == ["1207"]


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("select * from Customer where DisplayName = 'a' or DisplayName = 'b'", "4000"),
        ("select * from Customer where DisplayName != 'a'", "4000"),
        ("select * form Customer", "4000"),
        ("select * from Customer where DisplayName = 'unterminated", "4000"),
        ("select * from Customer where Shoe = 'a'", "4001"),
        ("select * from Widget", "4001"),
        ("select * from Customer order by DisplayName", "4000"),
    ],
)
def test_queries_quickbooks_refuses(text, code):
    with pytest.raises(QBOFault) as refused:
        parse(text)
    assert refused.value.body["Fault"]["Error"][0]["code"] == code
    fake, _ = make()
    answer = client(fake).get("/query", params={"query": text})
    assert answer.status_code == 400
    assert fault_code(answer) == code


def test_cdc_answers_changes_deletions_and_voids_in_the_samples_shape():
    fake, clock = make()
    since = "2026-03-14T07:00:00-07:00"
    api = client(fake)
    nothing = api.get("/cdc", params={"entities": "Invoice,Payment", "changedSince": since})
    seeded_sale(fake)
    payment = fake.record_payment_in_qbo("1207", 43.42)
    clock.sleep(60)
    fake.delete_in_qbo("Payment", payment["Id"])
    fake.merge_in_qbo("Item", "32", "31")

    changes = api.get("/cdc", params={"entities": "Customer,Invoice,Item,Payment", "changedSince": since})
    later = api.get("/cdc", params={"entities": "Customer", "changedSince": "2026-03-14T07:26:00-07:00"})

    assert without(nothing.json(), "time") == without(sample("cdc_response_empty.json"), "time")
    responses = changes.json()["CDCResponse"][0]["QueryResponse"]
    assert [next(iter(r)) for r in responses] == ["Customer", "Invoice", "Item", "Payment"]
    sample_shape = sample("cdc_response.json")["CDCResponse"][0]["QueryResponse"]
    assert set(responses[0]) == set(sample_shape[0])
    deleted_item = next(i for i in responses[2]["Item"] if i["Id"] == "32")
    assert set(deleted_item) == set(sample_shape[2]["Item"][0])
    assert deleted_item["status"] == "Deleted"
    assert responses[3]["Payment"] == [
        {
            "domain": "QBO",
            "status": "Deleted",
            "Id": payment["Id"],
            "MetaData": {
                "CreateTime": "2026-03-14T07:25:13-07:00",
                "LastUpdatedTime": "2026-03-14T07:26:13-07:00",
            },
        }
    ]
    assert responses[1]["Invoice"][0]["Balance"] == 643.42
    assert later.json()["CDCResponse"][0]["QueryResponse"] == [{}]


def test_cdc_refuses_more_than_30_days_back_and_needs_its_parameters():
    fake, clock = make()
    api = client(fake)
    old = (clock.now - datetime.timedelta(days=31)).isoformat()
    recent = (clock.now - datetime.timedelta(days=29)).isoformat()

    refused = api.get("/cdc", params={"entities": "Invoice", "changedSince": old})
    fine = api.get("/cdc", params={"entities": "Invoice", "changedSince": recent})
    no_entities = api.get("/cdc", params={"changedSince": recent})

    assert refused.status_code == 400
    assert fault_code(refused) == "4001"
    assert fine.status_code == 200
    assert fault_code(no_entities) == "2020"
