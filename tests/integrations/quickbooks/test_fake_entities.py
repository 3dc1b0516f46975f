"""The fake QuickBooks' entities: creates answered as the samples, requestid replays, SyncToken
and 5010, sparse updates, 6240/610/2020/6070, voids, deletes, payments moving balances, bills
and journal entries."""

from __future__ import annotations

import httpx
import pytest

from integrations.quickbooks.fake_data import sample
from tests.integrations.quickbooks.support import client, fault_code, make, seeded_sale, without

META = ("MetaData", "V4IDPseudonym")


def test_a_customer_create_is_answered_as_the_sample():
    fake, _ = make()
    answer = client(fake).post("/customer", json=sample("customer_create_request.json"))

    assert answer.status_code == 200
    expected = sample("customer_create_response.json")
    assert set(answer.json()) == {"Customer", "time"}
    assert answer.json()["time"] == "2026-03-14T07:25:13.000-07:00"
    got = answer.json()["Customer"]
    assert without(got, *META) == without(expected["Customer"], *META)
    assert got["MetaData"] == {
        "CreateTime": "2026-03-14T07:25:13-07:00",
        "LastUpdatedTime": "2026-03-14T07:25:13-07:00",
    }
    assert list(got)[:13] == list(expected["Customer"])[:13]  # the fields sent, then domain, sparse, Id


def test_item_invoice_payment_and_bill_are_answered_as_the_samples():
    fake, _ = make()
    invoice = seeded_sale(fake)
    api = client(fake)
    item = api.get("/item/31").json()["Item"]
    payment = api.post("/payment", json=sample("payment_create_request.json")).json()["Payment"]
    vendor = api.post("/vendor", json={"DisplayName": "Acme Tent Works"}).json()["Vendor"]
    bill_request = sample("bill_create_request.json")
    bill_request["VendorRef"]["value"] = vendor["Id"]
    bill = api.post("/bill", json=bill_request).json()["Bill"]

    assert without(item, "MetaData") == without(
        sample("item_inventory_create_response.json")["Item"], "MetaData", "ReorderPoint"
    )
    expected_invoice = sample("invoice_create_response.json")["Invoice"]
    assert without(invoice, "MetaData") == without(expected_invoice, "MetaData")
    assert invoice["Balance"] == 643.42
    assert invoice["TotalAmt"] == 643.42
    assert without(payment, "MetaData") == without(
        sample("payment_create_response.json")["Payment"], "MetaData"
    )
    expected_bill = sample("bill_create_response.json")["Bill"]
    assert without(bill, "MetaData", "Id", "VendorRef") == without(
        expected_bill, "MetaData", "Id", "VendorRef"
    )
    assert bill["VendorRef"] == {"value": vendor["Id"], "name": "Acme Tent Works"}


def test_a_payment_reduces_its_invoice_balance_and_bumps_its_synctoken():
    fake, _ = make()
    seeded_sale(fake)
    api = client(fake)
    partial = {**sample("payment_create_request.json"), "TotalAmt": 100.0}
    partial["Line"] = [{"Amount": 100.0, "LinkedTxn": [{"TxnId": "1207", "TxnType": "Invoice"}]}]

    first = api.post("/payment", json=partial)
    invoice = api.get("/invoice/1207").json()["Invoice"]
    too_much = api.post(
        "/payment", json={**partial, "TotalAmt": 600.0, "Line": [{**partial["Line"][0], "Amount": 600.0}]}
    )
    customer = api.get("/customer/58").json()["Customer"]

    assert first.status_code == 200
    assert invoice["Balance"] == 543.42
    assert invoice["SyncToken"] == "1"
    assert invoice["LinkedTxn"] == [{"TxnId": first.json()["Payment"]["Id"], "TxnType": "Payment"}]
    assert too_much.status_code == 400
    assert fault_code(too_much) == "6000"
    assert customer["Balance"] == 543.42


def test_requestid_replays_the_first_answer_and_creates_nothing():
    fake, clock = make()
    api = client(fake)
    body = sample("customer_create_request.json")

    first = api.post("/customer", params={"requestid": "4f1c-retry-1"}, json=body)
    clock.sleep(30)
    again = api.post("/customer", params={"requestid": "4f1c-retry-1"}, json=body)
    other = api.post("/customer", params={"requestid": "4f1c-retry-2"}, json=body)

    assert first.status_code == again.status_code == 200
    assert again.json() == first.json()  # its time included
    assert len(fake.objects("Customer")) == 1
    assert other.status_code == 400
    assert fault_code(other) == "6240"


def test_a_write_whose_answer_was_lost_is_found_again_by_its_requestid():
    fake, _ = make()
    api = client(fake)
    fake.timeout_next(match="POST customer", processed=True)
    with pytest.raises(httpx.ReadTimeout):
        api.post("/customer", params={"requestid": "lost-1"}, json=sample("customer_create_request.json"))

    retried = api.post(
        "/customer", params={"requestid": "lost-1"}, json=sample("customer_create_request.json")
    )

    assert retried.status_code == 200
    assert retried.json()["Customer"]["Id"] == "58"
    assert len(fake.objects("Customer")) == 1


def test_sparse_update_changes_only_what_is_sent_and_stale_synctokens_get_5010():
    fake, clock = make()
    seeded_sale(fake)
    api = client(fake)
    clock.sleep(735)
    request = without(sample("item_sparse_update_request.json"), "_comment")

    updated = api.post("/item", json=request)
    stale = api.post("/item", json=request)
    missing_token = api.post("/item", json={"Id": "31", "sparse": True, "QtyOnHand": 1})

    expected = sample("item_sparse_update_response.json")["Item"]
    assert updated.status_code == 200
    got = updated.json()["Item"]
    assert without(got, "MetaData") == without(expected, "MetaData", "ReorderPoint")
    assert got["MetaData"]["LastUpdatedTime"] == "2026-03-14T07:37:28-07:00"
    assert got["MetaData"]["CreateTime"] == "2026-03-14T07:25:13-07:00"
    assert stale.status_code == 400
    assert stale.json()["Fault"] == {
        "Error": [
            {
                "Message": "Stale Object Error",
                "Detail": sample("fault_5010_stale_synctoken.json")["Fault"]["Error"][0]["Detail"],
                "code": "5010",
            }
        ],
        "type": "ValidationFault",
    }
    assert fault_code(missing_token) == "2020"


def test_a_full_update_drops_what_is_not_sent():
    fake, _ = make()
    api = client(fake)
    created = api.post("/customer", json=sample("customer_create_request.json")).json()["Customer"]

    full = api.post(
        "/customer", json={"Id": "58", "SyncToken": created["SyncToken"], "DisplayName": "Jane Buyer"}
    )

    assert full.status_code == 200
    assert "Notes" not in full.json()["Customer"]
    assert "BillAddr" not in full.json()["Customer"]
    assert full.json()["Customer"]["SyncToken"] == "1"


def test_duplicate_names_are_6240_case_insensitively_across_customers_and_vendors():
    fake, _ = make()
    seeded_sale(fake)
    api = client(fake)

    customer = api.post("/customer", json={"DisplayName": "JANE buyer "})
    vendor = api.post("/vendor", json={"DisplayName": "jane BUYER"})
    item = api.post(
        "/item", json={"Name": "trail tent 2p green", "Type": "Service", "IncomeAccountRef": {"value": "82"}}
    )
    fine = api.post(
        "/item", json={"Name": "Gift wrap", "Type": "Service", "IncomeAccountRef": {"value": "82"}}
    )

    assert customer.status_code == vendor.status_code == item.status_code == 400
    assert customer.json()["Fault"] == sample("fault_6240_duplicate_name.json")["Fault"]
    assert fault_code(vendor) == fault_code(item) == "6240"
    assert fine.status_code == 200
    assert fine.json()["Item"]["Type"] == "Service"


def test_missing_objects_and_bad_references_are_610_and_missing_fields_2020():
    fake, _ = make()
    seeded_sale(fake)
    api = client(fake)
    line = sample("invoice_create_request.json")["Line"][0]

    missing = api.get("/invoice/999")
    bad_customer = api.post("/invoice", json={"CustomerRef": {"value": "999"}, "Line": [line]})
    bad_item = api.post(
        "/invoice",
        json={
            "CustomerRef": {"value": "58"},
            "Line": [{**line, "SalesItemLineDetail": {"ItemRef": {"value": "77"}}}],
        },
    )
    no_item = api.post(
        "/invoice",
        json={"CustomerRef": {"value": "58"}, "Line": [{**line, "SalesItemLineDetail": {"Qty": 1}}]},
    )
    no_customer = api.post("/invoice", json={"Line": [line]})

    assert missing.status_code == 400
    assert missing.json()["Fault"] == sample("fault_610_object_not_found.json")["Fault"]
    assert fault_code(bad_customer) == fault_code(bad_item) == "610"
    assert no_item.json()["Fault"] == sample("fault_2020_required_param_missing.json")["Fault"]
    assert fault_code(no_customer) == "2020"


def test_an_inactive_item_can_not_be_sold_and_amounts_must_be_qty_times_price():
    fake, _ = make()
    seeded_sale(fake)
    api = client(fake)
    api.post("/item", json={"Id": "32", "SyncToken": "0", "sparse": True, "Active": False})
    request = sample("invoice_create_request.json")
    request["DocNumber"] = "SHOP-1043"

    inactive = api.post("/invoice", json=request)
    request["Line"] = request["Line"][:1]
    request["Line"][0]["Amount"] = 250.0
    wrong = api.post("/invoice", json=request)

    assert fault_code(inactive) == "610"
    assert fault_code(wrong) == "6070"


def test_invoice_discount_shipping_terms_and_duplicate_doc_numbers():
    fake, _ = make()
    seeded_sale(fake)
    api = client(fake)
    request = {
        "CustomerRef": {"value": "58"},
        "TxnDate": "2026-03-14",
        "DocNumber": "SHOP-1050",
        "SalesTermRef": {"value": "2"},
        "Line": [
            {
                "DetailType": "SalesItemLineDetail",
                "Amount": 498.0,
                "SalesItemLineDetail": {
                    "ItemRef": {"value": "31"},
                    "Qty": 2,
                    "UnitPrice": 249.0,
                    "TaxCodeRef": {"value": "TAX"},
                },
            },
            {
                "DetailType": "SalesItemLineDetail",
                "Amount": 12.5,
                "SalesItemLineDetail": {
                    "ItemRef": {"value": "SHIPPING_ITEM_ID"},
                    "TaxCodeRef": {"value": "NON"},
                },
            },
            {
                "DetailType": "DiscountLineDetail",
                "Amount": 0,
                "DiscountLineDetail": {"PercentBased": True, "DiscountPercent": 10},
            },
        ],
    }

    invoice = api.post("/invoice", json=request).json()["Invoice"]
    again = api.post("/invoice", json=request)

    assert [line["DetailType"] for line in invoice["Line"]] == [
        "SalesItemLineDetail",
        "SalesItemLineDetail",
        "DiscountLineDetail",
        "SubTotalLineDetail",
    ]
    assert invoice["Line"][2]["Amount"] == 49.8
    assert invoice["Line"][3]["Amount"] == 498.0
    assert invoice["TxnTaxDetail"]["TotalTax"] == 29.88  # 6 % of 498, the discount after tax
    assert invoice["TotalAmt"] == 490.58  # 498 - 49.80 + 12.50 + 29.88
    assert invoice["DueDate"] == "2026-03-29"
    assert invoice["SalesTermRef"] == {"value": "2", "name": "Net 15"}
    assert fault_code(again) == "6140"


def test_void_keeps_the_invoice_with_zero_amounts_and_void_of_a_payment_reopens_the_invoice():
    fake, _ = make()
    seeded_sale(fake)
    api = client(fake)
    payment = api.post("/payment", json=sample("payment_create_request.json")).json()["Payment"]
    paid = api.get("/invoice/1207").json()["Invoice"]

    refused = api.post(
        "/invoice", params={"operation": "void"}, json={"Id": "1207", "SyncToken": paid["SyncToken"]}
    )
    voided_payment = api.post(
        "/payment", params={"operation": "void"}, json={"Id": payment["Id"], "SyncToken": "0", "sparse": True}
    )
    reopened = api.get("/invoice/1207").json()["Invoice"]
    voided = api.post(
        "/invoice", params={"operation": "void"}, json={"Id": "1207", "SyncToken": reopened["SyncToken"]}
    )

    assert paid["Balance"] == 0
    assert fault_code(refused) == "6000"
    assert voided_payment.json()["Payment"]["TotalAmt"] == 0
    assert voided_payment.json()["Payment"]["PrivateNote"] == "Voided"
    assert reopened["Balance"] == 643.42
    assert reopened["LinkedTxn"] == []
    invoice = voided.json()["Invoice"]
    assert invoice["TotalAmt"] == 0
    assert invoice["Balance"] == 0
    assert invoice["PrivateNote"] == "Voided"
    assert api.get("/invoice/1207").json()["Invoice"]["Id"] == "1207"


def test_delete_is_for_transactions_only():
    fake, _ = make()
    invoice = seeded_sale(fake)
    api = client(fake)

    deleted = api.post(
        "/invoice", params={"operation": "delete"}, json={"Id": "1207", "SyncToken": invoice["SyncToken"]}
    )
    customer = api.post("/customer", params={"operation": "delete"}, json={"Id": "58", "SyncToken": "0"})

    assert deleted.status_code == 200
    assert deleted.json()["Invoice"] == {"domain": "QBO", "status": "Deleted", "Id": "1207"}
    assert fault_code(api.get("/invoice/1207")) == "610"
    assert fault_code(customer) == "500"


def test_a_journal_entry_must_balance():
    fake, _ = make()
    api = client(fake)

    def line(posting: str, account: str, amount: float) -> dict[str, object]:
        detail = {"PostingType": posting, "AccountRef": {"value": account}}
        return {"DetailType": "JournalEntryLineDetail", "Amount": amount, "JournalEntryLineDetail": detail}

    balanced = api.post(
        "/journalentry",
        json={"TxnDate": "2026-03-14", "Line": [line("Debit", "80", 118.5), line("Credit", "81", 118.5)]},
    )
    unbalanced = api.post(
        "/journalentry", json={"Line": [line("Debit", "80", 118.5), line("Credit", "81", 100)]}
    )

    assert balanced.status_code == 200
    entry = balanced.json()["JournalEntry"]
    assert entry["TotalAmt"] == 118.5
    assert entry["Line"][0]["JournalEntryLineDetail"]["AccountRef"] == {
        "value": "80",
        "name": "Cost of Goods Sold",
    }
    assert unbalanced.status_code == 400
    assert fault_code(unbalanced) == "6000"


def test_bill_payments_reduce_bills_and_seeded_lists_are_readable():
    fake, _ = make()
    api = client(fake)
    vendor = api.post("/vendor", json={"DisplayName": "Acme Tent Works"}).json()["Vendor"]
    bill = api.post(
        "/bill",
        json={
            "VendorRef": {"value": vendor["Id"]},
            "Line": [
                {
                    "DetailType": "AccountBasedExpenseLineDetail",
                    "Amount": 85.0,
                    "AccountBasedExpenseLineDetail": {"AccountRef": {"value": "77"}},
                }
            ],
        },
    ).json()["Bill"]
    payment = api.post(
        "/billpayment",
        json={
            "VendorRef": {"value": vendor["Id"]},
            "PayType": "Check",
            "CheckPayment": {"BankAccountRef": {"value": "35"}},
            "TotalAmt": 85.0,
            "Line": [{"Amount": 85.0, "LinkedTxn": [{"TxnId": bill["Id"], "TxnType": "Bill"}]}],
        },
    )

    assert payment.status_code == 200
    assert api.get(f"/bill/{bill['Id']}").json()["Bill"]["Balance"] == 0
    assert api.get("/account/4").json()["Account"]["Name"] == "Undeposited Funds"
    assert api.get("/taxcode/3").json()["TaxCode"]["Name"] == "KY Sales Tax"
    assert fault_code(api.post("/taxcode", json={"Name": "New"})) == "500"


def test_minorversion_missing_or_old_is_answered_as_75():
    fake, _ = make()
    base = client(fake)
    bare = httpx.Client(transport=base._transport, base_url=base.base_url, headers=base.headers)

    old = bare.get("/account/4", params={"minorversion": "4"})
    none = bare.get("/account/4")

    assert old.status_code == none.status_code == 200
    assert old.json()["Account"] == none.json()["Account"]
    assert fake.minor_versions == [4, None]
