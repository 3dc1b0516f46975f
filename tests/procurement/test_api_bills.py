"""Bills through the procurement API: the three-way match, review, payments, refusals and voiding."""

from __future__ import annotations

import pytest

from procurement.models import Bill, PurchaseOrderLine
from tests.inventory.factories import ProductFactory
from tests.procurement.api_support import Api, api_as, create_po, field_errors, sent_po
from tests.procurement.factories import SupplierFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def api() -> Api:
    return api_as("Purchasing")


def test_a_matching_bill_opens_a_mismatch_needs_review_then_is_approved_and_paid(api: Api):
    # given: 10 ordered at 5.00, 6 received
    po = sent_po(api, ProductFactory(), quantity=10, cost="5.00")
    line_id = po["lines"][0]["id"]
    api.post(f"/purchase-orders/{po['id']}/receive", {"lines": [{"line_id": line_id, "quantity": 6}]})

    # when: billed right
    good = api.post(
        "/bills",
        {
            "purchase_order": po["id"],
            "supplier_reference": "INV-1",
            "lines": [{"line_id": line_id, "quantity": 6, "unit_cost": "5.00"}],
        },
    )

    # then
    assert good.status_code == 201, good.content
    assert (good.json()["status"], good.json()["match_ok"], good.json()["match_issues"]) == ("open", True, [])
    assert (good.json()["total"], good.json()["balance"], good.json()["order_number"]) == (
        "30.00",
        "30.00",
        po["number"],
    )

    # when: billed more than received, at a higher price
    bad = api.post(
        "/bills",
        {
            "purchase_order": po["id"],
            "supplier_reference": "INV-2",
            "bill_date": "2030-01-10",
            "lines": [{"line_id": line_id, "quantity": 3, "unit_cost": "5.50"}],
        },
    )

    # then
    assert bad.status_code == 201, bad.content
    bill = bad.json()
    assert (bill["status"], bill["match_ok"]) == ("needs_review", False)
    assert any("3 billed but 0 received" in issue for issue in bill["match_issues"])
    assert any("billed at $5.50 per unit, ordered at $5.00" in issue for issue in bill["match_issues"])
    assert [b["id"] for b in api.get("/bills", match_ok="false").json()["items"]] == [bill["id"]]
    not_yet = api.post(f"/bills/{bill['id']}/pay", {"amount": "1.00"})
    assert not_yet.status_code == 409
    assert "'needs_review' to 'paid'" in not_yet.json()["detail"]

    # when: reviewed and accepted, then paid in two goes
    accepted = api.post(f"/bills/{bill['id']}/approve", {"note": "price increase agreed"})
    part = api.post(f"/bills/{bill['id']}/pay", {"amount": "10.00", "method": "wire", "reference": "T-1"})
    too_much = api.post(f"/bills/{bill['id']}/pay", {"amount": "100.00"})
    rest = api.post(f"/bills/{bill['id']}/pay", {"amount": "6.50", "paid_at": "2030-02-01"})

    # then
    assert accepted.status_code == 200
    assert accepted.json()["status"] == "open"
    assert accepted.json()["match_issues"][-1] == "Accepted: price increase agreed"
    assert part.status_code == 201, part.content
    assert (part.json()["bill_status"], part.json()["bill_balance"], part.json()["amount"]) == (
        "partially_paid",
        "6.50",
        "10.00",
    )
    assert too_much.status_code == 422
    assert (rest.json()["bill_status"], rest.json()["bill_balance"], rest.json()["paid_at"]) == (
        "paid",
        "0.00",
        "2030-02-01",
    )
    detail = api.get(f"/bills/{bill['id']}").json()
    assert [p["amount"] for p in detail["payments"]] == ["6.50", "10.00"]
    assert [p["bill"] for p in api.get("/payments", bill=bill["id"]).json()["items"]] == [bill["id"]] * 2
    po_detail = api.get(f"/purchase-orders/{po['id']}").json()
    assert po_detail["lines"][0]["billed"] == "9.0000"
    assert sorted(b["supplier_reference"] for b in po_detail["bills"]) == ["INV-1", "INV-2"]


def test_a_bill_is_refused_for_a_duplicate_reference_a_draft_order_or_a_foreign_line_and_voided(api: Api):
    po = sent_po(api, ProductFactory())
    line_id = po["lines"][0]["id"]
    api.post(f"/purchase-orders/{po['id']}/receive", {"lines": [{"line_id": line_id, "quantity": 10}]})
    draft = create_po(
        api, SupplierFactory(), [{"product": ProductFactory().pk, "quantity": 1, "unit_cost": 1}]
    )
    body = {
        "purchase_order": po["id"],
        "supplier_reference": "A-1",
        "lines": [{"line_id": line_id, "quantity": 1, "unit_cost": 5}],
    }
    first = api.post("/bills", body)

    duplicate = api.post("/bills", body)
    on_draft = api.post(
        "/bills",
        {
            **body,
            "purchase_order": draft["id"],
            "lines": [{"line_id": draft["lines"][0]["id"], "quantity": 1, "unit_cost": 1}],
        },
    )
    foreign = api.post(
        "/bills",
        {
            **body,
            "supplier_reference": "A-2",
            "lines": [{"line_id": draft["lines"][0]["id"], "quantity": 1, "unit_cost": 1}],
        },
    )
    voided = api.post_empty(f"/bills/{first.json()['id']}/void")

    assert duplicate.status_code == 422
    assert field_errors(duplicate) == {"supplier_reference": "Duplicate."}
    assert on_draft.status_code == 409
    assert "'draft' to 'billed'" in on_draft.json()["detail"]
    assert foreign.status_code == 422
    assert "lines.0.line_id" in field_errors(foreign)
    assert voided.status_code == 200
    assert voided.json()["status"] == "void"
    assert PurchaseOrderLine.objects.get(pk=line_id).quantity_billed == 0
    assert Bill.objects.count() == 1
