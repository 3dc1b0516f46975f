"""The sales JSON API, mounted at /api/v1/sales/.

Thin handlers: parse the input, look up what it references (404 when an id in the
path or a top-level reference is unknown, 422 for a bad line), call a service or
selector, answer with a schema. Reads need ``sales:read``, everything else
``sales:write`` (ErpAuth). Lists are paginated (``page``, ``page_size``:
``{"count", "items"}``) and filtered with the FilterSets of sales.filters, the same
the pages use; they take ``ordering`` (an allow-list per list), ``updated_since`` and, for
orders and invoices, ``expand`` (erp.api_helpers). Customers, channels and orders answer an
``ETag`` and their PATCH takes ``If-Match`` (412 when stale; erp.concurrency). An action the
lifecycle refuses is a 409 naming both states.
"""

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.db.models import (
    CharField,
    DecimalField,
    Exists,
    OuterRef,
    Prefetch,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Cast, Coalesce, Lower
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from ninja import Query, Router
from ninja.pagination import PageNumberPagination, paginate

from erp.api_helpers import Listing, filtered, get_or_404, no_nulls, user_of
from erp.apiauth import ErpAuth
from erp.concurrency import if_match_param, locked_for_update, with_etag
from erp.exceptions import NotFound, ValidationFailed
from erp.models import OutboxEvent
from erp.money import ZERO, validate_currency
from inventory.models import Product, Reservation, ReservationStatus, Warehouse
from sales import lifecycle, selectors, services
from sales.filters import (
    ChannelFilter,
    CustomerFilter,
    InvoiceFilter,
    OrderFilter,
    PaymentFilter,
    ReturnFilter,
    ShipmentFilter,
)
from sales.models import (
    Address,
    Contact,
    Customer,
    Invoice,
    InvoiceLine,
    OrderLine,
    Payment,
    Refund,
    ReturnLine,
    SalesChannel,
    SalesOrder,
    SalesReturn,
    Shipment,
)
from sales.schemas import (
    CHANNEL_ORDERING,
    CUSTOMER_ORDERING,
    FULFILMENT_ORDERING,
    INVOICE_ORDERING,
    ORDER_ORDERING,
    PAYMENT_ORDERING,
    RETURN_ORDERING,
    SHIPMENT_ORDERING,
    AddressFields,
    AddressIn,
    AddressOut,
    ChannelFilterIn,
    ChannelIn,
    ChannelOut,
    ChannelPatchIn,
    ContactIn,
    ContactOut,
    CustomerDetailOut,
    CustomerFilterIn,
    CustomerIn,
    CustomerOut,
    CustomerPatchIn,
    FulfilmentFilterIn,
    FulfilmentLineOut,
    InvoiceDetailOut,
    InvoiceFilterIn,
    InvoiceIssueIn,
    InvoiceListOut,
    InvoiceOrderIn,
    OrderDetailOut,
    OrderEventOut,
    OrderFilterIn,
    OrderIn,
    OrderLineIn,
    OrderListOut,
    OrderPatchIn,
    PaymentFilterIn,
    PaymentIn,
    PaymentListOut,
    PaymentRecordedOut,
    RefundIn,
    RefundOut,
    ReturnDetailOut,
    ReturnFilterIn,
    ReturnIn,
    ReturnOut,
    SalesReasonIn,
    ShipIn,
    ShipmentDetailOut,
    ShipmentFilterIn,
    ShipmentListOut,
)

router = Router(tags=["Sales"], auth=ErpAuth("sales"))

PAGE_SIZE = 50
RECENT_ORDERS = 10


# --- lists and input helpers ----------------------------------------------------------------------

QUANTITY: "DecimalField[Any, Any]" = DecimalField(max_digits=18, decimal_places=4)


def _held() -> Coalesce:
    """What is still reserved for an order line (the row of the outer query), as a subquery."""
    total = (
        Reservation.objects.filter(
            demand_type=selectors.DEMAND_TYPE,
            status=ReservationStatus.ACTIVE,
            demand_id=Cast(OuterRef("pk"), output_field=CharField()),
        )
        .order_by()
        .values("demand_id")
        .annotate(total=Sum("quantity"))
        .values("total")
    )
    return Coalesce(Subquery(total, output_field=QUANTITY), Value(ZERO), output_field=QUANTITY)


def _expand_order_lines(queryset: QuerySet[Any]) -> QuerySet[Any]:
    lines = (
        OrderLine.objects.select_related("product__stock_unit")
        .prefetch_related("taxes")
        .annotate(reserved=_held())
        .order_by("position", "id")
    )
    return queryset.prefetch_related(Prefetch("lines", queryset=lines, to_attr="expanded_lines"))


def _expand_invoice_lines(queryset: QuerySet[Any]) -> QuerySet[Any]:
    lines = InvoiceLine.objects.order_by("id")
    return queryset.prefetch_related(Prefetch("lines", queryset=lines, to_attr="expanded_lines"))


def _expand_invoice_payments(queryset: QuerySet[Any]) -> QuerySet[Any]:
    payments = Payment.objects.order_by("paid_at", "id")
    return queryset.prefetch_related(Prefetch("payments", queryset=payments, to_attr="expanded_payments"))


CUSTOMERS = Listing(ordering=CUSTOMER_ORDERING)
CHANNELS = Listing(ordering=CHANNEL_ORDERING)
ORDERS = Listing(ordering=ORDER_ORDERING, expand={"lines": _expand_order_lines})
SHIPMENTS = Listing(ordering=SHIPMENT_ORDERING)
INVOICES = Listing(
    ordering=INVOICE_ORDERING, expand={"lines": _expand_invoice_lines, "payments": _expand_invoice_payments}
)
PAYMENTS = Listing(ordering=PAYMENT_ORDERING)
RETURNS = Listing(ordering=RETURN_ORDERING)
FULFILMENT = Listing(ordering=FULFILMENT_ORDERING, updated=None)


def _currency(code: str | None) -> None:
    if code is None:
        return
    try:
        validate_currency(code)
    except DjangoValidationError:
        message = f"'{code}' is not an ISO 4217 currency code."
        raise ValidationFailed(message, field_errors={"currency": [message]}) from None


def _aware(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return timezone.make_aware(moment) if timezone.is_naive(moment) else moment


def _address(fields: AddressFields | None) -> dict[str, str] | None:
    return fields.dict() if fields is not None else None


# --- customers ------------------------------------------------------------------------------------


def _customer_detail(pk: int) -> Customer:
    customer = get_or_404(selectors.customer_list().prefetch_related("addresses", "contacts"), pk, "customer")
    customer.recent_orders = list(  # type: ignore[attr-defined]
        selectors.order_list().filter(customer=customer)[:RECENT_ORDERS]
    )
    return customer


@router.get("/customers", response=list[CustomerOut])
@paginate(PageNumberPagination, page_size=PAGE_SIZE)
def customer_list(request: HttpRequest, filters: Query[CustomerFilterIn]) -> QuerySet[Customer]:
    """Customers by name, with their open balance (issued invoices not paid yet)."""
    return filtered(CustomerFilter, filters, selectors.customer_list(), listing=CUSTOMERS)


@router.post("/customers", response={201: CustomerDetailOut})
def customer_create(request: HttpRequest, payload: CustomerIn) -> Customer:
    """A customer, with a billing and a shipping address (the billing one when left out) and contacts."""
    user = user_of(request)
    data = payload.dict(exclude={"billing_address", "shipping_address", "contacts"})
    with transaction.atomic():
        customer = services.customer_create(
            **data,
            billing_address=_address(payload.billing_address),
            shipping_address=_address(payload.shipping_address),
            user=user,
        )
        for contact in payload.contacts:
            services.contact_add(customer=customer, **contact.dict())
    return _customer_detail(customer.pk)


@router.get("/customers/{customer_id}", response=CustomerDetailOut)
def customer_detail(request: HttpRequest, customer_id: int, response: HttpResponse) -> Customer:
    """A customer with addresses, contacts, the latest orders and the open balance. The ``ETag``
    header names its version, for ``If-Match`` on PATCH."""
    customer = _customer_detail(customer_id)
    with_etag(response, customer)
    return customer


@router.patch("/customers/{customer_id}", response=CustomerDetailOut)
def customer_update(
    request: HttpRequest,
    customer_id: int,
    payload: CustomerPatchIn,
    response: HttpResponse,
    if_match: str | None = if_match_param(),
) -> Customer:
    """Change the fields sent; ``is_active: false`` archives the customer. With ``If-Match``: 412
    when the customer changed since it was read."""
    changes = payload.dict(exclude_unset=True)
    no_nulls(changes)
    with locked_for_update(Customer, customer_id, what="customer", if_match=if_match) as customer:
        services.customer_update(customer=customer, user=user_of(request), **changes)
    customer = _customer_detail(customer_id)
    with_etag(response, customer)
    return customer


@router.post("/customers/{customer_id}/addresses", response={201: AddressOut})
def customer_address_add(request: HttpRequest, customer_id: int, payload: AddressIn) -> Address:
    """Add a billing or shipping address; by default it becomes the default of its kind."""
    customer = get_or_404(Customer, customer_id, "customer")
    values = payload.dict(exclude={"kind", "default"})
    return services.address_set(customer=customer, kind=payload.kind, values=values, default=payload.default)


@router.post("/customers/{customer_id}/contacts", response={201: ContactOut})
def customer_contact_add(request: HttpRequest, customer_id: int, payload: ContactIn) -> Contact:
    customer = get_or_404(Customer, customer_id, "customer")
    return services.contact_add(customer=customer, **payload.dict())


# --- channels -------------------------------------------------------------------------------------


def _channels() -> QuerySet[SalesChannel]:
    return selectors.channel_list()


@router.get("/channels", response=list[ChannelOut])
@paginate(PageNumberPagination, page_size=PAGE_SIZE)
def channel_list(request: HttpRequest, filters: Query[ChannelFilterIn]) -> QuerySet[SalesChannel]:
    return filtered(ChannelFilter, filters, _channels(), listing=CHANNELS)


@router.post("/channels", response={201: ChannelOut})
def channel_create(request: HttpRequest, payload: ChannelIn) -> SalesChannel:
    """A sales channel: where orders come from, the warehouse they ship from, prices with or without tax,
    and whether invoices bill ordered or shipped quantities."""
    data = payload.dict()
    data["warehouse"] = get_or_404(Warehouse, payload.warehouse, "warehouse", field="warehouse")
    channel = services.channel_create(**data, user=user_of(request))
    return get_or_404(_channels(), channel.pk, "sales channel")


@router.get("/channels/{channel_id}", response=ChannelOut)
def channel_detail(request: HttpRequest, channel_id: int, response: HttpResponse) -> SalesChannel:
    """A channel; the ``ETag`` header names its version, for ``If-Match`` on PATCH."""
    channel = get_or_404(_channels(), channel_id, "sales channel")
    with_etag(response, channel)
    return channel


@router.patch("/channels/{channel_id}", response=ChannelOut)
def channel_update(
    request: HttpRequest,
    channel_id: int,
    payload: ChannelPatchIn,
    response: HttpResponse,
    if_match: str | None = if_match_param(),
) -> SalesChannel:
    """Change the fields sent; ``is_active: false`` archives the channel (no new orders). With
    ``If-Match``: 412 when the channel changed since it was read."""
    changes = payload.dict(exclude_unset=True)
    no_nulls(changes)
    _currency(changes.get("currency"))
    if "warehouse" in changes:
        changes["warehouse"] = get_or_404(Warehouse, changes["warehouse"], "warehouse", field="warehouse")
    with locked_for_update(SalesChannel, channel_id, what="sales channel", if_match=if_match) as channel:
        services.channel_update(channel=channel, user=user_of(request), **changes)
    channel = get_or_404(_channels(), channel_id, "sales channel")
    with_etag(response, channel)
    return channel


# --- orders ---------------------------------------------------------------------------------------


def _order_detail(pk: int) -> SalesOrder:
    """An order as OrderDetailOut reads it: everything prefetched, reservations and actions attached."""
    try:
        order = selectors.order_detail(pk)
    except SalesOrder.DoesNotExist:
        raise NotFound(f"No sales order with id {pk}.") from None
    lines = list(order.lines.all())
    held = selectors.reserved_by_line([line.pk for line in lines])
    for line in lines:
        line.reserved = held.get(line.pk, ZERO)  # type: ignore[attr-defined]
    order.allowed_actions = lifecycle.allowed_actions(order.status, order.held_from)  # type: ignore[attr-defined]
    return order


def _order(pk: int) -> SalesOrder:
    return get_or_404(SalesOrder, pk, "sales order")


def _line_specs(lines: Sequence[OrderLineIn], field: str = "lines") -> list[services.LineSpec]:
    """The lines' products, found by id or SKU (any case) in two queries; any line not found is a 422."""
    ids = {line.product for line in lines if line.product is not None}
    skus = {line.sku.strip().lower() for line in lines if line.sku and line.sku.strip()}
    products = Product.objects.select_related("stock_unit")
    by_id = products.in_bulk(ids) if ids else {}
    by_sku = (
        {p.sku.lower(): p for p in products.annotate(sku_lower=Lower("sku")).filter(sku_lower__in=skus)}
        if skus
        else {}
    )
    errors: dict[str, list[str]] = {}
    specs = []
    for i, line in enumerate(lines):
        sku = (line.sku or "").strip()
        product: Product | None = None
        if (line.product is None) == (not sku):
            errors[f"{field}.{i}.product"] = ["Give the product id or its SKU, one of the two."]
        elif line.product is not None:
            product = by_id.get(line.product)
            if product is None:
                errors[f"{field}.{i}.product"] = [f"No product with id {line.product}."]
        else:
            product = by_sku.get(sku.lower())
            if product is None:
                errors[f"{field}.{i}.sku"] = [f"No product with SKU '{sku}'."]
        if product is not None:
            specs.append(
                services.LineSpec(
                    product=product,
                    quantity=line.quantity,
                    unit_price=line.unit_price,
                    description=line.description,
                    discount_percent=line.discount_percent,
                    taxes=[services.TaxSpec(t.name, t.rate) for t in line.taxes],
                )
            )
    if errors:
        raise ValidationFailed(f"The order is invalid: {next(iter(errors.values()))[0]}", field_errors=errors)
    return specs


@router.get("/orders", response=list[OrderListOut])
@paginate(PageNumberPagination, page_size=PAGE_SIZE)
def order_list(request: HttpRequest, filters: Query[OrderFilterIn]) -> QuerySet[SalesOrder]:
    """Orders, newest first. ``status=open``: confirmed, partially shipped or on hold.
    ``expand=lines``: each order with its lines (fetched with the page)."""
    return filtered(OrderFilter, filters, selectors.order_list(), listing=ORDERS)


@router.post("/orders", response={201: OrderDetailOut})
def order_create(request: HttpRequest, payload: OrderIn) -> SalesOrder:
    """A draft order with all its lines in one request; ``"confirm": true`` also confirms it (reserves
    stock; what is missing is backordered), in the same transaction."""
    user = user_of(request)
    channel = get_or_404(
        SalesChannel.objects.select_related("warehouse"), payload.channel, "sales channel", field="channel"
    )
    customer = get_or_404(Customer, payload.customer, "customer", field="customer")
    specs = _line_specs(payload.lines)
    with transaction.atomic():
        order = services.order_create(
            channel=channel,
            customer=customer,
            lines=specs,
            order_date=_aware(payload.order_date),
            billing_address=_address(payload.billing_address),
            shipping_address=_address(payload.shipping_address),
            shipping_amount=payload.shipping_amount,
            shipping_tax_rate=payload.shipping_tax_rate,
            order_discount=payload.order_discount,
            notes=payload.notes,
            tags=payload.tags,
            external_reference=payload.external_reference,
            user=user,
        )
        if payload.confirm:
            services.order_confirm(order=order, user=user)
    return _order_detail(order.pk)


@router.get("/orders/{order_id}", response=OrderDetailOut)
def order_detail(request: HttpRequest, order_id: int, response: HttpResponse) -> SalesOrder:
    """An order with its lines (ordered, reserved, shipped, invoiced, returned), taxes, shipments,
    invoices with payments, returns, and the actions its state allows. The ``ETag`` header names
    its version, for ``If-Match`` on PATCH."""
    order = _order_detail(order_id)
    with_etag(response, order)
    return order


@router.patch("/orders/{order_id}", response=OrderDetailOut)
def order_update(
    request: HttpRequest,
    order_id: int,
    payload: OrderPatchIn,
    response: HttpResponse,
    if_match: str | None = if_match_param(),
) -> SalesOrder:
    """A draft: anything, ``lines`` replacing all lines; later only notes, tags, addresses and the
    external reference. With ``If-Match``: 412 when the order changed since it was read (confirmed,
    shipped, edited...)."""
    changes = payload.dict(exclude_unset=True)
    no_nulls(changes)
    lines = _line_specs(payload.lines) if payload.lines is not None else None
    changes.pop("lines", None)
    for name in ("billing_address", "shipping_address"):
        if name in changes:
            changes[name] = _address(getattr(payload, name))
    with locked_for_update(SalesOrder, order_id, what="sales order", if_match=if_match) as order:
        services.order_update(order=order, lines=lines, user=user_of(request), **changes)
    order = _order_detail(order_id)
    with_etag(response, order)
    return order


@router.post("/orders/{order_id}/confirm", response=OrderDetailOut)
def order_confirm(request: HttpRequest, order_id: int) -> SalesOrder:
    """Confirm a draft: reserve stock in the channel's warehouse; what is missing is backordered."""
    services.order_confirm(order=_order(order_id), user=user_of(request))
    return _order_detail(order_id)


@router.post("/orders/{order_id}/cancel", response=OrderDetailOut)
def order_cancel(request: HttpRequest, order_id: int, payload: SalesReasonIn | None = None) -> SalesOrder:
    """Cancel, releasing every reservation of the order."""
    reason = payload.reason if payload else ""
    services.order_cancel(order=_order(order_id), reason=reason, user=user_of(request))
    return _order_detail(order_id)


@router.post("/orders/{order_id}/hold", response=OrderDetailOut)
def order_hold(request: HttpRequest, order_id: int, payload: SalesReasonIn | None = None) -> SalesOrder:
    reason = payload.reason if payload else ""
    services.order_hold(order=_order(order_id), reason=reason, user=user_of(request))
    return _order_detail(order_id)


@router.post("/orders/{order_id}/release", response=OrderDetailOut)
def order_release(request: HttpRequest, order_id: int) -> SalesOrder:
    """Take the order off hold, back to the state it was held in."""
    services.order_release(order=_order(order_id), user=user_of(request))
    return _order_detail(order_id)


@router.post("/orders/{order_id}/close", response=OrderDetailOut)
def order_close(request: HttpRequest, order_id: int) -> SalesOrder:
    services.order_close(order=_order(order_id), user=user_of(request))
    return _order_detail(order_id)


def _shipment(pk: int) -> Shipment:
    return get_or_404(
        Shipment.objects.select_related("order__customer").prefetch_related("lines__order_line__product"),
        pk,
        "shipment",
    )


@router.post("/orders/{order_id}/ship", response={201: ShipmentDetailOut})
def order_ship(request: HttpRequest, order_id: int, payload: ShipIn | None = None) -> Shipment:
    """Ship reserved stock: everything reserved, or the ``lines`` given (order line id and quantity)."""
    order = _order(order_id)
    payload = payload or ShipIn.model_validate({})
    ship_lines = None
    if payload.lines is not None:
        found = OrderLine.objects.in_bulk({item.line_id for item in payload.lines})
        errors = {
            f"lines.{i}.line_id": [f"No line {item.line_id} in {order.number}."]
            for i, item in enumerate(payload.lines)
            if item.line_id not in found or found[item.line_id].order_id != order.pk
        }
        if errors:
            raise ValidationFailed(f"Cannot ship: {next(iter(errors.values()))[0]}", field_errors=errors)
        ship_lines = [services.ShipLine(found[item.line_id], item.quantity) for item in payload.lines]
    shipment = services.shipment_create(
        order=order,
        lines=ship_lines,
        carrier=payload.carrier,
        service=payload.service,
        tracking_number=payload.tracking_number,
        user=user_of(request),
    )
    return _shipment(shipment.pk)


@router.post("/orders/{order_id}/invoice", response={201: InvoiceDetailOut})
def order_invoice(request: HttpRequest, order_id: int, payload: InvoiceOrderIn | None = None) -> Invoice:
    """Invoice what is invoiceable now (ordered or shipped quantities, per the channel) and issue the
    invoice, unless ``"draft": true``."""
    order = _order(order_id)
    payload = payload or InvoiceOrderIn.model_validate({})
    user = user_of(request)
    with transaction.atomic():
        invoice = services.invoice_create(order=order, user=user)
        if not payload.draft:
            services.invoice_issue(invoice=invoice, issue_date=payload.issue_date, user=user)
    return _invoice(invoice.pk)


@router.get("/orders/{order_id}/timeline", response=list[OrderEventOut])
@paginate(PageNumberPagination, page_size=PAGE_SIZE)
def order_timeline(request: HttpRequest, order_id: int) -> QuerySet[OutboxEvent]:
    """Everything announced about the order (created, confirmed, shipped, invoiced, paid...), in order."""
    return selectors.order_timeline(_order(order_id))


# --- shipments ------------------------------------------------------------------------------------


@router.get("/shipments", response=list[ShipmentListOut])
@paginate(PageNumberPagination, page_size=PAGE_SIZE)
def shipment_list(request: HttpRequest, filters: Query[ShipmentFilterIn]) -> QuerySet[Shipment]:
    return filtered(ShipmentFilter, filters, selectors.shipment_list(), listing=SHIPMENTS)


@router.get("/shipments/{shipment_id}", response=ShipmentDetailOut)
def shipment_detail(request: HttpRequest, shipment_id: int) -> Shipment:
    return _shipment(shipment_id)


# --- fulfilment -----------------------------------------------------------------------------------


@router.get("/fulfilment", response=list[FulfilmentLineOut])
@paginate(PageNumberPagination, page_size=PAGE_SIZE)
def fulfilment_queue(request: HttpRequest, filters: Query[FulfilmentFilterIn]) -> QuerySet[OrderLine]:
    """What can ship now (the fulfilment queue of the pages): open lines of confirmed orders with
    stock held for them, oldest order first, with what is reserved. Ship with POST /orders/{id}/ship."""
    held = Reservation.objects.filter(
        demand_type=selectors.DEMAND_TYPE,
        status=ReservationStatus.ACTIVE,
        demand_id=Cast(OuterRef("pk"), output_field=CharField()),
    )
    queue = selectors.fulfilment_queue().filter(Exists(held)).annotate(reserved=_held())
    if filters.channel is not None:
        queue = queue.filter(order__channel_id=filters.channel)
    if filters.warehouse is not None:
        queue = queue.filter(order__channel__warehouse_id=filters.warehouse)
    return FULFILMENT.apply(queue, filters)


# --- invoices and payments ------------------------------------------------------------------------


def _invoice(pk: int) -> Invoice:
    return get_or_404(
        selectors.invoice_list().prefetch_related(
            "lines", "payments", Prefetch("refunds", queryset=Refund.objects.select_related("credit_note"))
        ),
        pk,
        "invoice",
    )


def _invoice_for_write(pk: int) -> Invoice:
    return get_or_404(Invoice, pk, "invoice")


@router.get("/invoices", response=list[InvoiceListOut])
@paginate(PageNumberPagination, page_size=PAGE_SIZE)
def invoice_list(request: HttpRequest, filters: Query[InvoiceFilterIn]) -> QuerySet[Invoice]:
    """Invoices and credit notes, newest first. ``overdue=true``: unpaid past the due date.
    ``expand=lines,payments``: each with its lines and payments (fetched with the page)."""
    return filtered(InvoiceFilter, filters, selectors.invoice_list(), listing=INVOICES)


@router.get("/invoices/{invoice_id}", response=InvoiceDetailOut)
def invoice_detail(request: HttpRequest, invoice_id: int) -> Invoice:
    return _invoice(invoice_id)


@router.post("/invoices/{invoice_id}/issue", response=InvoiceDetailOut)
def invoice_issue(request: HttpRequest, invoice_id: int, payload: InvoiceIssueIn | None = None) -> Invoice:
    """Number a draft and fix its due date from the customer's payment terms."""
    issue_date = payload.issue_date if payload else None
    services.invoice_issue(
        invoice=_invoice_for_write(invoice_id), issue_date=issue_date, user=user_of(request)
    )
    return _invoice(invoice_id)


@router.post("/invoices/{invoice_id}/void", response=InvoiceDetailOut)
def invoice_void(request: HttpRequest, invoice_id: int, payload: SalesReasonIn | None = None) -> Invoice:
    """Void a draft or an unpaid issued invoice; its quantities become invoiceable again."""
    reason = payload.reason if payload else ""
    services.invoice_void(invoice=_invoice_for_write(invoice_id), reason=reason, user=user_of(request))
    return _invoice(invoice_id)


@router.post("/invoices/{invoice_id}/pay", response={201: PaymentRecordedOut})
def invoice_pay(request: HttpRequest, invoice_id: int, payload: PaymentIn) -> Payment:
    """Record a payment; the answer carries the invoice's status and balance after it."""
    payment = services.payment_record(
        invoice=_invoice_for_write(invoice_id),
        amount=payload.amount,
        paid_at=payload.paid_at,
        method=payload.method,
        reference=payload.reference,
        user=user_of(request),
    )
    return payment


@router.get("/payments", response=list[PaymentListOut])
@paginate(PageNumberPagination, page_size=PAGE_SIZE)
def payment_list(request: HttpRequest, filters: Query[PaymentFilterIn]) -> QuerySet[Payment]:
    return filtered(PaymentFilter, filters, selectors.payment_list(), listing=PAYMENTS)


# --- returns --------------------------------------------------------------------------------------


def _return(pk: int) -> SalesReturn:
    return get_or_404(
        SalesReturn.objects.select_related("order__customer", "credit_note").prefetch_related(
            Prefetch("lines", queryset=ReturnLine.objects.select_related("order_line__product")),
            Prefetch("refunds", queryset=Refund.objects.select_related("credit_note")),
        ),
        pk,
        "return",
    )


@router.get("/returns", response=list[ReturnOut])
@paginate(PageNumberPagination, page_size=PAGE_SIZE)
def return_list(request: HttpRequest, filters: Query[ReturnFilterIn]) -> QuerySet[SalesReturn]:
    return filtered(ReturnFilter, filters, selectors.return_list(), listing=RETURNS)


@router.post("/returns", response={201: ReturnDetailOut})
def return_create(request: HttpRequest, payload: ReturnIn) -> SalesReturn:
    """Announce a return (an RMA) of shipped quantities, by order line."""
    order = get_or_404(SalesOrder, payload.order, "sales order", field="order")
    found = OrderLine.objects.select_related("product").in_bulk({item.line_id for item in payload.lines})
    errors = {
        f"lines.{i}.line_id": [f"No line {item.line_id} in {order.number}."]
        for i, item in enumerate(payload.lines)
        if item.line_id not in found or found[item.line_id].order_id != order.pk
    }
    if errors:
        raise ValidationFailed(
            f"The return is invalid: {next(iter(errors.values()))[0]}", field_errors=errors
        )
    sales_return = services.return_create(
        order=order,
        lines=[
            services.ReturnLineSpec(found[item.line_id], item.quantity, item.disposition, item.reason)
            for item in payload.lines
        ],
        reason=payload.reason,
        user=user_of(request),
    )
    return _return(sales_return.pk)


@router.get("/returns/{return_id}", response=ReturnDetailOut)
def return_detail(request: HttpRequest, return_id: int) -> SalesReturn:
    return _return(return_id)


@router.post("/returns/{return_id}/receive", response=ReturnDetailOut)
def return_receive(request: HttpRequest, return_id: int) -> SalesReturn:
    """The goods are back: restock or scrap each line, and issue the credit note."""
    services.return_receive(sales_return=get_or_404(SalesReturn, return_id, "return"), user=user_of(request))
    return _return(return_id)


@router.post("/returns/{return_id}/refund", response={201: RefundOut})
def return_refund(request: HttpRequest, return_id: int, payload: RefundIn | None = None) -> Refund:
    """Pay money back against the return's credit note (all that is left of it by default)."""
    payload = payload or RefundIn.model_validate({})
    refund = services.refund_record(
        sales_return=get_or_404(SalesReturn, return_id, "return"),
        amount=payload.amount,
        method=payload.method,
        reference=payload.reference,
        refunded_at=payload.refunded_at,
        user=user_of(request),
    )
    return refund
