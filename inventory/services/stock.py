"""Stock operations: receive, issue, transfer (direct and through transit), adjust, scrap, reverse.

Each is one transaction over ``inventory.ledger.post``; procurement, sales and
manufacturing call these, never the ledger or the tables.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction

from erp import clock, events
from erp.exceptions import InvalidTransition, ValidationFailed
from erp.money import ZERO, quantize_quantity
from erp.numbering import next_number
from inventory.exceptions import InvalidStockOperation
from inventory.ledger import NO_DOCUMENT, Document, MoveSpec, post
from inventory.locks import lock_levels
from inventory.models import (
    Location,
    LocationKind,
    Lot,
    MoveKind,
    Product,
    StockMove,
    Transfer,
    TransferLine,
    TransferStatus,
)
from inventory.services.warehouses import virtual_location


def _require_internal(location: Location, role: str) -> None:
    if not location.holds_stock:
        raise InvalidStockOperation(
            f"The {role} must be a bin that holds stock, not {location} ({location.kind})."
        )


@transaction.atomic
def stock_receive(
    *,
    product: Product,
    location: Location,
    quantity: Decimal | str | int,
    unit_cost: Decimal | str | int | None = None,
    lot: Lot | None = None,
    source: LocationKind = LocationKind.SUPPLIER,
    document: Document = NO_DOCUMENT,
    reason: str = "",
    user: Any = None,
) -> StockMove:
    """Stock in from a supplier or production (updates the moving-average cost) or a customer return.

    A customer return comes back at the current average cost (``unit_cost`` is ignored) and
    leaves the average as it is.
    """
    _require_internal(location, "destination")
    if source not in (LocationKind.SUPPLIER, LocationKind.PRODUCTION, LocationKind.CUSTOMER):
        raise InvalidStockOperation("A receipt comes from a supplier, from production or from a customer.")
    kinds = {LocationKind.PRODUCTION: MoveKind.PRODUCTION, LocationKind.CUSTOMER: MoveKind.RETURN}
    if source == LocationKind.CUSTOMER:
        unit_cost = None
    spec = MoveSpec(
        product=product,
        quantity=quantize_quantity(quantity),
        from_location=virtual_location(source),
        to_location=location,
        lot=lot,
        unit_cost=Decimal(str(unit_cost)) if unit_cost is not None else None,
        kind=kinds.get(source, MoveKind.RECEIPT),
        reason=reason,
        document=document,
    )
    return post([spec], user=user).moves[0]


@dataclass(frozen=True)
class Receipt:
    """One line of a receipt of many: what ``stock_receive`` takes for one."""

    product: Product
    quantity: Decimal | str | int
    unit_cost: Decimal | str | int | None = None
    lot: Lot | None = None


@transaction.atomic
def stock_receive_many(
    *,
    lines: Sequence[Receipt],
    location: Location,
    source: LocationKind = LocationKind.SUPPLIER,
    document: Document = NO_DOCUMENT,
    reason: str = "",
    user: Any = None,
) -> list[StockMove]:
    """Many receipts into one bin, as ``stock_receive`` does each, in ONE ``ledger.post``: the
    levels locked and the moves inserted once for all lines, one ``inventory.level_changed`` per
    (product, warehouse). The moves come back in the order of ``lines``. A 5,000-line receipt (a
    purchase order received whole, a 3PL's inbound) costs a few statements, not 5,000 posts."""
    _require_internal(location, "destination")
    if source not in (LocationKind.SUPPLIER, LocationKind.PRODUCTION, LocationKind.CUSTOMER):
        raise InvalidStockOperation("A receipt comes from a supplier, from production or from a customer.")
    if not lines:
        return []
    kinds = {LocationKind.PRODUCTION: MoveKind.PRODUCTION, LocationKind.CUSTOMER: MoveKind.RETURN}
    origin = virtual_location(source)
    specs = [
        MoveSpec(
            product=line.product,
            quantity=quantize_quantity(line.quantity),
            from_location=origin,
            to_location=location,
            lot=line.lot,
            unit_cost=(
                Decimal(str(line.unit_cost))
                if line.unit_cost is not None and source != LocationKind.CUSTOMER
                else None
            ),
            kind=kinds.get(source, MoveKind.RECEIPT),
            reason=reason,
            document=document,
        )
        for line in lines
    ]
    with events.batched():  # the events of every product in one write
        return post(specs, user=user).moves


@transaction.atomic
def stock_issue(
    *,
    product: Product,
    location: Location,
    quantity: Decimal | str | int,
    lot: Lot | None = None,
    destination: LocationKind = LocationKind.CUSTOMER,
    document: Document = NO_DOCUMENT,
    reason: str = "",
    user: Any = None,
) -> StockMove:
    """Unreserved stock out to a customer (or production). It never takes reserved stock."""
    _require_internal(location, "source")
    if destination not in (LocationKind.CUSTOMER, LocationKind.PRODUCTION, LocationKind.SUPPLIER):
        raise InvalidStockOperation("An issue goes to a customer, to production or back to a supplier.")
    kind = MoveKind.CONSUMPTION if destination == LocationKind.PRODUCTION else MoveKind.ISSUE
    spec = MoveSpec(
        product=product,
        quantity=quantize_quantity(quantity),
        from_location=location,
        to_location=virtual_location(destination),
        lot=lot,
        kind=kind,
        reason=reason,
        document=document,
    )
    return post([spec], user=user).moves[0]


@dataclass(frozen=True)
class Line:
    product: Product
    quantity: Decimal
    lot: Lot | None = None


@transaction.atomic
def stock_transfer(
    *,
    from_location: Location,
    to_location: Location,
    lines: Sequence[Line],
    reason: str = "",
    document: Document = NO_DOCUMENT,
    user: Any = None,
) -> list[StockMove]:
    """A direct transfer between two bins (same or different warehouse), all lines or none."""
    _require_internal(from_location, "source")
    _require_internal(to_location, "destination")
    if not lines:
        raise ValidationFailed("A transfer needs at least one line.", field_errors={"lines": ["Required."]})
    specs = [
        MoveSpec(
            product=line.product,
            quantity=quantize_quantity(line.quantity),
            from_location=from_location,
            to_location=to_location,
            lot=line.lot,
            kind=MoveKind.TRANSFER,
            reason=reason,
            document=document,
        )
        for line in lines
    ]
    return post(specs, user=user).moves


@transaction.atomic
def transfer_ship(
    *, from_location: Location, to_location: Location, lines: Sequence[Line], note: str = "", user: Any = None
) -> Transfer:
    """Step one of a two-step transfer: the goods leave into transit."""
    _require_internal(from_location, "source")
    _require_internal(to_location, "destination")
    if from_location.warehouse_id == to_location.warehouse_id:
        raise InvalidStockOperation(
            "Within one warehouse, transfer directly; transit is for between warehouses."
        )
    if not lines:
        raise ValidationFailed("A transfer needs at least one line.", field_errors={"lines": ["Required."]})
    actor = user if getattr(user, "is_authenticated", False) else None
    transfer = Transfer.objects.create(
        number=next_number("inventory.transfer", prefix="TR-"),
        from_location=from_location,
        to_location=to_location,
        note=note,
        shipped_at=clock.now(),
        created_by=actor,
        updated_by=actor,
    )
    TransferLine.objects.bulk_create(
        [
            TransferLine(
                transfer=transfer, product=ln.product, lot=ln.lot, quantity=quantize_quantity(ln.quantity)
            )
            for ln in lines
        ]
    )
    transit = virtual_location(LocationKind.TRANSIT)
    document = Document("inventory.transfer", transfer.pk, transfer.number)
    post(
        [
            MoveSpec(
                product=ln.product,
                quantity=quantize_quantity(ln.quantity),
                from_location=from_location,
                to_location=transit,
                lot=ln.lot,
                kind=MoveKind.TRANSFER,
                document=document,
            )
            for ln in lines
        ],
        user=user,
    )
    return transfer


@transaction.atomic
def transfer_receive(*, transfer: Transfer, user: Any = None) -> Transfer:
    """Step two: the goods arrive from transit at the destination."""
    transfer = (
        Transfer.objects.select_for_update(of=("self",))
        .select_related("to_location__warehouse")
        .get(pk=transfer.pk)
    )
    if transfer.status != TransferStatus.IN_TRANSIT:
        raise InvalidTransition(document="transfer", current=transfer.status, target=TransferStatus.DONE)
    transit = virtual_location(LocationKind.TRANSIT)
    document = Document("inventory.transfer", transfer.pk, transfer.number)
    lines = list(transfer.lines.select_related("product__stock_unit", "lot"))
    post(
        [
            MoveSpec(
                product=ln.product,
                quantity=ln.quantity,
                from_location=transit,
                to_location=transfer.to_location,
                lot=ln.lot,
                kind=MoveKind.TRANSFER,
                document=document,
            )
            for ln in lines
        ],
        user=user,
    )
    transfer.status = TransferStatus.DONE
    transfer.received_at = clock.now()
    transfer.save(update_fields=["status", "received_at", "updated_at"])
    return transfer


@transaction.atomic
def transfer_cancel(*, transfer: Transfer, user: Any = None) -> Transfer:
    """Goods that never left: back from transit to the source."""
    transfer = (
        Transfer.objects.select_for_update(of=("self",))
        .select_related("from_location__warehouse")
        .get(pk=transfer.pk)
    )
    if transfer.status != TransferStatus.IN_TRANSIT:
        raise InvalidTransition(document="transfer", current=transfer.status, target=TransferStatus.CANCELLED)
    transit = virtual_location(LocationKind.TRANSIT)
    document = Document("inventory.transfer", transfer.pk, transfer.number)
    post(
        [
            MoveSpec(
                product=ln.product,
                quantity=ln.quantity,
                from_location=transit,
                to_location=transfer.from_location,
                lot=ln.lot,
                kind=MoveKind.TRANSFER,
                reason="transfer cancelled",
                document=document,
            )
            for ln in transfer.lines.select_related("product__stock_unit", "lot")
        ],
        user=user,
    )
    transfer.status = TransferStatus.CANCELLED
    transfer.save(update_fields=["status", "updated_at"])
    return transfer


@transaction.atomic
def stock_adjust(
    *,
    product: Product,
    location: Location,
    reason: str,
    quantity: Decimal | str | int | None = None,
    delta: Decimal | str | int | None = None,
    lot: Lot | None = None,
    kind: MoveKind = MoveKind.ADJUSTMENT,
    document: Document = NO_DOCUMENT,
    user: Any = None,
) -> StockMove | None:
    """Set the on-hand quantity (``quantity``) or change it (``delta``), with a reason.

    Returns the move, or None when nothing changes.
    """
    _require_internal(location, "location")
    if (quantity is None) == (delta is None):
        raise ValidationFailed("Give either the new quantity or the change, not both.")
    if not reason.strip():
        raise ValidationFailed("An adjustment needs a reason.", field_errors={"reason": ["Required."]})
    if delta is None:
        target = quantize_quantity(quantity)
        if target < 0:
            raise ValidationFailed(
                "A counted quantity cannot be negative.", field_errors={"quantity": ["Cannot be negative."]}
            )
        key = (product.pk, location.pk, lot.pk if lot else None)
        level = lock_levels([key], skus={product.pk: product.sku})[key]
        change = target - level.on_hand
    else:
        change = quantize_quantity(delta)
    if change == ZERO:
        return None
    adjustment = virtual_location(LocationKind.ADJUSTMENT)
    source, target_location = (adjustment, location) if change > 0 else (location, adjustment)
    spec = MoveSpec(
        product=product,
        quantity=abs(change),
        from_location=source,
        to_location=target_location,
        lot=lot,
        kind=kind,
        reason=reason.strip(),
        document=document,
    )
    return post([spec], user=user).moves[0]


@transaction.atomic
def stock_scrap(
    *,
    product: Product,
    location: Location,
    quantity: Decimal | str | int,
    reason: str,
    lot: Lot | None = None,
    document: Document = NO_DOCUMENT,
    user: Any = None,
) -> StockMove:
    _require_internal(location, "location")
    if not reason.strip():
        raise ValidationFailed("Scrapping needs a reason.", field_errors={"reason": ["Required."]})
    spec = MoveSpec(
        product=product,
        quantity=quantize_quantity(quantity),
        from_location=location,
        to_location=virtual_location(LocationKind.SCRAP),
        lot=lot,
        kind=MoveKind.SCRAP,
        reason=reason.strip(),
        document=document,
    )
    return post([spec], user=user).moves[0]


@transaction.atomic
def stock_move_reverse(*, move: StockMove, reason: str, user: Any = None) -> StockMove:
    """Undo a move with its mirror image. A move is reversed at most once; a reversal is not reversed."""
    move = StockMove.objects.select_related(
        "product__stock_unit", "from_location__warehouse", "to_location__warehouse", "lot"
    ).get(pk=move.pk)
    if move.reversal_of_id is not None:
        raise InvalidStockOperation(f"Move {move.pk} is itself a reversal; record a new move instead.")
    if StockMove.objects.filter(reversal_of=move).exists():
        raise InvalidStockOperation(f"Move {move.pk} has already been reversed.")
    if not reason.strip():
        raise ValidationFailed("A reversal needs a reason.", field_errors={"reason": ["Required."]})
    spec = MoveSpec(
        product=move.product,
        quantity=move.quantity,
        from_location=move.to_location,
        to_location=move.from_location,
        lot=move.lot,
        unit_cost=move.unit_cost,
        kind=MoveKind.REVERSAL,
        reason=reason.strip(),
        reversal_of=move,
        document=Document(move.document_type, move.document_id, move.reference),
    )
    return post([spec], user=user).moves[0]
