"""The seeder: inventory's part of ``manage.py seed_demo`` (registered with ``erp.demo``, order 10)."""

from __future__ import annotations

import random

from django.db import transaction

from erp import clock, demo
from inventory.demo.catalog import build_catalog, ensure_catalog, ensure_reorder_rules
from inventory.demo.stock import (
    DEMAND,
    OPENING_DAYS,
    RECEIPT_DOCUMENT,
    WAREHOUSES,
    StockHistory,
    ensure_warehouses,
    moment,
)
from inventory.models import (
    CountSheet,
    Product,
    ProductUnit,
    Reservation,
    ReservationStatus,
    StockMove,
    Transfer,
    TransferStatus,
    Warehouse,
)

SEED = 42


@transaction.atomic
def seed_inventory() -> list[str]:
    rng = random.Random(SEED)
    templates, specs = build_catalog(rng)
    all_specs = [v for t in templates for v in t.variants] + specs
    with clock.effective(moment(OPENING_DAYS + 1)):  # the day before the opening stock arrives
        bins = ensure_warehouses()
        ensure_catalog(templates, specs)
        main = Warehouse.objects.get(code="MAIN")
        ensure_reorder_rules(rng, all_specs, main)
    if not StockMove.objects.filter(document_type=RECEIPT_DOCUMENT).exists():
        StockHistory(rng, all_specs, bins).run()
    return _summary()


def _summary() -> list[str]:
    products = Product.objects.count()
    variants = Product.objects.filter(template__isnull=False).count()
    moves = StockMove.objects.count()
    held = Reservation.objects.filter(demand_type=DEMAND, status=ReservationStatus.ACTIVE).count()
    in_transit = Transfer.objects.filter(status=TransferStatus.IN_TRANSIT).count()
    open_counts = CountSheet.objects.filter(status="open").count()
    boxes = ProductUnit.objects.filter(unit__code="box").count()
    return [
        f"inventory: warehouses {', '.join(WAREHOUSES)}; {products} products ({variants} variants, "
        f"{boxes} with a box of 12); {moves} stock moves; {held} reservations held for {DEMAND}; "
        f"{in_transit} transfer(s) in transit; {open_counts} count sheet(s) open"
    ]


demo.register(10, "inventory", seed_inventory)
