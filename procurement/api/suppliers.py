"""Suppliers and their contacts."""

from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from ninja import Query
from ninja.pagination import PageNumberPagination, paginate

from erp.api_helpers import Listing, filtered, get_or_404, no_nulls, user_of
from erp.concurrency import if_match_param, locked_for_update, with_etag
from erp.exceptions import NotFound
from procurement import selectors, services
from procurement.api.common import PAGE_SIZE, router
from procurement.filters import SupplierFilter
from procurement.models import Supplier, SupplierContact
from procurement.schemas.suppliers import (
    SUPPLIER_ORDERING,
    SupplierContactIn,
    SupplierContactOut,
    SupplierDetailOut,
    SupplierFilterIn,
    SupplierIn,
    SupplierOut,
    SupplierPatchIn,
)

SUPPLIERS = Listing(ordering=SUPPLIER_ORDERING)


def _supplier_detail(pk: int) -> Supplier:
    try:
        supplier = selectors.supplier_detail(pk)
    except Supplier.DoesNotExist:
        raise NotFound(f"No supplier with id {pk}.") from None
    supplier.open_purchase_orders = list(selectors.supplier_open_orders(supplier))  # type: ignore[attr-defined]
    return supplier


@router.get("/suppliers", response=list[SupplierOut])
@paginate(PageNumberPagination, page_size=PAGE_SIZE)
def supplier_list(request: HttpRequest, filters: Query[SupplierFilterIn]) -> QuerySet[Supplier]:
    """Suppliers by name, with their open orders and the balance of their unpaid bills."""
    return filtered(SupplierFilter, filters, selectors.supplier_list(), listing=SUPPLIERS)


@router.post("/suppliers", response={201: SupplierDetailOut})
def supplier_create(request: HttpRequest, payload: SupplierIn) -> Supplier:
    """A supplier, with its contacts."""
    user = user_of(request)
    with transaction.atomic():
        supplier = services.supplier_create(user=user, **payload.dict(exclude={"contacts"}))
        for contact in payload.contacts:
            services.supplier_contact_add(supplier=supplier, **contact.dict())
    return _supplier_detail(supplier.pk)


@router.get("/suppliers/{supplier_id}", response=SupplierDetailOut)
def supplier_detail(request: HttpRequest, supplier_id: int, response: HttpResponse) -> Supplier:
    """A supplier with contacts, items (with price breaks) and open purchase orders. The ``ETag``
    header names its version, for ``If-Match`` on PATCH."""
    supplier = _supplier_detail(supplier_id)
    with_etag(response, supplier)
    return supplier


@router.patch("/suppliers/{supplier_id}", response=SupplierDetailOut)
def supplier_update(
    request: HttpRequest,
    supplier_id: int,
    payload: SupplierPatchIn,
    response: HttpResponse,
    if_match: str | None = if_match_param(),
) -> Supplier:
    """Change the fields sent; ``is_active: false`` archives the supplier. With ``If-Match``: 412
    when the supplier changed since it was read."""
    changes = payload.dict(exclude_unset=True)
    no_nulls(changes)
    with locked_for_update(Supplier, supplier_id, what="supplier", if_match=if_match) as supplier:
        services.supplier_update(supplier=supplier, user=user_of(request), **changes)
    supplier = _supplier_detail(supplier_id)
    with_etag(response, supplier)
    return supplier


@router.post("/suppliers/{supplier_id}/contacts", response={201: SupplierContactOut})
def supplier_contact_add(
    request: HttpRequest, supplier_id: int, payload: SupplierContactIn
) -> SupplierContact:
    supplier = get_or_404(Supplier, supplier_id, "supplier")
    return services.supplier_contact_add(supplier=supplier, **payload.dict())
