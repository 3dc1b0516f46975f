"""Receipts against purchase orders: into stock, in stock units, at the ordered cost."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F

from erp import clock, events, formatting
from erp.exceptions import InvalidTransition, ValidationFailed
from erp.money import quantize_money, quantize_quantity
from erp.numbering import next_number
from erp.rows import update_rows
from inventory.models import Location, Tracking
from inventory.services import Document, lot_get_or_create, stock_receive_many, warehouse_default_location
from inventory.services import Receipt as StockReceipt
from procurement import lifecycle
from procurement.models import PurchaseOrder, PurchaseOrderLine, PurchaseOrderStatus, Receipt, ReceiptLine
from procurement.services.orders import _actor, _locked, po_payload

S = PurchaseOrderStatus


@dataclass(frozen=True)
class ReceiveLine:
    line: PurchaseOrderLine
    quantity: Decimal | str | int  # in purchase units
    lot_code: str = ""
    expiry_date: datetime.date | None = None
    serials: Sequence[str] = field(default_factory=tuple)  # for serial-tracked products, one per stock unit


def over_receipt_limit(line: PurchaseOrderLine) -> Decimal:
    """The most that may be received on a line, in purchase units."""
    return quantize_quantity(line.quantity * (1 + settings.RECEIPT_OVER_TOLERANCE_PERCENT / 100))


@transaction.atomic
def receipt_create(
    *,
    po: PurchaseOrder,
    lines: Sequence[ReceiveLine],
    location: Location | None = None,
    note: str = "",
    user: Any = None,
) -> Receipt:
    """Receive goods: each line goes into stock (purchase units x factor) at its cost per stock unit."""
    po = _locked(po)
    if po.status not in lifecycle.OPEN_STATUSES:
        raise InvalidTransition(document="purchase order", current=po.status, target=S.RECEIVED)
    location = location or warehouse_default_location(po.warehouse)
    if location.warehouse_id != po.warehouse_id or not location.holds_stock:
        raise ValidationFailed(f"{location} is not a bin of {po.warehouse}, where {po.number} is delivered.")
    own = {ln.pk: ln for ln in po.lines.select_for_update().select_related("product__stock_unit")}
    wanted: dict[int, Decimal] = {}
    errors: dict[str, list[str]] = {}
    for item in lines:
        line = own.get(item.line.pk)
        if line is None:
            raise ValidationFailed(f"Line {item.line.pk} is not a line of {po.number}.")
        quantity = quantize_quantity(item.quantity)
        if quantity <= 0:
            errors[f"line {line.position}"] = ["Quantity must be positive."]
            continue
        wanted[line.pk] = wanted.get(line.pk, Decimal(0)) + quantity
        limit = over_receipt_limit(line)
        if line.quantity_received + wanted[line.pk] > limit:
            unit = line.purchase_unit.code
            errors[f"line {line.position}"] = [
                f"{line.product.sku}: {formatting.quantity(line.quantity_received + wanted[line.pk], unit)} "
                f"would be received of {formatting.quantity(line.quantity, unit)} ordered; at most "
                f"{formatting.quantity(limit, unit)} "
                f"({formatting.percent(settings.RECEIPT_OVER_TOLERANCE_PERCENT)} over) is accepted."
            ]
        stock_quantity = quantity * line.factor
        tracking = line.product.tracking
        if tracking == Tracking.LOT and not item.lot_code.strip():
            errors[f"line {line.position}"] = [f"{line.product.sku} is tracked by lot: give the lot."]
        if (
            tracking == Tracking.SERIAL
            and len({s.strip() for s in item.serials if s.strip()}) != stock_quantity
        ):
            errors[f"line {line.position}"] = [
                f"{line.product.sku} is tracked by serial: "
                f"give {formatting.number(stock_quantity)} distinct serial numbers."
            ]
    if errors:
        raise ValidationFailed(
            f"Cannot receive on {po.number}: {next(iter(errors.values()))[0]}", field_errors=errors
        )
    if not wanted:
        raise ValidationFailed("A receipt needs at least one line.", field_errors={"lines": ["Required."]})

    receipt = Receipt.objects.create(
        number=next_number("procurement.receipt", prefix="RC-"),
        order=po,
        location=location,
        received_at=clock.now(),
        note=note,
        created_by=_actor(user),
        updated_by=_actor(user),
    )
    document = Document("procurement.receipt", receipt.pk, receipt.number)
    rows = []
    stock: list[StockReceipt] = []  # every line (each serial) into stock in ONE ledger post
    for item in lines:
        line = own[item.line.pk]
        quantity = quantize_quantity(item.quantity)
        unit_cost = quantize_money(line.unit_cost / line.factor)  # per stock unit
        if line.product.tracking == Tracking.SERIAL:
            stock += [
                StockReceipt(line.product, 1, unit_cost, lot_get_or_create(product=line.product, code=serial))
                for serial in item.serials
            ]
        else:
            lot_or_none = (
                lot_get_or_create(product=line.product, code=item.lot_code, expiry_date=item.expiry_date)
                if line.product.tracking == Tracking.LOT
                else None
            )
            stock.append(StockReceipt(line.product, quantity * line.factor, unit_cost, lot_or_none))
        rows.append(
            ReceiptLine(
                receipt=receipt,
                order_line=line,
                quantity=quantity,
                lot_code=item.lot_code,
                expiry_date=item.expiry_date,
            )
        )
    stock_receive_many(lines=stock, location=location, document=document, user=user)
    for pk, quantity in wanted.items():  # the lines are locked: what they hold is current
        own[pk].quantity_received += quantity
    update_rows(PurchaseOrderLine, [own[pk] for pk in wanted], ["quantity_received"])
    ReceiptLine.objects.bulk_create(rows)

    complete = not po.lines.filter(quantity_received__lt=F("quantity")).exists()
    target = S.RECEIVED if complete else S.PARTIALLY_RECEIVED
    lifecycle.check(po.status, target)
    po.status = target
    po.updated_by = _actor(user)
    po.save(update_fields=["status", "updated_by", "updated_at"])
    events.emit(
        "procurement.receipt_done",
        aggregate=po,
        payload=po_payload(
            po,
            receipt_id=receipt.pk,
            receipt_number=receipt.number,
            location=location.path,
            lines=[
                {"sku": own[pk].product.sku, "quantity": str(q), "stock_quantity": str(q * own[pk].factor)}
                for pk, q in wanted.items()
            ],
        ),
    )
    return receipt
