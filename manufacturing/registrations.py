"""What manufacturing plugs into inventory: open orders' output is incoming, their components outgoing."""

from __future__ import annotations

from decimal import Decimal

from django.db.models import F, Sum
from django.urls import reverse

from erp.money import ZERO
from inventory import availability, replenishment
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


def draft_orders(
    product_ids: list[int], warehouse_id: int | None
) -> dict[tuple[int, int], list[replenishment.Draft]]:
    """Draft manufacturing orders: planned output replenishment counts (issue #21). One query."""
    orders = ManufacturingOrder.objects.filter(
        product_id__in=product_ids, status=OPEN[0], quantity__gt=F("quantity_produced")
    )
    if warehouse_id is not None:
        orders = orders.filter(warehouse_id=warehouse_id)
    found: dict[tuple[int, int], list[replenishment.Draft]] = {}
    for mo in orders.order_by("number").only(
        "pk", "number", "product_id", "warehouse_id", "quantity", "quantity_produced"
    ):
        draft = replenishment.Draft(
            mo.number, reverse("manufacturing:order", args=[mo.pk]), mo.quantity - mo.quantity_produced
        )
        found.setdefault((mo.product_id, mo.warehouse_id), []).append(draft)
    return found


availability.register_incoming("manufacturing.open_orders_output", output_incoming)
replenishment.register_drafts("manufacturing.draft_orders", draft_orders)
availability.register_outgoing("manufacturing.open_orders_components", components_outgoing)

from manufacturing import demo as _demo  # noqa: E402, F401  (registers the demo seeder)
from manufacturing import jobs as _jobs  # noqa: E402, F401  (the mrp background job)
from manufacturing import search as _search  # noqa: E402, F401  (search: manufacturing orders, bills of materials)
from manufacturing import timeline as _timeline  # noqa: E402, F401  (document timelines: erp.timeline)
from manufacturing import workspace as _workspace  # noqa: E402, F401  (the role homes' figures: erp.workspace)
