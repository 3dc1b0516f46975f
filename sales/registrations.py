"""What sales plugs into the kernel and into inventory: event subscriptions, flows, search, demo data."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db.models import DecimalField, F, OuterRef, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce

from erp import events, scheduling
from erp.models import OutboxEvent
from erp.money import ZERO
from inventory import availability
from inventory.models import Reservation, ReservationStatus
from sales.models import OrderLine, OrderStatus

QUANTITY: DecimalField[Decimal, Decimal] = DecimalField(max_digits=18, decimal_places=4)
OPEN = (OrderStatus.CONFIRMED, OrderStatus.PARTIALLY_SHIPPED, OrderStatus.ON_HOLD)

# No sweep allocates backorders: an allocation the broker did not take waits for the next rise.
ALLOCATION_RECOVERY = (
    "no sweep resends it: the backorders of that product in that warehouse are allocated at its "
    "next stock increase"
)


def on_level_changed(event: OutboxEvent) -> None:
    """Stock became available: allocate backorders after this dispatch commits.

    Only when availability went up (a receipt, a release), not on every reservation.
    """
    if Decimal(event.payload.get("available", "0")) <= 0:
        return
    if Decimal(event.payload.get("available_change", "1")) <= 0:
        return
    from sales.tasks import allocate_backorders_task

    scheduling.enqueue_on_commit(
        allocate_backorders_task,
        event.payload["product_id"],
        event.payload["warehouse_id"],
        recovery=ALLOCATION_RECOVERY,
    )


def unreserved_demand(product_ids: list[int], warehouse_id: int | None) -> QuerySet[Any]:
    """Outgoing for inventory: open quantities neither shipped nor reserved, per (product, warehouse).

    Lines the marketplace fulfils from its own stock are no demand on ours. Not run here: inventory
    runs it with the other flows in one statement. What the lines of a (product, warehouse) hold is
    subtracted from their open quantity; only what stays positive is demand.
    """
    lines = OrderLine.objects.filter(
        OrderLine.USES_OUR_STOCK,
        product_id__in=product_ids,
        order__status__in=OPEN,
        quantity__gt=F("quantity_shipped"),
    )
    if warehouse_id is not None:
        lines = lines.filter(order__channel__warehouse_id=warehouse_id)
    held = (
        Reservation.objects.filter(
            demand_type="sales.orderline",
            status=ReservationStatus.ACTIVE,
            product_id=OuterRef("product_id"),
            location__warehouse_id=OuterRef("order__channel__warehouse_id"),
        )
        .order_by()
        .values("product_id")
        .annotate(q=Sum("quantity"))
        .values("q")
    )
    return (
        lines.values("product_id", "order__channel__warehouse_id")
        .annotate(
            quantity=Sum(F("quantity") - F("quantity_shipped"))
            - Coalesce(Subquery(held, output_field=QUANTITY), ZERO, output_field=QUANTITY)
        )
        .filter(quantity__gt=ZERO)
    )


events.subscribe("inventory.level_changed", on_level_changed, name="sales.allocate_backorders")
availability.register_outgoing("sales.unreserved_demand", unreserved_demand)

from sales import demo as _demo  # noqa: E402, F401  (registers the demo seeder)
from sales import document_timeline as _document_timeline  # noqa: E402, F401  (invoices' timelines)
from sales import search as _search  # noqa: E402, F401  (global search: orders, customers)
from sales import timeline as _timeline  # noqa: E402, F401  (document timelines: erp.timeline)
from sales import workspace as _workspace  # noqa: E402, F401  (the role homes' figures: erp.workspace)
