"""What sales plugs into the kernel and into inventory: event subscriptions, flows, search, demo data."""

from __future__ import annotations

from decimal import Decimal

from django.db.models import F, Sum

from erp import events, scheduling
from erp.models import OutboxEvent
from erp.money import ZERO
from inventory import availability
from inventory.models import Reservation, ReservationStatus
from sales.models import OrderLine, OrderStatus

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


def unreserved_demand(product_ids: list[int], warehouse_id: int | None) -> dict[tuple[int, int], Decimal]:
    """Outgoing for inventory: open quantities neither shipped nor reserved, per (product, warehouse).

    Lines the marketplace fulfils from its own stock are no demand on ours.
    """
    lines = OrderLine.objects.filter(
        OrderLine.USES_OUR_STOCK,
        product_id__in=product_ids,
        order__status__in=OPEN,
        quantity__gt=F("quantity_shipped"),
    )
    if warehouse_id is not None:
        lines = lines.filter(order__channel__warehouse_id=warehouse_id)
    open_qty = {
        (r["product_id"], r["order__channel__warehouse_id"]): r["q"]
        for r in lines.values("product_id", "order__channel__warehouse_id").annotate(
            q=Sum(F("quantity") - F("quantity_shipped"))
        )
    }
    held = Reservation.objects.filter(
        demand_type="sales.orderline", status=ReservationStatus.ACTIVE, product_id__in=product_ids
    )
    if warehouse_id is not None:
        held = held.filter(location__warehouse_id=warehouse_id)
    for r in held.values("product_id", "location__warehouse_id").annotate(q=Sum("quantity")):
        key = (r["product_id"], r["location__warehouse_id"])
        if key in open_qty:
            open_qty[key] -= r["q"]
    return {key: q for key, q in open_qty.items() if q > ZERO}


events.subscribe("inventory.level_changed", on_level_changed, name="sales.allocate_backorders")
availability.register_outgoing("sales.unreserved_demand", unreserved_demand)

from sales import demo as _demo  # noqa: E402, F401  (registers the demo seeder)
from sales import document_timeline as _document_timeline  # noqa: E402, F401  (invoices' timelines)
from sales import search as _search  # noqa: E402, F401  (global search: orders, customers)
from sales import timeline as _timeline  # noqa: E402, F401  (document timelines: erp.timeline)
from sales import workspace as _workspace  # noqa: E402, F401  (the role homes' figures: erp.workspace)
