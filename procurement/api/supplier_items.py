"""Supplier items: what a supplier sells us, at what price (with price breaks)."""

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Query, Status
from ninja.pagination import PageNumberPagination, paginate

from erp.api_helpers import Listing, filtered, get_or_404, user_of
from erp.exceptions import ValidationFailed
from inventory.lookups import one_product, units_by_code
from procurement import selectors, services
from procurement.api.common import PAGE_SIZE, router
from procurement.filters import SupplierItemFilter
from procurement.models import Supplier, SupplierItem
from procurement.schemas.supplier_items import (
    SUPPLIER_ITEM_ORDERING,
    SupplierItemFilterIn,
    SupplierItemIn,
    SupplierItemOut,
)

SUPPLIER_ITEMS = Listing(ordering=SUPPLIER_ITEM_ORDERING)


@router.get("/supplier-items", response=list[SupplierItemOut])
@paginate(PageNumberPagination, page_size=PAGE_SIZE)
def supplier_item_list(request: HttpRequest, filters: Query[SupplierItemFilterIn]) -> QuerySet[SupplierItem]:
    return filtered(SupplierItemFilter, filters, selectors.supplier_item_list(), listing=SUPPLIER_ITEMS)


@router.post("/supplier-items", response={200: SupplierItemOut, 201: SupplierItemOut})
def supplier_item_set(request: HttpRequest, payload: SupplierItemIn) -> Status[SupplierItem]:
    """Create (201) or change (200) what a supplier sells us: one item per supplier and product.
    ``price_breaks``, when sent, replaces the item's breaks; ``is_preferred`` takes the preference
    from any other supplier of the product."""
    supplier = get_or_404(Supplier, payload.supplier, "supplier", field="supplier")
    product = one_product(payload.product, payload.sku)
    unit = None
    if payload.purchase_unit:
        unit = units_by_code({payload.purchase_unit}).get(payload.purchase_unit.strip().lower())
        if unit is None:
            message = f"No unit '{payload.purchase_unit}'."
            raise ValidationFailed(message, field_errors={"purchase_unit": [message]})
    exists = SupplierItem.objects.filter(supplier=supplier, product=product).exists()
    item = services.supplier_item_set(
        supplier=supplier,
        product=product,
        unit_price=payload.unit_price,
        purchase_unit=unit,
        factor=payload.factor,
        supplier_sku=payload.supplier_sku,
        min_order_quantity=payload.min_order_quantity,
        lead_time_days=payload.lead_time_days,
        is_preferred=payload.is_preferred,
        price_breaks=(
            [(b.min_quantity, b.unit_price) for b in payload.price_breaks]
            if payload.price_breaks is not None
            else None
        ),
        user=user_of(request),
    )
    return Status(200 if exists else 201, selectors.supplier_item_list().get(pk=item.pk))


@router.delete("/supplier-items/{item_id}", response={204: None})
def supplier_item_delete(request: HttpRequest, item_id: int) -> None:
    """The supplier no longer sells it. Orders that used it keep their lines (and prices)."""
    services.supplier_item_delete(item=get_or_404(SupplierItem, item_id, "supplier item"))
