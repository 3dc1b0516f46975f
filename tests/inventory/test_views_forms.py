"""Every form of the inventory pages: the happy path, and the error path where nothing changes."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from django.test import Client

from inventory import services
from inventory.models import (
    Barcode,
    CountSheet,
    Location,
    Product,
    ProductTemplate,
    ReorderRule,
    StockLevel,
    StockMove,
    Warehouse,
)
from tests.erp.factories import UserFactory
from tests.inventory.factories import CategoryFactory, ProductFactory, bin_of, warehouse

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


@pytest.fixture
def staff(client: Client) -> Client:
    client.force_login(UserFactory(username="wendy", roles=["Warehouse"]))
    return client


def product_data(**overrides: str) -> dict[str, str]:
    data = {
        "sku": "TEE-RED-M",
        "name": "T-shirt red M",
        "category": "",
        "kind": "stocked",
        "tracking": "none",
        "stock_unit": "pcs",
        "sale_price": "19.90",
        "currency": "usd",
        "weight": "0.2",
        "barcodes": "4006381333931, 4006381333948\n4006381333955",
        "description": "",
    }
    return data | overrides


def field_errors(response) -> dict[str, list[str]]:
    form = response.context["form"]
    return {name: [str(e) for e in errors] for name, errors in form.errors.items()}


# ---- products


def test_create_a_product(staff: Client):
    category = CategoryFactory(name="Tees")

    response = staff.post("/inventory/products/new/", product_data(category=str(category.pk)))

    product = Product.objects.get(sku="TEE-RED-M")
    assert response.status_code == 302
    assert response["Location"] == f"/inventory/products/{product.pk}/"
    assert (product.name, product.category, product.sale_price, product.currency) == (
        "T-shirt red M",
        category,
        Decimal("19.9000"),
        "USD",
    )
    assert product.created_by.username == "wendy"
    assert sorted(product.barcodes.values_list("code", flat=True)) == [
        "4006381333931",
        "4006381333948",
        "4006381333955",
    ]


def test_a_taken_sku_is_shown_next_to_the_field_and_nothing_is_created(staff: Client):
    ProductFactory(sku="tee-red-m")

    response = staff.post("/inventory/products/new/", product_data())

    assert response.status_code == 200
    assert "already used" in field_errors(response)["sku"][0]
    assert b'class="field has-error"' in response.content
    assert Product.objects.count() == 1
    assert not Barcode.objects.exists()


def test_a_barcode_of_another_product_is_refused(staff: Client):
    other = services.product_create(sku="MUG-1", name="Mug", barcodes=["4006381333931"])

    response = staff.post("/inventory/products/new/", product_data())

    assert "belongs to MUG-1" in field_errors(response)["barcodes"][0]
    assert list(Product.objects.all()) == [other]


def test_a_price_that_is_not_a_number_is_refused_by_the_form(staff: Client):
    response = staff.post("/inventory/products/new/", product_data(sale_price="cheap", currency="XXY"))
    assert "sale_price" in field_errors(response)
    assert not Product.objects.exists()


def test_a_currency_that_is_not_iso_is_refused_by_the_service(staff: Client):
    response = staff.post("/inventory/products/new/", product_data(currency="XXY"))
    assert "ISO 4217" in field_errors(response)["currency"][0]
    assert not Product.objects.exists()


def test_edit_a_product_keeps_box_barcodes(staff: Client):
    product = services.product_create(sku="TEE-1", name="Tee", barcodes=["111"])
    services.product_unit_set(product=product, unit="box", factor=12, barcode="BOX-1")
    form = staff.get(f"/inventory/products/{product.pk}/edit/").context["form"]
    assert form.initial["barcodes"] == "111"  # box barcodes are managed with their unit

    response = staff.post(
        f"/inventory/products/{product.pk}/edit/",
        product_data(sku="TEE-1", name="Tee, organic", barcodes="222"),
    )

    assert response.status_code == 302
    product.refresh_from_db()
    assert product.name == "Tee, organic"
    assert sorted(product.barcodes.values_list("code", flat=True)) == ["222", "BOX-1"]


def test_edit_refuses_a_new_stock_unit_once_there_are_moves(staff: Client):
    product = ProductFactory(sku="TEE-1", name="Tee")
    services.stock_receive(product=product, location=bin_of(warehouse()), quantity=1)

    response = staff.post(
        f"/inventory/products/{product.pk}/edit/",
        product_data(sku="TEE-1", name="Renamed", stock_unit="box", barcodes=""),
    )

    assert response.status_code == 200
    assert "cannot change" in field_errors(response)["stock_unit"][0]
    product.refresh_from_db()
    assert (product.name, product.stock_unit.code) == ("Tee", "pcs")


def test_archive_and_restore_a_product(staff: Client):
    product = ProductFactory()

    archived = staff.post(f"/inventory/products/{product.pk}/archive/", headers=HTMX)
    product.refresh_from_db()
    assert not product.is_active
    assert archived["HX-Redirect"] == f"/inventory/products/{product.pk}/"

    staff.post(f"/inventory/products/{product.pk}/archive/", {"active": "1"})
    product.refresh_from_db()
    assert product.is_active


def test_archive_needs_a_post(staff: Client):
    product = ProductFactory()
    assert staff.get(f"/inventory/products/{product.pk}/archive/").status_code == 405
    product.refresh_from_db()
    assert product.is_active


# ---- variants


def variants_data(**overrides: str) -> dict[str, str]:
    data = {
        "name": "T-shirt",
        "sku_prefix": "TS",
        "attributes": "Size: S, M\nColour: Red, Light blue",
        "category": "",
        "stock_unit": "pcs",
        "sale_price": "12.50",
        "currency": "USD",
        "action": "create",
    }
    return data | overrides


def test_create_a_product_with_variants(staff: Client):
    response = staff.post("/inventory/products/new-variants/", variants_data())

    template = ProductTemplate.objects.get(name="T-shirt")
    assert response.status_code == 302
    assert response["Location"] == f"/inventory/products/?template={template.pk}"
    assert sorted(template.variants.values_list("sku", flat=True)) == [
        "TS-M-LIGHTBLUE",
        "TS-M-RED",
        "TS-S-LIGHTBLUE",
        "TS-S-RED",
    ]
    assert {p.sale_price for p in template.variants.all()} == {Decimal("12.5000")}


def test_the_variant_preview_lists_the_skus_and_flags_taken_ones(staff: Client):
    ProductFactory(sku="ts-m-red")

    response = staff.post(
        "/inventory/products/new-variants/preview/", variants_data(action="preview"), headers=HTMX
    )

    html = response.content.decode()
    assert "<html" not in html
    assert "4 variants" in html
    for sku in ("TS-S-RED", "TS-S-LIGHTBLUE", "TS-M-RED", "TS-M-LIGHTBLUE"):
        assert sku in html
    assert html.count("SKU exists") == 1
    assert not ProductTemplate.objects.exists()


def test_the_preview_button_works_without_javascript(staff: Client):
    response = staff.post("/inventory/products/new-variants/", variants_data(action="preview"))
    assert response.status_code == 200
    assert [row["sku"] for row in response.context["preview"]][:1] == ["TS-S-RED"]
    assert not ProductTemplate.objects.exists()


def test_a_malformed_attribute_line_is_explained(staff: Client):
    response = staff.post("/inventory/products/new-variants/", variants_data(attributes="Size S M"))
    assert "Line 1" in field_errors(response)["attributes"][0]
    assert not ProductTemplate.objects.exists()


def test_variants_whose_sku_is_taken_create_nothing(staff: Client):
    ProductFactory(sku="TS-M-RED")

    response = staff.post("/inventory/products/new-variants/", variants_data())

    assert response.status_code == 200
    assert "TS-M-RED" in field_errors(response)["sku_prefix"][0]
    assert not ProductTemplate.objects.exists()
    assert Product.objects.count() == 1


# ---- warehouses and locations


def test_create_a_warehouse(staff: Client):
    response = staff.post(
        "/inventory/warehouses/", {"code": "wh2", "name": "Second", "address": "", "allow_negative_stock": ""}
    )
    wh = Warehouse.objects.get(code="WH2")
    assert response["Location"] == f"/inventory/warehouses/{wh.pk}/"
    assert Location.objects.filter(warehouse=wh, name="Stock").exists()


def test_a_taken_warehouse_code_is_refused(staff: Client):
    warehouse("WH2")
    response = staff.post("/inventory/warehouses/", {"code": "WH2", "name": "Again", "address": ""})
    assert response.status_code == 422
    assert field_errors(response)["code"] == ["Already used."]
    assert Warehouse.objects.count() == 1


def test_add_a_bin_under_a_zone(staff: Client):
    wh = warehouse()
    root = services.warehouse_root(wh)

    response = staff.post(
        f"/inventory/warehouses/{wh.pk}/",
        {"parent": root.pk, "name": "A-01", "kind": "internal", "barcode": "L1"},
    )

    assert response.status_code == 302
    assert Location.objects.get(path="WH1/A-01").barcode == "L1"


def test_a_location_name_with_a_slash_is_refused(staff: Client):
    wh = warehouse()
    root = services.warehouse_root(wh)
    before = Location.objects.count()

    response = staff.post(
        f"/inventory/warehouses/{wh.pk}/",
        {"parent": root.pk, "name": "A/01", "kind": "internal", "barcode": ""},
    )

    assert response.status_code == 422
    assert "without '/'" in field_errors(response)["name"][0]
    assert Location.objects.count() == before


def test_a_bin_cannot_be_a_parent(staff: Client):
    wh = warehouse()
    stock = bin_of(wh)
    response = staff.post(
        f"/inventory/warehouses/{wh.pk}/", {"parent": stock.pk, "name": "X", "kind": "internal"}
    )
    assert "parent" in field_errors(response)  # only zones are offered


# ---- reversing a move


def test_reverse_a_move_from_the_ledger(staff: Client):
    stock = bin_of(warehouse())
    product = ProductFactory()
    move = services.stock_receive(product=product, location=stock, quantity=5, unit_cost="2")

    confirm = staff.get(f"/inventory/moves/{move.pk}/reverse/", headers={**HTMX, "HX-Target": "reverse"})
    assert b"<html" not in confirm.content
    assert b"Reverse move" in confirm.content

    response = staff.post(f"/inventory/moves/{move.pk}/reverse/", {"reason": "wrong delivery"}, headers=HTMX)

    reversal = StockMove.objects.get(reversal_of=move)
    assert reversal.reason == "wrong delivery"
    assert StockLevel.objects.get(product=product, location=stock).on_hand == 0
    triggers = json.loads(response["HX-Trigger"])
    assert "moves-changed" in triggers
    assert "reversed" in triggers["toast"]["message"]


def test_a_reversal_needs_a_reason_and_happens_once(staff: Client):
    stock = bin_of(warehouse())
    move = services.stock_receive(product=ProductFactory(), location=stock, quantity=5)

    no_reason = staff.post(f"/inventory/moves/{move.pk}/reverse/", {"reason": ""})
    assert "reason" in field_errors(no_reason)
    assert StockMove.objects.count() == 1

    staff.post(f"/inventory/moves/{move.pk}/reverse/", {"reason": "oops"})
    again = staff.post(f"/inventory/moves/{move.pk}/reverse/", {"reason": "oops again"})
    assert "already been reversed" in str(again.context["form"].non_field_errors())
    assert StockMove.objects.count() == 2


def test_reversing_without_javascript_returns_to_the_products_ledger(staff: Client):
    product = ProductFactory()
    move = services.stock_receive(product=product, location=bin_of(warehouse()), quantity=5)
    response = staff.post(f"/inventory/moves/{move.pk}/reverse/", {"reason": "oops"})
    assert response["Location"] == f"/inventory/moves/?product={product.pk}"


# ---- reorder rules


def test_add_and_change_a_reorder_rule_from_replenishment(staff: Client):
    wh = warehouse()
    product = services.product_create(sku="TEE-1", name="Tee", barcodes=["111"])

    added = staff.post(
        "/inventory/replenishment/",
        {"product": "111", "warehouse": wh.pk, "min_quantity": "5", "max_quantity": "20", "multiple": "5"},
        headers={**HTMX, "HX-Target": "body"},
    )
    rule = ReorderRule.objects.get()
    assert (rule.product, rule.min_quantity, rule.max_quantity) == (product, 5, 20)
    assert b"<html" not in added.content
    assert b"TEE-1" in added.content  # the suggestion: nothing on hand, order 20
    assert "Rule saved" in json.loads(added["HX-Trigger"])["toast"]["message"]

    edit = staff.get(f"/inventory/replenishment/?edit={rule.pk}")
    assert edit.context["form"].initial["product"] == "TEE-1"
    staff.post(
        "/inventory/replenishment/",
        {"product": "tee-1", "warehouse": wh.pk, "min_quantity": "8", "max_quantity": "30", "multiple": "1"},
    )
    rule.refresh_from_db()
    assert (rule.min_quantity, rule.max_quantity) == (8, 30)


def test_a_rule_with_max_below_min_is_refused(staff: Client):
    wh = warehouse()
    ProductFactory(sku="TEE-1")

    response = staff.post(
        "/inventory/replenishment/",
        {"product": "TEE-1", "warehouse": wh.pk, "min_quantity": "10", "max_quantity": "5", "multiple": "1"},
    )

    assert response.status_code == 422
    assert "at least the minimum" in field_errors(response)["max_quantity"][0]
    assert not ReorderRule.objects.exists()


def test_a_rule_for_an_unknown_product_is_refused(staff: Client):
    wh = warehouse()
    response = staff.post(
        "/inventory/replenishment/",
        {"product": "NOPE", "warehouse": wh.pk, "min_quantity": "1", "max_quantity": "5", "multiple": "1"},
    )
    assert "No product" in field_errors(response)["product"][0]
    assert not ReorderRule.objects.exists()


def test_replenishment_lists_suggestions_by_warehouse(staff: Client):
    wh1, wh2 = warehouse("WH1"), warehouse("WH2")
    product = ProductFactory(sku="TEE-1")
    services.stock_receive(product=product, location=bin_of(wh1), quantity=3)
    services.reorder_rule_set(product=product, warehouse=wh1, min_quantity=5, max_quantity=20, multiple=6)
    services.reorder_rule_set(product=product, warehouse=wh2, min_quantity=0, max_quantity=5)

    response = staff.get(f"/inventory/replenishment/?warehouse={wh1.pk}")

    (suggestion,) = response.context["suggestions"]
    assert suggestion.quantity == 18  # 17 to reach 20, rounded up to the multiple of 6
    assert [r.warehouse.code for r in response.context["page"].object_list] == ["WH1"]
    fragment = staff.get(
        f"/inventory/replenishment/?warehouse={wh2.pk}", headers={**HTMX, "HX-Target": "body"}
    )
    assert b"Nothing is below its minimum" in fragment.content


# ---- count sheets


def test_start_a_count_by_choosing_or_scanning_the_bin(staff: Client):
    wh = warehouse()
    stock = bin_of(wh)
    shelf = services.location_create(parent=services.warehouse_root(wh), name="A-01", barcode="LOC-A01")
    services.stock_receive(product=ProductFactory(), location=stock, quantity=4)

    chosen = staff.post("/inventory/counts/new/", {"location": stock.pk, "note": "weekly", "prefill": "on"})
    scanned = staff.post("/inventory/counts/new/", {"bin_code": "LOC-A01", "note": ""})

    first, second = CountSheet.objects.order_by("pk")
    assert chosen["Location"] == f"/inventory/counts/{first.pk}/"
    assert (first.location, first.lines.count(), first.note) == (stock, 1, "weekly")
    assert scanned["Location"] == f"/inventory/counts/{second.pk}/"
    assert second.location == shelf


def test_a_count_needs_a_bin(staff: Client):
    warehouse()
    missing = staff.post("/inventory/counts/new/", {"note": ""})
    unknown = staff.post("/inventory/counts/new/", {"bin_code": "NOPE"})
    assert "location" in field_errors(missing)
    assert "No bin" in field_errors(unknown)["bin_code"][0]
    assert not CountSheet.objects.exists()
