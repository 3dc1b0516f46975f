"""CSV import and export of products: the plan, its checks per row and column, applying it, round trips."""

from __future__ import annotations

from decimal import Decimal

import pytest

from inventory import csv_io
from inventory.models import Category, Product, StockMove, Tracking
from inventory.services import product_create, stock_receive
from tests.inventory.csv_support import csv_text, level
from tests.inventory.factories import CategoryFactory, ProductFactory, bin_of, unit, warehouse

pytestmark = pytest.mark.django_db
D = Decimal


PRODUCTS_HEADER = (
    "sku,name,description,category,kind,unit,sale_price,currency,tracking,barcodes,weight,active"
)


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
