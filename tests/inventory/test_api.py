"""The inventory API: products, templates, warehouses, locations, and who may do what."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from inventory.models import Barcode, Product, Warehouse
from inventory.services import (
    Demand,
    Line,
    product_unit_set,
    stock_receive,
    stock_reserve,
    transfer_ship,
    warehouse_root,
)
from tests.erp.factories import UserFactory, api_key_for, bearer
from tests.inventory.factories import CategoryFactory, ProductFactory, bin_of, warehouse

pytestmark = pytest.mark.django_db

BASE = "/api/v1/inventory"


class Api:
    """The inventory API as one key holder calls it."""

    def __init__(self, raw_key: str) -> None:
        self.client = Client()
        self.headers = bearer(raw_key)

    def get(self, path: str, **params: Any):
        return self.client.get(BASE + path, params, **self.headers)

    def post(self, path: str, body: dict[str, Any] | None = None):
        return self.client.post(BASE + path, body or {}, content_type="application/json", **self.headers)

    def patch(self, path: str, body: dict[str, Any]):
        return self.client.patch(BASE + path, body, content_type="application/json", **self.headers)


@pytest.fixture
def api() -> Api:
    return Api(api_key_for(UserFactory(roles=["Warehouse"])))


def field_errors(response) -> dict[str, str]:
    return {e["field"]: e["message"] for e in response.json()["errors"]}


# --- products -----------------------------------------------------------------------------


def test_create_read_update_archive_and_restore_a_product(api: Api):
    # given
    category = CategoryFactory(name="Widgets")

    # when
    created = api.post(
        "/products",
        {
            "sku": "WID-1",
            "name": "Widget",
            "stock_unit": "pcs",
            "description": "A widget",
            "category": category.pk,
            "weight": "0.25",
            "sale_price": "12.5",
            "currency": "EUR",
            "barcodes": ["4006381333931"],
        },
    )

    # then
    assert created.status_code == 201, created.content
    body = created.json()
    product_id = body["id"]
    assert body["sku"] == "WID-1"
    assert body["category"] == category.pk
    assert body["category_name"] == "Widgets"
    assert body["sale_price"] == "12.50"  # money: the currency's minor-unit digits (erp.api_helpers)
    assert body["weight"] == "0.2500"
    assert body["barcodes"] == ["4006381333931"]
    assert (body["on_hand"], body["reserved"], body["available"]) == ("0.0000", "0.0000", "0.0000")
    assert body["availability"] == []

    # when read, changed, archived and restored
    read = api.get(f"/products/{product_id}")
    patched = api.patch(
        f"/products/{product_id}", {"name": "Widget, blue", "sale_price": 14, "barcodes": ["111", "222"]}
    )
    archived = api.post(f"/products/{product_id}/archive")
    restored = api.post(f"/products/{product_id}/restore")

    # then
    assert read.status_code == 200
    assert read.json()["description"] == "A widget"
    assert patched.status_code == 200, patched.content
    assert patched.json()["name"] == "Widget, blue"
    assert patched.json()["sale_price"] == "14.00"
    assert patched.json()["currency"] == "EUR"  # untouched
    assert patched.json()["barcodes"] == ["111", "222"]
    assert archived.json()["is_active"] is False
    assert restored.json()["is_active"] is True
    product = Product.objects.get(pk=product_id)
    assert (product.name, product.sale_price, product.is_active) == ("Widget, blue", Decimal("14"), True)


def test_sku_is_unique_ignoring_case(api: Api):
    # given
    ProductFactory(sku="ABC-1")

    # when
    response = api.post("/products", {"sku": "abc-1", "name": "Clash"})

    # then
    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    assert "sku" in field_errors(response)
    assert Product.objects.filter(sku__iexact="abc-1").count() == 1


def test_renaming_a_sku_onto_another_is_refused(api: Api):
    ProductFactory(sku="TAKEN")
    other = ProductFactory(sku="FREE")

    response = api.patch(f"/products/{other.pk}", {"sku": "taken"})

    assert response.status_code == 422
    assert "sku" in field_errors(response)


def test_patch_refuses_null_for_a_required_field_and_unknown_references(api: Api):
    product = ProductFactory()

    null_name = api.patch(f"/products/{product.pk}", {"name": None})
    unknown_category = api.patch(f"/products/{product.pk}", {"category": 999999})

    assert null_name.status_code == 422
    assert "name" in field_errors(null_name)
    assert unknown_category.status_code == 404
    assert "category" in field_errors(unknown_category)


def test_invalid_product_input_is_422_with_the_field(api: Api):
    unknown_unit = api.post("/products", {"sku": "X-1", "name": "X", "stock_unit": "parsec"})
    bad_kind = api.post("/products", {"sku": "X-2", "name": "X", "kind": "magic"})
    bad_currency = api.post("/products", {"sku": "X-3", "name": "X", "currency": "XXY"})

    assert unknown_unit.status_code == 422
    assert "stock_unit" in field_errors(unknown_unit)
    assert bad_kind.status_code == 422
    assert "kind" in field_errors(bad_kind)
    assert bad_currency.status_code == 422
    assert "currency" in field_errors(bad_currency)
    assert not Product.objects.filter(sku__startswith="X-").exists()


def test_unknown_product_is_404_problem(api: Api):
    response = api.get("/products/987654")

    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"
    assert "987654" in response.json()["detail"]


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("tsh", ["TSH-RED", "TSH-BLUE"]),  # SKU prefix, any case
        ("5901234123457", ["MUG-1"]),  # exact barcode
        ("ceramic", ["MUG-1"]),  # part of the name
        ("590123", []),  # a barcode prefix is not a match
    ],
    ids=["sku-prefix", "barcode", "name", "partial-barcode"],
)
def test_search_products_by_sku_prefix_barcode_or_name(api: Api, q: str, expected: list[str]):
    # given
    ProductFactory(sku="TSH-RED", name="T-shirt red")
    ProductFactory(sku="TSH-BLUE", name="T-shirt blue")
    mug = ProductFactory(sku="MUG-1", name="Ceramic mug")
    Barcode.objects.create(product=mug, code="5901234123457")
    ProductFactory(sku="CAP-1", name="Cap")

    # when
    response = api.get("/products", q=q)

    # then
    assert response.status_code == 200
    assert sorted(item["sku"] for item in response.json()["items"]) == sorted(expected)
    assert response.json()["count"] == len(expected)


def test_product_list_has_stock_totals_filters_and_orders(api: Api):
    # given
    wh1, wh2 = warehouse("WH1"), warehouse("WH2")
    apple = ProductFactory(sku="APPLE")
    ProductFactory(sku="BANANA", is_active=False)
    stock_receive(product=apple, location=bin_of(wh1), quantity=10, unit_cost=1)
    stock_receive(product=apple, location=bin_of(wh2), quantity=5, unit_cost=1)
    stock_reserve(product=apple, warehouse=wh1, quantity=3, demand=Demand("sales.orderline", 1))

    # when
    everything = api.get("/products", ordering="-sku").json()
    active = api.get("/products", is_active="true").json()
    in_wh2 = api.get("/products", warehouse=wh2.pk, q="APPLE").json()

    # then
    assert [p["sku"] for p in everything["items"]] == ["BANANA", "APPLE"]
    item = everything["items"][1]
    assert (item["on_hand"], item["reserved"], item["available"]) == ("15.0000", "3.0000", "12.0000")
    assert [p["sku"] for p in active["items"]] == ["APPLE"]
    assert (in_wh2["items"][0]["on_hand"], in_wh2["items"][0]["reserved"]) == ("5.0000", "0.0000")


def test_product_detail_has_availability_per_warehouse_with_incoming(api: Api):
    # given: stock in two warehouses and 4 on their way from WH1 to WH2
    wh1, wh2 = warehouse("WH1"), warehouse("WH2")
    product = ProductFactory()
    stock_receive(product=product, location=bin_of(wh1), quantity=10, unit_cost=2)
    stock_receive(product=product, location=bin_of(wh2), quantity=1, unit_cost=2)
    stock_reserve(product=product, warehouse=wh1, quantity=2, demand=Demand("sales.orderline", 1))
    transfer_ship(
        from_location=bin_of(wh1), to_location=bin_of(wh2), lines=[Line(product=product, quantity=Decimal(4))]
    )
    product_unit_set(product=product, unit="box", factor="12", barcode="BOX-1")

    # when
    body = api.get(f"/products/{product.pk}").json()

    # then
    rows = {row["warehouse_code"]: row for row in body["availability"]}
    assert rows["WH1"] == {
        "warehouse": wh1.pk,
        "warehouse_code": "WH1",
        "on_hand": "6.0000",
        "reserved": "2.0000",
        "available": "4.0000",
        "incoming": "0.0000",
        "outgoing": "0.0000",
        "projected": "4.0000",
    }
    assert (rows["WH2"]["on_hand"], rows["WH2"]["incoming"], rows["WH2"]["projected"]) == (
        "1.0000",
        "4.0000",
        "5.0000",
    )
    assert (body["on_hand"], body["reserved"], body["available"]) == ("7.0000", "2.0000", "5.0000")
    assert body["units"] == [
        {"id": body["units"][0]["id"], "unit": "box", "factor": "12.0000", "barcodes": ["BOX-1"]}
    ]


def test_alternative_unit_with_a_barcode_and_the_scanner_lookup(api: Api):
    # given
    product = ProductFactory(sku="SCREW-4")
    Barcode.objects.create(product=product, code="1000")

    # when
    unit = api.post(f"/products/{product.pk}/units", {"unit": "box", "factor": "100", "barcode": "1100"})
    box = api.get("/products/lookup", code="1100")
    piece = api.get("/products/lookup", code="1000")
    by_sku = api.get("/products/lookup", code="screw-4")
    unknown = api.get("/products/lookup", code="nope")

    # then
    assert unit.status_code == 201, unit.content
    assert unit.json()["factor"] == "100.0000"
    assert unit.json()["barcodes"] == ["1100"]
    assert box.status_code == 200
    assert (box.json()["product"]["sku"], box.json()["unit"], box.json()["factor"]) == (
        "SCREW-4",
        "box",
        "100.0000",
    )
    assert box.json()["matched"] == "barcode"
    assert (piece.json()["unit"], piece.json()["factor"]) == ("pcs", "1.0000")
    assert (by_sku.json()["matched"], by_sku.json()["product"]["id"]) == ("sku", product.pk)
    assert unknown.status_code == 404


def test_unit_factor_must_be_positive(api: Api):
    product = ProductFactory()

    response = api.post(f"/products/{product.pk}/units", {"unit": "box", "factor": "0"})

    assert response.status_code == 422
    assert "factor" in field_errors(response)


def test_template_creates_variants_listed_as_siblings(api: Api):
    # when
    created = api.post(
        "/product-templates",
        {
            "name": "T-shirt",
            "sku_prefix": "TS",
            "attributes": {"Size": ["S", "M"], "Colour": ["Red"]},
            "sale_price": "9.90",
        },
    )

    # then
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["attributes"] == ["Size", "Colour"]
    assert [v["sku"] for v in body["variants"]] == ["TS-S-RED", "TS-M-RED"]
    assert body["variants"][0]["attribute_values"] == [
        {"attribute": "Colour", "value": "Red"},
        {"attribute": "Size", "value": "S"},
    ]
    first = body["variants"][0]["id"]
    siblings = api.get(f"/products/{first}/variants").json()
    assert siblings["count"] == 2
    assert sorted(v["sku"] for v in siblings["items"]) == ["TS-M-RED", "TS-S-RED"]
    detail = api.get(f"/products/{first}").json()
    assert detail["template"] == body["id"]
    assert {(a["attribute"], a["value"]) for a in detail["attribute_values"]} == {
        ("Size", "S"),
        ("Colour", "Red"),
    }


def test_a_product_without_template_has_no_variants(api: Api):
    product = ProductFactory()

    response = api.get(f"/products/{product.pk}/variants")

    assert response.json() == {"items": [], "count": 0}


# --- warehouses and locations ---------------------------------------------------------------


def test_create_read_update_and_list_warehouses(api: Api):
    created = api.post("/warehouses", {"code": "east", "name": "East", "address": "1 Dock Rd"})
    assert created.status_code == 201, created.content
    warehouse_id = created.json()["id"]
    assert created.json()["code"] == "EAST"

    patched = api.patch(f"/warehouses/{warehouse_id}", {"name": "East side", "allow_negative_stock": True})
    read = api.get(f"/warehouses/{warehouse_id}")
    duplicate = api.post("/warehouses", {"code": "EAST", "name": "Again"})
    listed = api.get("/warehouses")

    assert patched.status_code == 200
    assert (read.json()["name"], read.json()["allow_negative_stock"]) == ("East side", True)
    assert duplicate.status_code == 422
    assert "code" in field_errors(duplicate)
    assert [w["code"] for w in listed.json()["items"]] == ["EAST"]
    # a new warehouse comes with a root zone and a Stock bin
    paths = [loc["path"] for loc in api.get("/locations", warehouse=warehouse_id).json()["items"]]
    assert paths == ["EAST", "EAST/Stock"]


def test_create_rename_barcode_and_archive_a_location(api: Api):
    # given
    wh = warehouse("WH1")
    root = warehouse_root(wh)

    # when
    zone = api.post("/locations", {"parent": root.pk, "name": "Aisle A", "kind": "view"})
    bin_ = api.post("/locations", {"parent": zone.json()["id"], "name": "A-01", "barcode": "LOC-A01"})
    renamed_zone = api.patch(f"/locations/{zone.json()['id']}", {"name": "Aisle 1"})
    cleared = api.patch(f"/locations/{bin_.json()['id']}", {"barcode": None})
    archived = api.patch(f"/locations/{bin_.json()['id']}", {"is_active": False})

    # then
    assert zone.status_code == 201, zone.content
    assert bin_.json()["path"] == "WH1/Aisle A/A-01"
    assert (bin_.json()["warehouse"], bin_.json()["warehouse_code"]) == (wh.pk, "WH1")
    assert renamed_zone.json()["path"] == "WH1/Aisle 1"
    assert api.get(f"/locations/{bin_.json()['id']}").json()["path"] == "WH1/Aisle 1/A-01"
    assert cleared.json()["barcode"] is None
    assert archived.json()["is_active"] is False
    active_bins = api.get("/locations", warehouse=wh.pk, kind="internal", is_active="true").json()
    assert [loc["path"] for loc in active_bins["items"]] == ["WH1/Stock"]


def test_location_refusals(api: Api):
    wh = warehouse("WH1")
    stock = bin_of(wh)
    product = ProductFactory()
    stock_receive(product=product, location=stock, quantity=1, unit_cost=1)

    under_a_bin = api.post("/locations", {"parent": stock.pk, "name": "Inside"})
    unknown_parent = api.post("/locations", {"parent": 999999, "name": "Nowhere"})
    archive_with_stock = api.patch(f"/locations/{stock.pk}", {"is_active": False})

    assert under_a_bin.status_code == 422
    assert "parent" in field_errors(under_a_bin)
    assert unknown_parent.status_code == 404
    assert "parent" in field_errors(unknown_parent)
    assert archive_with_stock.status_code == 422
    assert "holds stock" in archive_with_stock.json()["detail"]


def test_an_invalid_filter_is_422_naming_it(api: Api):
    kind = api.get("/locations", kind="attic")
    warehouse_ = api.get("/locations", warehouse=424242)
    ordering = api.get("/products", ordering="colour")
    product_warehouse = api.get("/products", warehouse=424242)

    assert kind.status_code == 422
    assert "kind" in field_errors(kind)
    assert warehouse_.status_code == 422
    assert "warehouse" in field_errors(warehouse_)
    assert ordering.status_code == 422
    assert "ordering" in field_errors(ordering)
    assert product_warehouse.status_code == 422
    assert "warehouse" in field_errors(product_warehouse)


# --- who may do what -----------------------------------------------------------------------------


def test_a_read_only_key_reads_but_cannot_write():
    # given: a warehouse user's key limited to inventory:read
    api = Api(api_key_for(UserFactory(roles=["Warehouse"]), scopes=["inventory:read"]))

    # when
    read = api.get("/products")
    write = api.post("/warehouses", {"code": "NOPE", "name": "Nope"})

    # then
    assert read.status_code == 200
    assert write.status_code == 403
    assert "inventory:write" in write.json()["detail"]
    assert not Warehouse.objects.filter(code="NOPE").exists()


def test_a_sales_user_reads_inventory_but_cannot_change_it():
    # given
    product = ProductFactory(name="Unchanged")
    api = Api(api_key_for(UserFactory(roles=["Sales"])))

    # when
    read = api.get(f"/products/{product.pk}")
    patch = api.patch(f"/products/{product.pk}", {"name": "Changed"})
    receipt = api.post(
        "/receipts", {"product": product.pk, "location": bin_of(warehouse()).pk, "quantity": 1}
    )

    # then
    assert read.status_code == 200
    assert patch.status_code == 403
    assert receipt.status_code == 403
    product.refresh_from_db()
    assert product.name == "Unchanged"
    assert product.moves.count() == 0


def test_without_credentials_it_is_401():
    response = Client().get(f"{BASE}/products")

    assert response.status_code == 401
