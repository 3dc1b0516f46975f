"""Purchase orders: create and change them, their lifecycle actions (approve, send, cancel, close)
and receiving goods against them."""

from collections.abc import Sequence
from typing import Any

from django.db.models import Prefetch, QuerySet
from django.http import HttpRequest, HttpResponse
from ninja import Query
from ninja.pagination import PageNumberPagination, paginate

from erp.access import user_has_right
from erp.api_helpers import Listing, filtered, get_or_404, principal, user_of
from erp.apiauth import ErpAuth, Forbidden
from erp.concurrency import if_match_param
from erp.exceptions import ValidationFailed
from erp.patching import answer_with_etag, changes_of, patch_with_etag
from inventory.lookups import product_of, products_named, units_by_code
from inventory.models import Location, Warehouse
from procurement import selectors, services
from procurement.api.common import PAGE_SIZE, PurchaseOrderDetail, po_detail_of, router
from procurement.filters import PurchaseOrderFilter
from procurement.models import PurchaseOrder, PurchaseOrderLine, Receipt, Supplier
from procurement.schemas.orders import (
    PO_ORDERING,
    POLineIn,
    PurchaseOrderDetailOut,
    PurchaseOrderFilterIn,
    PurchaseOrderIn,
    PurchaseOrderListOut,
    PurchaseOrderPatchIn,
    PurchaseReasonIn,
)
from procurement.schemas.receipts import ReceiptOut, ReceiveIn


def _expand_po_lines(queryset: QuerySet[Any]) -> QuerySet[Any]:
    lines = selectors.po_line_list()
    return queryset.prefetch_related(Prefetch("lines", queryset=lines, to_attr="expanded_lines"))


PURCHASE_ORDERS = Listing(ordering=PO_ORDERING, expand={"lines": _expand_po_lines})


def _po(pk: int) -> PurchaseOrder:
    return get_or_404(PurchaseOrder.objects.select_related("supplier", "warehouse"), pk, "purchase order")


def _line_specs(lines: Sequence[POLineIn], field: str = "lines") -> list[services.POLineSpec]:
    """The lines' products (by id or SKU) and units (by code), in three queries; any not found is a 422."""
    by_id, by_sku = products_named(lines)
    units = units_by_code({ln.purchase_unit for ln in lines if ln.purchase_unit})
    errors: dict[str, list[str]] = {}
    specs = []
    for i, line in enumerate(lines):
        product, name, error = product_of(line.product, line.sku, by_id, by_sku)
        if product is None:
            errors[f"{field}.{i}.{name}"] = [error]
        unit = None
        if line.purchase_unit:
            unit = units.get(line.purchase_unit.strip().lower())
            if unit is None:
                errors[f"{field}.{i}.purchase_unit"] = [f"No unit '{line.purchase_unit}'."]
        if product is not None and not errors:
            specs.append(
                services.POLineSpec(
                    product=product,
                    quantity=line.quantity,
                    unit_cost=line.unit_cost,
                    purchase_unit=unit,
                    factor=line.factor,
                    tax_rate=line.tax_rate,
                    description=line.description,
                )
            )
    if errors:
        raise ValidationFailed(
            f"The purchase order is invalid: {next(iter(errors.values()))[0]}", field_errors=errors
        )
    return specs


@router.get("/purchase-orders", response=list[PurchaseOrderListOut])
@paginate(PageNumberPagination, page_size=PAGE_SIZE)
def po_list(request: HttpRequest, filters: Query[PurchaseOrderFilterIn]) -> QuerySet[PurchaseOrder]:
    """Purchase orders, newest first. ``status=open``: sent or partially received.
    ``expand=lines``: each order with its lines (fetched with the page)."""
    return filtered(PurchaseOrderFilter, filters, selectors.po_list(), listing=PURCHASE_ORDERS)


@router.post("/purchase-orders", response={201: PurchaseOrderDetailOut})
def po_create(request: HttpRequest, payload: PurchaseOrderIn) -> PurchaseOrderDetail:
    """A draft purchase order with all its lines in one request, priced from the supplier's items
    (price breaks apply) where no unit cost is given."""
    supplier = get_or_404(Supplier, payload.supplier, "supplier", field="supplier")
    warehouse = get_or_404(Warehouse, payload.warehouse, "warehouse", field="warehouse")
    po = services.po_create(
        supplier=supplier,
        warehouse=warehouse,
        lines=_line_specs(payload.lines),
        order_date=payload.order_date,
        expected_date=payload.expected_date,
        notes=payload.notes,
        user=user_of(request),
    )
    return po_detail_of(po.pk)


@router.get("/purchase-orders/{po_id}", response=PurchaseOrderDetailOut)
def po_detail(request: HttpRequest, po_id: int, response: HttpResponse) -> PurchaseOrderDetail:
    """A purchase order with its lines (ordered, received, billed, open, in purchase units), receipts,
    bills with payments, whether it needs (and has) approval, and the actions its state allows. The
    ``ETag`` header names its version, for ``If-Match`` on PATCH."""
    return answer_with_etag(response, po_detail_of(po_id))


@router.patch("/purchase-orders/{po_id}", response=PurchaseOrderDetailOut)
def po_update(
    request: HttpRequest,
    po_id: int,
    payload: PurchaseOrderPatchIn,
    response: HttpResponse,
    if_match: str | None = if_match_param(),
) -> PurchaseOrderDetail:
    """A draft: anything, ``lines`` replacing every line; later only notes and the expected date.
    With ``If-Match``: 412 when the order changed since it was read (approved, sent, received...)."""
    changes = changes_of(payload, nullable=frozenset({"expected_date"}))
    changes.pop("lines", None)
    lines = _line_specs(payload.lines) if payload.lines is not None else None
    if "warehouse" in changes:
        changes["warehouse"] = get_or_404(Warehouse, changes["warehouse"], "warehouse", field="warehouse")
    return patch_with_etag(
        response,
        PurchaseOrder,
        po_id,
        what="purchase order",
        if_match=if_match,
        update=lambda po: services.po_update(po=po, lines=lines, user=user_of(request), **changes),
        detail=po_detail_of,
    )


@router.post("/purchase-orders/{po_id}/approve", response=PurchaseOrderDetailOut)
def po_approve(request: HttpRequest, po_id: int) -> PurchaseOrderDetail:
    """A purchasing manager approves a draft above the approval threshold (403 for anyone else)."""
    po = _po(po_id)
    user = user_of(request)
    if not user_has_right(user, "procurement_approve"):
        raise Forbidden(f"Only a purchasing manager can approve {po.number}.")
    services.po_approve(po=po, user=user)
    return po_detail_of(po_id)


@router.post("/purchase-orders/{po_id}/send", response=PurchaseOrderDetailOut)
def po_send(request: HttpRequest, po_id: int) -> PurchaseOrderDetail:
    """Send to the supplier; above the approval threshold only once approved (else 422)."""
    services.po_send(po=_po(po_id), user=user_of(request))
    return po_detail_of(po_id)


@router.post("/purchase-orders/{po_id}/cancel", response=PurchaseOrderDetailOut)
def po_cancel(
    request: HttpRequest, po_id: int, payload: PurchaseReasonIn | None = None
) -> PurchaseOrderDetail:
    """Cancel a draft, or a sent order of which nothing is received."""
    reason = payload.reason if payload else ""
    services.po_cancel(po=_po(po_id), reason=reason, user=user_of(request))
    return po_detail_of(po_id)


@router.post("/purchase-orders/{po_id}/close", response=PurchaseOrderDetailOut)
def po_close(request: HttpRequest, po_id: int) -> PurchaseOrderDetail:
    """Nothing more is expected: a received order, or a partially received one closed short."""
    services.po_close(po=_po(po_id), user=user_of(request))
    return po_detail_of(po_id)


@router.post("/purchase-orders/{po_id}/receive", response={201: ReceiptOut}, auth=ErpAuth())
def po_receive(request: HttpRequest, po_id: int, payload: ReceiveIn) -> Receipt:
    """Receive goods into stock: each line's quantity in purchase units (x its factor in stock units),
    with lot and expiry, or serials, where the product is tracked. Allowed with ``procurement:write``
    or ``inventory:write`` (a warehouse may receive). Over the tolerance: 422 and nothing changes."""
    caller = principal(request)
    if not (caller.can("procurement", "write") or caller.can("inventory", "write")):
        via = "this API key" if caller.api_key else "your account"
        raise Forbidden(f"Scope 'procurement:write' or 'inventory:write' is required; {via} has neither.")
    po = _po(po_id)
    found = PurchaseOrderLine.objects.in_bulk({item.line_id for item in payload.lines})
    errors = {
        f"lines.{i}.line_id": [f"No line {item.line_id} in {po.number}."]
        for i, item in enumerate(payload.lines)
        if item.line_id not in found or found[item.line_id].order_id != po.pk
    }
    if errors:
        raise ValidationFailed(f"Cannot receive: {next(iter(errors.values()))[0]}", field_errors=errors)
    location = None
    if payload.location is not None:
        location = get_or_404(
            Location.objects.select_related("warehouse"), payload.location, "location", field="location"
        )
    receipt = services.receipt_create(
        po=po,
        lines=[
            services.ReceiveLine(
                line=found[item.line_id],
                quantity=item.quantity,
                lot_code=item.lot_code.strip(),
                expiry_date=item.expiry_date,
                serials=[s.strip() for s in item.serials if s.strip()],
            )
            for item in payload.lines
        ],
        location=location,
        note=payload.note,
        user=caller.user,
    )
    return selectors.receipt_detail(receipt.pk)
