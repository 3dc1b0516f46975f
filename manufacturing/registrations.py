"""What manufacturing plugs into inventory: open orders' output is incoming, their components outgoing."""

from __future__ import annotations

from decimal import Decimal

from django.db.models import F, Sum

from erp.money import ZERO
from inventory import availability
from inventory.models import Reservation, ReservationStatus
from manufacturing.models import ManufacturingOrder, MOComponent
from manufacturing.services.orders import DEMAND_TYPE

OPEN = ("draft", "confirmed", "in_progress")


def output_incoming(product_ids: list[int], warehouse_id: int | None) -> dict[tuple[int, int], Decimal]:
    orders = ManufacturingOrder.objects.filter(
        product_id__in=product_ids, status__in=OPEN[1:], quantity__gt=F("quantity_produced")
    )
    if warehouse_id is not None:
        orders = orders.filter(warehouse_id=warehouse_id)
    rows = orders.values("product_id", "warehouse_id").annotate(q=Sum(F("quantity") - F("quantity_produced")))
    return {(r["product_id"], r["warehouse_id"]): r["q"] for r in rows}


def components_outgoing(product_ids: list[int], warehouse_id: int | None) -> dict[tuple[int, int], Decimal]:
    lines = MOComponent.objects.filter(
        product_id__in=product_ids, order__status__in=OPEN[1:], quantity_required__gt=F("quantity_consumed")
    )
    if warehouse_id is not None:
        lines = lines.filter(order__warehouse_id=warehouse_id)
    need = {
        (r["product_id"], r["order__warehouse_id"]): r["q"]
        for r in lines.values("product_id", "order__warehouse_id").annotate(
            q=Sum(F("quantity_required") - F("quantity_consumed"))
        )
    }
    held = Reservation.objects.filter(
        demand_type=DEMAND_TYPE, status=ReservationStatus.ACTIVE, product_id__in=product_ids
    )
    if warehouse_id is not None:
        held = held.filter(location__warehouse_id=warehouse_id)
    for r in held.values("product_id", "location__warehouse_id").annotate(q=Sum("quantity")):
        key = (r["product_id"], r["location__warehouse_id"])
        if key in need:
            need[key] -= r["q"]
    return {k: q for k, q in need.items() if q > ZERO}


availability.register_incoming("manufacturing.open_orders_output", output_incoming)
availability.register_outgoing("manufacturing.open_orders_components", components_outgoing)

from manufacturing import demo as _demo  # noqa: E402, F401  (registers the demo seeder)
from manufacturing import search as _search  # noqa: E402, F401  (search: manufacturing orders, bills of materials)
