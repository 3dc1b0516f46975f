"""Manufacturing orders: confirm (reserve components), start, produce N of M, finish, cancel."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from decimal import ROUND_CEILING, Decimal
from typing import Any

from django.db import transaction
from django.db.models import F

from erp import clock, events, formatting
from erp.exceptions import InvalidTransition, ValidationFailed
from erp.money import ZERO, quantize_money, quantize_quantity
from erp.numbering import next_number
from inventory.models import LocationKind, Product, Reservation, Tracking, Warehouse
from inventory.selectors import active_reservations_by_demand
from inventory.services import (
    Demand,
    Document,
    lot_get_or_create,
    reservation_consume,
    reservations_release_for_demand,
    stock_issue,
    stock_receive,
    stock_reserve,
    warehouse_default_location,
)
from manufacturing import lifecycle
from manufacturing.models import BillOfMaterials, ManufacturingOrder, MOComponent, MOStatus

DEMAND_TYPE = "manufacturing.mocomponent"
S = MOStatus


def _actor(user: Any) -> Any:
    return user if getattr(user, "is_authenticated", False) else None


def _whole(product: Product, quantity: Decimal) -> Decimal:
    """Components counted in whole units are used in whole units: rounded up (scrap makes fractions)."""
    if product.stock_unit.allows_fractions:
        return quantize_quantity(quantity)
    return quantize_quantity(quantize_quantity(quantity).to_integral_value(rounding=ROUND_CEILING))


def mo_payload(mo: ManufacturingOrder, **extra: Any) -> dict[str, Any]:
    return {
        "manufacturing_order_id": mo.pk,
        "number": mo.number,
        "status": mo.status,
        "sku": mo.product.sku,
        "quantity": str(mo.quantity),
        "quantity_produced": str(mo.quantity_produced),
        "warehouse_id": mo.warehouse_id,
        **extra,
    }


@transaction.atomic
def mo_create(
    *,
    product: Product,
    quantity: Decimal | str | int,
    warehouse: Warehouse,
    bom: BillOfMaterials | None = None,
    planned_start: datetime.date | None = None,
    planned_finish: datetime.date | None = None,
    notes: str = "",
    user: Any = None,
) -> ManufacturingOrder:
    """A draft order with its component lines computed from the BOM (scrap included)."""
    quantity = quantize_quantity(quantity)
    if quantity <= 0:
        raise ValidationFailed(
            "The quantity must be positive.", field_errors={"quantity": ["Must be positive."]}
        )
    bom = bom or BillOfMaterials.objects.filter(product=product, is_active=True).first()
    if bom is None or bom.product_id != product.pk:
        raise ValidationFailed(
            f"{product.sku} has no active bill of materials.", field_errors={"bom": ["Required."]}
        )
    start = planned_start or clock.today()
    finish = planned_finish or start + datetime.timedelta(days=bom.lead_time_days)
    if finish < start:
        raise ValidationFailed(
            "The planned finish is before the start.", field_errors={"planned_finish": ["Too early."]}
        )
    mo = ManufacturingOrder.objects.create(
        number=next_number("manufacturing.mo", prefix="MO-"),
        product=product,
        bom=bom,
        warehouse=warehouse,
        quantity=quantity,
        planned_start=start,
        planned_finish=finish,
        notes=notes,
        created_by=_actor(user),
        updated_by=_actor(user),
    )
    MOComponent.objects.bulk_create(
        [
            MOComponent(
                order=mo,
                product=c.product,
                quantity_required=_whole(c.product, c.stock_quantity_per_output() * quantity),
            )
            for c in bom.components.select_related("bom", "product__stock_unit")
        ]
    )
    return mo


def _locked(mo: ManufacturingOrder) -> ManufacturingOrder:
    return (
        ManufacturingOrder.objects.select_for_update(of=("self",))
        .select_related("product__stock_unit", "bom", "warehouse")
        .get(pk=mo.pk)
    )


def _held(lines: Sequence[MOComponent]) -> dict[int, list[Reservation]]:
    return active_reservations_by_demand(DEMAND_TYPE, [line.pk for line in lines])


@transaction.atomic
def mo_confirm(*, mo: ManufacturingOrder, user: Any = None) -> tuple[ManufacturingOrder, dict[str, Decimal]]:
    """Confirm and reserve components in the warehouse. Returns the order and the shortages by SKU."""
    mo = _locked(mo)
    lifecycle.check(mo.status, S.CONFIRMED)
    shortages: dict[str, Decimal] = {}
    for line in mo.components.select_related("product__stock_unit"):
        held = stock_reserve(
            product=line.product,
            warehouse=mo.warehouse,
            quantity=line.quantity_required,
            demand=Demand(DEMAND_TYPE, line.pk, mo.number),
            allow_partial=True,
            user=user,
        )
        got = sum((r.quantity for r in held), ZERO)
        if got < line.quantity_required:
            shortages[line.product.sku] = line.quantity_required - got
    mo.status = S.CONFIRMED
    mo.updated_by = _actor(user)
    mo.save()
    events.emit(
        "manufacturing.mo_confirmed",
        aggregate=mo,
        payload=mo_payload(mo, shortages={sku: str(q) for sku, q in shortages.items()}),
    )
    return mo, shortages


@transaction.atomic
def mo_start(*, mo: ManufacturingOrder, user: Any = None) -> ManufacturingOrder:
    mo = _locked(mo)
    lifecycle.check(mo.status, S.IN_PROGRESS)
    mo.status = S.IN_PROGRESS
    mo.updated_by = _actor(user)
    mo.save()
    return mo


@transaction.atomic
def mo_produce(
    *,
    mo: ManufacturingOrder,
    quantity: Decimal | str | int,
    lot_code: str = "",
    serials: Sequence[str] = (),
    user: Any = None,
) -> ManufacturingOrder:
    """Produce N: consume components in proportion (reserved stock first), put the output into stock.

    The output's unit cost is what was consumed, plus the operations, divided by N.
    Components are consumed so that after producing P of M each has used
    required x P / M in total, so partial runs add up to the whole.
    """
    mo = _locked(mo)
    if mo.status == S.CONFIRMED:
        lifecycle.check(mo.status, S.IN_PROGRESS)
        mo.status = S.IN_PROGRESS
    if mo.status != S.IN_PROGRESS:
        raise InvalidTransition(document="manufacturing order", current=mo.status, target="produced")
    quantity = quantize_quantity(quantity)
    if quantity <= 0:
        raise ValidationFailed(
            "Produce a positive quantity.", field_errors={"quantity": ["Must be positive."]}
        )
    produced_after = mo.quantity_produced + quantity
    if produced_after > mo.quantity:
        raise ValidationFailed(
            f"{mo.number} is for {formatting.number(mo.quantity)}; {formatting.number(mo.quantity_produced)} "
            f"are made, so at most {formatting.number(mo.quantity - mo.quantity_produced)} more.",
            field_errors={"quantity": ["Too many."]},
        )
    product = mo.product
    if product.tracking == Tracking.SERIAL and len({s.strip() for s in serials if s.strip()}) != quantity:
        raise ValidationFailed(
            f"{product.sku} is serial-tracked: give {formatting.number(quantity)} serial numbers."
        )
    if product.tracking == Tracking.LOT and not lot_code.strip():
        raise ValidationFailed(f"{product.sku} is tracked by lot: give the lot of this output.")

    document = Document("manufacturing.order", mo.pk, mo.number)
    location = warehouse_default_location(mo.warehouse)
    lines = list(mo.components.select_related("product__stock_unit"))
    holds = _held(lines)
    material_cost = ZERO
    for line in lines:
        target = min(
            _whole(line.product, line.quantity_required * produced_after / mo.quantity),
            line.quantity_required,
        )
        take = target - line.quantity_consumed
        if take <= 0:
            continue
        remaining = take
        for held in holds.get(line.pk, []):
            part = min(held.quantity, remaining)
            move = reservation_consume(
                reservation=held,
                quantity=part,
                destination=LocationKind.PRODUCTION,
                document=document,
                user=user,
            )
            material_cost += move.quantity * move.unit_cost
            remaining -= part
            if remaining <= 0:
                break
        if remaining > 0:
            move = stock_issue(
                product=line.product,
                location=location,
                quantity=remaining,
                destination=LocationKind.PRODUCTION,
                document=document,
                user=user,
            )
            material_cost += move.quantity * move.unit_cost
        MOComponent.objects.filter(pk=line.pk).update(quantity_consumed=F("quantity_consumed") + take)

    operations_cost = sum(
        (op.minutes_per_unit / 60 * op.cost_per_hour * quantity for op in mo.bom.operations.all()), ZERO
    )
    total_cost = quantize_money(material_cost + operations_cost)
    unit_cost = quantize_money(total_cost / quantity)
    if product.tracking == Tracking.SERIAL:
        for serial in serials:
            lot = lot_get_or_create(product=product, code=serial)
            stock_receive(
                product=product,
                location=location,
                quantity=1,
                unit_cost=unit_cost,
                lot=lot,
                source=LocationKind.PRODUCTION,
                document=document,
                user=user,
            )
    else:
        output_lot = (
            lot_get_or_create(product=product, code=lot_code) if product.tracking == Tracking.LOT else None
        )
        stock_receive(
            product=product,
            location=location,
            quantity=quantity,
            unit_cost=unit_cost,
            lot=output_lot,
            source=LocationKind.PRODUCTION,
            document=document,
            user=user,
        )
    mo.quantity_produced = produced_after
    mo.produced_cost += total_cost
    mo.updated_by = _actor(user)
    mo.save()
    events.emit(
        "manufacturing.mo_produced",
        aggregate=mo,
        payload=mo_payload(mo, produced_now=str(quantity), unit_cost=str(unit_cost)),
    )
    return mo


@transaction.atomic
def mo_finish(*, mo: ManufacturingOrder, user: Any = None) -> ManufacturingOrder:
    """Done: what was not used is released (the order may finish short)."""
    mo = _locked(mo)
    lifecycle.check(mo.status, S.DONE)
    if mo.quantity_produced <= 0:
        raise ValidationFailed(f"Nothing of {mo.number} has been produced; cancel it instead.")
    for line_id in mo.components.values_list("pk", flat=True):
        reservations_release_for_demand(demand_type=DEMAND_TYPE, demand_id=line_id, user=user)
    mo.status = S.DONE
    mo.updated_by = _actor(user)
    mo.save()
    events.emit("manufacturing.mo_done", aggregate=mo, payload=mo_payload(mo, cost=str(mo.produced_cost)))
    return mo


@transaction.atomic
def mo_cancel(*, mo: ManufacturingOrder, reason: str = "", user: Any = None) -> ManufacturingOrder:
    """Cancel, releasing every component reservation (what was produced stays produced)."""
    mo = _locked(mo)
    lifecycle.check(mo.status, S.CANCELLED)
    for line_id in mo.components.values_list("pk", flat=True):
        reservations_release_for_demand(demand_type=DEMAND_TYPE, demand_id=line_id, user=user)
    mo.status = S.CANCELLED
    if reason:
        mo.notes = f"{mo.notes}\nCancelled: {reason}".strip()
    mo.updated_by = _actor(user)
    mo.save()
    events.emit("manufacturing.mo_cancelled", aggregate=mo, payload=mo_payload(mo, reason=reason))
    return mo
