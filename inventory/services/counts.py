"""Cycle counts: a sheet per location, lines counted, reviewed, applied as adjustments."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import transaction

from erp import clock, formatting
from erp.exceptions import DomainError, InvalidTransition, ValidationFailed
from erp.money import quantize_quantity
from erp.numbering import next_number
from inventory.ledger import Document
from inventory.models import (
    CountLine,
    CountSheet,
    CountStatus,
    Location,
    Lot,
    MoveKind,
    Product,
    StockLevel,
    Tracking,
)
from inventory.services.stock import stock_adjust


def _actor(user: Any) -> Any:
    return user if getattr(user, "is_authenticated", False) else None


@transaction.atomic
def count_sheet_create(
    *, location: Location, note: str = "", prefill: bool = True, user: Any = None
) -> CountSheet:
    """A count sheet for one bin; with ``prefill`` a line for everything the system thinks is there."""
    if not location.holds_stock:
        raise ValidationFailed(f"{location} is not a bin that holds stock.")
    sheet = CountSheet.objects.create(
        number=next_number("inventory.count", prefix="CNT-"),
        location=location,
        note=note,
        created_by=_actor(user),
        updated_by=_actor(user),
    )
    if prefill:
        levels = StockLevel.objects.filter(location=location).exclude(on_hand=0)
        CountLine.objects.bulk_create(
            [
                CountLine(
                    sheet=sheet, product_id=lv.product_id, lot_id=lv.lot_id, expected_quantity=lv.on_hand
                )
                for lv in levels
            ]
        )
    return sheet


def _open(sheet: CountSheet) -> CountSheet:
    sheet = (
        CountSheet.objects.select_for_update(of=("self",))
        .select_related("location__warehouse")
        .get(pk=sheet.pk)
    )
    if sheet.status != CountStatus.OPEN:
        raise InvalidTransition(document="count sheet", current=sheet.status, target="counted")
    return sheet


def count_line_label(product: Product, location: Location, lot: Lot | None) -> str:
    """How a message names a count line: 'SKU-1 at WH1/A-01-1, serial SN-7'."""
    label = f"{product.sku} at {location}"
    if lot is not None:
        label += f", {'serial' if product.tracking == Tracking.SERIAL else 'lot'} {lot.code}"
    return label


def count_quantity_check(*, product: Product, location: Location, lot: Lot | None, counted: Decimal) -> None:
    """What a count line may hold, checked as it is typed and again when the sheet is applied:
    never negative; 0 or 1 of a serial number; whole numbers of a product counted in pieces."""
    label = count_line_label(product, location, lot)
    if counted < 0:
        msg = f"{label}: a counted quantity cannot be negative."
        raise ValidationFailed(msg, field_errors={"counted": [msg]})
    if product.tracking == Tracking.SERIAL and counted not in (0, 1):
        msg = f"{label}: a serial number is there or not, so count 0 or 1, not {formatting.number(counted)}."
        raise ValidationFailed(msg, field_errors={"counted": [msg]})
    unit = product.stock_unit
    if not unit.allows_fractions and counted != counted.to_integral_value():
        msg = f"{label}: {unit.code} is counted in whole numbers, not {formatting.number(counted)}."
        raise ValidationFailed(msg, field_errors={"counted": [msg]})


@transaction.atomic
def count_line_set(
    *,
    sheet: CountSheet,
    product: Product,
    counted: Decimal | str | int,
    lot: Lot | None = None,
    add: bool = False,
) -> CountLine:
    """Record what was counted (``add``: add to what was counted so far, as a scanner does)."""
    sheet = _open(sheet)
    counted = quantize_quantity(counted)
    if counted < 0:
        count_quantity_check(product=product, location=sheet.location, lot=lot, counted=counted)
    if product.tracking != "none" and lot is None:
        raise ValidationFailed(f"{product.sku} is tracked: say which lot or serial was counted.")
    line = CountLine.objects.filter(sheet=sheet, product=product, lot=lot).first()
    if line is None:
        level = StockLevel.objects.filter(product=product, location=sheet.location, lot=lot).first()
        line = CountLine(
            sheet=sheet, product=product, lot=lot, expected_quantity=level.on_hand if level else 0
        )
    total = (line.counted_quantity or 0) + counted if add else counted
    count_quantity_check(product=product, location=sheet.location, lot=lot, counted=total)
    line.counted_quantity = total
    line.save()
    return line


@transaction.atomic
def count_sheet_apply(*, sheet: CountSheet, user: Any = None, zero_uncounted: bool = False) -> CountSheet:
    """Turn the differences into adjustments: each counted line sets its level to what was counted.

    Lines not counted are skipped, or set to zero with ``zero_uncounted``.
    """
    sheet = _open(sheet)
    lines = list(sheet.lines.select_related("product__stock_unit", "lot"))
    if not any(line.counted_quantity is not None for line in lines) and not zero_uncounted:
        raise ValidationFailed("Nothing has been counted on this sheet yet.")
    document = Document("inventory.countsheet", sheet.pk, sheet.number)
    for line in lines:
        counted = line.counted_quantity
        if counted is None:
            if not zero_uncounted:
                continue
            counted = Decimal(0)
        count_quantity_check(product=line.product, location=sheet.location, lot=line.lot, counted=counted)
        try:
            stock_adjust(
                product=line.product,
                location=sheet.location,
                lot=line.lot,
                quantity=counted,
                reason=f"cycle count {sheet.number}",
                kind=MoveKind.COUNT,
                document=document,
                user=user,
            )
        except DomainError as exc:  # the message names the line it is about
            raise ValidationFailed(
                f"{count_line_label(line.product, sheet.location, line.lot)}: {exc.message}"
            ) from exc
    sheet.status = CountStatus.APPLIED
    sheet.applied_at = clock.now()
    sheet.updated_by = _actor(user)
    sheet.save(update_fields=["status", "applied_at", "updated_by", "updated_at"])
    return sheet


@transaction.atomic
def count_sheet_cancel(*, sheet: CountSheet, user: Any = None) -> CountSheet:
    sheet = _open(sheet)
    sheet.status = CountStatus.CANCELLED
    sheet.updated_by = _actor(user)
    sheet.save(update_fields=["status", "updated_by", "updated_at"])
    return sheet
