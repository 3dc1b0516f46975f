"""Bills of materials, manufacturing orders and MRP through the services."""

from __future__ import annotations

import datetime
from decimal import Decimal as D

import pytest
from django.utils import timezone

from erp.exceptions import InvalidTransition, ValidationFailed
from erp.models import OutboxEvent
from inventory import availability
from inventory.models import LocationKind, Reservation, StockLevel
from inventory.services import product_unit_set, reorder_rule_set, virtual_location
from manufacturing import lifecycle
from manufacturing.boms import low_level_codes, rollup, where_used
from manufacturing.models import MOStatus, MrpSuggestion
from manufacturing.mrp import mrp_convert, mrp_run
from manufacturing.services import (
    ComponentSpec,
    bom_activate,
    bom_create,
    mo_cancel,
    mo_confirm,
    mo_create,
    mo_finish,
    mo_produce,
    mo_start,
)
from procurement.models import PurchaseOrder
from procurement.services import POLineSpec, po_create, po_send, supplier_item_set
from sales.services import order_confirm
from tests.inventory.factories import ProductFactory, bin_of, unit, warehouse
from tests.manufacturing.factories import ManufacturingOrderFactory, bike_world, stock
from tests.procurement.factories import SupplierFactory
from tests.sales.factories import order_for

pytestmark = pytest.mark.django_db
S = MOStatus


@pytest.fixture
def bike():
    """bike = 1 frame + 2 wheels; wheel = 1 rim + 32 spokes (+10 % scrap); frame and rim bought."""
    return bike_world()


def test_cost_rolls_up_through_sub_assemblies(bike):
    wheel = rollup(bike["wheel_bom"])
    # rim 8 + 32 x 1.1 spokes x 0.10 = 3.52, + 30 min at 60/h = 30
    assert wheel.material_cost == D("11.52")
    assert wheel.operations_cost == D("30.00")
    assert wheel.unit_cost == D("41.52")
    bike_cost = rollup(bike["bike_bom"])
    assert [(c.product.sku, c.unit_cost, c.source) for c in bike_cost.components] == [
        ("FRAME", D("50.0000"), "average cost"),
        ("WHEEL", D("41.52"), "rolled up"),
    ]
    assert bike_cost.unit_cost == D("193.04")  # 50 + 2 x 41.52 + 60


def test_where_used_and_low_level_codes(bike):
    used = [(depth, bom.product.sku) for depth, bom in where_used(bike["spoke"])]
    assert used == [(1, "WHEEL"), (2, "BIKE")]
    levels = low_level_codes()
    assert (levels[bike["bike"].pk], levels[bike["wheel"].pk], levels[bike["spoke"].pk]) == (0, 1, 2)


def test_a_cycle_is_refused_naming_the_path(bike):
    with pytest.raises(ValidationFailed, match="cycle: WHEEL → BIKE → WHEEL"):
        bom_create(product=bike["wheel"], components=[ComponentSpec(bike["bike"], 1)])
    with pytest.raises(ValidationFailed, match="cannot use its own product: RIM → RIM"):
        bom_create(product=bike["rim"], components=[ComponentSpec(bike["rim"], 1)])
    # an inactive draft may be saved, but never activated into a cycle
    draft = bom_create(product=bike["spoke"], components=[ComponentSpec(bike["bike"], 1)], activate=False)
    with pytest.raises(ValidationFailed, match="SPOKE → BIKE → WHEEL → SPOKE"):
        bom_activate(bom=draft)


def test_components_in_another_unit_convert_to_stock_units(bike):
    glue = ProductFactory(sku="GLUE", stock_unit=unit("g"))
    product_unit_set(product=glue, unit="kg", factor=1000)
    bom = bom_create(
        product=bike["rim"], components=[ComponentSpec(glue, D("0.05"), unit=unit("kg"))], activate=False
    )
    assert bom.components.get().stock_quantity_per_output() == 50


def test_lifecycle_and_illegal_moves(bike):
    mo = mo_create(product=bike["bike"], quantity=2, warehouse=warehouse())
    with pytest.raises(InvalidTransition, match="'draft' to 'in_progress'"):
        mo_start(mo=mo)
    with pytest.raises(InvalidTransition, match="'draft' to 'produced'"):
        mo_produce(mo=mo, quantity=1)
    mo, shortages = mo_confirm(mo=mo)
    assert shortages == {"WHEEL": D("4.0000")}
    assert mo_start(mo=mo).status == S.IN_PROGRESS
    with pytest.raises(InvalidTransition, match="'in_progress' to 'confirmed'"):
        mo_confirm(mo=mo)
    for current in S:
        for target in S:
            if target not in lifecycle.TRANSITIONS[current]:
                with pytest.raises(InvalidTransition):
                    lifecycle.check(current, target)


def test_partial_production_consumes_proportionally_with_scrap_and_costs_the_output(bike):
    # given: an order for 4 wheels (rim 1, spokes 32 + 10 % each), confirmed
    wh = warehouse()
    mo = mo_create(product=bike["wheel"], quantity=4, warehouse=wh)
    lines = {c.product.sku: c for c in mo.components.select_related("product")}
    assert (lines["RIM"].quantity_required, lines["SPOKE"].quantity_required) == (
        4,
        141,
    )  # 140.8 up to whole spokes
    mo, shortages = mo_confirm(mo=mo)
    assert shortages == {}

    # when: 1 of 4, then 3 of 4
    mo = mo_produce(mo=mo, quantity=1)
    spokes = StockLevel.objects.get(product=bike["spoke"], location=bin_of(wh))
    assert spokes.on_hand == 1000 - 36  # a quarter of 141, rounded up to whole spokes
    assert spokes.reserved == 105
    output = StockLevel.objects.get(product=bike["wheel"], location=bin_of(wh))
    assert output.on_hand == 1
    bike["wheel"].refresh_from_db()
    assert bike["wheel"].average_cost == D("41.6000")  # rim 8 + 36 spokes x 0.10 + 30 of operations

    mo = mo_produce(mo=mo, quantity=3)
    assert mo.quantity_produced == 4
    assert mo.produced_cost == D("166.10")  # 4 rims 32 + 141 spokes 14.10 + 4 x 30
    consumed = {c.product.sku: c.quantity_consumed for c in mo.components.select_related("product")}
    assert consumed == {"RIM": 4, "SPOKE": 141}
    production = virtual_location(LocationKind.PRODUCTION)
    assert StockLevel.objects.get(product=bike["spoke"], location=production).on_hand == 141
    with pytest.raises(ValidationFailed, match="at most 0 more"):
        mo_produce(mo=mo, quantity=1)
    mo = mo_finish(mo=mo)
    assert mo.status == S.DONE
    assert OutboxEvent.objects.filter(topic="manufacturing.mo_done").exists()
    assert not Reservation.objects.filter(status="active").exists()


def test_cancel_releases_component_reservations(bike):
    mo, _ = mo_confirm(mo=mo_create(product=bike["wheel"], quantity=2, warehouse=warehouse()))
    assert StockLevel.objects.get(product=bike["rim"], location=bin_of(warehouse())).reserved == 2

    mo_cancel(mo=mo, reason="order withdrawn")

    assert StockLevel.objects.get(product=bike["rim"], location=bin_of(warehouse())).reserved == 0
    assert not Reservation.objects.filter(status="active").exists()


def test_open_orders_feed_incoming_and_outgoing(bike):
    ManufacturingOrderFactory(product=bike["bike"], quantity=3, confirmed=True)
    assert availability.of(bike["bike"].pk).incoming == 3
    flows = availability.of(bike["wheel"].pk)
    assert flows.outgoing == 6  # nothing reserved: no wheels in stock


def test_mrp_on_three_levels_with_lead_times_and_existing_supply_matches_the_plan_by_hand():
    """BIKE (made, lead 3 d) = 1 FRAME + 2 WHEEL; WHEEL (made, lead 2 d) = 1 RIM + 30 SPOKE.

    Stock: 1 WHEEL, 40 SPOKE. Open PO: 5 RIM due in 4 days. FRAME bought in boxes of 2, MOQ 2
    boxes, lead 6 d; RIM lead 5 d; SPOKE bought in packs of 100, lead 7 d. Demand: a sales order
    for 4 BIKE dated day 20.

    By hand:
      BIKE  need 4 on d20 -> make 4, due d20, release d17
      FRAME need 4 on d17 -> 4 -> 2 boxes, MOQ 2 boxes = 4, due d17, release d11
      WHEEL need 8 on d17, 1 in stock -> make 7, due d17, release d15
      RIM   need 7 on d15, PO 5 on d4 -> buy 2, due d15, release d10
      SPOKE need 210 on d15, 40 in stock -> 170 -> 2 packs = 200, due d15, release d8
    """
    today = timezone.localdate()
    day = lambda n: today + datetime.timedelta(days=n)  # noqa: E731
    wh = warehouse()
    frame, rim, spoke = ProductFactory(sku="FRAME"), ProductFactory(sku="RIM"), ProductFactory(sku="SPOKE")
    wheel, bike = ProductFactory(sku="WHEEL"), ProductFactory(sku="BIKE")
    bom_create(product=wheel, components=[ComponentSpec(rim, 1), ComponentSpec(spoke, 30)], lead_time_days=2)
    bom_create(product=bike, components=[ComponentSpec(frame, 1), ComponentSpec(wheel, 2)], lead_time_days=3)
    stock(wheel, 1)
    stock(spoke, 40)
    frames, rims, spokes = (
        SupplierFactory(lead_time_days=6),
        SupplierFactory(lead_time_days=5),
        SupplierFactory(lead_time_days=7),
    )
    supplier_item_set(
        supplier=frames,
        product=frame,
        unit_price="100",
        purchase_unit=unit("box"),
        factor=2,
        min_order_quantity=2,
        is_preferred=True,
    )
    supplier_item_set(supplier=rims, product=rim, unit_price="8", is_preferred=True)
    supplier_item_set(
        supplier=spokes,
        product=spoke,
        unit_price="9",
        purchase_unit=unit("pack"),
        factor=100,
        is_preferred=True,
    )
    po_send(po=po_create(supplier=rims, warehouse=wh, lines=[POLineSpec(rim, 5)], expected_date=day(4)))
    order_confirm(order=order_for((bike, 4), order_date=timezone.now() + datetime.timedelta(days=20)))

    run = mrp_run(horizon=day(60))

    plan = {
        s.product.sku: (s.kind, s.quantity, s.due_date, s.release_date)
        for s in run.suggestions.select_related("product")
    }
    assert plan == {
        "BIKE": ("make", D(4), day(20), day(17)),
        "FRAME": ("buy", D(4), day(17), day(11)),
        "WHEEL": ("make", D(7), day(17), day(15)),
        "RIM": ("buy", D(2), day(15), day(10)),
        "SPOKE": ("buy", D(200), day(15), day(8)),
    }
    bike_plan = run.suggestions.get(product=bike)
    assert bike_plan.covers[0]["demand"].endswith("line 1")
    assert run.suggestions.get(product=wheel).covers[0]["demand"] == "proposed MO for 4 BIKE"
    assert [s.product.sku for s in run.suggestions.select_related("product")] == [
        "BIKE",
        "FRAME",
        "WHEEL",
        "SPOKE",
        "RIM",
    ]

    # the planner converts everything in one action
    numbers = mrp_convert(suggestion_ids=run.suggestions.values_list("pk", flat=True))
    assert sorted(n[:3] for n in numbers) == ["MO-", "MO-", "PO-", "PO-", "PO-"]
    spoke_po = PurchaseOrder.objects.get(supplier=spokes)
    assert (spoke_po.lines.get().quantity, spoke_po.status) == (2, "draft")
    assert not MrpSuggestion.objects.filter(converted_to="").exists()
    # and a new run proposes nothing more: the new orders are supply now
    assert mrp_run(horizon=day(60)).suggestions.count() == 0


def test_mrp_keeps_reorder_minimums():
    screw = ProductFactory(sku="SCREW")
    reorder_rule_set(product=screw, warehouse=warehouse(), min_quantity=50, max_quantity=200, multiple=25)
    stock(screw, 10)
    run = mrp_run()
    s = run.suggestions.get()
    assert (s.kind, s.quantity, s.covers[0]["demand"]) == ("buy", 50, "reorder minimum")  # 40 short -> 2 x 25


def test_mrp_proposes_whole_units_of_whole_unit_products():
    spoke, wheel = ProductFactory(sku="SPOKE"), ProductFactory(sku="WHEEL")
    bom_create(product=wheel, components=[ComponentSpec(spoke, 32, scrap_percent=10)])
    order_confirm(order=order_for((wheel, 3)))
    run = mrp_run()
    assert run.suggestions.get(product=spoke).quantity == 106  # 3 x 35.2 = 105.6, up to whole spokes
