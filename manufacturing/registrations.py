"""What manufacturing plugs into inventory: open orders' output is incoming, their components outgoing."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db.models import DecimalField, F, OuterRef, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce
from django.urls import reverse

from erp.money import ZERO
from inventory import availability, replenishment
from inventory.models import Reservation, ReservationStatus
from manufacturing.models import ManufacturingOrder, MOComponent
from manufacturing.services.orders import DEMAND_TYPE

QUANTITY: DecimalField[Decimal, Decimal] = DecimalField(max_digits=18, decimal_places=4)
OPEN = ("draft", "confirmed", "in_progress")


def output_incoming(product_ids: list[int], warehouse_id: int | None) -> QuerySet[Any]:
    """Open orders' output not produced yet. Not run here: inventory runs every flow in one statement."""
    orders = ManufacturingOrder.objects.filter(
        product_id__in=product_ids, status__in=OPEN[1:], quantity__gt=F("quantity_produced")
    )
    if warehouse_id is not None:
        orders = orders.filter(warehouse_id=warehouse_id)
    return orders.values("product_id", "warehouse_id").annotate(
        quantity=Sum(F("quantity") - F("quantity_produced"))
    )


def components_outgoing(product_ids: list[int], warehouse_id: int | None) -> QuerySet[Any]:
    """Open orders' components not consumed yet, less what the orders of that (product, warehouse)
    hold reserved; only what stays positive is demand."""
    lines = MOComponent.objects.filter(
        product_id__in=product_ids, order__status__in=OPEN[1:], quantity_required__gt=F("quantity_consumed")
    )
    if warehouse_id is not None:
        lines = lines.filter(order__warehouse_id=warehouse_id)
    held = (
        Reservation.objects.filter(
            demand_type=DEMAND_TYPE,
            status=ReservationStatus.ACTIVE,
            product_id=OuterRef("product_id"),
            location__warehouse_id=OuterRef("order__warehouse_id"),
        )
        .order_by()
        .values("product_id")
        .annotate(q=Sum("quantity"))
        .values("q")
    )
    return (
        lines.values("product_id", "order__warehouse_id")
        .annotate(
            quantity=Sum(F("quantity_required") - F("quantity_consumed"))
            - Coalesce(Subquery(held, output_field=QUANTITY), ZERO, output_field=QUANTITY)
        )
        .filter(quantity__gt=ZERO)
    )


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
