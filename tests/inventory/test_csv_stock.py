"""CSV import of opening stock and export of stock levels: receipts, adjustments, lots, serials, refusals."""

from __future__ import annotations

from decimal import Decimal

import pytest

from inventory import csv_io
from inventory.integrity import find_drift
from inventory.models import Lot, Product, StockLevel, StockMove
from inventory.services import Demand, lot_get_or_create, stock_receive, stock_reserve
from tests.inventory.csv_support import (
    STOCK_HEADER,
    csv_text,
    level,
    site_fixture,  # noqa: F401  (a fixture)
)
from tests.inventory.factories import ProductFactory

pytestmark = pytest.mark.django_db
D = Decimal


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
