"""Transfers between bins: direct, or in two steps between warehouses (shipped, then received)."""

from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Query
from ninja.pagination import PageNumberPagination, paginate

from erp.api_helpers import Listing, filtered, get_or_404, user_of
from erp.exceptions import NotFound
from inventory import selectors, services
from inventory.api.common import PAGE_SIZE, location_by_id, router
from inventory.filters import TransferFilter
from inventory.models import Lot, Product, Transfer
from inventory.schemas.moves import (
    TRANSFER_ORDERING,
    DirectTransferOut,
    TransferFilterIn,
    TransferIn,
    TransferOut,
)

TRANSFERS = Listing(ordering=TRANSFER_ORDERING)


def _transfers() -> QuerySet[Transfer]:
    return selectors.transfer_list().prefetch_related("lines__lot")


@router.post("/transfers", response={201: TransferOut | DirectTransferOut})
def transfer_create(request: HttpRequest, payload: TransferIn) -> Any:
    """Move stock between bins. Direct: done at once, answers the moves. With ``two_step``
    (between warehouses): shipped into transit now, answers the transfer to receive later."""
    from_location = location_by_id(payload.from_location, field="from_location")
    to_location = location_by_id(payload.to_location, field="to_location")
    products = Product.objects.select_related("stock_unit").in_bulk({ln.product for ln in payload.lines})
    lots = Lot.objects.in_bulk({ln.lot for ln in payload.lines if ln.lot is not None})
    lines = []
    for i, ln in enumerate(payload.lines):
        if ln.product not in products:
            message = f"No product with id {ln.product}."
            raise NotFound(message, field_errors={f"lines.{i}.product": [message]})
        if ln.lot is not None and ln.lot not in lots:
            message = f"No lot with id {ln.lot}."
            raise NotFound(message, field_errors={f"lines.{i}.lot": [message]})
        lines.append(
            services.Line(
                product=products[ln.product],
                quantity=ln.quantity,
                lot=lots[ln.lot] if ln.lot is not None else None,
            )
        )
    if payload.two_step:
        transfer = services.transfer_ship(
            from_location=from_location,
            to_location=to_location,
            lines=lines,
            note=payload.note,
            user=user_of(request),
        )
        return _transfers().get(pk=transfer.pk)
    moves = services.stock_transfer(
        from_location=from_location,
        to_location=to_location,
        lines=lines,
        reason=payload.note,
        user=user_of(request),
    )
    ledger = selectors.move_list().filter(pk__in=[m.pk for m in moves]).order_by("pk")
    return {"moves": list(ledger)}


@router.get("/transfers", response=list[TransferOut])
@paginate(PageNumberPagination, page_size=PAGE_SIZE)
def transfer_list(request: HttpRequest, filters: Query[TransferFilterIn]) -> QuerySet[Transfer]:
    """Two-step transfers, newest first."""
    return filtered(TransferFilter, filters, _transfers(), listing=TRANSFERS)


@router.get("/transfers/{transfer_id}", response=TransferOut)
def transfer_detail(request: HttpRequest, transfer_id: int) -> Transfer:
    return get_or_404(_transfers(), transfer_id, "transfer")


@router.post("/transfers/{transfer_id}/receive", response=TransferOut)
def transfer_receive(request: HttpRequest, transfer_id: int) -> Transfer:
    """Step two: the goods arrive from transit at the destination."""
    transfer = get_or_404(Transfer, transfer_id, "transfer")
    services.transfer_receive(transfer=transfer, user=user_of(request))
    return _transfers().get(pk=transfer_id)


@router.post("/transfers/{transfer_id}/cancel", response=TransferOut)
def transfer_cancel(request: HttpRequest, transfer_id: int) -> Transfer:
    """Goods that never left: back from transit to the source."""
    transfer = get_or_404(Transfer, transfer_id, "transfer")
    services.transfer_cancel(transfer=transfer, user=user_of(request))
    return _transfers().get(pk=transfer_id)
