"""Inventory's demo data: realistic, deterministic, idempotent, and consistent with the ledger."""

from __future__ import annotations

import random
from io import StringIO

import pytest
from django.core.management import call_command

from inventory import demo
from inventory.integrity import find_drift
from inventory.models import (
    Barcode,
    CountSheet,
    Lot,
    Product,
    ProductUnit,
    ReorderRule,
    Reservation,
    StockLevel,
    StockMove,
    Transfer,
    Warehouse,
)

pytestmark = pytest.mark.django_db


def counts() -> dict[str, object]:
    return {
        "products": Product.objects.count(),
        "moves": StockMove.objects.count(),
        "levels": StockLevel.objects.count(),
        "reservations": Reservation.objects.count(),
        "reservation states": sorted(Reservation.objects.values_list("status", flat=True)),
        "lots": Lot.objects.count(),
        "barcodes": Barcode.objects.count(),
        "units": ProductUnit.objects.count(),
        "rules": ReorderRule.objects.count(),
        "transfers": sorted(Transfer.objects.values_list("status", flat=True)),
        "count sheets": sorted(CountSheet.objects.values_list("status", flat=True)),
        "on hand": sorted(
            StockLevel.objects.values_list("product__sku", "location__path", "lot__code", "on_hand")
        ),
    }


def test_seeding_twice_gives_the_same_data_and_levels_match_the_ledger():
    # when: the demo command runs twice, for inventory (registered its seeder on import)
    out = StringIO()
    call_command("seed_demo", "--only", "inventory", stdout=out)
    first = counts()
    call_command("seed_demo", "--only", "inventory", stdout=StringIO())

    # then
    assert counts() == first
    assert find_drift()[1] == []
    assert "inventory: warehouses MAIN, EAST" in out.getvalue()


def test_the_demo_looks_like_a_real_business_with_valid_barcodes():
    demo.seed_inventory()

    assert set(Warehouse.objects.values_list("code", flat=True)) == {"MAIN", "EAST"}
    assert 280 <= Product.objects.count() <= 320
    assert Product.objects.filter(template__isnull=False).count() > 90
    assert Product.objects.filter(tracking="serial").exists()
    assert Lot.objects.filter(expiry_date__isnull=False).exists()
    assert Product.objects.filter(stock_unit__code__in=["kg", "m"]).count() >= 20
    assert Product.objects.filter(kind="service").count() == 8
    assert ProductUnit.objects.filter(unit__code="box", factor=12).count() >= 20
    assert 55 <= ReorderRule.objects.count() <= 65
    assert sorted(Transfer.objects.values_list("status", flat=True)) == ["done"] * 5 + ["in_transit"]
    assert sorted(CountSheet.objects.values_list("status", flat=True)) == ["applied", "open"]
    held = Reservation.objects.filter(demand_type="demo.order", status="active")
    assert held.count() >= 20
    assert Reservation.objects.filter(demand_type="demo.order", status="consumed").exists()
    assert Reservation.objects.filter(demand_type="demo.order", status="released").exists()
    kinds = set(StockMove.objects.values_list("kind", flat=True))
    assert {"receipt", "issue", "transfer", "adjustment", "scrap", "count", "consumption"} <= kinds
    # several receipts of one product at different costs
    costs = StockMove.objects.filter(product__sku="TSH-CLASSIC-M-NAVY", kind="receipt")
    assert len(set(costs.values_list("unit_cost", flat=True))) >= 2

    # every barcode is a valid EAN-13
    codes = list(Barcode.objects.values_list("code", flat=True))
    assert len(codes) > 250
    for code in codes:
        digits = [int(d) for d in code]
        assert len(digits) == 13
        assert sum(d * (3 if i % 2 else 1) for i, d in enumerate(digits)) % 10 == 0, code


def test_the_catalog_plan_is_deterministic():
    first = demo.build_catalog(random.Random(demo.SEED))
    second = demo.build_catalog(random.Random(demo.SEED))

    assert first == second
    skus = [v.sku for t in first[0] for v in t.variants] + [p.sku for p in first[1]]
    assert len(skus) == len({s.lower() for s in skus})
