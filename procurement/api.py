"""The procurement JSON API, mounted at /api/v1/procurement/.

Thin handlers: parse the input, look up what it references (404 when an id in the
path or a top-level reference is unknown, 422 for a bad line), call a service or
selector, answer with a schema. Reads need ``procurement:read``, everything else
``procurement:write`` (ErpAuth), except receiving goods, which a warehouse may do
too (``procurement:write`` or ``inventory:write``). Lists are paginated (``page``,
``page_size``: ``{"count", "items"}``) and filtered with the FilterSets of
procurement.filters, the same the pages use; they take ``ordering`` (an allow-list per
list), ``updated_since`` and, for purchase orders and bills, ``expand`` (erp.api_helpers).
Suppliers and purchase orders answer an ``ETag`` and their PATCH takes ``If-Match`` (412 when
stale; erp.concurrency). An action the lifecycle refuses is a 409 naming both states.
"""

from collections.abc import Sequence
from typing import Any

from django.db import transaction
from django.db.models import Prefetch, QuerySet
from django.db.models.functions import Lower
from django.http import HttpRequest, HttpResponse
from ninja import Query, Router, Status
from ninja.pagination import PageNumberPagination, paginate

from erp.access import user_has_right
from erp.api_helpers import Listing, filtered, get_or_404, no_nulls, principal, user_of
from erp.apiauth import ErpAuth, Forbidden
from erp.concurrency import if_match_param, locked_for_update, with_etag
from erp.exceptions import NotFound, ValidationFailed
from inventory.models import Location, Product, UnitOfMeasure, Warehouse
from procurement import lifecycle, replenishment, selectors, services
from procurement.filters import (
    BillFilter,
    PaymentFilter,
    PurchaseOrderFilter,
    ReceiptFilter,
    SupplierFilter,
    SupplierItemFilter,
)
from procurement.models import (
    Bill,
    BillLine,
    PurchaseOrder,
    PurchaseOrderLine,
    Receipt,
    Supplier,
    SupplierContact,
    SupplierItem,
    SupplierPayment,
)
from procurement.schemas import (
    BILL_ORDERING,
    PAYMENT_ORDERING,
    PO_ORDERING,
    RECEIPT_ORDERING,
    SUPPLIER_ITEM_ORDERING,
    SUPPLIER_ORDERING,
    BillDetailOut,
    BillFilterIn,
    BillIn,
    BillListOut,
    NoteIn,
    POLineIn,
    PurchaseOrderDetailOut,
    PurchaseOrderFilterIn,
    PurchaseOrderIn,
    PurchaseOrderListOut,
    PurchaseOrderPatchIn,
    PurchaseReasonIn,
    PurchaseSuggestionOut,
    ReceiptFilterIn,
    ReceiptOut,
    ReceiveIn,
    ReplenishIn,
    SupplierContactIn,
    SupplierContactOut,
    SupplierDetailOut,
    SupplierFilterIn,
    SupplierIn,
    SupplierItemFilterIn,
    SupplierItemIn,
    SupplierItemOut,
    SupplierOut,
    SupplierPatchIn,
    SupplierPaymentFilterIn,
    SupplierPaymentIn,
    SupplierPaymentListOut,
    SupplierPaymentRecordedOut,
)

router = Router(tags=["Procurement"], auth=ErpAuth("procurement"))

PAGE_SIZE = 50


# --- lists and input helpers ----------------------------------------------------------------------


def _expand_po_lines(queryset: QuerySet[Any]) -> QuerySet[Any]:
    lines = PurchaseOrderLine.objects.select_related("product__stock_unit", "purchase_unit").order_by(
        "position", "id"
    )
    return queryset.prefetch_related(Prefetch("lines", queryset=lines, to_attr="expanded_lines"))


def _expand_bill_lines(queryset: QuerySet[Any]) -> QuerySet[Any]:
    lines = BillLine.objects.select_related("order_line__product").order_by("id")
    return queryset.prefetch_related(Prefetch("lines", queryset=lines, to_attr="expanded_lines"))


def _expand_bill_payments(queryset: QuerySet[Any]) -> QuerySet[Any]:
    payments = SupplierPayment.objects.order_by("paid_at", "id")
    return queryset.prefetch_related(Prefetch("payments", queryset=payments, to_attr="expanded_payments"))


SUPPLIERS = Listing(ordering=SUPPLIER_ORDERING)
SUPPLIER_ITEMS = Listing(ordering=SUPPLIER_ITEM_ORDERING)
PURCHASE_ORDERS = Listing(ordering=PO_ORDERING, expand={"lines": _expand_po_lines})
RECEIPTS = Listing(ordering=RECEIPT_ORDERING)
BILLS = Listing(
    ordering=BILL_ORDERING, expand={"lines": _expand_bill_lines, "payments": _expand_bill_payments}
)
PAYMENTS = Listing(ordering=PAYMENT_ORDERING)


def _units(codes: set[str]) -> dict[str, UnitOfMeasure]:
    """Units by code (any case), in one query."""
    if not codes:
        return {}
    wanted = {c.strip().lower() for c in codes}
    return {u.code.lower(): u for u in UnitOfMeasure.objects.annotate(lc=Lower("code")).filter(lc__in=wanted)}


def _products(ids: set[int], skus: set[str]) -> tuple[dict[int, Product], dict[str, Product]]:
    """Products by id and by SKU (any case), in at most two queries."""
    products = Product.objects.select_related("stock_unit")
    by_id: dict[int, Product] = products.in_bulk(ids) if ids else {}
    by_sku: dict[str, Product] = {}
    if skus:
        wanted = {s.lower() for s in skus}
        for p in products.annotate(lc=Lower("sku")).filter(lc__in=wanted):
            by_sku[p.sku.lower()] = p
    return by_id, by_sku


def _product_of(
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


# --- suppliers ------------------------------------------------------------------------------------


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


# --- supplier items -------------------------------------------------------------------------------


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
    by_id, by_sku = _products(
        {payload.product} if payload.product is not None else set(),
        {payload.sku.strip()} if payload.sku and payload.sku.strip() else set(),
    )
    product, field, error = _product_of(payload.product, payload.sku, by_id, by_sku)
    if product is None:
        raise ValidationFailed(error, field_errors={field: [error]})
    unit = None
    if payload.purchase_unit:
        unit = _units({payload.purchase_unit}).get(payload.purchase_unit.strip().lower())
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


# --- purchase orders ------------------------------------------------------------------------------


def _po_detail(pk: int) -> PurchaseOrder:
    """A purchase order as PurchaseOrderDetailOut reads it: everything prefetched, actions attached."""
    try:
        po = selectors.po_detail(pk)
    except PurchaseOrder.DoesNotExist:
        raise NotFound(f"No purchase order with id {pk}.") from None
    po.allowed_actions = lifecycle.allowed_actions(  # type: ignore[attr-defined]
        po.status, needs_approval=services.needs_approval(po), approved=po.approved_at is not None
    )
    return po


def _po(pk: int) -> PurchaseOrder:
    return get_or_404(PurchaseOrder.objects.select_related("supplier", "warehouse"), pk, "purchase order")


def _line_specs(lines: Sequence[POLineIn], field: str = "lines") -> list[services.POLineSpec]:
    """The lines' products (by id or SKU) and units (by code), in three queries; any not found is a 422."""
    by_id, by_sku = _products(
        {ln.product for ln in lines if ln.product is not None},
        {ln.sku.strip() for ln in lines if ln.sku and ln.sku.strip()},
    )
    units = _units({ln.purchase_unit for ln in lines if ln.purchase_unit})
    errors: dict[str, list[str]] = {}
    specs = []
    for i, line in enumerate(lines):
        product, name, error = _product_of(line.product, line.sku, by_id, by_sku)
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
def po_create(request: HttpRequest, payload: PurchaseOrderIn) -> PurchaseOrder:
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
    return _po_detail(po.pk)


@router.get("/purchase-orders/{po_id}", response=PurchaseOrderDetailOut)
def po_detail(request: HttpRequest, po_id: int, response: HttpResponse) -> PurchaseOrder:
    """A purchase order with its lines (ordered, received, billed, open, in purchase units), receipts,
    bills with payments, whether it needs (and has) approval, and the actions its state allows. The
    ``ETag`` header names its version, for ``If-Match`` on PATCH."""
    po = _po_detail(po_id)
    with_etag(response, po)
    return po


@router.patch("/purchase-orders/{po_id}", response=PurchaseOrderDetailOut)
def po_update(
    request: HttpRequest,
    po_id: int,
    payload: PurchaseOrderPatchIn,
    response: HttpResponse,
    if_match: str | None = if_match_param(),
) -> PurchaseOrder:
    """A draft: anything, ``lines`` replacing every line; later only notes and the expected date.
    With ``If-Match``: 412 when the order changed since it was read (approved, sent, received...)."""
    changes = payload.dict(exclude_unset=True)
    no_nulls(changes, nullable=frozenset({"expected_date"}))
    changes.pop("lines", None)
    lines = _line_specs(payload.lines) if payload.lines is not None else None
    if "warehouse" in changes:
        changes["warehouse"] = get_or_404(Warehouse, changes["warehouse"], "warehouse", field="warehouse")
    with locked_for_update(PurchaseOrder, po_id, what="purchase order", if_match=if_match) as po:
        services.po_update(po=po, lines=lines, user=user_of(request), **changes)
    po = _po_detail(po_id)
    with_etag(response, po)
    return po


@router.post("/purchase-orders/{po_id}/approve", response=PurchaseOrderDetailOut)
def po_approve(request: HttpRequest, po_id: int) -> PurchaseOrder:
    """A purchasing manager approves a draft above the approval threshold (403 for anyone else)."""
    po = _po(po_id)
    user = user_of(request)
    if not user_has_right(user, "procurement_approve"):
        raise Forbidden(f"Only a purchasing manager can approve {po.number}.")
    services.po_approve(po=po, user=user)
    return _po_detail(po_id)


@router.post("/purchase-orders/{po_id}/send", response=PurchaseOrderDetailOut)
def po_send(request: HttpRequest, po_id: int) -> PurchaseOrder:
    """Send to the supplier; above the approval threshold only once approved (else 422)."""
    services.po_send(po=_po(po_id), user=user_of(request))
    return _po_detail(po_id)


@router.post("/purchase-orders/{po_id}/cancel", response=PurchaseOrderDetailOut)
def po_cancel(request: HttpRequest, po_id: int, payload: PurchaseReasonIn | None = None) -> PurchaseOrder:
    """Cancel a draft, or a sent order of which nothing is received."""
    reason = payload.reason if payload else ""
    services.po_cancel(po=_po(po_id), reason=reason, user=user_of(request))
    return _po_detail(po_id)


@router.post("/purchase-orders/{po_id}/close", response=PurchaseOrderDetailOut)
def po_close(request: HttpRequest, po_id: int) -> PurchaseOrder:
    """Nothing more is expected: a received order, or a partially received one closed short."""
    services.po_close(po=_po(po_id), user=user_of(request))
    return _po_detail(po_id)


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


# --- receipts -------------------------------------------------------------------------------------


@router.get("/receipts", response=list[ReceiptOut])
@paginate(PageNumberPagination, page_size=PAGE_SIZE)
def receipt_list(request: HttpRequest, filters: Query[ReceiptFilterIn]) -> QuerySet[Receipt]:
    """Receipts, newest first, with their lines."""
    return filtered(ReceiptFilter, filters, selectors.receipt_list(), listing=RECEIPTS)


@router.get("/receipts/{receipt_id}", response=ReceiptOut)
def receipt_detail(request: HttpRequest, receipt_id: int) -> Receipt:
    return get_or_404(selectors.receipt_list(), receipt_id, "receipt")


# --- bills and payments ---------------------------------------------------------------------------


def _bill_detail(pk: int) -> Bill:
    try:
        return selectors.bill_detail(pk)
    except Bill.DoesNotExist:
        raise NotFound(f"No bill with id {pk}.") from None


def _bill(pk: int) -> Bill:
    return get_or_404(Bill, pk, "bill")


@router.get("/bills", response=list[BillListOut])
@paginate(PageNumberPagination, page_size=PAGE_SIZE)
def bill_list(request: HttpRequest, filters: Query[BillFilterIn]) -> QuerySet[Bill]:
    """Supplier bills, newest first. ``overdue=true``: unpaid past the due date;
    ``match_ok=false``: the three-way match flagged something. ``expand=lines,payments``: each bill
    with its lines and payments (fetched with the page)."""
    return filtered(BillFilter, filters, selectors.bill_list(), listing=BILLS)


@router.post("/bills", response={201: BillDetailOut})
def bill_record(request: HttpRequest, payload: BillIn) -> Bill:
    """Record a supplier's bill against a purchase order. The three-way match (ordered price x received
    quantity vs billed) opens it for payment, or puts it in review with ``match_issues``."""
    po = get_or_404(PurchaseOrder, payload.purchase_order, "purchase order", field="purchase_order")
    found = PurchaseOrderLine.objects.in_bulk({item.line_id for item in payload.lines})
    errors = {
        f"lines.{i}.line_id": [f"No line {item.line_id} in {po.number}."]
        for i, item in enumerate(payload.lines)
        if item.line_id not in found or found[item.line_id].order_id != po.pk
    }
    if errors:
        raise ValidationFailed(f"The bill is invalid: {next(iter(errors.values()))[0]}", field_errors=errors)
    bill = services.bill_record(
        po=po,
        supplier_reference=payload.supplier_reference,
        lines=[
            services.BillLineSpec(line=found[item.line_id], quantity=item.quantity, unit_cost=item.unit_cost)
            for item in payload.lines
        ],
        bill_date=payload.bill_date,
        user=user_of(request),
    )
    return _bill_detail(bill.pk)


@router.get("/bills/{bill_id}", response=BillDetailOut)
def bill_detail(request: HttpRequest, bill_id: int) -> Bill:
    return _bill_detail(bill_id)


@router.post("/bills/{bill_id}/approve", response=BillDetailOut)
def bill_approve(request: HttpRequest, bill_id: int, payload: NoteIn | None = None) -> Bill:
    """Accept a bill in review (its match failed) after checking it; it opens for payment."""
    note = payload.note if payload else ""
    services.bill_approve(bill=_bill(bill_id), note=note, user=user_of(request))
    return _bill_detail(bill_id)


@router.post("/bills/{bill_id}/void", response=BillDetailOut)
def bill_void(request: HttpRequest, bill_id: int) -> Bill:
    """Void an unpaid bill; its quantities become billable again."""
    services.bill_void(bill=_bill(bill_id), user=user_of(request))
    return _bill_detail(bill_id)


@router.post("/bills/{bill_id}/pay", response={201: SupplierPaymentRecordedOut})
def bill_pay(request: HttpRequest, bill_id: int, payload: SupplierPaymentIn) -> SupplierPayment:
    """Record a payment to the supplier; the answer carries the bill's status and balance after it."""
    return services.supplier_payment_record(
        bill=_bill(bill_id),
        amount=payload.amount,
        paid_at=payload.paid_at,
        method=payload.method,
        reference=payload.reference,
        user=user_of(request),
    )


@router.get("/payments", response=list[SupplierPaymentListOut])
@paginate(PageNumberPagination, page_size=PAGE_SIZE)
def payment_list(request: HttpRequest, filters: Query[SupplierPaymentFilterIn]) -> QuerySet[SupplierPayment]:
    return filtered(PaymentFilter, filters, selectors.payment_list(), listing=PAYMENTS)


# --- replenishment --------------------------------------------------------------------------------


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
        "orderable": item is not None,
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
def replenishment_order(request: HttpRequest, payload: ReplenishIn) -> list[PurchaseOrder]:
    """Order the chosen suggestions (by key): draft purchase orders, one per supplier and warehouse."""
    orders = replenishment.orders_from_suggestions(keys=payload.keys, user=user_of(request))
    return [_po_detail(po.pk) for po in orders]
