"""What the sections of the procurement API share: the router they register on, the page size, and
the lookups more than one of them makes."""

from django.db.models.functions import Lower
from ninja import Router

from erp.apiauth import ErpAuth
from erp.exceptions import NotFound
from inventory.models import Product, UnitOfMeasure
from procurement import lifecycle, selectors, services
from procurement.models import PurchaseOrder

router = Router(tags=["Procurement"], auth=ErpAuth("procurement"))

PAGE_SIZE = 50


def units_by_code(codes: set[str]) -> dict[str, UnitOfMeasure]:
    """Units by code (any case), in one query."""
    if not codes:
        return {}
    wanted = {c.strip().lower() for c in codes}
    return {u.code.lower(): u for u in UnitOfMeasure.objects.annotate(lc=Lower("code")).filter(lc__in=wanted)}


def products_by_id_and_sku(ids: set[int], skus: set[str]) -> tuple[dict[int, Product], dict[str, Product]]:
    """Products by id and by SKU (any case), in at most two queries."""
    products = Product.objects.select_related("stock_unit")
    by_id: dict[int, Product] = products.in_bulk(ids) if ids else {}
    by_sku: dict[str, Product] = {}
    if skus:
        wanted = {s.lower() for s in skus}
        for p in products.annotate(lc=Lower("sku")).filter(lc__in=wanted):
            by_sku[p.sku.lower()] = p
    return by_id, by_sku


def product_of(
    product_id: int | None, sku: str | None, by_id: dict[int, Product], by_sku: dict[str, Product]
) -> tuple[Product | None, str, str]:
    """(product, field, error): the product named by id or SKU, or which field is wrong and why."""
    sku = (sku or "").strip()
    if (product_id is None) == (not sku):
        return None, "product", "Give the product id or its SKU, one of the two."
    if product_id is not None:
        found = by_id.get(product_id)
        return found, "product", "" if found else f"No product with id {product_id}."
    found = by_sku.get(sku.lower())
    return found, "sku", "" if found else f"No product with SKU '{sku}'."


def po_detail_of(pk: int) -> PurchaseOrder:
    """A purchase order as PurchaseOrderDetailOut reads it: everything prefetched, actions attached."""
    try:
        po = selectors.po_detail(pk)
    except PurchaseOrder.DoesNotExist:
        raise NotFound(f"No purchase order with id {pk}.") from None
    po.allowed_actions = lifecycle.allowed_actions(  # type: ignore[attr-defined]
        po.status, needs_approval=services.needs_approval(po), approved=po.approved_at is not None
    )
    return po
