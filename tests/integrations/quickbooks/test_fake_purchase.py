"""The fake QuickBooks' Purchase (a check, cash or a card charge) and the payment that uses a credit
memo up against a refund check: its rules and faults, the balances it moves, query, CDC, delete
(never void), and line classes and locations on sales forms."""

from __future__ import annotations

import datetime
from typing import Any

import httpx

from integrations.quickbooks.fake_data import AR_ACCOUNT_ID, BANK_ACCOUNT_ID, CREDIT_CARD_ACCOUNT_ID
from tests.integrations.quickbooks.support import START, client, fault_code, make, seeded_sale


def check(customer: str, amount: float = 20.0, **fields: Any) -> dict[str, Any]:
    """A refund check to ``customer`` from Checking, its one line on A/R."""
    return {
        "PaymentType": "Check",
        "AccountRef": {"value": BANK_ACCOUNT_ID},
        "EntityRef": {"value": customer, "type": "Customer"},
        "Line": [
            {
                "DetailType": "AccountBasedExpenseLineDetail",
                "Amount": amount,
                "AccountBasedExpenseLineDetail": {"AccountRef": {"value": AR_ACCOUNT_ID}},
            }
        ],
        **fields,
    }


def credit_memo(api: httpx.Client, customer: str, amount: float = 20.0) -> dict[str, Any]:
    line = {
        "DetailType": "SalesItemLineDetail",
        "Amount": amount,
        "SalesItemLineDetail": {
            "ItemRef": {"value": "31"},
            "Qty": 1,
            "UnitPrice": amount,
            "TaxCodeRef": {"value": "NON"},
        },
    }
    answer = api.post("/creditmemo", json={"CustomerRef": {"value": customer}, "Line": [line]})
    assert answer.status_code == 200, answer.text
    return dict(answer.json()["CreditMemo"])


def apply(credit_id: str, check_id: str, amount: float = 20.0, total: float = 0) -> dict[str, Any]:
    return {
        "CustomerRef": {"value": "58"},
        "TotalAmt": total,
        "Line": [
            {"Amount": amount, "LinkedTxn": [{"TxnId": credit_id, "TxnType": "CreditMemo"}]},
            {"Amount": amount, "LinkedTxn": [{"TxnId": check_id, "TxnType": "Expense"}]},
        ],
    }


def test_a_refund_check_raises_what_the_customer_owes_until_a_payment_uses_the_credit_up():
    fake, _ = make()
    seeded_sale(fake)
    api = client(fake)
    before = fake.get("Customer", "58")["Balance"]
    memo = credit_memo(api, "58")
    assert fake.get("Customer", "58")["Balance"] == before - 20

    made = api.post("/purchase", json=check("58"))

    assert made.status_code == 200, made.text
    purchase = made.json()["Purchase"]
    assert (purchase["TotalAmt"], purchase["PaymentType"], purchase["SyncToken"]) == (20, "Check", "0")
    assert purchase["AccountRef"] == {"value": BANK_ACCOUNT_ID, "name": "Checking"}
    assert purchase["EntityRef"] == {"value": "58", "name": "Jane Buyer", "type": "Customer"}
    assert purchase["Line"][0]["Id"] == "1"
    assert fake.get("Customer", "58")["Balance"] == before  # the check pays the credit out

    linked = api.post("/payment", json=apply(memo["Id"], purchase["Id"]))

    assert linked.status_code == 200, linked.text
    assert (linked.json()["Payment"]["TotalAmt"], linked.json()["Payment"]["UnappliedAmt"]) == (0, 0)
    after = fake.get("CreditMemo", memo["Id"])
    assert (after["Balance"], after["RemainingCredit"]) == (0, 0)
    assert after["LinkedTxn"] == [{"TxnId": linked.json()["Payment"]["Id"], "TxnType": "Payment"}]
    assert fake.get("Customer", "58")["Balance"] == before
    assert fake.get("Purchase", purchase["Id"]) == purchase  # the link leaves the check as it is


def test_a_purchase_needs_its_type_its_account_and_a_customer_for_an_ar_line():
    fake, _ = make()
    seeded_sale(fake)
    api = client(fake)

    missing_type = api.post("/purchase", json={k: v for k, v in check("58").items() if k != "PaymentType"})
    bad_type = api.post("/purchase", json=check("58", PaymentType="Cheque"))
    missing_account = api.post("/purchase", json={k: v for k, v in check("58").items() if k != "AccountRef"})
    card_from_bank = api.post("/purchase", json=check("58", PaymentType="CreditCard"))
    to_a_vendor = api.post("/purchase", json=check("56", EntityRef={"value": "56", "type": "Vendor"}))
    nobody = api.post("/purchase", json={k: v for k, v in check("58").items() if k != "EntityRef"})
    wrong_total = api.post("/purchase", json=check("58", TotalAmt=25))
    unknown_customer = api.post("/purchase", json=check("999"))

    assert fault_code(missing_type) == "2020"
    assert missing_type.json()["Fault"]["Error"][0]["element"] == "PaymentType"
    assert fault_code(bad_type) == "2170"
    assert fault_code(missing_account) == "2020"
    assert fault_code(card_from_bank) == "6000"
    assert "Credit Card" in card_from_bank.json()["Fault"]["Error"][0]["Detail"]
    assert fault_code(to_a_vendor) == "610"  # no vendor 56 yet
    assert fault_code(nobody) == "6000"
    assert "Accounts Receivable" in nobody.json()["Fault"]["Error"][0]["Detail"]
    assert fault_code(wrong_total) == "6000"
    assert fault_code(unknown_customer) == "610"
    assert fake.objects("Purchase") == []
    card = api.post(
        "/purchase", json=check("58", PaymentType="CreditCard", AccountRef={"value": CREDIT_CARD_ACCOUNT_ID})
    )
    assert card.status_code == 200, card.text
    assert (card.json()["Purchase"]["Credit"], card.json()["Purchase"]["TotalAmt"]) == (False, 20)


def test_credits_are_taken_from_charges_and_never_beyond_them():
    fake, _ = make()
    seeded_sale(fake)
    api = client(fake)
    memo = credit_memo(api, "58")
    purchase = api.post("/purchase", json=check("58", amount=5.0)).json()["Purchase"]

    more_than_the_check = api.post("/payment", json=apply(memo["Id"], purchase["Id"], amount=20.0))
    credit_alone = api.post(
        "/payment",
        json={
            "CustomerRef": {"value": "58"},
            "TotalAmt": 0,
            "Line": [{"Amount": 5, "LinkedTxn": [{"TxnId": memo["Id"], "TxnType": "CreditMemo"}]}],
        },
    )
    more_than_the_memo = api.post("/payment", json=apply(memo["Id"], purchase["Id"], amount=30.0))
    not_zero = api.post("/payment", json=apply(memo["Id"], purchase["Id"], amount=5.0, total=-1))

    assert fault_code(more_than_the_check) == "6000"
    assert fault_code(credit_alone) == "6000"
    assert "more than the charges" in credit_alone.json()["Fault"]["Error"][0]["Detail"]
    assert fault_code(more_than_the_memo) == "6000"
    assert not_zero.status_code == 400
    part = api.post("/payment", json=apply(memo["Id"], purchase["Id"], amount=5.0))
    assert part.status_code == 200, part.text
    assert fake.get("CreditMemo", memo["Id"])["Balance"] == 15  # 15 of credit left


def test_a_purchase_is_queried_read_in_cdc_deleted_and_never_voided():
    fake, clock = make()
    seeded_sale(fake)
    api = client(fake)
    memo = credit_memo(api, "58")
    purchase = api.post("/purchase", json=check("58", PrivateNote="ERP refund-1")).json()["Purchase"]

    found = api.post(
        "/query",
        content=b"select * from Purchase where PrivateNote = 'ERP refund-1'",
        headers={"Content-Type": "application/text"},
    )
    read = api.get(f"/purchase/{purchase['Id']}").json()["Purchase"]
    since = (START - datetime.timedelta(minutes=1)).isoformat()
    changed = api.get("/cdc", params={"entities": "Purchase", "changedSince": since})
    voided = api.post(
        "/purchase", params={"operation": "void"}, json={"Id": purchase["Id"], "SyncToken": "0"}
    )
    payment = api.post("/payment", json=apply(memo["Id"], purchase["Id"])).json()["Payment"]
    linked = api.post(
        "/purchase", params={"operation": "delete"}, json={"Id": purchase["Id"], "SyncToken": "0"}
    )
    api.post("/payment", params={"operation": "delete"}, json={"Id": payment["Id"], "SyncToken": "0"})
    clock.tick(datetime.timedelta(minutes=1))
    deleted = api.post(
        "/purchase", params={"operation": "delete"}, json={"Id": purchase["Id"], "SyncToken": "0"}
    )

    assert [p["Id"] for p in found.json()["QueryResponse"]["Purchase"]] == [purchase["Id"]]
    assert changed.json()["CDCResponse"][0]["QueryResponse"][0]["Purchase"][0]["Id"] == purchase["Id"]
    assert read == purchase
    assert fault_code(voided) == "500"
    assert fault_code(linked) == "6000"
    assert deleted.json()["Purchase"] == {"domain": "QBO", "status": "Deleted", "Id": purchase["Id"]}
    assert fault_code(api.get(f"/purchase/{purchase['Id']}")) == "610"
    assert fake.get("Customer", "58")["Balance"] == 643.42 - 20  # the credit is open again
    later = api.get(
        "/cdc",
        params={"entities": "Purchase", "changedSince": (START + datetime.timedelta(seconds=30)).isoformat()},
    )
    assert later.json()["CDCResponse"][0]["QueryResponse"][0]["Purchase"][0]["status"] == "Deleted"


def test_line_classes_and_locations_name_the_companys_own():
    fake, _ = make()
    seeded_sale(fake)
    api = client(fake)
    line = {
        "DetailType": "SalesItemLineDetail",
        "Amount": 10,
        "SalesItemLineDetail": {
            "ItemRef": {"value": "31"},
            "Qty": 1,
            "UnitPrice": 10,
            "ClassRef": {"value": "2"},
        },
    }
    body = {"CustomerRef": {"value": "58"}, "Line": [line], "DepartmentRef": {"value": "1"}}

    made = api.post("/invoice", json=body)
    no_class = api.post(
        "/invoice",
        json={
            **body,
            "Line": [
                {**line, "SalesItemLineDetail": {**line["SalesItemLineDetail"], "ClassRef": {"value": "9"}}}
            ],
        },
    )
    no_location = api.post("/invoice", json={**body, "DepartmentRef": {"value": "9"}})

    invoice = made.json()["Invoice"]
    assert invoice["Line"][0]["SalesItemLineDetail"]["ClassRef"] == {"value": "2", "name": "Wholesale"}
    assert invoice["DepartmentRef"] == {"value": "1", "name": "Louisville Store"}
    assert (fault_code(no_class), no_class.json()["Fault"]["Error"][0]["element"]) == (
        "610",
        "Line.SalesItemLineDetail.ClassRef",
    )
    assert fault_code(no_location) == "610"
