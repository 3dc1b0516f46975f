"""Replenishment: what to buy now, and ordering it."""

from typing import Any

from django.http import HttpRequest
from ninja.pagination import PageNumberPagination, paginate

from erp.api_helpers import user_of
from erp.exceptions import ValidationFailed
from inventory.models import Warehouse
from procurement import replenishment
from procurement.api.common import PAGE_SIZE, PurchaseOrderDetail, po_detail_of, router
from procurement.schemas.orders import PurchaseOrderDetailOut
from procurement.schemas.replenishment import PurchaseSuggestionOut, ReplenishIn


def _suggestion_out(s: replenishment.PurchaseSuggestion) -> dict[str, Any]:
    rule, item = s.stock.rule, s.item
    return {
        "key": s.key,
        "product": rule.product_id,
        "sku": rule.product.sku,
        "product_name": rule.product.name,
        "warehouse": rule.warehouse_id,
        "warehouse_code": rule.warehouse.code,
        "projected": s.stock.projected,
        "min": rule.min_quantity,
        "max": rule.max_quantity,
        "stock_quantity": s.stock_quantity,
        "stock_unit": rule.product.stock_unit.code,
        "supplier": item.supplier_id if item else None,
        "supplier_name": item.supplier.name if item else None,
        "purchase_quantity": s.quantity,
        "purchase_unit": item.purchase_unit.code if item else None,
        "unit_price": s.unit_price,
        "currency": item.supplier.currency if item else None,
        "orderable": s.orderable,  # not when draft orders already cover it
    }


@router.get("/replenishment", response=list[PurchaseSuggestionOut])
@paginate(PageNumberPagination, page_size=PAGE_SIZE)
def replenishment_suggestions(request: HttpRequest, warehouse: int | None = None) -> list[dict[str, Any]]:
    """What is projected below its minimum, bought from the preferred supplier: the stock quantity up to
    the maximum, in purchase units (rounded up, at least the minimum order), priced with the break
    reached. A suggestion without a preferred supplier is listed but not orderable."""
    if warehouse is not None and not Warehouse.objects.filter(pk=warehouse).exists():
        raise ValidationFailed(
            "Invalid filter.", field_errors={"warehouse": [f"No warehouse with id {warehouse}."]}
        )
    return [_suggestion_out(s) for s in replenishment.suggestions(warehouse_id=warehouse)]


@router.post("/replenishment", response={201: list[PurchaseOrderDetailOut]})
def replenishment_order(request: HttpRequest, payload: ReplenishIn) -> list[PurchaseOrderDetail]:
    """Order the chosen suggestions (by key): draft purchase orders, one per supplier and warehouse."""
    orders = replenishment.orders_from_suggestions(keys=payload.keys, user=user_of(request))
    return [po_detail_of(po.pk) for po in orders]
