"""Warehouses and their locations."""

from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from ninja import Query
from ninja.pagination import PageNumberPagination, paginate

from erp.api_helpers import Listing, filtered, no_nulls, user_of
from erp.concurrency import if_match_param, locked_for_update, with_etag
from inventory import selectors, services
from inventory.api.common import PAGE_SIZE, location_by_id, router, warehouse_by_id
from inventory.filters import LocationFilter, WarehouseFilter
from inventory.models import Location, Warehouse
from inventory.schemas.warehouses import (
    LOCATION_ORDERING,
    WAREHOUSE_ORDERING,
    LocationFilterIn,
    LocationIn,
    LocationOut,
    LocationPatchIn,
    WarehouseFilterIn,
    WarehouseIn,
    WarehouseOut,
    WarehousePatchIn,
)

WAREHOUSES = Listing(ordering=WAREHOUSE_ORDERING)
LOCATIONS = Listing(ordering=LOCATION_ORDERING, updated=None)


@router.get("/warehouses", response=list[WarehouseOut])
@paginate(PageNumberPagination, page_size=PAGE_SIZE)
def warehouse_list(request: HttpRequest, filters: Query[WarehouseFilterIn]) -> QuerySet[Warehouse]:
    return filtered(WarehouseFilter, filters, selectors.warehouse_list(), listing=WAREHOUSES)


@router.post("/warehouses", response={201: WarehouseOut})
def warehouse_create(request: HttpRequest, payload: WarehouseIn) -> Warehouse:
    """A warehouse, with its root zone and a default ``Stock`` bin."""
    return services.warehouse_create(**payload.model_dump(), user=user_of(request))


@router.get("/warehouses/{warehouse_id}", response=WarehouseOut)
def warehouse_detail(request: HttpRequest, warehouse_id: int, response: HttpResponse) -> Warehouse:
    """A warehouse; the ``ETag`` header names its version, for ``If-Match`` on PATCH."""
    warehouse = warehouse_by_id(warehouse_id, field=None)
    with_etag(response, warehouse)
    return warehouse


@router.patch("/warehouses/{warehouse_id}", response=WarehouseOut)
def warehouse_update(
    request: HttpRequest,
    warehouse_id: int,
    payload: WarehousePatchIn,
    response: HttpResponse,
    if_match: str | None = if_match_param(),
) -> Warehouse:
    """Change the fields sent. With ``If-Match``: 412 when the warehouse changed since it was read."""
    changes = payload.model_dump(exclude_unset=True)
    no_nulls(changes)
    with locked_for_update(Warehouse, warehouse_id, what="warehouse", if_match=if_match) as warehouse:
        services.warehouse_update(warehouse=warehouse, user=user_of(request), **changes)
    warehouse = warehouse_by_id(warehouse_id, field=None)
    with_etag(response, warehouse)
    return warehouse


@router.get("/locations", response=list[LocationOut])
@paginate(PageNumberPagination, page_size=PAGE_SIZE)
def location_list(request: HttpRequest, filters: Query[LocationFilterIn]) -> QuerySet[Location]:
    """Zones and bins of the warehouses, and the virtual locations (supplier, customer, transit...)."""
    return filtered(LocationFilter, filters, selectors.location_list(include_virtual=True), listing=LOCATIONS)


@router.post("/locations", response={201: LocationOut})
def location_create(request: HttpRequest, payload: LocationIn) -> Location:
    """A zone (``view``) or a bin (``internal``) under a zone."""
    parent = location_by_id(payload.parent, field="parent")
    return services.location_create(
        parent=parent, name=payload.name, kind=payload.kind, barcode=payload.barcode or None
    )


@router.get("/locations/{location_id}", response=LocationOut)
def location_detail(request: HttpRequest, location_id: int) -> Location:
    return location_by_id(location_id, field=None)


@router.patch("/locations/{location_id}", response=LocationOut)
def location_update(request: HttpRequest, location_id: int, payload: LocationPatchIn) -> Location:
    """Rename, set or remove (``""`` or null) the barcode, archive (``is_active: false``) or restore.
    Locations keep no ``updated_at``: no ETag, no If-Match."""
    location = location_by_id(location_id, field=None)
    changes = payload.model_dump(exclude_unset=True)
    no_nulls(changes, nullable={"barcode"})
    if "barcode" in changes and changes["barcode"] is None:
        changes["barcode"] = ""
    services.location_update(location=location, **changes)
    return location_by_id(location_id, field=None)
