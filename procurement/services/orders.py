"""Purchase orders: create, edit, approve, send, cancel, close."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction

from erp import clock, events
from erp.access import user_has_right
from erp.exceptions import InvalidTransition, ValidationFailed
from erp.formatting import money
from erp.money import ZERO, quantize_money, quantize_quantity, round_money, to_decimal
from erp.numbering import next_number
from inventory.models import Product, UnitOfMeasure, Warehouse
from procurement import lifecycle
from procurement.models import PurchaseOrder, PurchaseOrderLine, PurchaseOrderStatus, Supplier, SupplierItem
from procurement.services.approval_notify import requester_notify_approved
from procurement.services.suppliers import price_for
from procurement.thresholds import approval_threshold, needs_approval

S = PurchaseOrderStatus


@dataclass(frozen=True)
class POLineSpec:
    product: Product
    quantity: Decimal | str | int  # in purchase units
    unit_cost: Decimal | str | int | None = None  # None: the supplier's price for this quantity
    purchase_unit: UnitOfMeasure | None = None  # None: the supplier item's unit, else the stock unit
    factor: Decimal | str | int | None = None  # stock units per purchase unit; None: the supplier item's
    tax_rate: Decimal | str | int = 0
    description: str = ""


def _actor(user: Any) -> Any:
    return user if getattr(user, "is_authenticated", False) else None


def po_payload(po: PurchaseOrder, **extra: Any) -> dict[str, Any]:
    return {
        "purchase_order_id": po.pk,
        "number": po.number,
        "status": po.status,
        "supplier_id": po.supplier_id,
        "warehouse_id": po.warehouse_id,
        "currency": po.currency,
        "total": str(po.total),
        "expected_date": po.expected_date.isoformat() if po.expected_date else None,
        **extra,
    }


def _build_lines(po: PurchaseOrder, specs: Sequence[POLineSpec]) -> list[PurchaseOrderLine]:
    if not specs:
        raise ValidationFailed(
            "A purchase order needs at least one line.", field_errors={"lines": ["Required."]}
        )
    items = {
        i.product_id: i
        for i in SupplierItem.objects.filter(supplier=po.supplier, product__in=[s.product for s in specs])
        .select_related("purchase_unit")
        .prefetch_related("price_breaks")
    }
    errors: dict[str, list[str]] = {}
    rows = []
    for n, spec in enumerate(specs):
        try:
            quantity = quantize_quantity(spec.quantity)
            tax_rate = to_decimal(spec.tax_rate)
        except (TypeError, ValueError) as exc:
            errors[f"lines.{n}"] = [str(exc)]
            continue
        item = items.get(spec.product.pk)
        unit = spec.purchase_unit or (item.purchase_unit if item else spec.product.stock_unit)
        if spec.factor is not None:
            factor = quantize_quantity(spec.factor)
        elif item is not None and unit.pk == item.purchase_unit_id:
            factor = item.factor
        elif unit.pk == spec.product.stock_unit_id:
            factor = Decimal(1)
        else:
            errors[f"lines.{n}.purchase_unit"] = [
                f"How many {spec.product.stock_unit} in one {unit}? Give a factor."
            ]
            continue
        if spec.unit_cost is not None:
            cost = quantize_money(spec.unit_cost)
        elif item is not None:
            cost = price_for(item, quantity)
        else:
            errors[f"lines.{n}.unit_cost"] = [
                f"{po.supplier} has no price for {spec.product.sku}: give a unit cost."
            ]
            continue
        if quantity <= 0:
            errors[f"lines.{n}.quantity"] = ["Must be positive."]
        if cost < 0:
            errors[f"lines.{n}.unit_cost"] = ["Cannot be negative."]
        if factor <= 0:
            errors[f"lines.{n}.factor"] = ["Must be positive."]
        if not 0 <= tax_rate <= 1:
            errors[f"lines.{n}.tax_rate"] = ["A fraction between 0 and 1."]
        if not spec.product.is_stocked:
            errors[f"lines.{n}.product"] = [f"{spec.product.sku} is a service."]
        subtotal = round_money(quantity * cost, po.currency)
        tax = round_money(subtotal * tax_rate, po.currency)
        rows.append(
            PurchaseOrderLine(
                order=po,
                position=n + 1,
                product=spec.product,
                supplier_item=item,
                description=(
                    spec.description
                    or (f"{item.supplier_sku} " if item and item.supplier_sku else "") + spec.product.name
                )[:255],
                purchase_unit=unit,
                factor=factor,
                quantity=quantity,
                unit_cost=cost,
                tax_rate=tax_rate,
                line_subtotal=subtotal,
                tax_amount=tax,
                line_total=subtotal + tax,
            )
        )
    if errors:
        raise ValidationFailed(
            f"The purchase order is invalid: {next(iter(errors.values()))[0]}", field_errors=errors
        )
    return rows


def _write_lines(po: PurchaseOrder, rows: list[PurchaseOrderLine]) -> None:
    po.lines.all().delete()
    PurchaseOrderLine.objects.bulk_create(rows)
    po.subtotal = sum((r.line_subtotal for r in rows), ZERO)
    po.tax_total = sum((r.tax_amount for r in rows), ZERO)
    po.total = po.subtotal + po.tax_total


@transaction.atomic
def po_create(
    *,
    supplier: Supplier,
    warehouse: Warehouse,
    lines: Sequence[POLineSpec],
    expected_date: datetime.date | None = None,
    order_date: datetime.date | None = None,
    notes: str = "",
    user: Any = None,
) -> PurchaseOrder:
    """A draft purchase order with its lines, priced from the supplier's items and breaks."""
    if not supplier.is_active:
        raise ValidationFailed(f"Supplier {supplier} is archived.")
    order_date = order_date or clock.today()
    po = PurchaseOrder(
        number=next_number("procurement.po", prefix="PO-"),
        supplier=supplier,
        warehouse=warehouse,
        currency=supplier.currency,
        order_date=order_date,
        expected_date=expected_date or order_date + datetime.timedelta(days=supplier.lead_time_days),
        notes=notes,
        created_by=_actor(user),
        updated_by=_actor(user),
    )
    po.save()
    _write_lines(po, _build_lines(po, lines))
    po.save()
    return po


def _locked(po: PurchaseOrder) -> PurchaseOrder:
    return (
        PurchaseOrder.objects.select_for_update(of=("self",))
        .select_related("supplier", "warehouse")
        .get(pk=po.pk)
    )


@transaction.atomic
def po_update(
    *, po: PurchaseOrder, lines: Sequence[POLineSpec] | None = None, user: Any = None, **changes: Any
) -> PurchaseOrder:
    """Edit a draft. Changing it takes back any approval it had."""
    po = _locked(po)
    allowed = {"expected_date", "notes", "warehouse"}
    unknown = set(changes) - allowed
    if unknown:
        raise ValidationFailed(f"Cannot change: {', '.join(sorted(unknown))}.")
    if po.status != S.DRAFT and (lines is not None or set(changes) - {"notes", "expected_date"}):
        raise ValidationFailed(f"{po.number} is {po.status}: only notes and the expected date can change.")
    for name, value in changes.items():
        setattr(po, name, value)
    if lines is not None:
        _write_lines(po, _build_lines(po, lines))
        po.approved_by, po.approved_at = None, None
    po.updated_by = _actor(user)
    po.save()
    return po


@transaction.atomic
def po_approve(*, po: PurchaseOrder, user: Any) -> PurchaseOrder:
    """A purchasing manager approves a draft above the threshold."""
    po = _locked(po)
    if po.status != S.DRAFT:
        raise InvalidTransition(document="purchase order", current=po.status, target="approved")
    if not user_has_right(user, "procurement_approve"):
        raise ValidationFailed(f"Only a purchasing manager can approve {po.number}.")
    po.approved_by = user
    po.approved_at = clock.now()
    po.save(update_fields=["approved_by", "approved_at", "updated_at"])
    events.emit(
        "procurement.po_approved", aggregate=po, payload=po_payload(po, approved_by=user.get_username())
    )
    requester_notify_approved(po, approver=user)
    return po


@transaction.atomic
def po_send(*, po: PurchaseOrder, user: Any = None) -> PurchaseOrder:
    """Send to the supplier. Above the threshold it must be approved first."""
    po = _locked(po)
    lifecycle.check(po.status, S.SENT)
    if needs_approval(po) and po.approved_at is None:
        threshold = approval_threshold(po.currency)
        why = (
            f"is in {po.currency}, which has no approval threshold"
            if threshold is None
            else f"totals {money(po.total, po.currency)}, above the approval threshold of "
            f"{money(threshold, po.currency)}"
        )
        raise ValidationFailed(f"{po.number} {why}: a purchasing manager must approve it before it is sent.")
    po.status = S.SENT
    po.sent_at = clock.now()
    po.updated_by = _actor(user)
    po.save()
    lines = po.lines.select_related("product", "purchase_unit")
    events.emit(
        "procurement.po_sent",
        aggregate=po,
        payload=po_payload(
            po,
            lines=[
                {
                    "sku": ln.product.sku,
                    "quantity": str(ln.quantity),
                    "unit": ln.purchase_unit.code,
                    "unit_cost": str(ln.unit_cost),
                }
                for ln in lines
            ],
        ),
    )
    return po


@transaction.atomic
def po_cancel(*, po: PurchaseOrder, reason: str = "", user: Any = None) -> PurchaseOrder:
    po = _locked(po)
    lifecycle.check(po.status, S.CANCELLED)
    po.status = S.CANCELLED
    if reason:
        po.notes = f"{po.notes}\nCancelled: {reason}".strip()
    po.updated_by = _actor(user)
    po.save()
    events.emit("procurement.po_cancelled", aggregate=po, payload=po_payload(po, reason=reason))
    return po


@transaction.atomic
def po_close(*, po: PurchaseOrder, user: Any = None) -> PurchaseOrder:
    """Close: nothing more is expected (a partially received order is closed short)."""
    po = _locked(po)
    lifecycle.check(po.status, S.CLOSED)
    po.status = S.CLOSED
    po.updated_by = _actor(user)
    po.save()
    events.emit("procurement.po_closed", aggregate=po, payload=po_payload(po))
    return po
