"""Import from Excel workbooks (.xlsx): the same plans as from CSV, with typed cells read as text."""

from __future__ import annotations

import datetime
from decimal import Decimal
from io import BytesIO
from typing import Any

import pytest
import tablib
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from openpyxl import Workbook

from erp.models import Job
from inventory import csv_io
from inventory.models import Lot, Product, StockLevel
from inventory.services import location_create, warehouse_root
from inventory.views.import_export import SESSION_KEY
from tests.erp.factories import UserFactory
from tests.inventory.factories import ProductFactory, bin_of, unit, warehouse

pytestmark = pytest.mark.django_db
D = Decimal
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def workbook(*rows: list[Any]) -> bytes:
    """A workbook whose active sheet holds ``rows`` as typed cells (an empty list: an empty row)."""
    book = Workbook()
    sheet = book.active
    for number, row in enumerate(rows, start=1):
        for column, value in enumerate(row, start=1):
            sheet.cell(row=number, column=column, value=value)
    out = BytesIO()
    book.save(out)
    return out.getvalue()


def test_products_from_a_workbook_built_with_tablib_read_numbers_and_yes_no_as_typed():
    # given: a workbook as tablib writes it, numbers and booleans as such
    unit("kg")
    existing = ProductFactory(sku="MUG-1", name="Mug", sale_price=D("5.00"))
    data = tablib.Dataset(headers=["SKU", "name", "sale_price", "unit", "barcodes", "weight", "active"])
    data.append(["mug-1", "Mug large", 6.5, "pcs", 4006381333931, 0.4, True])
    data.append(["FLOUR-1", "Flour, wheat", 1.2, "kg", None, 1, False])

    # when
    plan = csv_io.parse_products(data.export("xlsx"))
    csv_io.apply_products(plan)

    # then
    assert plan.is_valid, plan.field_errors()
    assert [(r.number, r.action) for r in plan.rows] == [(2, "update"), (3, "create")]
    existing.refresh_from_db()
    assert (existing.name, existing.sale_price, existing.weight) == ("Mug large", D("6.5"), D("0.4"))
    assert list(existing.barcodes.values_list("code", flat=True)) == ["4006381333931"]
    flour = Product.objects.get(sku="FLOUR-1")
    assert (flour.sale_price, flour.stock_unit.code, flour.weight, flour.is_active) == (
        D("1.2"),
        "kg",
        D("1"),
        False,
    )


def test_rows_are_numbered_as_in_the_sheet_and_errors_name_row_and_column():
    content = workbook(
        ["sku", "name", "sale_price"],
        ["A-1", "Apple", "1.2x"],
        [],  # an empty row: skipped, still counted
        ["A-2", "Pear", 2, "stray"],  # a cell past the header's last column
        ["A-3", "Plum", 1.00001],
    )

    plan = csv_io.parse_products(content)

    errors = {row.number: row.errors for row in plan.error_rows}
    assert set(errors) == {2, 4, 5}
    assert errors[2]["sale_price"] == ["“1.2x” is not a number."]
    assert errors[4][""] == ["More cells than the 3 columns of the header."]
    assert "decimal places" in errors[5]["sale_price"][0]


def test_opening_stock_from_a_workbook_reads_dates_and_whole_numbers():
    wh = warehouse("WH1")
    zone = location_create(parent=warehouse_root(wh), name="A", kind="view")
    a1 = location_create(parent=zone, name="A-01")
    milk = ProductFactory(sku="MILK", tracking="lot")
    content = workbook(
        ["sku", "warehouse", "location", "quantity", "unit_cost", "lot", "expiry_date"],
        # a date typed in a sheet is a naive datetime: spreadsheets have no time zones
        ["MILK", "WH1", "A-01", 24, 0.8, "L-1", datetime.datetime(2030, 1, 31)],  # noqa: DTZ001
        ["MILK", "WH1", "", 12.0, 0.9, 1001, datetime.date(2030, 2, 28)],
    )

    plan = csv_io.parse_opening_stock(content)
    result = csv_io.apply_opening_stock(plan)

    assert plan.is_valid, plan.field_errors()
    assert plan.rows[0].summary == "receive 24 at 0.80, lot L-1"
    assert result.created == 2
    lot = Lot.objects.get(product=milk, code="L-1")
    assert lot.expiry_date == datetime.date(2030, 1, 31)
    assert StockLevel.objects.get(product=milk, location=a1, lot=lot).on_hand == 24
    other = Lot.objects.get(product=milk, code="1001")
    assert other.expiry_date == datetime.date(2030, 2, 28)
    assert StockLevel.objects.get(product=milk, location=bin_of(wh), lot=other).on_hand == 12


def test_a_damaged_workbook_is_a_file_error():
    plan = csv_io.parse_products(b"PK\x03\x04 not really a workbook")

    assert not plan.is_valid
    assert plan.file_errors[0].startswith("The file is not an Excel workbook that can be read")


def test_upload_preview_confirm_of_a_workbook(client: Client):
    # given
    client.force_login(UserFactory(roles=["Warehouse"]))
    content = workbook(["sku", "name", "sale_price"], ["LAMP-1", "Lamp", 30], ["SHADE-1", "Shade", 12.5])
    page = client.get("/inventory/io/")
    assert b'accept=".csv,.xlsx,' in page.content

    # when: the preview (htmx fragment) writes nothing
    file = SimpleUploadedFile("products.xlsx", content, content_type=XLSX)
    preview = client.post(
        "/inventory/io/preview/", {"kind": "products", "file": file}, HTTP_HX_REQUEST="true"
    )

    # then
    assert preview.status_code == 200
    assert "Import 2 rows" in preview.content.decode()
    assert not Product.objects.filter(sku="LAMP-1").exists()
    token = client.session[SESSION_KEY]["token"]

    # when: confirmed (the workbook waited in the session)
    applied = client.post("/inventory/io/apply/", {"token": token}, HTTP_HX_REQUEST="true")

    # then: the job read the workbook from its params
    job = Job.objects.get(pk=int(applied["HX-Redirect"].strip("/").split("/")[-1]))
    assert job.state == "done"
    assert (
        job.result["summary"] == "Imported products: 2 created, 0 updated, 0 unchanged. From products.xlsx."
    )
    assert Product.objects.get(sku="SHADE-1").sale_price == D("12.5")
