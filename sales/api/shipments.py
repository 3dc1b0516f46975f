"""Shipments, and the fulfilment queue: what can ship now."""

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Query
from ninja.pagination import PageNumberPagination, paginate

from erp.api_helpers import Listing, filtered, user_of
from sales import selectors, services
from sales.api.common import PAGE_SIZE, held_quantity, router, shipment_of
from sales.filters import ShipmentFilter
from sales.models import OrderLine, Shipment
from sales.schemas.shipments import (
    FULFILMENT_ORDERING,
    SHIPMENT_ORDERING,
    FulfilmentFilterIn,
    FulfilmentLineOut,
    ShipmentDetailOut,
    ShipmentFilterIn,
    ShipmentListOut,
    ShipmentTrackingIn,
)

SHIPMENTS = Listing(ordering=SHIPMENT_ORDERING)
FULFILMENT = Listing(ordering=FULFILMENT_ORDERING, updated=None)


@router.get("/shipments", response=list[ShipmentListOut])
@paginate(PageNumberPagination, page_size=PAGE_SIZE)
def shipment_list(request: HttpRequest, filters: Query[ShipmentFilterIn]) -> QuerySet[Shipment]:
    return filtered(ShipmentFilter, filters, selectors.shipment_list(), listing=SHIPMENTS)


@router.get("/shipments/{shipment_id}", response=ShipmentDetailOut)
def shipment_detail(request: HttpRequest, shipment_id: int) -> Shipment:
    return shipment_of(shipment_id)


@router.patch("/shipments/{shipment_id}", response=ShipmentDetailOut)
def shipment_tracking(request: HttpRequest, shipment_id: int, payload: ShipmentTrackingIn) -> Shipment:
    """Change a shipment's carrier and tracking number (and service): the goods and the stock are
    untouched; the channel the order came from is told the new tracking (``sales.shipment_updated``)."""
    shipment = shipment_of(shipment_id)
    services.shipment_tracking_set(
        shipment=shipment,
        carrier=payload.carrier,
        tracking_number=payload.tracking_number,
        service=payload.service,
        user=user_of(request),
    )
    return shipment_of(shipment_id)


# --- fulfilment -----------------------------------------------------------------------------------


@router.get("/fulfilment", response=list[FulfilmentLineOut])
@paginate(PageNumberPagination, page_size=PAGE_SIZE)
def fulfilment_queue(request: HttpRequest, filters: Query[FulfilmentFilterIn]) -> QuerySet[OrderLine]:
    """What can ship now (the fulfilment queue of the pages): open lines of confirmed orders with
    stock held for them, oldest order first, with what is reserved. Ship with POST /orders/{id}/ship."""
    queue = selectors.ready_to_ship().annotate(reserved=held_quantity())
    if filters.channel is not None:
        queue = queue.filter(order__channel_id=filters.channel)
    if filters.warehouse is not None:
        queue = queue.filter(order__channel__warehouse_id=filters.warehouse)
    return FULFILMENT.apply(queue, filters)
