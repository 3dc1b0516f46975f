"""Levels and moves (never changed: a move is reversed by another), and the stock operations:
receipts, issues, adjustments and scrap."""

from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Query
from ninja.pagination import paginate

from erp.api_helpers import Listing, Shown, filtered, get_or_404, user_of
from erp.exceptions import ValidationFailed
from erp.money import ZERO
from erp.pagination import KeysetPagination
from inventory import selectors, services
from inventory.api.common import PAGE_SIZE, location_by_id, lot_by_id, product_by_id, router
from inventory.filters import LevelFilter, MoveFilter
from inventory.ledger import Document
from inventory.models import StockLevel, StockMove
from inventory.schemas.levels import LEVEL_ORDERING, LevelFilterIn, LevelOut
from inventory.schemas.moves import (
    MOVE_ORDERING,
    AdjustmentIn,
    AdjustmentOut,
    IssueIn,
    MoveDetailOut,
    MoveFilterIn,
    MoveOut,
    ReceiptIn,
    ReverseIn,
    ScrapIn,
)
from inventory.selectors import AVAILABLE

LEVELS = Listing(ordering=LEVEL_ORDERING, updated=None)
MOVES = Listing(ordering=MOVE_ORDERING, updated="created_at")


@router.get("/levels", response=list[LevelOut])
@paginate(KeysetPagination, page_size=PAGE_SIZE, rows=LevelOut, computed={"available": AVAILABLE})
def level_list(request: HttpRequest, filters: Query[LevelFilterIn]) -> QuerySet[StockLevel]:
    """Stock per (product, bin, lot). The counterparts at virtual locations only with
    ``include_virtual=true``."""
    queryset = selectors.level_list(include_virtual=filters.include_virtual)
    return filtered(LevelFilter, filters, queryset, listing=LEVELS, exclude={"include_virtual"})


@router.get("/moves", response=list[MoveOut])
@paginate(KeysetPagination, page_size=PAGE_SIZE, rows=MoveOut)
def move_list(request: HttpRequest, filters: Query[MoveFilterIn]) -> QuerySet[StockMove]:
    """The stock ledger, newest first. Moves are never changed: a mistake is reversed."""
    return filtered(MoveFilter, filters, selectors.move_list(), listing=MOVES)


@dataclass(frozen=True)
class MoveDetail(Shown[StockMove]):
    """A move as MoveDetailOut reads it, with the move that reversed it (if any)."""

    reversed_by_id: int | None


@router.get("/moves/{move_id}", response=MoveDetailOut)
def move_detail(request: HttpRequest, move_id: int) -> MoveDetail:
    move = get_or_404(selectors.move_list(), move_id, "stock move")
    return MoveDetail(obj=move, reversed_by_id=selectors.reversed_by(move))


@router.post("/moves/{move_id}/reverse", response={201: MoveOut})
def move_reverse(request: HttpRequest, move_id: int, payload: ReverseIn) -> StockMove:
    """Undo a move with its mirror image (once; a reversal is not reversed)."""
    move = get_or_404(StockMove, move_id, "stock move")
    reversal = services.stock_move_reverse(move=move, reason=payload.reason, user=user_of(request))
    return selectors.move_list().get(pk=reversal.pk)


def _document(reference: str) -> Document:
    return Document(reference=reference.strip())


@router.post("/receipts", response={201: MoveOut})
def receipt_create(request: HttpRequest, payload: ReceiptIn) -> StockMove:
    """Stock in from a supplier (opening stock, tools): sets the moving-average cost.
    A ``lot`` code is created for the product if new."""
    product = product_by_id(payload.product)
    location = location_by_id(payload.location)
    lot = None
    if payload.lot:
        lot = services.lot_get_or_create(product=product, code=payload.lot, expiry_date=payload.expiry_date)
    elif payload.expiry_date is not None:
        raise ValidationFailed(
            "An expiry date belongs to a lot: give the lot code too.", field_errors={"lot": ["Required."]}
        )
    move = services.stock_receive(
        product=product,
        location=location,
        quantity=payload.quantity,
        unit_cost=payload.unit_cost,
        lot=lot,
        document=_document(payload.reference),
        reason=payload.reason,
        user=user_of(request),
    )
    return selectors.move_list().get(pk=move.pk)


@router.post("/issues", response={201: MoveOut})
def issue_create(request: HttpRequest, payload: IssueIn) -> StockMove:
    """Unreserved stock out to a customer. Refused (409) beyond what is available."""
    move = services.stock_issue(
        product=product_by_id(payload.product),
        location=location_by_id(payload.location),
        quantity=payload.quantity,
        lot=lot_by_id(payload.lot),
        document=_document(payload.reference),
        reason=payload.reason,
        user=user_of(request),
    )
    return selectors.move_list().get(pk=move.pk)


@router.post("/adjustments", response=AdjustmentOut)
def adjustment_create(request: HttpRequest, payload: AdjustmentIn) -> dict[str, Any]:
    """Set the on-hand quantity of a bin (``quantity``) or change it (``delta``), with a reason."""
    product, location, lot = (
        product_by_id(payload.product),
        location_by_id(payload.location),
        lot_by_id(payload.lot),
    )
    move = services.stock_adjust(
        product=product,
        location=location,
        lot=lot,
        quantity=payload.quantity,
        delta=payload.delta,
        reason=payload.reason,
        user=user_of(request),
    )
    level = StockLevel.objects.filter(product=product, location=location, lot=lot).first()
    return {
        "move": selectors.move_list().get(pk=move.pk) if move is not None else None,
        "level": level if level is not None else {"on_hand": ZERO, "reserved": ZERO, "available": ZERO},
    }


@router.post("/scrap", response={201: MoveOut})
def scrap_create(request: HttpRequest, payload: ScrapIn) -> StockMove:
    """Stock written off as damaged or lost, with a reason."""
    move = services.stock_scrap(
        product=product_by_id(payload.product),
        location=location_by_id(payload.location),
        quantity=payload.quantity,
        lot=lot_by_id(payload.lot),
        reason=payload.reason,
        user=user_of(request),
    )
    return selectors.move_list().get(pk=move.pk)
