"""CSV import and export of products and opening stock: the service and its pages."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import StreamingHttpResponse
from django.test import Client

from inventory import csv_io
from inventory.integrity import find_drift
from inventory.models import Category, Lot, Product, StockLevel, StockMove, Tracking
from inventory.services import (
    Demand,
    location_create,
    lot_get_or_create,
    product_create,
    stock_receive,
    stock_reserve,
    warehouse_root,
)
from tests.erp.factories import UserFactory
from tests.inventory.factories import CategoryFactory, ProductFactory, bin_of, unit, warehouse
from tests.queries import assert_constant_queries

pytestmark = pytest.mark.django_db
D = Decimal

PRODUCTS_HEADER = (
    "sku,name,description,category,kind,unit,sale_price,currency,tracking,barcodes,weight,active"
)
STOCK_HEADER = "sku,warehouse,location,quantity,unit_cost,lot,expiry_date"


def csv_text(*lines: str) -> str:
    return "\n".join(lines) + "\n"


def level(product, location, lot=None) -> StockLevel:
    return StockLevel.objects.get(product=product, location=location, lot=lot)


# --- products -----------------------------------------------------------------------------------


def test_products_import_creates_and_updates_by_sku_ignoring_case_without_touching_stock():
    # given a product with stock, and a file that updates it (other case) and adds one
    unit("kg")
    existing = ProductFactory(sku="MUG-1", name="Mug", sale_price=D("5.00"))
    stock = bin_of(warehouse())
    stock_receive(product=existing, location=stock, quantity=7, unit_cost="2.00")
    moves_before = StockMove.objects.count()
    text = csv_text(
        PRODUCTS_HEADER,
        "mug-1,Mug large,Stoneware,Home/Kitchen,stocked,pcs,6.50,USD,none,4006381333931,0.4,yes",
        'FLOUR-1,"Flour, wheat",,Food,stocked,kg,1.20,EUR,lot,,1,yes',
    )

    # when
    plan = csv_io.parse_products(text)
    result = csv_io.apply_products(plan)

    # then
    assert plan.counts == {"create": 1, "update": 1, "unchanged": 0, "error": 0}
    assert (result.created, result.updated, result.unchanged) == (1, 1, 0)
    existing.refresh_from_db()
    assert existing.sku == "MUG-1"  # matched, not renamed
    assert (existing.name, existing.sale_price, existing.weight) == ("Mug large", D("6.5"), D("0.4"))
    assert existing.category is not None
    assert existing.category.parent.name == "Home"
    assert list(existing.barcodes.values_list("code", flat=True)) == ["4006381333931"]
    flour = Product.objects.get(sku="FLOUR-1")
    assert (flour.name, flour.stock_unit.code, flour.currency, flour.tracking) == (
        "Flour, wheat",
        "kg",
        "EUR",
        Tracking.LOT,
    )
    assert flour.category == Category.objects.get(name="Food", parent=None)
    assert StockMove.objects.count() == moves_before
    assert level(existing, stock).on_hand == 7


def test_products_file_with_bom_semicolons_and_decimal_commas_is_read():
    text = "\ufeff" + csv_text(
        "sku;name;sale_price;weight",
        "TEA-1;Green tea, sencha;3,75;0,25",
    )

    plan = csv_io.parse_products(text.encode("utf-8"))
    csv_io.apply_products(plan)

    tea = Product.objects.get(sku="TEA-1")
    assert (tea.name, tea.sale_price, tea.weight) == ("Green tea, sencha", D("3.75"), D("0.25"))


def test_every_row_is_validated_and_errors_name_row_and_column():
    # given
    CategoryFactory(name="Home")
    sold = ProductFactory(sku="SOLD")
    stock_receive(product=sold, location=bin_of(warehouse()), quantity=1, unit_cost=1)
    ProductFactory(sku="OTHER").barcodes.create(code="111")
    text = csv_text(
        "sku,name,unit,sale_price,currency,tracking,barcodes",
        "A-1,Apple,crate,1.00,USD,none,",  # row 2: unknown unit
        "A-2,Pear,pcs,1.2x,USD,none,",  # row 3: bad decimal
        "a-1,Apple again,pcs,1,USD,none,",  # row 4: duplicate SKU (case ignored)
        "A-3,,pcs,1,USD,none,",  # row 5: new without a name
        "A-4,Plum,pcs,1,ABC,none,111",  # row 6: unknown currency, someone else's barcode
        "SOLD,Sold,pcs,1,USD,serial,",  # row 7: tracking change after moves
        "A-5,Fine,pcs,-1.00001,USD,none,",  # row 8: too many places
    )

    # when
    plan = csv_io.parse_products(text)

    # then
    errors = {row.number: row.errors for row in plan.error_rows}
    assert set(errors) == {2, 3, 4, 5, 6, 7, 8}
    assert "Unknown unit “crate”" in errors[2]["unit"][0]
    assert errors[3]["sale_price"] == ["“1.2x” is not a number."]
    assert "already on row 2" in errors[4]["sku"][0]
    assert errors[5]["name"] == ["A name is required for a new product."]
    assert "ISO 4217" in errors[6]["currency"][0]
    assert errors[6]["barcodes"] == ["Barcode 111 belongs to OTHER."]
    assert "cannot change once the product has stock moves" in errors[7]["tracking"][0]
    assert "decimal places" in errors[8]["sale_price"][0]
    assert not plan.is_valid
    with pytest.raises(csv_io.ImportInvalid) as refusal:
        csv_io.apply_products(plan)
    assert "rows.2.unit" in refusal.value.field_errors
    assert not Product.objects.filter(sku__startswith="A-").exists()


def test_missing_required_column_and_empty_file_are_file_errors():
    assert csv_io.parse_products("name,sale_price\nMug,1\n").file_errors == [
        "Missing column(s): sku. The columns are: " + ", ".join(csv_io.PRODUCT_COLUMNS) + "."
    ]
    assert csv_io.parse_products("").file_errors
    assert csv_io.parse_products(PRODUCTS_HEADER + "\n").file_errors == ["The file has a header but no rows."]
    assert csv_io.parse_products("sku,name,colour\nX,Y,red\n").warnings == ["Ignored column(s): colour."]


def test_a_file_that_is_not_utf8_is_refused():
    with pytest.raises(csv_io.ValidationFailed, match="not UTF-8"):
        csv_io.parse_products("sku,name\nX,Crème\n".encode("latin-1"))


def test_a_service_refusal_while_applying_rolls_back_every_row_and_names_it():
    # given a valid plan, and then someone creates one of its SKUs before it is applied
    plan = csv_io.parse_products(csv_text("sku,name", "NEW-1,One", "NEW-2,Two", "NEW-3,Three"))
    assert plan.is_valid
    product_create(sku="new-3", name="Taken meanwhile")

    # when
    with pytest.raises(csv_io.ImportFailed) as failure:
        csv_io.apply_products(plan)

    # then
    assert failure.value.row == 4
    assert "already used" in str(failure.value)
    assert "Nothing was imported" in str(failure.value)
    assert not Product.objects.filter(sku__in=["NEW-1", "NEW-2"]).exists()


def test_blank_cells_clear_optional_fields_and_keep_required_ones():
    product = ProductFactory(sku="P", name="Name", description="Old", weight=D("1"), sale_price=D("3"))
    product.barcodes.create(code="999")

    csv_io.apply_products(
        csv_io.parse_products(csv_text("sku,name,description,weight,barcodes,sale_price", "P,,,,,"))
    )

    product.refresh_from_db()
    assert (product.name, product.description, product.weight, product.sale_price) == (
        "Name",
        "",
        None,
        D("3"),
    )
    assert not product.barcodes.exists()


def test_active_column_archives_and_restores():
    product = ProductFactory(sku="OLD")

    csv_io.apply_products(csv_io.parse_products(csv_text("sku,name,active", "OLD,,no", "NEWBIE,New,false")))

    product.refresh_from_db()
    assert product.is_active is False
    assert Product.objects.get(sku="NEWBIE").is_active is False
    plan = csv_io.parse_products(csv_text("sku,active", "OLD,yes"))
    assert plan.rows[0].summary == "changes active"
    csv_io.apply_products(plan)
    product.refresh_from_db()
    assert product.is_active is True


def test_products_export_imports_back_unchanged():
    # given a varied catalog
    shirts = CategoryFactory(name="Shirts", parent=CategoryFactory(name="Apparel"))
    product_create(
        sku="TEE-M",
        name='T-shirt "Classic", M',
        description="Line one\nline two",
        category=shirts,
        sale_price="19.9",
        weight=D("0.180"),
        barcodes=["5901234123457", "5901234123464"],
    )
    product_create(sku="SRV-1", name="Gift wrap", kind="service", currency="EUR")
    product_create(sku="CABLE", name="Cable", stock_unit="m", tracking="lot")

    # when
    exported = "".join(csv_io.export_products())
    plan = csv_io.parse_products(exported)

    # then
    assert exported.startswith("\ufeff" + PRODUCTS_HEADER)
    assert "Apparel/Shirts" in exported
    assert "5901234123457|5901234123464" in exported
    assert plan.is_valid, plan.field_errors()
    assert plan.counts == {"create": 0, "update": 0, "unchanged": 3, "error": 0}


def test_category_resolves_by_unique_name_and_new_paths_are_announced():
    CategoryFactory(name="Mugs", parent=CategoryFactory(name="Kitchen"))
    product = ProductFactory(sku="M1")

    plan = csv_io.parse_products(csv_text("sku,category", "M1,mugs", "M2,Garden/Pots"))

    assert plan.rows[0].change.fields["category"] == "Kitchen/Mugs"
    assert plan.rows[0].summary == "changes category"
    plan2 = csv_io.parse_products(csv_text("sku,name,category", "M2,Pot,Garden/Pots"))
    assert plan2.rows[0].summary == "new stocked product in Garden/Pots (new category Garden/Pots)"
    csv_io.apply_products(plan2)
    csv_io.apply_products(csv_io.parse_products(csv_text("sku,category", "M1,mugs")))
    product.refresh_from_db()
    assert product.category is not None
    assert product.category.name == "Mugs"
    assert Category.objects.get(name="Pots").parent.name == "Garden"


# --- opening stock ------------------------------------------------------------------------------


@pytest.fixture
def site():
    wh = warehouse("WH1")
    zone = location_create(parent=warehouse_root(wh), name="A", kind="view")
    a1 = location_create(parent=zone, name="A-01")
    return {"wh": wh, "stock": bin_of(wh), "a1": a1, "zone": zone}


def test_opening_stock_receives_empty_levels_at_their_cost_and_adjusts_filled_ones(site):
    # given: a product with 10 @ 4.00 in Stock, nothing in A-01
    bolt = ProductFactory(sku="BOLT")
    stock_receive(product=bolt, location=site["stock"], quantity=10, unit_cost="4.00")
    text = csv_text(
        STOCK_HEADER,
        "bolt,wh1,A-01,30,8.00,,",  # empty level: receive at 8.00
        "BOLT,WH1,WH1/Stock,12,99,,",  # filled level: adjust to 12 (cost ignored)
    )

    # when
    plan = csv_io.parse_opening_stock(text)
    result = csv_io.apply_opening_stock(plan)

    # then
    assert [r.action for r in plan.rows] == ["create", "update"]
    assert plan.rows[0].summary == "receive 30 at 8.00"
    assert plan.rows[1].summary == "adjust 10 → 12 (+2)"
    assert "unit_cost ignored" in plan.rows[1].warnings[0]
    assert (result.created, result.updated) == (1, 1)
    assert level(bolt, site["a1"]).on_hand == 30
    assert level(bolt, site["stock"]).on_hand == 12
    bolt.refresh_from_db()
    assert bolt.average_cost == D("7.0000")  # (10 × 4 + 30 × 8) / 40; the adjustment keeps the average
    receipt = StockMove.objects.get(to_location=site["a1"])
    assert (receipt.kind, receipt.unit_cost, receipt.reason) == (
        "receipt",
        D("8.0000"),
        "opening stock import",
    )
    assert find_drift()[1] == []


def test_opening_stock_of_a_new_catalog_averages_rows_and_imports_again_as_unchanged(site):
    # given
    nut = ProductFactory(sku="NUT")
    text = csv_text(STOCK_HEADER, "NUT,WH1,,10,1.00,,", "NUT,WH1,A/A-01,30,2.00,,")

    # when
    csv_io.apply_opening_stock(csv_io.parse_opening_stock(text))
    moves = StockMove.objects.count()
    again = csv_io.parse_opening_stock(text)

    # then
    nut.refresh_from_db()
    assert nut.average_cost == D("1.7500")
    assert again.counts["unchanged"] == 2
    assert csv_io.apply_opening_stock(again).unchanged == 2
    assert StockMove.objects.count() == moves


def test_opening_stock_creates_lots_with_expiry_and_sets_serials(site):
    milk = ProductFactory(sku="MILK", tracking="lot")
    phone = ProductFactory(sku="PHONE", tracking="serial")
    text = csv_text(
        STOCK_HEADER,
        "MILK,WH1,Stock,24,0.80,L-1,2030-01-31",
        "MILK,WH1,Stock,12,0.90,L-2,2030-02-28",
        "PHONE,WH1,Stock,1,300,SN-1,",
        "PHONE,WH1,Stock,1,300,SN-2,",
    )

    csv_io.apply_opening_stock(csv_io.parse_opening_stock(text))

    lot1 = Lot.objects.get(product=milk, code="L-1")
    assert lot1.expiry_date.isoformat() == "2030-01-31"
    assert level(milk, site["stock"], lot1).on_hand == 24
    assert StockLevel.objects.filter(product=phone, on_hand=1, location=site["stock"]).count() == 2
    milk.refresh_from_db()
    assert milk.average_cost == D("0.8333")


def test_opening_stock_rows_are_validated(site):
    ProductFactory(sku="PLAIN")
    ProductFactory(sku="LOTTED", tracking="lot")
    ProductFactory(sku="SERIAL", tracking="serial")
    ProductFactory(sku="WRAP", kind="service")
    reserved = ProductFactory(sku="HELD")
    stock_receive(product=reserved, location=site["stock"], quantity=5, unit_cost=1)
    stock_reserve(product=reserved, warehouse=site["wh"], quantity=4, demand=Demand("test.order", 1))
    lot_get_or_create(product=Product.objects.get(sku="LOTTED"), code="OLD", expiry_date=None)
    text = csv_text(
        STOCK_HEADER,
        "NOPE,WH1,,1,1,,",  # 2: unknown SKU
        "PLAIN,XX,,1,1,,",  # 3: unknown warehouse
        "PLAIN,WH1,Z-99,1,1,,",  # 4: unknown location
        "PLAIN,WH1,A,1,1,,",  # 5: a zone
        "LOTTED,WH1,,1,1,,",  # 6: tracked without lot
        "PLAIN,WH1,,1.5,1,,",  # 7: fraction of pieces
        "PLAIN,WH1,,2,,,",  # 8: receipt without cost
        "SERIAL,WH1,,2,1,S1,",  # 9: serial quantity
        "WRAP,WH1,,1,1,,",  # 10: service
        "HELD,WH1,,3,,,",  # 11: below what is reserved
        "PLAIN,WH1,A-01,1,1,,",  # 12: fine
        "plain,wh1,WH1/A/A-01,2,1,,",  # 13: same level as row 12
        "LOTTED,WH1,,1,1,OLD,2030-01-01",  # 14: lot exists with another expiry
        "PLAIN,WH1,,abc,1,,",  # 15: bad decimal
    )

    plan = csv_io.parse_opening_stock(text)

    errors = {row.number: row.errors for row in plan.error_rows}
    assert set(errors) == {2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 14, 15}
    assert errors[2]["sku"] == ["No product with SKU NOPE."]
    assert errors[3]["warehouse"] == ["No warehouse XX."]
    assert errors[4]["location"] == ["No location “Z-99” in warehouse WH1."]
    assert errors[5]["location"] == ["WH1/A is a zone; name one of its bins."]
    assert errors[6]["lot"] == ["LOTTED is tracked by lot: give one."]
    assert "whole number" in errors[7]["quantity"][0]
    assert "Required" in errors[8]["unit_cost"][0]
    assert "serial-tracked" in errors[9]["quantity"][0]
    assert "is a service" in errors[10]["sku"][0]
    assert errors[11]["quantity"] == ["4 is reserved here; the quantity cannot go below it."]
    assert "already on row 12" in errors[13][""][0]
    assert "already exists with expiry None" in errors[14]["expiry_date"][0]
    assert errors[15]["quantity"] == ["“abc” is not a number."]
    with pytest.raises(csv_io.ImportInvalid):
        csv_io.apply_opening_stock(plan)
    assert not StockLevel.objects.filter(product__sku="PLAIN").exists()


def test_a_ledger_refusal_rolls_back_the_whole_stock_import(site):
    # given serial SN-1 is in stock in A-01; the file receives it again into Stock
    phone = ProductFactory(sku="PHONE", tracking="serial")
    nut = ProductFactory(sku="NUT")
    stock_receive(
        product=phone,
        location=site["a1"],
        quantity=1,
        unit_cost=1,
        lot=lot_get_or_create(product=phone, code="SN-1"),
    )
    plan = csv_io.parse_opening_stock(csv_text(STOCK_HEADER, "NUT,WH1,,5,1,,", "PHONE,WH1,Stock,1,300,SN-1,"))
    assert plan.is_valid

    # when
    with pytest.raises(csv_io.ImportFailed) as failure:
        csv_io.apply_opening_stock(plan)

    # then
    assert failure.value.row == 3
    assert "already in stock" in failure.value.reason
    assert not StockMove.objects.filter(product=nut).exists()
    assert find_drift()[1] == []


def test_stock_levels_export_imports_back_as_opening_stock_unchanged(site):
    # given
    bolt = ProductFactory(sku="BOLT")
    milk = ProductFactory(sku="MILK", tracking="lot")
    stock_receive(product=bolt, location=site["a1"], quantity=3, unit_cost="2.50")
    stock_receive(
        product=milk,
        location=site["stock"],
        quantity=6,
        unit_cost=1,
        lot=lot_get_or_create(product=milk, code="L9"),
    )
    stock_reserve(product=bolt, warehouse=site["wh"], quantity=2, demand=Demand("test.order", 1))

    # when
    exported = "".join(csv_io.export_levels())
    plan = csv_io.parse_opening_stock(exported)

    # then
    lines = exported.lstrip("\ufeff").splitlines()
    assert lines == [
        "sku,warehouse,location,lot,on_hand,reserved,unit_cost",
        "BOLT,WH1,WH1/A/A-01,,3,2,2.50",
        "MILK,WH1,WH1/Stock,L9,6,0,1.00",
    ]
    assert plan.warnings == ["Ignored column(s): reserved."]
    assert plan.counts["unchanged"] == 2


# --- pages --------------------------------------------------------------------------------------


def upload(client: Client, kind: str, text: str, **extra):
    file = SimpleUploadedFile(f"{kind}.csv", text.encode("utf-8"), content_type="text/csv")
    return client.post("/inventory/io/preview/", {"kind": kind, "file": file}, **extra)


def test_sales_can_open_the_page_and_export_but_not_import(client: Client):
    client.force_login(UserFactory(roles=["Sales"]))

    page = client.get("/inventory/io/")
    refused = upload(client, "products", "sku,name\nX,Y\n")
    refused_apply = client.post("/inventory/io/apply/", {"token": "t"})

    assert page.status_code == 200
    assert b"Importing needs the Inventory (write) right" in page.content
    assert b'href="/inventory/io/export/products.csv"' in page.content
    assert refused.status_code == 403
    assert refused_apply.status_code == 403
    assert client.get("/inventory/io/export/products.csv").status_code == 200
    assert not Product.objects.filter(sku="X").exists()


def test_anonymous_users_are_sent_to_login(client: Client):
    assert client.get("/inventory/io/export/stock-levels.csv").status_code == 302


def test_upload_preview_confirm_imports_with_a_toast(client: Client):
    # given
    client.force_login(UserFactory(roles=["Warehouse"]))
    ProductFactory(sku="KEEP", name="Keep", sale_price=D("1"))
    text = csv_text("sku,name,sale_price", "KEEP,Keep,1", "NEW-1,Lamp,30", "NEW-2,Shade,12")

    # when: the preview (htmx fragment) writes nothing
    preview = upload(client, "products", text, HTTP_HX_REQUEST="true")

    # then
    html = preview.content.decode()
    assert preview.status_code == 200
    assert "<html" not in html
    assert "Import 2 rows" in html
    assert "1 unchanged row will be skipped" in html
    assert not Product.objects.filter(sku="NEW-1").exists()
    token = client.session[csv_io_session_key()]["token"]
    assert f'value="{token}"' in html

    # when: confirmed
    applied = client.post("/inventory/io/apply/", {"token": token}, HTTP_HX_REQUEST="true")

    # then
    assert applied.status_code == 200
    toast = json.loads(applied["HX-Trigger"])["toast"]
    assert toast == {
        "message": "Imported products: 2 created, 0 updated, 1 unchanged.",
        "level": "success",
    }
    assert Product.objects.filter(sku__in=["NEW-1", "NEW-2"]).count() == 2
    assert csv_io_session_key() not in client.session
    # a second confirm of the same preview imports nothing
    again = client.post("/inventory/io/apply/", {"token": token}, HTTP_HX_REQUEST="true")
    assert json.loads(again["HX-Trigger"])["toast"]["level"] == "error"


def csv_io_session_key() -> str:
    from inventory.views.import_export import SESSION_KEY

    return SESSION_KEY


def test_without_javascript_confirm_redirects_with_a_message(client: Client):
    client.force_login(UserFactory(roles=["Warehouse"]))

    preview = upload(client, "products", "sku,name\nLAMP,Lamp\n")
    assert b"<html" in preview.content
    token = client.session[csv_io_session_key()]["token"]
    applied = client.post("/inventory/io/apply/", {"token": token}, follow=True)

    assert applied.redirect_chain == [("/inventory/io/", 302)]
    assert b"Imported products: 1 created" in applied.content
    assert Product.objects.filter(sku="LAMP").exists()


def test_a_file_with_errors_is_previewed_with_them_and_cannot_be_confirmed(client: Client):
    client.force_login(UserFactory(roles=["Warehouse"]))

    preview = upload(client, "products", csv_text("sku,name,unit", "OK,Fine,pcs", "BAD,Bad,crate"))

    html = preview.content.decode()
    assert 'id="io-row-3" class="error"' in html
    assert "Unknown unit “crate”" in html
    assert "Import 1 row" not in html
    assert "Nothing can be imported while the file has errors" in html
    assert csv_io_session_key() not in client.session


def test_confirm_parses_the_file_again_against_current_data(client: Client):
    # given a valid preview, then N1 is created by someone else
    client.force_login(UserFactory(roles=["Warehouse"]))
    upload(client, "products", csv_text("sku,name", "N1,One", "N2,Two"))
    token = client.session[csv_io_session_key()]["token"]
    product_create(sku="N1", name="Meanwhile")

    # when
    response = client.post("/inventory/io/apply/", {"token": token}, HTTP_HX_REQUEST="true")

    # then: the fresh plan updates N1 instead of failing to create it
    assert json.loads(response["HX-Trigger"])["toast"]["message"] == (
        "Imported products: 1 created, 1 updated, 0 unchanged."
    )
    assert Product.objects.get(sku="N1").name == "One"


def test_confirm_refuses_when_the_file_no_longer_validates(client: Client):
    # given a valid preview, then its barcode is given to another product
    client.force_login(UserFactory(roles=["Warehouse"]))
    upload(client, "products", csv_text("sku,name,barcodes", "N1,One,123"))
    token = client.session[csv_io_session_key()]["token"]
    product_create(sku="OTHER", name="Other", barcodes=["123"])

    # when
    response = client.post("/inventory/io/apply/", {"token": token}, HTTP_HX_REQUEST="true")

    # then
    toast = json.loads(response["HX-Trigger"])["toast"]
    assert toast["level"] == "error"
    assert "nothing was imported" in toast["message"]
    assert "Barcode 123 belongs to OTHER." in response.content.decode()
    assert not Product.objects.filter(sku="N1").exists()


def test_a_row_the_ledger_refuses_is_highlighted_and_nothing_is_imported(client: Client, site):
    # given serial SN-1 already in A-01; the file puts it in Stock too
    client.force_login(UserFactory(roles=["Warehouse"]))
    phone = ProductFactory(sku="PHONE", tracking="serial")
    ProductFactory(sku="NUT")
    stock_receive(
        product=phone,
        location=site["a1"],
        quantity=1,
        unit_cost=1,
        lot=lot_get_or_create(product=phone, code="SN-1"),
    )
    upload(client, "stock", csv_text(STOCK_HEADER, "NUT,WH1,,5,1,,", "PHONE,WH1,Stock,1,300,SN-1,"))
    token = client.session[csv_io_session_key()]["token"]

    # when (without htmx: the whole page, 422)
    response = client.post("/inventory/io/apply/", {"token": token})

    # then
    html = response.content.decode()
    assert response.status_code == 422
    assert 'id="io-row-3" class="error"' in html
    assert "Row 3: Serial SN-1 of PHONE is already in stock. Nothing was imported." in html
    assert not StockMove.objects.filter(product__sku="NUT").exists()


def test_opening_stock_through_the_page(client: Client, site):
    client.force_login(UserFactory(roles=["Warehouse"]))
    ProductFactory(sku="BOLT")

    upload(client, "stock", csv_text(STOCK_HEADER, "BOLT,WH1,A-01,5,2.00,,"), HTTP_HX_REQUEST="true")
    token = client.session[csv_io_session_key()]["token"]
    response = client.post("/inventory/io/apply/", {"token": token}, HTTP_HX_REQUEST="true")

    assert "Imported stock levels: 1 created" in json.loads(response["HX-Trigger"])["toast"]["message"]
    assert StockLevel.objects.get(product__sku="BOLT", location=site["a1"]).on_hand == 5


def test_an_upload_that_is_not_utf8_is_refused_with_a_message(client: Client):
    client.force_login(UserFactory(roles=["Warehouse"]))
    file = SimpleUploadedFile("p.csv", "sku,name\nX,Crème\n".encode("utf-16"), content_type="text/csv")

    response = client.post("/inventory/io/preview/", {"kind": "products", "file": file})

    assert response.status_code == 422
    assert b"not UTF-8" in response.content


def streamed(response) -> str:
    assert isinstance(response, StreamingHttpResponse)
    return b"".join(response.streaming_content).decode("utf-8")


def test_exports_stream_at_a_constant_number_of_queries(client: Client, site):
    # given
    client.force_login(UserFactory(roles=["Sales"]))
    apparel = CategoryFactory(name="Apparel")
    counter = iter(range(1000))

    def grow(n: int) -> None:
        for _ in range(n):
            i = next(counter)
            product = product_create(
                sku=f"P-{i:04d}", name=f"P {i}", category=apparel, barcodes=[f"B{i}", f"C{i}"]
            )
            stock_receive(product=product, location=site["a1"], quantity=2, unit_cost=1)

    grow(5)

    def export_both() -> None:
        streamed(client.get("/inventory/io/export/products.csv"))
        streamed(client.get("/inventory/io/export/stock-levels.csv"))

    # then
    assert_constant_queries(export_both, lambda: grow(45))
    products = streamed(client.get("/inventory/io/export/products.csv")).splitlines()
    levels = streamed(client.get("/inventory/io/export/stock-levels.csv")).splitlines()
    assert len(products) == 51
    assert len(levels) == 51
    assert "P-0049,P 49,,Apparel,stocked,pcs,0.00,USD,none,B49|C49,,yes" in products


def test_exports_take_the_list_filters(client: Client, site):
    client.force_login(UserFactory(roles=["Sales"]))
    product_create(sku="MUG-1", name="Mug")
    product_create(sku="LAMP-1", name="Lamp")
    other = warehouse("WH2")
    stock_receive(product=Product.objects.get(sku="MUG-1"), location=site["stock"], quantity=1, unit_cost=1)
    stock_receive(product=Product.objects.get(sku="LAMP-1"), location=bin_of(other), quantity=1, unit_cost=1)

    products = streamed(client.get("/inventory/io/export/products.csv", {"q": "mug", "ordering": "-on_hand"}))
    levels = streamed(client.get("/inventory/io/export/stock-levels.csv", {"warehouse": other.pk}))

    assert "MUG-1" in products
    assert "LAMP-1" not in products
    assert "LAMP-1" in levels
    assert "MUG-1" not in levels


def test_blank_cells_past_the_header_as_spreadsheets_export_them_are_ignored():
    # given: a file whose data rows carry empty cells past the header (a spreadsheet export)
    text = csv_text("sku,name,sale_price", "CUP-1,Cup,4.50,,", 'CUP-2,"Cup, large",5.00,  ,', "")

    # when
    plan = csv_io.parse_products(text.encode("utf-8"))
    csv_io.apply_products(plan)

    # then
    assert plan.file_errors == []
    assert sorted(Product.objects.values_list("sku", "name", "sale_price")) == [
        ("CUP-1", "Cup", D("4.50")),
        ("CUP-2", "Cup, large", D("5.00")),
    ]


def test_a_value_past_the_header_still_refuses_the_file():
    plan = csv_io.parse_products(csv_text("sku,name", "CUP-1,Cup,surprise").encode("utf-8"))

    assert plan.file_errors == ["Row 2 has more cells than the 2 columns of the header."]
    assert not Product.objects.exists()
