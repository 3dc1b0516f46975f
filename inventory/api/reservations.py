"""Reservations: stock held for a demand, released or consumed."""

from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Query
from ninja.pagination import PageNumberPagination, paginate

from erp.api_helpers import Listing, filtered, get_or_404, user_of
from erp.money import ZERO, quantize_quantity
from inventory import selectors, services
from inventory.api.common import PAGE_SIZE, location_by_id, lot_by_id, product_by_id, router, warehouse_by_id
from inventory.filters import ReservationFilter
from inventory.ledger import Document
from inventory.models import Reservation
from inventory.schemas.reservations import (
    RESERVATION_ORDERING,
    ConsumeIn,
    ConsumeOut,
    ReservationFilterIn,
    ReservationIn,
    ReservationOut,
    ReservationQuantityIn,
    ReserveOut,
)

RESERVATIONS = Listing(ordering=RESERVATION_ORDERING, updated=None)


def _reservations() -> QuerySet[Reservation]:
    return selectors.reservation_list(active_only=False)


@router.get("/reservations", response=list[ReservationOut])
@paginate(PageNumberPagination, page_size=PAGE_SIZE)
def reservation_list(request: HttpRequest, filters: Query[ReservationFilterIn]) -> QuerySet[Reservation]:
    """Reservations of every status (``status=active`` for what is still held), oldest first."""
    return filtered(ReservationFilter, filters, _reservations(), listing=RESERVATIONS)


@router.post("/reservations", response={201: ReserveOut})
def reservation_create(request: HttpRequest, payload: ReservationIn) -> dict[str, Any]:
    """Hold available stock of a warehouse (or one bin, or one lot) for a demand, first-expiring
    lots first. All or nothing (409), unless ``allow_partial``."""
    product = product_by_id(payload.product)
    warehouse = warehouse_by_id(payload.warehouse)
    location = location_by_id(payload.location) if payload.location is not None else None
    held = services.stock_reserve(
        product=product,
        warehouse=warehouse,
        quantity=payload.quantity,
        demand=services.Demand(payload.demand_type, payload.demand_id, payload.reference),
        location=location,
        lot=lot_by_id(payload.lot),
        allow_partial=payload.allow_partial,
        user=user_of(request),
    )
    reservations = list(_reservations().filter(pk__in=[r.pk for r in held]))
    return {
        "requested": quantize_quantity(payload.quantity),
        "reserved": sum((r.quantity for r in reservations), ZERO),
        "reservations": reservations,
    }


@router.post("/reservations/{reservation_id}/release", response=ReservationOut)
def reservation_release(
    request: HttpRequest, reservation_id: int, payload: ReservationQuantityIn | None = None
) -> Reservation:
    """Give back everything still held (or ``quantity`` of it)."""
    reservation = get_or_404(Reservation, reservation_id, "reservation")
    services.reservation_release(
        reservation=reservation,
        quantity=payload.quantity if payload is not None else None,
        user=user_of(request),
    )
    return _reservations().get(pk=reservation_id)


@router.post("/reservations/{reservation_id}/consume", response={201: ConsumeOut})
def reservation_consume(
    request: HttpRequest, reservation_id: int, payload: ConsumeIn | None = None
) -> dict[str, Any]:
    """Issue held stock to the customer (everything still held, or ``quantity``).
    The move belongs to the reservation's demand."""
    reservation = get_or_404(Reservation, reservation_id, "reservation")
    reference = payload.reference.strip() if payload is not None else ""
    move = services.reservation_consume(
        reservation=reservation,
        quantity=payload.quantity if payload is not None else None,
        document=Document(reservation.demand_type, reservation.demand_id, reference or reservation.reference),
        user=user_of(request),
    )
    return {
        "reservation": _reservations().get(pk=reservation_id),
        "move": selectors.move_list().get(pk=move.pk),
    }
