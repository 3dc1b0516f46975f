"""Sales orders: create and change them, their lifecycle actions (confirm, cancel, hold, release,
close, ship, invoice) and their timeline."""

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from types import UnionType
from typing import Any, TypeVar, Union, get_args, get_origin

from django.db import transaction
from django.db.models import DecimalField, Manager, Model, Prefetch, QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from ninja import Query, Schema
from ninja.pagination import PageNumberPagination, paginate

from erp.api_helpers import Listing, Shown, filtered, get_or_404, no_nulls, user_of
from erp.concurrency import if_match_param
from erp.exceptions import NotFound, ValidationFailed
from erp.models import OutboxEvent
from erp.money import ZERO
from erp.patching import answer_with_etag, patch_with_etag
from erp.statements import Lookup
from inventory.lookups import product_of, products_named
from sales import lifecycle, selectors, services
from sales.api.common import INVOICING, PAGE_SIZE, address_dict, invoice_of, router, shipment_of
from sales.filters import OrderFilter
from sales.models import Customer, Invoice, InvoicePolicy, OrderLine, SalesChannel, SalesOrder, Shipment
from sales.schemas.common import SalesReasonIn
from sales.schemas.invoices import InvoiceDetailOut, InvoiceOrderIn
from sales.schemas.orders import (
    ORDER_ORDERING,
    OrderDetailOut,
    OrderEventOut,
    OrderFilterIn,
    OrderIn,
    OrderLineIn,
    OrderLinesIn,
    OrderListOut,
    OrderPatchIn,
)
from sales.schemas.shipments import ShipIn, ShipmentDetailOut
from sales.services.orders import PlacedOrder, prefetched, with_default_addresses


def _expand_order_lines(queryset: QuerySet[Any]) -> QuerySet[Any]:
    lines = selectors.order_lines_with_reserved()
    return queryset.prefetch_related(Prefetch("lines", queryset=lines, to_attr="expanded_lines"))


SchemaT = TypeVar("SchemaT", bound=Schema)

ORDERS = Listing(ordering=ORDER_ORDERING, expand={"lines": _expand_order_lines})


def _aware(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return timezone.make_aware(moment) if timezone.is_naive(moment) else moment


@dataclass(frozen=True)
class OrderLineDetail(Shown[OrderLine]):
    """A line as OrderDetailLineOut reads it: what is held for it now and what waits for stock."""

    reserved: Decimal
    backordered: Decimal


@dataclass(frozen=True)
class OrderDetail(Shown[SalesOrder]):
    """An order as OrderDetailOut reads it, with the figures and actions of the order page."""

    lines: list[OrderLineDetail]
    allowed_actions: list[str]
    invoiced: Decimal
    paid: Decimal
    balance: Decimal


@dataclass(frozen=True)
class PlacedOrderDetail(OrderDetail):
    """An order just placed: it has no shipments, invoices or returns yet."""

    shipments: tuple[Any, ...] = ()
    invoices: tuple[Any, ...] = ()
    returns: tuple[Any, ...] = ()


def _order_detail(pk: int) -> OrderDetail:
    """An order as OrderDetailOut reads it: everything prefetched, with selectors.order_figures."""
    try:
        order = selectors.order_detail(pk)
    except SalesOrder.DoesNotExist:
        raise NotFound(f"No sales order with id {pk}.") from None
    figures = selectors.order_figures(order)  # the same figures and actions as the order page
    return OrderDetail(
        obj=order,
        lines=[
            OrderLineDetail(
                obj=line,
                reserved=figures.reserved.get(line.pk, ZERO),
                backordered=figures.backordered[line.pk],
            )
            for line in order.lines.all()
        ],
        allowed_actions=list(figures.actions),
        invoiced=figures.invoiced,
        paid=figures.paid,
        balance=figures.balance,
    )


def _placed_detail(placed: PlacedOrder) -> PlacedOrderDetail:
    """The detail of an order just placed, from what was written: the same answer as
    ``_order_detail`` would read back (tests/sales/test_ingest_queries.py compares them), without
    reading it. A new order has no shipments, invoices or returns, and holds what was just reserved.

    Its figures are ``selectors.order_figures``' for an order in that state; they are worked out here
    because that selector reads the reservations again.
    """
    order = placed.order
    order.order_date = order.order_date.astimezone(UTC)  # as the database gives it back
    for row in (order, *placed.lines, *(tax for line in placed.lines for tax in line.taxes.all())):
        _as_stored(row)
    order._prefetched_objects_cache = {"lines": prefetched(order.lines, placed.lines)}  # type: ignore[attr-defined]
    backorderable = order.status in selectors.BACKORDERABLE
    lines = [
        OrderLineDetail(
            obj=line,
            reserved=placed.reserved.get(line.pk, ZERO),
            backordered=max(line.quantity - placed.reserved.get(line.pk, ZERO), ZERO)
            if backorderable and line.uses_our_stock
            else ZERO,
        )
        for line in placed.lines
    ]
    invoiceable = order.channel.invoice_policy != InvoicePolicy.SHIPPED and any(
        line.quantity > 0 for line in placed.lines
    )
    actions = lifecycle.allowed_actions(order.status, order.held_from)
    if not invoiceable:
        actions = [a for a in actions if a != "invoice"]
    if selectors.lines_can_be_added(order.status, order.held_from):
        at = next((i for i, a in enumerate(actions) if a not in ("ship", "invoice", "release")), len(actions))
        actions.insert(at, "add_line")
    return PlacedOrderDetail(
        obj=order, lines=lines, allowed_actions=list(actions), invoiced=ZERO, paid=ZERO, balance=ZERO
    )


def _constructed(schema: type[SchemaT], source: Any) -> SchemaT:
    """``schema.model_validate(source)`` without validating: the answer of an order just placed is
    built from values already of the schema's types (the rows just written, ``_as_stored``), so it
    is assembled field by field (aliases and dotted paths read as ninja reads them, nested schemas
    and lists of them recursively) with ``model_construct``. ninja then only serialises it: its
    validation of ~150 fields through ``DjangoGetter`` was a tenth of an order's CPU. A schema with
    resolvers is validated as usual. The answer equals the one a GET validates
    (tests/sales/test_ingest_queries.py)."""
    plan = _plan(schema)
    if plan is None:
        return schema.model_validate(source)
    values: dict[str, Any] = {}
    for key, path, nested, required in plan:
        value = source
        try:
            for part in path:
                value = getattr(value, part)
        except AttributeError:
            if required:
                raise
            continue  # its default, as validation gives it
        if isinstance(value, Manager):
            value = list(value.all())  # the prefetched rows
        elif isinstance(value, QuerySet):
            value = list(value)
        elif callable(value):
            value = value()
        if nested is not None and value is not None:
            inner, many = nested
            value = [_constructed(inner, item) for item in value] if many else _constructed(inner, value)
        values[key] = value
    return schema.model_construct(**values)


_Step = tuple[str, tuple[str, ...], tuple[type[Schema], bool] | None, bool]


@functools.cache
def _plan(schema: type[Schema]) -> tuple[_Step, ...] | None:
    """How ``_constructed`` fills each field of a schema, worked out once: the key it is given by
    (its alias, else its name), the path read from the source, the schema it nests (and whether a
    list of it), whether it is required. None for a schema with resolvers."""
    if getattr(schema, "_ninja_resolvers", None):
        return None
    return tuple(
        (key, tuple(key.split(".")), _nested_schema(field.annotation), field.is_required())
        for name, field in schema.model_fields.items()
        for key in [field.alias or name]
    )


def _nested_schema(annotation: Any) -> tuple[type[Schema], bool] | None:
    """The schema a field holds, and whether a list of it: ``X``, ``list[X]``, ``X | None``."""
    if isinstance(annotation, type) and issubclass(annotation, Schema):
        return annotation, False
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is list and args and isinstance(args[0], type) and issubclass(args[0], Schema):
        return args[0], True
    if origin in (Union, UnionType):
        for arg in args:
            if arg is not type(None):
                found = _nested_schema(arg)
                if found is not None:
                    return found
    return None


def _as_stored(row: Model) -> None:
    """Its decimals with the places of their columns, as the database gives them back ("0.000000"
    for a rate stored as 0)."""
    for attname, places in _decimal_places(type(row)):
        value = getattr(row, attname)
        if value is not None:
            setattr(row, attname, Decimal(value).quantize(places))


@functools.cache
def _decimal_places(model: type[Model]) -> tuple[tuple[str, Decimal], ...]:
    """A model's decimal columns, each with its quantum (``Decimal("0.0001")`` for 4 places)."""
    return tuple(
        (field.attname, Decimal(1).scaleb(-field.decimal_places))
        for field in model._meta.concrete_fields
        if isinstance(field, DecimalField)
    )


# The channel and the customer of a new order (the customer with its default addresses,
# ``with_default_addresses``): built once per process, run with each order's ids (erp.statements).
_CHANNEL = Lookup(lambda pk: SalesChannel.objects.select_related("warehouse").filter(pk=pk))
_CUSTOMER = Lookup(lambda pk: with_default_addresses(Customer.objects.filter(pk=pk)))


def _order(pk: int) -> SalesOrder:
    return get_or_404(SalesOrder, pk, "sales order")


def _line_specs(lines: Sequence[OrderLineIn], field: str = "lines") -> list[services.LineSpec]:
    """The lines' products, found by id or SKU (any case) in two queries; any line not found is a 422."""
    by_id, by_sku = products_named(lines)
    errors: dict[str, list[str]] = {}
    specs = []
    for i, line in enumerate(lines):
        product, name, error = product_of(line.product, line.sku, by_id, by_sku)
        if product is None:
            errors[f"{field}.{i}.{name}"] = [error]
        else:
            specs.append(
                services.LineSpec(
                    product=product,
                    quantity=line.quantity,
                    unit_price=line.unit_price,
                    description=line.description,
                    discount_percent=line.discount_percent,
                    taxes=[services.TaxSpec(t.name, t.rate) for t in line.taxes],
                    fulfilled_by=line.fulfilled_by,
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
def order_create(request: HttpRequest, payload: OrderIn) -> OrderDetailOut:
    """A draft order with all its lines in one request; ``"confirm": true`` also confirms it (reserves
    stock; what is missing is backordered), in the same transaction."""
    user = user_of(request)
    channel = get_or_404(_CHANNEL, payload.channel, "sales channel", field="channel")
    customer = get_or_404(_CUSTOMER, payload.customer, "customer", field="customer")
    specs = _line_specs(payload.lines)
    placed = services.order_place(
        channel=channel,
        customer=customer,
        lines=specs,
        confirm=payload.confirm,
        order_date=_aware(payload.order_date),
        billing_address=address_dict(payload.billing_address),
        shipping_address=address_dict(payload.shipping_address),
        shipping_amount=payload.shipping_amount,
        shipping_method=payload.shipping_method,
        shipping_tax_rate=payload.shipping_tax_rate,
        order_discount=payload.order_discount,
        notes=payload.notes,
        tags=payload.tags,
        external_reference=payload.external_reference,
        user=user,
    )
    return _constructed(OrderDetailOut, _placed_detail(placed))


@router.get("/orders/{order_id}", response=OrderDetailOut)
def order_detail(request: HttpRequest, order_id: int, response: HttpResponse) -> OrderDetail:
    """An order with its lines (ordered, reserved, shipped, invoiced, returned), taxes, shipments,
    invoices with payments, returns, and the actions its state allows. The ``ETag`` header names
    its version, for ``If-Match`` on PATCH."""
    return answer_with_etag(response, _order_detail(order_id))


@router.patch("/orders/{order_id}", response=OrderDetailOut)
def order_update(
    request: HttpRequest,
    order_id: int,
    payload: OrderPatchIn,
    response: HttpResponse,
    if_match: str | None = if_match_param(),
) -> OrderDetail:
    """A draft: anything, ``lines`` replacing all lines; later only notes, tags, addresses and the
    external reference. With ``If-Match``: 412 when the order changed since it was read (confirmed,
    shipped, edited...)."""
    changes = payload.dict(exclude_unset=True)
    no_nulls(changes)
    lines = _line_specs(payload.lines) if payload.lines is not None else None
    changes.pop("lines", None)
    for name in ("billing_address", "shipping_address"):
        if name in changes:
            changes[name] = address_dict(getattr(payload, name))
    user = user_of(request)
    return patch_with_etag(
        response,
        SalesOrder,
        order_id,
        what="sales order",
        if_match=if_match,
        update=lambda order: services.order_update(order=order, lines=lines, user=user, **changes),
        detail=_order_detail,
    )


@router.post("/orders/{order_id}/confirm", response=OrderDetailOut)
def order_confirm(request: HttpRequest, order_id: int) -> OrderDetail:
    """Confirm a draft: reserve stock in the channel's warehouse; what is missing is backordered."""
    services.order_confirm(order=_order(order_id), user=user_of(request))
    return _order_detail(order_id)


@router.post("/orders/{order_id}/cancel", response=OrderDetailOut)
def order_cancel(request: HttpRequest, order_id: int, payload: SalesReasonIn | None = None) -> OrderDetail:
    """Cancel, releasing every reservation of the order."""
    reason = payload.reason if payload else ""
    services.order_cancel(order=_order(order_id), reason=reason, user=user_of(request))
    return _order_detail(order_id)


@router.post("/orders/{order_id}/hold", response=OrderDetailOut)
def order_hold(request: HttpRequest, order_id: int, payload: SalesReasonIn | None = None) -> OrderDetail:
    reason = payload.reason if payload else ""
    services.order_hold(order=_order(order_id), reason=reason, user=user_of(request))
    return _order_detail(order_id)


@router.post("/orders/{order_id}/release", response=OrderDetailOut)
def order_release(request: HttpRequest, order_id: int) -> OrderDetail:
    """Take the order off hold, back to the state it was held in."""
    services.order_release(order=_order(order_id), user=user_of(request))
    return _order_detail(order_id)


@router.post("/orders/{order_id}/close", response=OrderDetailOut)
def order_close(request: HttpRequest, order_id: int) -> OrderDetail:
    services.order_close(order=_order(order_id), user=user_of(request))
    return _order_detail(order_id)


@router.post("/orders/{order_id}/lines", response=OrderDetailOut)
def order_lines_add(request: HttpRequest, order_id: int, payload: OrderLinesIn) -> OrderDetail:
    """More for a confirmed order (or one partially shipped, or on hold from either: when
    ``allowed_actions`` has ``add_line``): new lines (``add``), priced as in a new order, and higher
    quantities of its lines (``grow``, the extra units at the line's price, discount and taxes), in
    one transaction. Stock is reserved for what is added; what is missing is backordered. A 422 names
    the field (``add.0.sku``, ``grow.0.quantity``); a 409 says the order's state does not allow it."""
    order = _order(order_id)
    specs = _line_specs(payload.add, field="add")
    ours = set(order.lines.values_list("pk", flat=True))
    at: dict[int, int] = {}
    errors: dict[str, list[str]] = {}
    for i, item in enumerate(payload.grow):
        if item.line_id not in ours:
            errors[f"grow.{i}.line_id"] = [f"No line {item.line_id} in {order.number}."]
        elif item.line_id in at:
            errors[f"grow.{i}.line_id"] = [f"Line {item.line_id} is given twice."]
        at.setdefault(item.line_id, i)
    if errors:
        raise ValidationFailed(
            f"Cannot edit {order.number}: {next(iter(errors.values()))[0]}", field_errors=errors
        )
    try:
        services.order_lines_extend(
            order=order,
            grow={item.line_id: item.quantity for item in payload.grow},
            add=specs,
            reason=payload.reason,
            user=user_of(request),
        )
    except ValidationFailed as exc:  # the service names a grown line by its id: here, by its index
        named = {
            (f"grow.{at[int(key[5:])]}.quantity" if key.startswith("grow.") else key): problems
            for key, problems in exc.field_errors.items()
        }
        raise ValidationFailed(exc.message, field_errors=named) from exc
    return _order_detail(order_id)


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
    return shipment_of(shipment.pk)


@router.post("/orders/{order_id}/invoice", response={201: InvoiceDetailOut}, auth=INVOICING)
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
    return invoice_of(invoice.pk)


@router.get("/orders/{order_id}/timeline", response=list[OrderEventOut])
@paginate(PageNumberPagination, page_size=PAGE_SIZE)
def order_timeline(request: HttpRequest, order_id: int) -> QuerySet[OutboxEvent]:
    """Everything announced about the order (created, confirmed, shipped, invoiced, paid...), in order."""
    return selectors.order_timeline(_order(order_id))
