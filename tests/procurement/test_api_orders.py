"""The procurement API's purchase orders: create, edit, approve, send, cancel, filter; replenishment."""

from __future__ import annotations

from decimal import Decimal as D
from typing import Any

import pytest
from django.test import override_settings

from inventory.services import reorder_rule_set
from procurement.models import PurchaseOrder
from procurement.services import supplier_item_set
from tests.inventory.factories import ProductFactory, unit, warehouse
from tests.procurement.api_support import Api, api_as, create_po, field_errors, sent_po
from tests.procurement.factories import SupplierFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def api() -> Api:
    return api_as("Purchasing")


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


# --- filters ------------------------------------------------------------------------------------


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
