"""The procurement API's suppliers, their items with price breaks, and who may read and write it."""

from __future__ import annotations

import pytest

from procurement.models import SupplierItem
from tests.inventory.factories import ProductFactory, unit
from tests.procurement.api_support import Api, api_as, field_errors
from tests.procurement.factories import SupplierFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def api() -> Api:
    return api_as("Purchasing")


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


# --- who may do what ------------------------------------------------------------------------------


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
