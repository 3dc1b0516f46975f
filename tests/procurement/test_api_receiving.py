"""Receiving purchase orders through the API: rights, purchase units, tolerance, bins, lots, serials."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from django.test import Client, override_settings

from inventory.models import StockLevel, StockMove
from procurement.models import PurchaseOrder, PurchaseOrderLine, PurchaseOrderStatus, Receipt
from procurement.services import supplier_item_set
from tests.erp.factories import UserFactory, api_key_for
from tests.inventory.factories import ProductFactory, bin_of, unit, warehouse
from tests.procurement.api_support import BASE, Api, api_as, create_po, field_errors, sent_po
from tests.procurement.factories import SupplierFactory

pytestmark = pytest.mark.django_db

S = PurchaseOrderStatus


@pytest.fixture
def api() -> Api:
    return api_as("Purchasing")


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
