"""Stock for orders: backorder allocation when stock arrives, and shipments."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import F

from erp import clock, events, formatting
from erp.exceptions import InvalidTransition, ValidationFailed
from erp.money import ZERO, quantize_quantity
from erp.numbering import next_number
from inventory.selectors import active_reservations_by_demand
from inventory.services import Document, reservation_consume, stock_reserve
from sales.models import OrderLine, OrderStatus, SalesOrder, Shipment, ShipmentLine
from sales.selectors import reserved_by_line
from sales.services.orders import (
    DEMAND_TYPE,
    _actor,
    _locked,
    _reserve_lines,
    demand_of,
    order_payload,
)

ALLOCATABLE = (OrderStatus.CONFIRMED, OrderStatus.PARTIALLY_SHIPPED)


def _reserve_what_left(
    order: SalesOrder,
    all_lines: dict[int, OrderLine],
    lines: Sequence[ShipLine],
    reserved: dict[int, Decimal],
    user: Any,
) -> dict[int, Decimal]:
    """Reserve the part of a shipment made elsewhere that is not reserved here (up to what is open)."""
    topped_up = False
    for item in lines:
        line = all_lines.get(item.line.pk)
        if line is None or not line.uses_our_stock:
            continue
        shipped = min(quantize_quantity(item.quantity), line.quantity - line.quantity_shipped)
        short = shipped - reserved.get(line.pk, ZERO)
        if short > 0:
            stock_reserve(
                product=line.product,
                warehouse=order.channel.warehouse,
                quantity=short,
                demand=demand_of(line, order),
                user=user,
            )
            topped_up = True
    return reserved_by_line(all_lines) if topped_up else reserved


@transaction.atomic
def backorders_allocate(*, product_id: int, warehouse_id: int, user: Any = None) -> dict[int, Decimal]:
    """Give newly available stock to backordered lines, oldest order first. Returns line -> reserved now.

    Orders are locked (in pk order) before any stock row, like every sales operation. Lines the
    marketplace fulfils wait for no stock of ours: they are not candidates (and would otherwise
    stop the allocation, reading as "nothing left to give").
    """
    candidates = list(
        OrderLine.objects.filter(
            OrderLine.USES_OUR_STOCK,
            product_id=product_id,
            order__channel__warehouse_id=warehouse_id,
            order__status__in=ALLOCATABLE,
            quantity__gt=F("quantity_shipped"),
        ).values_list("order_id", flat=True)
    )
    if not candidates:
        return {}
    orders = {
        o.pk: o
        for o in SalesOrder.objects.select_for_update(of=("self",))
        .select_related("channel__warehouse")
        .filter(pk__in=set(candidates), status__in=ALLOCATABLE)
        .order_by("pk")
    }
    lines = list(
        OrderLine.objects.filter(
            OrderLine.USES_OUR_STOCK,
            order_id__in=orders,
            product_id=product_id,
            quantity__gt=F("quantity_shipped"),
        )
        .select_related("product__stock_unit")
        .order_by("order__order_date", "order_id", "position")
    )
    reserved = reserved_by_line([ln.pk for ln in lines])
    got: dict[int, Decimal] = {}
    for line in lines:
        if line.quantity - line.quantity_shipped - reserved.get(line.pk, ZERO) <= 0:
            continue
        now = _reserve_lines(orders[line.order_id], [line], reserved, user)
        if not now.get(line.pk):
            break  # nothing left to give
        got.update(now)
    by_order: dict[int, list[int]] = {}
    for line in lines:
        if got.get(line.pk):
            by_order.setdefault(line.order_id, []).append(line.pk)
    for order_id, line_ids in by_order.items():
        # whoever waits for the order's stock (a shipping tool that takes orders once reserved) hears it
        events.emit(
            "sales.order_allocated",
            aggregate=orders[order_id],
            payload=order_payload(
                orders[order_id],
                lines=[{"line_id": pk, "reserved": str(got[pk])} for pk in line_ids],
            ),
        )
    return got


def default_ship_quantity(line: OrderLine, reserved: Decimal) -> Decimal:
    """What shipping "everything" ships of a line (shipment_create without lines, the ship form's
    default): what is reserved for it; all that is open of a service; nothing of a line the
    marketplace ships itself, which is not in our parcel (its shipment comes from the marketplace
    and is recorded by naming the line)."""
    if line.uses_our_stock:
        return reserved
    if line.fulfilled_by_marketplace:
        return ZERO
    return line.quantity - line.quantity_shipped


@dataclass(frozen=True)
class ShipLine:
    line: OrderLine
    quantity: Decimal | str | int


@transaction.atomic
def shipment_create(
    *,
    order: SalesOrder,
    lines: Sequence[ShipLine] | None = None,
    carrier: str = "",
    service: str = "",
    tracking_number: str = "",
    shipped_elsewhere: bool = False,
    user: Any = None,
) -> Shipment:
    """Ship reserved stock (all, or given quantities): consume reservations, issue to the customer.

    A line that takes none of our stock (a service, or one the marketplace fulfils) ships with no
    reservation and no stock issue: it is only recorded as shipped (``default_ship_quantity``: what
    ships of each line when none are given).

    ``shipped_elsewhere``: the goods already left, shipped by a tool (a channel's own admin, a
    shipping tool, a 3PL): what is not reserved yet is reserved first (InsufficientStock when the
    warehouse does not have it), so the stock leaves once, through the reservations.
    """
    order = _locked(order)
    if order.status not in ALLOCATABLE:
        raise InvalidTransition(document="sales order", current=order.status, target=OrderStatus.SHIPPED)
    all_lines = {ln.pk: ln for ln in order.lines.select_related("product__stock_unit")}
    reserved = reserved_by_line(all_lines)
    if shipped_elsewhere and lines is not None:
        reserved = _reserve_what_left(order, all_lines, lines, reserved, user)
    if lines is None:
        wanted = {pk: default_ship_quantity(ln, reserved.get(pk, ZERO)) for pk, ln in all_lines.items()}
    else:
        wanted = {}
        for item in lines:
            if item.line.pk not in all_lines:
                raise ValidationFailed(f"Line {item.line.pk} is not a line of {order.number}.")
            wanted[item.line.pk] = wanted.get(item.line.pk, ZERO) + quantize_quantity(item.quantity)
    wanted = {pk: q for pk, q in wanted.items() if q > 0}
    if not wanted:
        raise ValidationFailed(f"Nothing of {order.number} can ship: no stock is reserved for it yet.")
    errors: dict[str, list[str]] = {}
    for pk, quantity in wanted.items():
        line = all_lines[pk]
        if quantity > line.quantity - line.quantity_shipped:
            errors[f"line {line.position}"] = [
                f"{line.product.sku}: {formatting.number(quantity)} to ship but only "
                f"{formatting.number(line.quantity - line.quantity_shipped)} is open."
            ]
        elif line.uses_our_stock and quantity > reserved.get(pk, ZERO):
            errors[f"line {line.position}"] = [
                f"{line.product.sku}: {formatting.number(quantity)} to ship but only "
                f"{formatting.number(reserved.get(pk, ZERO))} is reserved."
            ]
    if errors:
        raise ValidationFailed(
            f"Cannot ship {order.number}: {next(iter(errors.values()))[0]}", field_errors=errors
        )

    shipment = Shipment.objects.create(
        number=next_number("sales.shipment", prefix="SH-"),
        order=order,
        carrier=carrier,
        service=service,
        tracking_number=tracking_number,
        shipped_at=clock.now(),
        created_by=_actor(user),
        updated_by=_actor(user),
    )
    document = Document("sales.shipment", shipment.pk, shipment.number)
    holds = active_reservations_by_demand(DEMAND_TYPE, wanted)
    for pk, quantity in wanted.items():
        line = all_lines[pk]
        remaining = quantity
        for held in holds.get(pk, []) if line.uses_our_stock else []:
            take = min(held.quantity, remaining)
            reservation_consume(reservation=held, quantity=take, document=document, user=user)
            remaining -= take
            if remaining <= 0:
                break
        OrderLine.objects.filter(pk=pk).update(quantity_shipped=F("quantity_shipped") + quantity)
    ShipmentLine.objects.bulk_create(
        [ShipmentLine(shipment=shipment, order_line_id=pk, quantity=q) for pk, q in wanted.items()]
    )

    fully = not OrderLine.objects.filter(order=order, quantity__gt=F("quantity_shipped")).exists()
    order.status = OrderStatus.SHIPPED if fully else OrderStatus.PARTIALLY_SHIPPED
    order.updated_by = _actor(user)
    order.save(update_fields=["status", "updated_by", "updated_at"])
    events.emit(
        "sales.shipment_shipped",
        aggregate=order,
        payload=order_payload(
            order,
            shipment_id=shipment.pk,
            shipment_number=shipment.number,
            carrier=carrier,
            service=service,
            tracking_number=tracking_number,
            lines=[
                {"line_id": pk, "sku": all_lines[pk].product.sku, "quantity": str(q)}
                for pk, q in wanted.items()
            ],
        ),
    )
    return shipment


@transaction.atomic
def shipment_tracking_set(
    *,
    shipment: Shipment,
    carrier: str,
    tracking_number: str,
    service: str | None = None,
    user: Any = None,
) -> Shipment:
    """Correct how a shipment travels: its carrier, tracking number (and service). A label voided
    and printed again, a number typed wrong. The goods, the lines and the stock are untouched.

    Emits ``sales.shipment_updated`` when something changed (the channel the order came from is
    told the new tracking); the same values again change nothing and emit nothing.
    """
    carrier, tracking_number = carrier.strip(), tracking_number.strip()
    errors: dict[str, list[str]] = {}
    for name, value, limit in (("carrier", carrier, 60), ("tracking_number", tracking_number, 100)):
        if len(value) > limit:
            errors[name] = [f"At most {limit} characters."]
    if not tracking_number:
        errors["tracking_number"] = ["Give the tracking number the parcel travels under."]
    if errors:
        raise ValidationFailed(
            f"Cannot change the tracking of {shipment.number}: {next(iter(errors.values()))[0]}",
            field_errors=errors,
        )
    shipment = Shipment.objects.select_for_update().select_related("order").get(pk=shipment.pk)
    service = shipment.service if service is None else service.strip()[:60]
    before = (shipment.carrier, shipment.service, shipment.tracking_number)
    if before == (carrier, service, tracking_number):
        return shipment
    shipment.carrier, shipment.service, shipment.tracking_number = carrier, service, tracking_number
    shipment.updated_by = _actor(user)
    shipment.save(update_fields=["carrier", "service", "tracking_number", "updated_by", "updated_at"])
    events.emit(
        "sales.shipment_updated",
        aggregate=shipment.order,
        payload=order_payload(
            shipment.order,
            shipment_id=shipment.pk,
            shipment_number=shipment.number,
            carrier=carrier,
            service=service,
            tracking_number=tracking_number,
            previous={"carrier": before[0], "service": before[1], "tracking_number": before[2]},
        ),
    )
    return shipment
