"""Demo data of manufacturing: a small bicycle workshop and a candle line.

Registered with ``erp.demo`` (order 25: after inventory's catalog, procurement's suppliers and
sales' orders), run by ``manage.py seed_demo``.

* Two work centres (ASM assembly line, FAB frame shop).
* A city bicycle on three levels: BK-CITY = frame + 2 wheels + saddle + chain (+ a shipping box
  from version 2 on: two versions, the second active); BK-WHEEL28 = rim + hub + tyre + 36 spokes
  (3 % scrap); BK-SPOKE made 100 at a time from inventory's steel wire; BK-FRAME-C from inventory's
  aluminium tube and powder coat (with scrap). And inventory's lavender scented candle, poured from
  its soy wax and fragrance oil, a wick and a jar. Every BOM has operations.
* Bought parts with stock and a preferred supplier item each (a price break, a box of 100 wicks),
  so that MRP has something to buy.
* Manufacturing orders in every state: done (spokes, frames, wheels, bikes on version 1,
  candles), cancelled, in progress and partly produced, confirmed with every component reserved
  and confirmed short, drafts; then one MRP run over the whole demo.

Dated (``erp.clock.effective``): the workshop is set up and its parts arrive six weeks ago; each
order is made two days before its planned start, confirmed on that day and produced and finished
when its BOM's lead time is over (the sub-assemblies before what is made of them); the one in
progress started three days ago; what is planned for the coming days is confirmed or drafted now.
Parts are received before anything consumes them and every order consumes less of a part than
was received here, so no bin is ever short in the dated order of events.

Deterministic (no randomness; dates relative to today) and idempotent: if work centre ASM exists
it does nothing. Everything goes through the services of inventory, procurement and manufacturing,
so stock levels match the ledger. Products missing from inventory's catalog (when its demo did not
run) are created.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from erp import clock, demo
from inventory.csv_io import category_get_or_create
from inventory.models import Product, UnitOfMeasure, Warehouse
from inventory.services import (
    Document,
    product_create,
    stock_receive,
    warehouse_create,
    warehouse_default_location,
)
from manufacturing.models import BillOfMaterials, ManufacturingOrder, MrpRun, WorkCentre
from manufacturing.mrp import mrp_run
from manufacturing.services import (
    ComponentSpec,
    OperationSpec,
    bom_create,
    mo_cancel,
    mo_confirm,
    mo_create,
    mo_finish,
    mo_produce,
    work_centre_create,
)
from procurement.models import Supplier, SupplierItem
from procurement.services import supplier_create, supplier_item_set

RECEIPT_DOCUMENT = "demo.manufacturing_receipt"
WORK_CENTRES = [("ASM", "Assembly line", "48.00"), ("FAB", "Frame shop", "65.00")]
SUPPLIERS = {  # code: (name, currency, lead time in days)
    "S-VELO": ("Velo Parts Wholesale", "EUR", 10),
    "S-CANDLE": ("Candle Makers Supply", "EUR", 6),
}


@dataclass(frozen=True)
class Part:
    key: str
    sku: str  # when created here; parts of inventory's catalog are found by name
    name: str
    unit: str
    cost: str  # what the stock received here costs, per stock unit
    category: str
    supplier: str
    stock: str  # received into MAIN
    in_catalog: bool = False  # inventory's demo has it (looked up by name)
    sale_price: str = "0"


PARTS = [
    Part(
        "rim",
        "CMP-RIM28",
        "Rim 28-inch, aluminium, 36 holes",
        "pcs",
        "9.40",
        "Raw materials/Bicycle parts",
        "S-VELO",
        "24",
    ),
    Part("hub", "CMP-HUB36", "Hub, 36 holes", "pcs", "12.80", "Raw materials/Bicycle parts", "S-VELO", "30"),
    Part(
        "tyre",
        "CMP-TYRE28",
        "Tyre 28 × 1.6 (700×40C)",
        "pcs",
        "11.50",
        "Raw materials/Bicycle parts",
        "S-VELO",
        "30",
    ),
    Part(
        "saddle",
        "CMP-SADDLE",
        "Comfort saddle",
        "pcs",
        "14.00",
        "Raw materials/Bicycle parts",
        "S-VELO",
        "10",
    ),
    Part(
        "chain", "CMP-CHAIN8", "Chain, 8-speed", "pcs", "7.90", "Raw materials/Bicycle parts", "S-VELO", "10"
    ),
    Part(
        "powder",
        "CMP-POWDER",
        "Powder coat, matt black",
        "kg",
        "16.00",
        "Raw materials/Coatings",
        "S-VELO",
        "6",
    ),
    Part(
        "wick",
        "CMP-WICK15",
        "Cotton wick 15 cm",
        "pcs",
        "0.06",
        "Raw materials/Candle supplies",
        "S-CANDLE",
        "100",
    ),
    Part(
        "jar",
        "CMP-JAR200",
        "Glass candle jar 200 ml",
        "pcs",
        "0.85",
        "Raw materials/Candle supplies",
        "S-CANDLE",
        "60",
    ),
    # from inventory's catalog (raw materials), created only without its demo
    Part(
        "tube",
        "RM-MFG-TUBE",
        "Aluminium tube 12 mm",
        "m",
        "3.80",
        "Raw materials/Metals",
        "S-VELO",
        "80",
        True,
    ),
    Part(
        "wire", "RM-MFG-WIRE", "Steel wire 2 mm", "m", "0.60", "Raw materials/Metals", "S-VELO", "450", True
    ),
    Part(
        "box", "RM-MFG-BOXL", "Shipping box L", "pcs", "1.15", "Raw materials/Packaging", "S-VELO", "20", True
    ),
    Part(
        "wax",
        "RM-MFG-WAX",
        "Soy wax flakes",
        "kg",
        "5.20",
        "Raw materials/Ingredients",
        "S-CANDLE",
        "12",
        True,
    ),
    Part(
        "oil",
        "RM-MFG-OIL",
        "Fragrance oil, lavender",
        "kg",
        "38.00",
        "Raw materials/Ingredients",
        "S-CANDLE",
        "1",
        True,
    ),
]
MADE = [  # key, sku, name, category, sale price
    ("spoke", "BK-SPOKE", "Spoke 2 mm, threaded", "Bicycles/Sub-assemblies", "0"),
    ("wheel", "BK-WHEEL28", "Wheel 28-inch, assembled", "Bicycles/Sub-assemblies", "89.00"),
    ("frame", "BK-FRAME-C", "City frame, aluminium, matt black", "Bicycles/Sub-assemblies", "0"),
    ("bike", "BK-CITY", "City bicycle, 8-speed", "Bicycles", "649.00"),
]
CANDLE = ("candle", "HK-MFG-CANDLE", "Scented Candle – Lavender", "Home & living/Decor", "16.00")


SET_UP_DAYS = 42  # the workshop and its parts exist from then (days ago)


def _at(days: int, hour: int) -> datetime.datetime:
    """``hour`` o'clock local time ``days`` from today (negative: in the past), not after now."""
    now = timezone.now()
    day = timezone.localdate(now) + datetime.timedelta(days=days)
    return min(
        datetime.datetime.combine(day, datetime.time(hour), tzinfo=timezone.get_current_timezone()), now
    )


def _user() -> Any:
    return get_user_model().objects.filter(username="production").first()


def _product(sku: str, name: str, unit: str, category: str, price: str, by_name: bool) -> Product:
    """Inventory's product of that name (its catalog), else ours by SKU, else a new one."""
    found = Product.objects.filter(name=name).order_by("pk").first() if by_name else None
    found = found or Product.objects.filter(sku=sku).first()
    return found or product_create(
        sku=sku,
        name=name,
        stock_unit=unit,
        category=category_get_or_create(category),
        sale_price=price,
        currency="EUR",
    )


def _suppliers() -> dict[str, Supplier]:
    found = {s.code: s for s in Supplier.objects.filter(code__in=list(SUPPLIERS))}
    for code, (name, currency, lead) in SUPPLIERS.items():
        if code not in found:
            found[code] = supplier_create(
                code=code,
                name=name,
                currency=currency,
                lead_time_days=lead,
                payment_terms_days=30,
                email=f"orders@{code[2:].lower()}.example",
            )
    return found


def _buy_from(parts: dict[str, Product], suppliers: dict[str, Supplier]) -> int:
    """A preferred supplier item for each bought part that has none yet (inventory's raw materials may
    have one from procurement's demo): wicks by the box of 100, rims cheaper from 50."""
    preferred = set(
        SupplierItem.objects.filter(product__in=parts.values(), is_preferred=True).values_list(
            "product_id", flat=True
        )
    )
    box = UnitOfMeasure.objects.get(code="box")
    made = 0
    for part in PARTS:
        product = parts[part.key]
        if product.pk in preferred:
            continue
        price = Decimal(part.cost)
        boxed = part.key == "wick"
        supplier_item_set(
            supplier=suppliers[part.supplier],
            product=product,
            unit_price=price * 100 if boxed else price,
            purchase_unit=box if boxed else None,
            factor=100 if boxed else 1,
            supplier_sku=f"{part.supplier[2:]}-{product.sku}",
            min_order_quantity=1 if boxed else 0,
            is_preferred=True,
            price_breaks=[(50, price * Decimal("0.92"))] if part.key == "rim" else None,
        )
        made += 1
    return made


def _receive(parts: dict[str, Product], main: Warehouse, user: Any) -> None:
    location = warehouse_default_location(main)
    for n, part in enumerate(PARTS, start=1):
        stock_receive(
            product=parts[part.key],
            location=location,
            quantity=part.stock,
            unit_cost=part.cost,
            document=Document(RECEIPT_DOCUMENT, n, f"RC-MFG-{n:04d}"),
            user=user,
        )


def _boms(p: dict[str, Product], asm: WorkCentre, fab: WorkCentre, user: Any) -> dict[str, BillOfMaterials]:
    def ops(*specs: tuple[str, WorkCentre, str]) -> list[OperationSpec]:
        return [OperationSpec(name, centre, minutes) for name, centre, minutes in specs]

    boms = {
        "spoke": bom_create(
            product=p["spoke"],
            components=[ComponentSpec(p["wire"], "31", scrap_percent="2")],
            operations=ops(("Cut, bend and thread", fab, "0.2")),
            output_quantity=100,
            lead_time_days=1,
            notes="Made 100 at a time from 31 m of wire.",
            user=user,
        ),
        "wheel": bom_create(
            product=p["wheel"],
            components=[
                ComponentSpec(p["rim"], 1),
                ComponentSpec(p["hub"], 1),
                ComponentSpec(p["tyre"], 1),
                ComponentSpec(p["spoke"], 36, scrap_percent=3),
            ],
            operations=ops(("Lace and true", asm, "25")),
            lead_time_days=2,
            user=user,
        ),
        "frame": bom_create(
            product=p["frame"],
            components=[
                ComponentSpec(p["tube"], "4.2", scrap_percent=5),
                ComponentSpec(p["powder"], "0.35", scrap_percent=10),
            ],
            operations=ops(("Cut and weld", fab, "40"), ("Powder coat", fab, "15")),
            lead_time_days=3,
            user=user,
        ),
        "bike_v1": bom_create(
            product=p["bike"],
            components=[
                ComponentSpec(p["frame"], 1),
                ComponentSpec(p["wheel"], 2),
                ComponentSpec(p["saddle"], 1),
                ComponentSpec(p["chain"], 1),
            ],
            operations=ops(("Assemble", asm, "50")),
            lead_time_days=2,
            notes="First version: shipped unboxed.",
            user=user,
        ),
        "candle": bom_create(
            product=p["candle"],
            components=[
                ComponentSpec(p["wax"], "0.18", scrap_percent=2),
                ComponentSpec(p["oil"], "0.012"),
                ComponentSpec(p["wick"], 1),
                ComponentSpec(p["jar"], 1),
            ],
            operations=ops(("Pour and cure", asm, "4")),
            lead_time_days=2,
            user=user,
        ),
    }
    return boms


def _done(mo: ManufacturingOrder, user: Any) -> ManufacturingOrder:
    """Confirmed on its planned start, produced and finished on its planned finish."""
    start = (mo.planned_start - timezone.localdate()).days
    with clock.effective(_at(start, 8)):
        mo, _ = mo_confirm(mo=mo, user=user)
    finish = (mo.planned_finish - timezone.localdate()).days
    with clock.effective(_at(finish, 15)):
        mo = mo_produce(mo=mo, quantity=mo.quantity, user=user)
    with clock.effective(_at(finish, 16)):
        return mo_finish(mo=mo, user=user)


@transaction.atomic
def seed_manufacturing() -> list[str]:
    if WorkCentre.objects.filter(code="ASM").exists():
        return _summary("kept")
    user = _user()
    main = Warehouse.objects.filter(code="MAIN").first() or warehouse_create(
        code="MAIN", name="Main warehouse"
    )
    with clock.effective(_at(-SET_UP_DAYS, 9)):
        p = {
            part.key: _product(
                part.sku, part.name, part.unit, part.category, part.sale_price, part.in_catalog
            )
            for part in PARTS
        }
        for key, sku, name, category, price in MADE:
            p[key] = _product(sku, name, "pcs", category, price, by_name=False)
        key, sku, name, category, price = CANDLE
        p[key] = _product(sku, name, "pcs", category, price, by_name=True)
        asm, fab = [work_centre_create(code=c, name=n, cost_per_hour=cost) for c, n, cost in WORK_CENTRES]
        _buy_from(p, _suppliers())
    with clock.effective(_at(-SET_UP_DAYS + 2, 10)):
        _receive(p, main, user)
    with clock.effective(_at(-SET_UP_DAYS + 3, 11)):
        boms = _boms(p, asm, fab, user)

    today = timezone.localdate()

    def order(
        product: str, quantity: int, start: int, bom: BillOfMaterials | None = None
    ) -> ManufacturingOrder:
        with clock.effective(_at(min(start - 2, 0), 9)):  # planned two days ahead
            return mo_create(
                product=p[product],
                quantity=quantity,
                warehouse=main,
                bom=bom,
                planned_start=today + datetime.timedelta(days=start),
                notes="Demo",
                user=user,
            )

    # done: the sub-assemblies, the first bikes (version 1), a batch of candles
    _done(order("spoke", 1200, -30), user)
    _done(order("frame", 6, -28), user)
    _done(order("wheel", 12, -25), user)
    _done(order("bike", 4, -21, boms["bike_v1"]), user)
    _done(order("candle", 24, -15), user)

    # version 2 of the bike ships boxed and adds a test ride; it becomes the active one
    with clock.effective(_at(-18, 10)):
        _bom_v2(p, asm, user)

    # cancelled after confirming (its reservations released)
    with clock.effective(_at(-10, 8)):
        cancelled, _ = mo_confirm(mo=order("wheel", 6, -10), user=user)
    with clock.effective(_at(-9, 11)):
        mo_cancel(mo=cancelled, reason="Rescheduled into a larger batch", user=user)
    # in progress: 4 of 10 wheels made
    in_progress = order("wheel", 10, -3)
    with clock.effective(_at(-3, 8)):
        in_progress, _ = mo_confirm(mo=in_progress, user=user)
    with clock.effective(_at(-2, 15)):
        mo_produce(mo=in_progress, quantity=4, user=user)
    # confirmed, every component reserved
    mo_confirm(mo=order("frame", 4, 1), user=user)
    # confirmed short: 8 bikes with 2 frames and 8 wheels on hand
    mo_confirm(mo=order("bike", 8, 3), user=user)
    # drafts
    order("bike", 6, 10)
    order("candle", 48, 7)

    mrp_run(horizon=today + datetime.timedelta(days=60), user=user)
    return _summary("created")


def _bom_v2(p: dict[str, Product], asm: WorkCentre, user: Any) -> None:
    bom_create(
        product=p["bike"],
        components=[
            ComponentSpec(p["frame"], 1),
            ComponentSpec(p["wheel"], 2),
            ComponentSpec(p["saddle"], 1),
            ComponentSpec(p["chain"], 1),
            ComponentSpec(p["box"], 1),
        ],
        operations=[OperationSpec("Assemble", asm, "40"), OperationSpec("Test ride and pack", asm, "10")],
        lead_time_days=2,
        notes="Second version: boxed for shipping, test-ridden.",
        user=user,
    )


def _summary(what: str) -> list[str]:
    states = dict(ManufacturingOrder.objects.values_list("status").annotate(n=Count("id")).order_by())
    run = MrpRun.objects.order_by("-started_at").first()
    suggestions = run.suggestions.count() if run else 0
    return [
        f"manufacturing ({what}): {WorkCentre.objects.count()} work centres; "
        f"{BillOfMaterials.objects.count()} BOMs; {sum(states.values())} orders "
        f"({', '.join(f'{n} {s}' for s, n in sorted(states.items()))}); "
        f"MRP: {suggestions} suggestion(s) in the latest run"
    ]


demo.register(25, "manufacturing", seed_manufacturing)
