"""The procurement API: suppliers and their items, purchase orders created in one request, approval,
receiving (also by a warehouse key), bills with the three-way match, payments, replenishment, and the
errors (403, 404, 409, 422) it answers with."""

from __future__ import annotations

from decimal import Decimal as D
from typing import Any

import pytest
from django.test import Client, override_settings

from inventory.models import StockLevel, StockMove
from inventory.services import reorder_rule_set
from procurement.models import (
    Bill,
    PurchaseOrder,
    PurchaseOrderLine,
    PurchaseOrderStatus,
    Receipt,
    SupplierItem,
)
from procurement.services import supplier_item_set
from tests.erp.factories import UserFactory, api_key_for, bearer
from tests.inventory.factories import ProductFactory, bin_of, unit, warehouse
from tests.procurement.factories import SupplierFactory

pytestmark = pytest.mark.django_db

BASE = "/api/v1/procurement"
S = PurchaseOrderStatus


class Api:
    """The procurement API as one key holder calls it."""

    def __init__(self, raw_key: str) -> None:
        self.client = Client()
        self.headers = bearer(raw_key)

    def get(self, path: str, **params: Any):
        return self.client.get(BASE + path, params, **self.headers)

    def post(self, path: str, body: dict[str, Any] | None = None):
        return self.client.post(BASE + path, body or {}, content_type="application/json", **self.headers)

    def post_empty(self, path: str):
        return self.client.post(BASE + path, "", content_type="application/json", **self.headers)

    def patch(self, path: str, body: dict[str, Any]):
        return self.client.patch(BASE + path, body, content_type="application/json", **self.headers)

    def delete(self, path: str):
        return self.client.delete(BASE + path, **self.headers)


def api_as(*roles: str, scopes: list[str] | None = None) -> Api:
    return Api(api_key_for(UserFactory(roles=list(roles)), scopes=scopes))


def field_errors(response) -> dict[str, str]:
    return {e["field"]: e["message"] for e in response.json()["errors"]}


@pytest.fixture
def api() -> Api:
    return api_as("Purchasing")


def create_po(api: Api, supplier, lines: list[dict[str, Any]], **extra: Any):
    body = {"supplier": supplier.pk, "warehouse": warehouse().pk, "lines": lines, **extra}
    response = api.post("/purchase-orders", body)
    assert response.status_code == 201, response.content
    return response.json()


def sent_po(api: Api, product, quantity: int = 10, cost: str = "5.00") -> dict[str, Any]:
    po = create_po(api, SupplierFactory(), [{"product": product.pk, "quantity": quantity, "unit_cost": cost}])
    response = api.post_empty(f"/purchase-orders/{po['id']}/send")
    assert response.status_code == 200, response.content
    return response.json()


# --- suppliers ------------------------------------------------------------------------------------


def test_create_a_supplier_with_contacts_then_read_update_and_add_a_contact(api: Api):
    # when
    created = api.post(
        "/suppliers",
        {
            "name": "Bolts & Co",
            "email": "orders@bolts.example",
            "currency": "EUR",
            "payment_terms_days": 45,
            "contacts": [{"name": "Greta", "role": "sales"}],
        },
    )

    # then
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["code"].startswith("S-")
    assert (body["currency"], body["payment_terms_days"], body["open_orders"]) == ("EUR", 45, 0)
    assert body["open_balance"] == "0.00"  # money: the currency's minor-unit digits
    assert [c["name"] for c in body["contacts"]] == ["Greta"]
    assert body["items"] == []
    assert body["open_purchase_orders"] == []

    # when: archived, and a contact added
    supplier_id = body["id"]
    patched = api.patch(f"/suppliers/{supplier_id}", {"is_active": False, "lead_time_days": 3})
    contact = api.post(f"/suppliers/{supplier_id}/contacts", {"name": "Hans", "email": "hans@bolts.example"})

    # then
    assert patched.status_code == 200, patched.content
    assert (patched.json()["is_active"], patched.json()["lead_time_days"]) == (False, 3)
    assert contact.status_code == 201
    detail = api.get(f"/suppliers/{supplier_id}").json()
    assert [c["name"] for c in detail["contacts"]] == ["Greta", "Hans"]
    assert [s["id"] for s in api.get("/suppliers", is_active="false").json()["items"]] == [supplier_id]
    assert api.get("/suppliers", q="bolts").json()["count"] == 1


def test_supplier_errors_are_422_with_fields_and_404_for_an_unknown_id(api: Api):
    # when
    bad_currency = api.post("/suppliers", {"name": "X", "currency": "ZZZ"})
    null_name = api.patch(f"/suppliers/{SupplierFactory().pk}", {"name": None})
    missing = api.get("/suppliers/999999")

    # then
    assert bad_currency.status_code == 422
    assert "currency" in field_errors(bad_currency)
    assert null_name.status_code == 422
    assert field_errors(null_name) == {"name": "Cannot be null."}
    assert missing.status_code == 404
    assert missing.json()["detail"] == "No supplier with id 999999."


def test_supplier_items_upsert_with_price_breaks_in_boxes_and_delete(api: Api):
    # given
    supplier, product = SupplierFactory(), ProductFactory(sku="BOLT-1")
    unit("box")
    body = {
        "supplier": supplier.pk,
        "sku": "bolt-1",
        "unit_price": "30.00",
        "purchase_unit": "box",
        "factor": 12,
        "is_preferred": True,
        "price_breaks": [
            {"min_quantity": 10, "unit_price": "25.00"},
            {"min_quantity": 5, "unit_price": "28"},
        ],
    }

    # when
    created = api.post("/supplier-items", body)
    changed = api.post(
        "/supplier-items",
        {**body, "unit_price": "31", "price_breaks": [{"min_quantity": 20, "unit_price": 24}]},
    )

    # then
    assert created.status_code == 201, created.content
    item = created.json()
    assert (item["product"], item["purchase_unit"], item["factor"], item["unit_price"]) == (
        product.pk,
        "box",
        "12.0000",
        "30.00",
    )
    assert [(b["min_quantity"], b["unit_price"]) for b in item["price_breaks"]] == [
        ("5.0000", "28.00"),
        ("10.0000", "25.00"),
    ]
    assert changed.status_code == 200, changed.content
    assert changed.json()["id"] == item["id"]
    assert [(b["min_quantity"], b["unit_price"]) for b in changed.json()["price_breaks"]] == [
        ("20.0000", "24.00")
    ]
    listed = api.get("/supplier-items", supplier=supplier.pk, preferred="true").json()
    assert [i["id"] for i in listed["items"]] == [item["id"]]

    # when
    deleted = api.delete(f"/supplier-items/{item['id']}")

    # then
    assert deleted.status_code == 204
    assert not SupplierItem.objects.filter(pk=item["id"]).exists()
    assert api.delete(f"/supplier-items/{item['id']}").status_code == 404


def test_supplier_item_with_an_unknown_unit_or_product_is_422(api: Api):
    supplier, product = SupplierFactory(), ProductFactory()

    bad_unit = api.post(
        "/supplier-items",
        {"supplier": supplier.pk, "product": product.pk, "unit_price": 1, "purchase_unit": "crate"},
    )
    bad_sku = api.post("/supplier-items", {"supplier": supplier.pk, "sku": "NOPE", "unit_price": 1})
    both = api.post(
        "/supplier-items", {"supplier": supplier.pk, "product": product.pk, "sku": "X", "unit_price": 1}
    )

    assert (bad_unit.status_code, field_errors(bad_unit)) == (422, {"purchase_unit": "No unit 'crate'."})
    assert (bad_sku.status_code, field_errors(bad_sku)) == (422, {"sku": "No product with SKU 'NOPE'."})
    assert both.status_code == 422
    assert not SupplierItem.objects.exists()


# --- purchase orders ------------------------------------------------------------------------------


def test_a_purchase_order_with_all_its_lines_in_one_request_priced_from_the_supplier(api: Api):
    # given: the supplier sells boxes of 12, at 28 from 5 boxes
    supplier = SupplierFactory(lead_time_days=10)
    boxed = ProductFactory(sku="BOXED")
    ProductFactory(sku="LOOSE")
    supplier_item_set(
        supplier=supplier,
        product=boxed,
        unit_price="30.00",
        purchase_unit=unit("box"),
        factor=12,
        price_breaks=[(5, "28.00")],
    )

    # when: one line by id without a cost, one by SKU with cost and tax
    po = create_po(
        api,
        supplier,
        [
            {"product": boxed.pk, "quantity": 5},
            {"sku": "loose", "quantity": "3", "unit_cost": "2.50", "tax_rate": "0.2"},
        ],
        notes="urgent",
    )

    # then
    assert po["number"].startswith("PO-")
    assert (po["status"], po["currency"], po["notes"]) == ("draft", "USD", "urgent")
    first, second = po["lines"]
    assert (first["sku"], first["purchase_unit"], first["factor"], first["unit_cost"]) == (
        "BOXED",
        "box",
        "12.0000",
        "28.00",
    )
    assert (first["ordered"], first["received"], first["billed"], first["open"]) == (
        "5.0000",
        "0.0000",
        "0.0000",
        "5.0000",
    )
    assert (second["sku"], second["purchase_unit"], second["factor"], second["line_total"]) == (
        "LOOSE",
        "pcs",
        "1.0000",
        "9.00",
    )
    assert (po["subtotal"], po["tax_total"], po["total"]) == ("147.50", "1.50", "149.00")
    assert (po["needs_approval"], po["approved"]) == (False, False)
    assert po["allowed_actions"] == ["send", "cancel"]
    assert po["receipts"] == []
    assert po["bills"] == []
    assert PurchaseOrder.objects.get(pk=po["id"]).lines.count() == 2


def test_a_purchase_order_with_a_bad_line_is_422_naming_the_line_and_nothing_is_created(api: Api):
    supplier, product = SupplierFactory(), ProductFactory()

    response = api.post(
        "/purchase-orders",
        {
            "supplier": supplier.pk,
            "warehouse": warehouse().pk,
            "lines": [
                {"product": product.pk, "quantity": 1, "unit_cost": 1},
                {"sku": "NO-SUCH", "quantity": 1},
                {"product": product.pk, "quantity": 1, "purchase_unit": "crate"},
            ],
        },
    )
    no_price = api.post(
        "/purchase-orders",
        {
            "supplier": supplier.pk,
            "warehouse": warehouse().pk,
            "lines": [{"product": product.pk, "quantity": 1}],
        },
    )
    unknown_supplier = api.post(
        "/purchase-orders", {"supplier": 999999, "warehouse": warehouse().pk, "lines": []}
    )

    assert response.status_code == 422
    assert field_errors(response) == {
        "lines.1.sku": "No product with SKU 'NO-SUCH'.",
        "lines.2.purchase_unit": "No unit 'crate'.",
    }
    assert no_price.status_code == 422
    assert "has no price" in field_errors(no_price)["lines.0.unit_cost"]
    assert unknown_supplier.status_code == 404
    assert field_errors(unknown_supplier) == {"supplier": "No supplier with id 999999."}
    assert not PurchaseOrder.objects.exists()


def test_patch_a_draft_replaces_its_lines_a_sent_order_changes_only_notes_and_dates(api: Api):
    product = ProductFactory()
    po = create_po(api, SupplierFactory(), [{"product": product.pk, "quantity": 1, "unit_cost": 3}])

    edited = api.patch(
        f"/purchase-orders/{po['id']}", {"lines": [{"product": product.pk, "quantity": 4, "unit_cost": 3}]}
    )
    assert edited.status_code == 200, edited.content
    assert (edited.json()["total"], len(edited.json()["lines"])) == ("12.00", 1)

    api.post_empty(f"/purchase-orders/{po['id']}/send")
    noted = api.patch(
        f"/purchase-orders/{po['id']}", {"notes": "call before delivery", "expected_date": "2031-01-02"}
    )
    refused = api.patch(f"/purchase-orders/{po['id']}", {"warehouse": warehouse("WH2").pk})

    assert noted.status_code == 200
    assert (noted.json()["notes"], noted.json()["expected_date"]) == ("call before delivery", "2031-01-02")
    assert refused.status_code == 422
    assert "only notes and the expected date" in refused.json()["detail"]


@override_settings(PURCHASE_APPROVAL_THRESHOLD=D("1000"))
def test_above_the_threshold_a_manager_approves_before_the_order_can_be_sent(api: Api):
    # given: 300 x 5 = 1500, above 1000
    po = create_po(
        api, SupplierFactory(), [{"product": ProductFactory().pk, "quantity": 300, "unit_cost": 5}]
    )
    assert (po["needs_approval"], po["approved"], po["allowed_actions"]) == (
        True,
        False,
        ["approve", "send", "cancel"],
    )
    manager = api_as("Purchasing manager")

    # when: sent unapproved, approved by a mere buyer
    unapproved = api.post_empty(f"/purchase-orders/{po['id']}/send")
    by_buyer = api.post_empty(f"/purchase-orders/{po['id']}/approve")

    # then
    assert unapproved.status_code == 422
    assert "above the approval threshold" in unapproved.json()["detail"]
    assert by_buyer.status_code == 403
    assert "Only a purchasing manager can approve" in by_buyer.json()["detail"]
    assert PurchaseOrder.objects.get(pk=po["id"]).approved_at is None

    # when: the manager approves, then the buyer sends
    approved = manager.post_empty(f"/purchase-orders/{po['id']}/approve")
    sent = api.post_empty(f"/purchase-orders/{po['id']}/send")

    # then
    assert approved.status_code == 200, approved.content
    assert (approved.json()["approved"], approved.json()["approved_by"]) == (True, manager_name(approved))
    assert approved.json()["allowed_actions"] == ["send", "cancel"]
    assert sent.status_code == 200
    assert (sent.json()["status"], sent.json()["allowed_actions"]) == ("sent", ["receive", "cancel"])


def manager_name(response) -> str:
    po = PurchaseOrder.objects.select_related("approved_by").get(pk=response.json()["id"])
    assert po.approved_by is not None
    return po.approved_by.get_username()


def test_an_illegal_transition_is_409_naming_both_states(api: Api):
    po = sent_po(api, ProductFactory())

    again = api.post_empty(f"/purchase-orders/{po['id']}/send")
    closed_early = api.post_empty(f"/purchase-orders/{po['id']}/close")

    assert again.status_code == 409
    assert again.json()["detail"] == "A purchase order cannot go from 'sent' to 'sent'."
    assert closed_early.status_code == 409
    assert "'sent' to 'closed'" in closed_early.json()["detail"]
    cancelled = api.post(f"/purchase-orders/{po['id']}/cancel", {"reason": "supplier out of stock"})
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled"
    assert "supplier out of stock" in cancelled.json()["notes"]
    assert api.post_empty(f"/purchase-orders/{po['id']}/receive").status_code == 422  # no lines: the body
    late = api.post(
        f"/purchase-orders/{po['id']}/receive", {"lines": [{"line_id": po["lines"][0]["id"], "quantity": 1}]}
    )
    assert late.status_code == 409
    assert "'cancelled' to 'received'" in late.json()["detail"]


# --- receiving ------------------------------------------------------------------------------------


def test_a_warehouse_key_receives_two_boxes_as_twenty_four_units_but_cannot_create_orders(api: Api):
    # given: 2 boxes of 12 ordered and sent by purchasing
    product, supplier = ProductFactory(), SupplierFactory()
    supplier_item_set(
        supplier=supplier, product=product, unit_price="24.00", purchase_unit=unit("box"), factor=12
    )
    po = create_po(api, supplier, [{"product": product.pk, "quantity": 2}])
    api.post_empty(f"/purchase-orders/{po['id']}/send")
    stock_bin = bin_of(warehouse())
    floor = Api(api_key_for(UserFactory(roles=["Warehouse"])))

    # when
    received = floor.post(
        f"/purchase-orders/{po['id']}/receive",
        {
            "lines": [{"line_id": po["lines"][0]["id"], "quantity": 2}],
            "location": stock_bin.pk,
            "note": "dock 3",
        },
    )
    create = floor.post(
        "/purchase-orders",
        {
            "supplier": supplier.pk,
            "warehouse": warehouse().pk,
            "lines": [{"product": product.pk, "quantity": 1}],
        },
    )

    # then
    assert received.status_code == 201, received.content
    receipt = received.json()
    assert receipt["number"].startswith("RC-")
    assert (receipt["order"], receipt["location"], receipt["note"]) == (po["id"], stock_bin.pk, "dock 3")
    assert [(ln["line_id"], ln["quantity"]) for ln in receipt["lines"]] == [(po["lines"][0]["id"], "2.0000")]
    assert StockLevel.objects.get(product=product, location=stock_bin).on_hand == 24
    product.refresh_from_db()
    assert product.average_cost == D("2.0000")
    detail = floor.get(f"/purchase-orders/{po['id']}").json()  # procurement:read is enough to look
    assert detail["status"] == "received"
    assert (detail["lines"][0]["received"], detail["lines"][0]["open"]) == ("2.0000", "0.0000")
    assert [r["id"] for r in detail["receipts"]] == [receipt["id"]]
    assert create.status_code == 403
    assert "procurement:write" in create.json()["detail"]


def test_receiving_needs_procurement_or_inventory_write(api: Api):
    po = sent_po(api, ProductFactory())
    body = {"lines": [{"line_id": po["lines"][0]["id"], "quantity": 1}]}
    read_only_buyer = api_as("Purchasing", scopes=["procurement:read", "inventory:read"])
    sales = api_as("Sales")

    refused = read_only_buyer.post(f"/purchase-orders/{po['id']}/receive", body)
    also_refused = sales.post(f"/purchase-orders/{po['id']}/receive", body)
    anonymous = Client().post(
        f"{BASE}/purchase-orders/{po['id']}/receive", body, content_type="application/json"
    )

    assert refused.status_code == 403
    assert refused.json()["detail"] == (
        "Scope 'procurement:write' or 'inventory:write' is required; this API key has neither."
    )
    assert also_refused.status_code == 403
    assert anonymous.status_code == 401
    assert not Receipt.objects.exists()


@override_settings(RECEIPT_OVER_TOLERANCE_PERCENT=D("10"))
def test_an_over_tolerance_receipt_is_422_and_nothing_changes(api: Api):
    # given
    product = ProductFactory()
    po = sent_po(api, product, quantity=10)
    line_id = po["lines"][0]["id"]
    moves_before = StockMove.objects.count()

    # when
    response = api.post(
        f"/purchase-orders/{po['id']}/receive", {"lines": [{"line_id": line_id, "quantity": 12}]}
    )

    # then
    assert response.status_code == 422
    assert (
        "12 pcs would be received of 10 pcs ordered; at most 11 pcs (10% over) is accepted"
        in (response.json()["detail"])
    )
    assert field_errors(response) == {"line 1": response.json()["errors"][0]["message"]}
    assert not Receipt.objects.exists()
    assert PurchaseOrderLine.objects.get(pk=line_id).quantity_received == 0
    assert PurchaseOrder.objects.get(pk=po["id"]).status == S.SENT
    assert StockMove.objects.count() == moves_before
    assert not StockLevel.objects.filter(product=product, on_hand__gt=0).exists()


def test_receiving_a_line_of_another_order_or_into_another_warehouse_is_refused(api: Api):
    po, other = sent_po(api, ProductFactory()), sent_po(api, ProductFactory())
    elsewhere = bin_of(warehouse("WH2"))

    foreign_line = api.post(
        f"/purchase-orders/{po['id']}/receive",
        {"lines": [{"line_id": other["lines"][0]["id"], "quantity": 1}]},
    )
    foreign_bin = api.post(
        f"/purchase-orders/{po['id']}/receive",
        {"lines": [{"line_id": po["lines"][0]["id"], "quantity": 1}], "location": elsewhere.pk},
    )
    unknown_bin = api.post(
        f"/purchase-orders/{po['id']}/receive",
        {"lines": [{"line_id": po["lines"][0]["id"], "quantity": 1}], "location": 999999},
    )

    assert foreign_line.status_code == 422
    assert field_errors(foreign_line) == {
        "lines.0.line_id": f"No line {other['lines'][0]['id']} in {po['number']}."
    }
    assert foreign_bin.status_code == 422
    assert "is not a bin of" in foreign_bin.json()["detail"]
    assert unknown_bin.status_code == 404
    assert not Receipt.objects.exists()


def test_lot_and_serial_products_are_received_with_their_lots_and_serials(api: Api):
    lotted, serial = ProductFactory(tracking="lot"), ProductFactory(tracking="serial")
    po = create_po(
        api,
        SupplierFactory(),
        [
            {"product": lotted.pk, "quantity": 5, "unit_cost": 1},
            {"product": serial.pk, "quantity": 2, "unit_cost": 9},
        ],
    )
    api.post_empty(f"/purchase-orders/{po['id']}/send")
    lot_line, serial_line = (ln["id"] for ln in po["lines"])

    missing_lot = api.post(
        f"/purchase-orders/{po['id']}/receive", {"lines": [{"line_id": lot_line, "quantity": 5}]}
    )
    received = api.post(
        f"/purchase-orders/{po['id']}/receive",
        {
            "lines": [
                {"line_id": lot_line, "quantity": 5, "lot_code": "L-77", "expiry_date": "2030-05-01"},
                {"line_id": serial_line, "quantity": 2, "serials": ["SN1", "SN2"]},
            ]
        },
    )

    assert missing_lot.status_code == 422
    assert "tracked by lot" in missing_lot.json()["detail"]
    assert received.status_code == 201, received.content
    assert [(ln["lot_code"], ln["expiry_date"]) for ln in received.json()["lines"]] == [
        ("L-77", "2030-05-01"),
        ("", None),
    ]
    assert StockLevel.objects.filter(product=serial, on_hand=1).count() == 2


# --- bills and payments ---------------------------------------------------------------------------


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
    assert any("billed at 5.5000 per unit, ordered at 5.0000" in issue for issue in bill["match_issues"])
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


# --- replenishment --------------------------------------------------------------------------------


def test_replenishment_suggests_in_purchase_units_and_orders_the_chosen_as_drafts(api: Api):
    # given: 50 units needed, in boxes of 12 (MOQ 6 boxes, 28.00 from 5 boxes); another without supplier
    wh = warehouse()
    product, orphan = ProductFactory(sku="REPL-1"), ProductFactory(sku="REPL-2")
    supplier = SupplierFactory(name="Box Supplier")
    reorder_rule_set(product=product, warehouse=wh, min_quantity=10, max_quantity=50, multiple=5)
    reorder_rule_set(product=orphan, warehouse=wh, min_quantity=3, max_quantity=7)
    supplier_item_set(
        supplier=supplier,
        product=product,
        unit_price="30.00",
        purchase_unit=unit("box"),
        factor=12,
        min_order_quantity=6,
        is_preferred=True,
        price_breaks=[(5, "28.00")],
    )

    # when
    listed = api.get("/replenishment", warehouse=wh.pk)

    # then
    assert listed.status_code == 200, listed.content
    found = {s["sku"]: s for s in listed.json()["items"]}
    s = found["REPL-1"]
    assert s["key"] == f"{product.pk}-{wh.pk}"
    assert (s["projected"], s["min"], s["max"]) == ("0.0000", "10.0000", "50.0000")
    assert (s["purchase_quantity"], s["purchase_unit"], s["unit_price"], s["stock_quantity"]) == (
        "6.0000",
        "box",
        "28.00",
        "72.0000",
    )
    assert (s["supplier"], s["supplier_name"], s["orderable"]) == (supplier.pk, "Box Supplier", True)
    assert (found["REPL-2"]["orderable"], found["REPL-2"]["supplier"], found["REPL-2"]["unit_price"]) == (
        False,
        None,
        None,
    )

    # when
    unorderable = api.post("/replenishment", {"keys": [found["REPL-2"]["key"]]})
    ordered = api.post("/replenishment", {"keys": [s["key"]]})

    # then
    assert unorderable.status_code == 422
    assert "No preferred supplier for: REPL-2" in unorderable.json()["detail"]
    assert ordered.status_code == 201, ordered.content
    [po] = ordered.json()
    assert (po["status"], po["supplier"], po["warehouse"], po["notes"]) == (
        "draft",
        supplier.pk,
        wh.pk,
        "Replenishment",
    )
    assert [(ln["sku"], ln["ordered"], ln["unit_cost"], ln["factor"]) for ln in po["lines"]] == [
        ("REPL-1", "6.0000", "28.00", "12.0000")
    ]
    assert api.get("/replenishment", warehouse=999999).status_code == 422


# --- reading, filters and rights -------------------------------------------------------------------


def test_purchase_order_filters(api: Api):
    product = ProductFactory()
    draft = create_po(
        api,
        SupplierFactory(),
        [{"product": ProductFactory().pk, "quantity": 1, "unit_cost": 1}],
        order_date="2030-01-01",
    )
    sent = sent_po(api, product)

    def ids(**params: Any) -> list[int]:
        response = api.get("/purchase-orders", **params)
        assert response.status_code == 200, response.content
        return [po["id"] for po in response.json()["items"]]

    assert ids(status="open") == [sent["id"]]
    assert ids(status="draft") == [draft["id"]]
    assert ids(product=product.pk) == [sent["id"]]
    assert ids(supplier=sent["supplier"]) == [sent["id"]]
    assert ids(q=draft["number"]) == [draft["id"]]
    assert ids(q=draft["number"].lower()) == [draft["id"]]
    assert ids(since="2030-01-01", until="2030-01-01") == [draft["id"]]
    assert ids(ordering="date") == [sent["id"], draft["id"]]
    assert set(ids(warehouse=warehouse().pk)) == {draft["id"], sent["id"]}
    bad = api.get("/purchase-orders", status="shipped")
    assert bad.status_code == 422
    assert "status" in field_errors(bad)


def test_a_sales_key_cannot_read_procurement(api: Api):
    sales = api_as("Sales")

    for path in ("/purchase-orders", "/suppliers", "/bills", "/receipts", "/payments", "/replenishment"):
        response = sales.get(path)
        assert response.status_code == 403, path
        assert (
            response.json()["detail"]
            == "Scope 'procurement:read' is required; this API key does not have it."
        )


def test_a_read_only_key_reads_but_cannot_write(api: Api):
    reader = api_as("Purchasing", scopes=["procurement:read"])

    assert reader.get("/suppliers").status_code == 200
    assert reader.post("/suppliers", {"name": "Nope"}).status_code == 403
    assert api.post("/suppliers", {"name": "Yes"}).status_code == 201
