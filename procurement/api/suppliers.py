"""Suppliers and their contacts."""

from dataclasses import dataclass

from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from ninja import Query
from ninja.pagination import PageNumberPagination, paginate

from erp.api_helpers import Listing, Shown, filtered, get_or_404, user_of
from erp.concurrency import if_match_param
from erp.contacts import create_with_contacts
from erp.exceptions import NotFound
from erp.patching import answer_with_etag, changes_of, patch_with_etag
from procurement import selectors, services
from procurement.api.common import PAGE_SIZE, router
from procurement.filters import SupplierFilter
from procurement.models import PurchaseOrder, Supplier, SupplierContact
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


@dataclass(frozen=True)
class SupplierDetail(Shown[Supplier]):
    """A supplier as SupplierDetailOut reads it, with its open purchase orders."""

    open_purchase_orders: list[PurchaseOrder]


def _supplier_detail(pk: int) -> SupplierDetail:
    try:
        supplier = selectors.supplier_detail(pk)
    except Supplier.DoesNotExist:
        raise NotFound(f"No supplier with id {pk}.") from None
    return SupplierDetail(obj=supplier, open_purchase_orders=list(selectors.supplier_open_orders(supplier)))


@router.get("/suppliers", response=list[SupplierOut])
@paginate(PageNumberPagination, page_size=PAGE_SIZE)
def supplier_list(request: HttpRequest, filters: Query[SupplierFilterIn]) -> QuerySet[Supplier]:
    """Suppliers by name, with their open orders and the balance of their unpaid bills."""
    return filtered(SupplierFilter, filters, selectors.supplier_list(), listing=SUPPLIERS)


@router.post("/suppliers", response={201: SupplierDetailOut})
def supplier_create(request: HttpRequest, payload: SupplierIn) -> SupplierDetail:
    """A supplier, with its contacts."""
    user = user_of(request)
    supplier = create_with_contacts(
        lambda: services.supplier_create(user=user, **payload.dict(exclude={"contacts"})),
        payload.contacts,
        lambda owner, values: services.supplier_contact_add(supplier=owner, **values),
    )
    return _supplier_detail(supplier.pk)


@router.get("/suppliers/{supplier_id}", response=SupplierDetailOut)
def supplier_detail(request: HttpRequest, supplier_id: int, response: HttpResponse) -> SupplierDetail:
    """A supplier with contacts, items (with price breaks) and open purchase orders. The ``ETag``
    header names its version, for ``If-Match`` on PATCH."""
    return answer_with_etag(response, _supplier_detail(supplier_id))


@router.patch("/suppliers/{supplier_id}", response=SupplierDetailOut)
def supplier_update(
    request: HttpRequest,
    supplier_id: int,
    payload: SupplierPatchIn,
    response: HttpResponse,
    if_match: str | None = if_match_param(),
) -> SupplierDetail:
    """Change the fields sent; ``is_active: false`` archives the supplier. With ``If-Match``: 412
    when the supplier changed since it was read."""
    changes = changes_of(payload)
    return patch_with_etag(
        response,
        Supplier,
        supplier_id,
        what="supplier",
        if_match=if_match,
        update=lambda supplier: services.supplier_update(supplier=supplier, user=user_of(request), **changes),
        detail=_supplier_detail,
    )


@router.post("/suppliers/{supplier_id}/contacts", response={201: SupplierContactOut})
def supplier_contact_add(
    request: HttpRequest, supplier_id: int, payload: SupplierContactIn
) -> SupplierContact:
    supplier = get_or_404(Supplier, supplier_id, "supplier")
    return services.supplier_contact_add(supplier=supplier, **payload.dict())
