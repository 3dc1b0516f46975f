"""The sales order lifecycle: create, edit, confirm (reserve), hold, release, cancel, close."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import JSONField, OuterRef, QuerySet, Subquery
from django.db.models.functions import JSONObject

from erp import clock, events, history, pipeline, statements
from erp.exceptions import InvalidTransition, ValidationFailed
from erp.money import ZERO, quantize_money, quantize_quantity, to_decimal
from erp.numbering import next_number_and_keys
from inventory.models import Product
from inventory.services import Demand, ReserveRequest, reservations_release_for_demand, stock_reserve_many
from sales import lifecycle
from sales.models import (
    Address,
    Customer,
    FulfilledBy,
    OrderLine,
    OrderLineTax,
    OrderStatus,
    SalesChannel,
    SalesOrder,
)
from sales.pricing import LineIn, TaxIn, compute

DEMAND_TYPE = "sales.orderline"


@dataclass(frozen=True)
class TaxSpec:
    name: str
    rate: Decimal | str
    amount: Decimal | str | None = None  # as charged by a channel (see sales.pricing)


@dataclass(frozen=True)
class LineSpec:
    product: Product
    quantity: Decimal | str | int
    unit_price: Decimal | str | int | None = None  # None: the product's sale price
    description: str = ""
    discount_percent: Decimal | str | int = 0
    taxes: Sequence[TaxSpec] = field(default_factory=tuple)
    discount_amount: Decimal | str | int = 0  # absolute, as a channel allocated it (see sales.pricing)
    # FulfilledBy.MARKETPLACE: the marketplace ships it from its own stock (Amazon FBA); the line is
    # sold and invoiced here but reserves and ships none of our stock (OrderLine.uses_our_stock).
    fulfilled_by: str = FulfilledBy.MERCHANT


def _actor(user: Any) -> Any:
    return user if getattr(user, "is_authenticated", False) else None


def demand_of(line: OrderLine, order: SalesOrder) -> Demand:
    return Demand(DEMAND_TYPE, line.pk, order.number)


def order_payload(order: SalesOrder, **extra: Any) -> dict[str, Any]:
    return {
        "order_id": order.pk,
        "number": order.number,
        "status": order.status,
        "channel": order.channel.code,
        "customer_id": order.customer_id,
        "currency": order.currency,
        "total": str(order.total),
        "external_reference": order.external_reference,
        **extra,
    }


def line_row(order: SalesOrder, position: int, ln: dict[str, Any], out: Any) -> OrderLine:
    """An order line (unsaved) from a validated line and its priced result (sales.pricing)."""
    return OrderLine(
        order=order,
        position=position,
        product=ln["product"],
        description=ln["description"][:255],
        quantity=ln["quantity"],
        unit_price=ln["unit_price"],
        discount_percent=ln["discount_percent"],
        discount_amount=out.discount,
        line_subtotal=out.net,
        tax_amount=out.tax,
        line_total=out.total,
        fulfilled_by=ln["fulfilled_by"],
    )


def _validate_lines(lines: Sequence[LineSpec]) -> list[dict[str, Any]]:
    if not lines:
        raise ValidationFailed("An order needs at least one line.", field_errors={"lines": ["Required."]})
    errors: dict[str, list[str]] = {}
    clean = []
    for i, spec in enumerate(lines):
        try:
            quantity = quantize_quantity(spec.quantity)
            price = quantize_money(spec.product.sale_price if spec.unit_price is None else spec.unit_price)
            discount = to_decimal(spec.discount_percent)
            discount_amount = quantize_money(spec.discount_amount)
            rates = [
                (t.name, to_decimal(t.rate), None if t.amount is None else quantize_money(t.amount))
                for t in spec.taxes
            ]
        except (TypeError, ValueError) as exc:
            errors[f"lines.{i}"] = [str(exc)]
            continue
        if quantity <= 0:
            errors[f"lines.{i}.quantity"] = ["Must be positive."]
        if price < 0:
            errors[f"lines.{i}.unit_price"] = ["Cannot be negative."]
        if not 0 <= discount <= 100:
            errors[f"lines.{i}.discount_percent"] = ["Between 0 and 100."]
        if discount_amount < 0:
            errors[f"lines.{i}.discount_amount"] = ["Cannot be negative."]
        if any(amount is not None and amount < 0 for _, _, amount in rates):
            errors[f"lines.{i}.taxes"] = ["A tax amount cannot be negative."]
        if any(rate < 0 or rate > 1 for _, rate, _ in rates):
            errors[f"lines.{i}.taxes"] = ["A tax rate is a fraction between 0 and 1 (0.2 for 20 %)."]
        if spec.fulfilled_by not in FulfilledBy.values:
            errors[f"lines.{i}.fulfilled_by"] = [f"One of: {', '.join(FulfilledBy.values)}."]
        if not spec.product.is_active:
            errors[f"lines.{i}.product"] = [f"{spec.product.sku} is archived."]
        if not spec.product.stock_unit.allows_fractions and quantity != quantity.to_integral_value():
            errors[f"lines.{i}.quantity"] = [
                f"{spec.product.sku} is sold in whole {spec.product.stock_unit}."
            ]
        clean.append(
            {
                "product": spec.product,
                "quantity": quantity,
                "unit_price": price,
                "discount_percent": discount,
                "discount_amount": discount_amount,
                "description": spec.description or spec.product.name,
                "taxes": rates,
                "fulfilled_by": spec.fulfilled_by,  # checked above: the order is refused otherwise
            }
        )
    if errors:
        raise ValidationFailed(f"The order is invalid: {next(iter(errors.values()))[0]}", field_errors=errors)
    return clean


def _price(
    order: SalesOrder,
    lines: list[dict[str, Any]],
    *,
    tax_exempt: bool,
    shipping_tax_amount: Decimal | str | int | None = None,
) -> Any:
    """The priced lines and totals of an order (sales.pricing); nothing is written."""
    try:
        return compute(
            [
                LineIn(
                    ln["quantity"],
                    ln["unit_price"],
                    ln["discount_percent"],
                    [TaxIn(n, r, a) for n, r, a in ln["taxes"]],
                    ln["discount_amount"],
                )
                for ln in lines
            ],
            currency=order.currency,
            prices_include_tax=order.prices_include_tax,
            order_discount=order.order_discount,
            shipping=order.shipping_amount,
            shipping_tax_rate=order.shipping_tax_rate,
            tax_exempt=tax_exempt,
            shipping_tax_amount=shipping_tax_amount,
        )
    except ValueError as exc:
        raise ValidationFailed(str(exc), field_errors={"order_discount": [str(exc)]}) from exc


def _set_totals(order: SalesOrder, result: Any) -> None:
    order.subtotal = result.subtotal
    order.discount_total = result.discount_total
    order.tax_total = result.tax_total
    order.shipping_total = result.shipping_total
    order.total = result.total


def prefetched(manager: Any, rows: list[Any]) -> Any:
    """A related manager's queryset that answers with ``rows`` (what a prefetch leaves behind),
    so that showing the lines and taxes just written costs no query."""
    queryset = manager.all()
    queryset._result_cache = rows
    queryset._prefetch_done = True
    return queryset


def _line_rows(order: SalesOrder, lines: list[dict[str, Any]], result: Any) -> list[OrderLine]:
    return [
        line_row(order, i + 1, ln, out) for i, (ln, out) in enumerate(zip(lines, result.lines, strict=True))
    ]


def _insert_lines(rows: list[OrderLine], lines: list[dict[str, Any]], result: Any) -> list[OrderLine]:
    """INSERT the lines ``rows`` (one statement) and their taxes (one more); the lines come back with
    their taxes prefetched (the order is left alone: a caller keeping it must not read stale lines)."""
    created = statements.insert(rows)
    taxes = statements.insert(
        [
            OrderLineTax(line=row, name=name, rate=rate, amount=amount)
            for row, ln, out in zip(created, lines, result.lines, strict=True)
            for (name, rate, _), amount in zip(
                ln["taxes"], out.taxes or [ZERO] * len(ln["taxes"]), strict=True
            )
        ]
    )
    of_line: dict[int, list[OrderLineTax]] = {row.pk: [] for row in created}
    for tax in taxes:
        of_line[tax.line_id].append(tax)
    for row in created:
        row._prefetched_objects_cache = {"taxes": prefetched(row.taxes, of_line[row.pk])}  # type: ignore[attr-defined]
    return created


def _write_lines_and_totals(
    order: SalesOrder,
    lines: list[dict[str, Any]],
    *,
    tax_exempt: bool,
    shipping_tax_amount: Decimal | str | int | None = None,
) -> None:
    """(Re)write the lines of a draft order and its stored totals."""
    result = _price(order, lines, tax_exempt=tax_exempt, shipping_tax_amount=shipping_tax_amount)
    order.lines.all().delete()
    _insert_lines(_line_rows(order, lines, result), lines, result)
    _set_totals(order, result)


# Where ``with_default_addresses`` puts a customer's default address of each kind (a snapshot, or None).
_DEFAULT_ADDRESS = {
    Address.Kind.BILLING: "default_billing_snapshot",
    Address.Kind.SHIPPING: "default_shipping_snapshot",
}


def with_default_addresses(customers: QuerySet[Customer]) -> QuerySet[Customer]:
    """Customers read with their default billing and shipping addresses, in the same query (one
    subquery each, building the address's snapshot): what a new order copies, with no query of its
    own in ``order_place``."""
    fields = list(Address().snapshot())
    return customers.annotate(
        **{
            attr: Subquery(
                Address.objects.filter(customer=OuterRef("pk"), kind=kind, is_default=True)
                .order_by("id")
                .values(snapshot=JSONObject(**{name: name for name in fields}))[:1],
                output_field=JSONField(),
            )
            for kind, attr in _DEFAULT_ADDRESS.items()
        }
    )


def _default_addresses(customer: Customer) -> dict[str, dict[str, str]]:
    """The customer's default billing and shipping addresses (kind -> snapshot): read with the
    customer (``with_default_addresses``), or else in one query."""
    if all(attr in vars(customer) for attr in _DEFAULT_ADDRESS.values()):
        return {kind: vars(customer)[attr] for kind, attr in _DEFAULT_ADDRESS.items() if vars(customer)[attr]}
    found = customer.addresses.filter(
        is_default=True, kind__in=[Address.Kind.BILLING, Address.Kind.SHIPPING]
    ).order_by("id")
    return {address.kind: address.snapshot() for address in reversed(list(found))}  # the first wins


@dataclass(frozen=True)
class PlacedOrder:
    """An order just written by ``order_place``: its lines (with their taxes, in memory) and what
    was reserved for each line (line id -> quantity), so that an answer needs no second read."""

    order: SalesOrder
    lines: list[OrderLine]
    reserved: dict[int, Decimal]


def order_create(
    *,
    channel: SalesChannel,
    customer: Customer,
    lines: Sequence[LineSpec],
    order_date: Any = None,
    billing_address: dict[str, str] | None = None,
    shipping_address: dict[str, str] | None = None,
    shipping_amount: Decimal | str | int = 0,
    shipping_tax_rate: Decimal | str | int = 0,
    order_discount: Decimal | str | int = 0,
    notes: str = "",
    tags: Sequence[str] = (),
    external_reference: str = "",
    prices_include_tax: bool | None = None,
    shipping_tax_amount: Decimal | str | int | None = None,
    shipping_method: str = "",
    user: Any = None,
) -> SalesOrder:
    """A draft order with its lines and stored totals, in one transaction (``order_place``'s).

    ``prices_include_tax`` defaults to the channel's; an order imported from a channel passes the
    mode it was priced in there, and ``shipping_tax_amount`` when the channel charged shipping tax.
    """
    return order_place(
        channel=channel,
        customer=customer,
        lines=lines,
        order_date=order_date,
        billing_address=billing_address,
        shipping_address=shipping_address,
        shipping_amount=shipping_amount,
        shipping_tax_rate=shipping_tax_rate,
        order_discount=order_discount,
        notes=notes,
        tags=tags,
        external_reference=external_reference,
        prices_include_tax=prices_include_tax,
        shipping_tax_amount=shipping_tax_amount,
        shipping_method=shipping_method,
        user=user,
    ).order


@transaction.atomic
def order_place(
    *,
    channel: SalesChannel,
    customer: Customer,
    lines: Sequence[LineSpec],
    confirm: bool = False,
    order_date: Any = None,
    billing_address: dict[str, str] | None = None,
    shipping_address: dict[str, str] | None = None,
    shipping_amount: Decimal | str | int = 0,
    shipping_tax_rate: Decimal | str | int = 0,
    order_discount: Decimal | str | int = 0,
    notes: str = "",
    tags: Sequence[str] = (),
    external_reference: str = "",
    prices_include_tax: bool | None = None,
    shipping_tax_amount: Decimal | str | int | None = None,
    shipping_method: str = "",
    user: Any = None,
) -> PlacedOrder:
    """``order_create``, and with ``confirm`` also ``order_confirm``, as one operation that writes
    each row once: the order (already priced, and confirmed when asked), its lines and their taxes
    in one INSERT each, the reservations of all its lines at once (inventory's
    ``stock_reserve_many``), and its events in one go (``erp.events.batched``). The events and
    their payloads are those of ``order_create`` followed by ``order_confirm``.

    The order's history has one record: it was never seen as a draft when it is confirmed here.
    """
    if not channel.is_active:
        raise ValidationFailed(f"Channel {channel} is archived.", field_errors={"channel": ["Archived."]})
    clean = _validate_lines(lines)
    defaults = _default_addresses(customer) if not (billing_address and shipping_address) else {}
    order = SalesOrder(
        channel=channel,
        customer=customer,
        order_date=order_date or clock.now(),
        currency=channel.currency,
        prices_include_tax=channel.prices_include_tax if prices_include_tax is None else prices_include_tax,
        billing_address=billing_address or defaults.get(Address.Kind.BILLING, {}),
        shipping_address=shipping_address or defaults.get(Address.Kind.SHIPPING, {}),
        shipping_amount=quantize_money(shipping_amount),
        shipping_method=shipping_method.strip()[:100],
        shipping_tax_rate=to_decimal(shipping_tax_rate),
        order_discount=quantize_money(order_discount),
        notes=notes,
        tags=sorted({t.strip() for t in tags if t.strip()}),
        external_reference=external_reference,
        created_by=_actor(user),
        updated_by=_actor(user),
    )
    if order.shipping_amount < 0 or order.order_discount < 0:
        raise ValidationFailed("Shipping and discounts cannot be negative.")
    result = _price(order, clean, tax_exempt=customer.tax_exempt, shipping_tax_amount=shipping_tax_amount)
    _set_totals(order, result)
    if confirm:
        order.status = OrderStatus.CONFIRMED
        order.confirmed_at = clock.now()
    # Last, once the order can no longer be refused: an order number may have gaps (erp.numbering),
    # but not for orders refused as invalid.
    rows = _line_rows(order, clean, result)
    # The order and its lines take their keys with its number (one statement), so that every row
    # after them is sent without waiting for an answer (erp.pipeline): the reservations' lock of
    # the stock levels is the one read in between.
    order.number = next_number_and_keys("sales.order", prefix="SO-", keys_for=[[order], rows])
    with pipeline.pipelined(), events.batched():
        # Its INSERT is built once and prepared (no signal has a receiver for a new order); its
        # history row is written by history.record, as simple-history's post_save would.
        statements.insert([order])
        history.record(order, "+")
        written = _insert_lines(rows, clean, result)
        created_payload = order_payload(order, lines=len(clean))
        if confirm:
            created_payload["status"] = OrderStatus.DRAFT  # as it was announced before it was confirmed
        events.emit("sales.order_created", aggregate=order, payload=created_payload)
        got: dict[int, Decimal] = {}
        if confirm:
            got = _reserve_lines(order, written, {}, user)
            events.emit(
                "sales.order_confirmed", aggregate=order, payload=_confirmed_payload(order, written, got)
            )
    return PlacedOrder(order=order, lines=written, reserved=got)


def _locked(order: SalesOrder) -> SalesOrder:
    return (
        SalesOrder.objects.select_for_update(of=("self",))
        .select_related("channel__warehouse", "customer")
        .get(pk=order.pk)
    )


@transaction.atomic
def order_update(
    *,
    order: SalesOrder,
    user: Any = None,
    lines: Sequence[LineSpec] | None = None,
    **changes: Any,
) -> SalesOrder:
    """Edit a draft (lines, amounts, addresses); later only notes, tags and addresses.

    A draft is re-priced when its lines or amounts change, from its lines' prices, percentages and
    tax rates (amounts a channel gave at import are not carried over); other edits keep its lines.
    """
    order = _locked(order)
    free = {"notes", "tags", "billing_address", "shipping_address", "external_reference"}
    money = {"shipping_amount", "shipping_tax_rate", "order_discount"}
    unknown = set(changes) - free - money
    if unknown:
        raise ValidationFailed(f"Cannot change: {', '.join(sorted(unknown))}.")
    draft = order.status == OrderStatus.DRAFT
    if not draft and (lines is not None or set(changes) & money):
        raise ValidationFailed(
            f"Order {order.number} is {order.status}: only notes, tags and addresses can change."
        )
    if order.status in (OrderStatus.CANCELLED, OrderStatus.CLOSED):
        raise ValidationFailed(f"Order {order.number} is {order.status}.")
    for name in free & set(changes):
        value = changes[name]
        setattr(order, name, sorted({t.strip() for t in value if t.strip()}) if name == "tags" else value)
    for name in money & set(changes):
        setattr(
            order,
            name,
            to_decimal(changes[name]) if name == "shipping_tax_rate" else quantize_money(changes[name]),
        )
    if draft and (lines is not None or set(changes) & money):
        if lines is None:
            current = list(order.lines.select_related("product__stock_unit").prefetch_related("taxes"))
            lines = [
                LineSpec(
                    ln.product,
                    ln.quantity,
                    ln.unit_price,
                    ln.description,
                    ln.discount_percent,
                    [TaxSpec(t.name, t.rate) for t in ln.taxes.all()],
                    fulfilled_by=ln.fulfilled_by,
                )
                for ln in current
            ]
        _write_lines_and_totals(order, _validate_lines(lines), tax_exempt=order.customer.tax_exempt)
    order.updated_by = _actor(user)
    order.save()
    events.emit("sales.order_updated", aggregate=order, payload=order_payload(order))
    return order


def _reserve_lines(
    order: SalesOrder, lines: Sequence[OrderLine], reserved: dict[int, Decimal], user: Any
) -> dict[int, Decimal]:
    """Reserve what is available for each line's backorder; return what was reserved now, per line.

    A line that takes none of our stock (a service, or one the marketplace fulfils) is skipped. All
    the lines at once (``stock_reserve_many``): one lock of their levels, one INSERT, one UPDATE.
    """
    requests: list[ReserveRequest] = []
    line_ids: list[int] = []
    for line in lines:
        if not line.uses_our_stock:
            continue
        wanted = line.quantity - line.quantity_shipped - reserved.get(line.pk, ZERO)
        if wanted <= 0:
            continue
        requests.append(ReserveRequest(product=line.product, quantity=wanted, demand=demand_of(line, order)))
        line_ids.append(line.pk)
    if not requests:
        return {}
    held = stock_reserve_many(
        warehouse=order.channel.warehouse, requests=requests, allow_partial=True, user=user
    )
    return {pk: sum((r.quantity for r in rows), ZERO) for pk, rows in zip(line_ids, held, strict=True)}


def _confirmed_payload(
    order: SalesOrder, lines: Sequence[OrderLine], got: dict[int, Decimal]
) -> dict[str, Any]:
    return order_payload(
        order,
        lines=[
            {
                "line_id": ln.pk,
                "sku": ln.product.sku,
                "quantity": str(ln.quantity),
                "reserved": str(got.get(ln.pk, ZERO)),
                "backordered": str(ln.quantity - got.get(ln.pk, ZERO) if ln.uses_our_stock else ZERO),
            }
            for ln in lines
        ],
    )


@transaction.atomic
def order_confirm(*, order: SalesOrder, user: Any = None) -> SalesOrder:
    """Confirm and reserve stock in the channel's warehouse; what is missing is backordered."""
    from sales.selectors import reserved_by_line

    order = _locked(order)
    if order.status != OrderStatus.DRAFT:  # an order on hold is released, not confirmed
        raise InvalidTransition(document="sales order", current=order.status, target=OrderStatus.CONFIRMED)
    lines = list(order.lines.select_related("product__stock_unit"))
    with events.batched():
        got = _reserve_lines(order, lines, reserved_by_line([ln.pk for ln in lines]), user)
        order.status = OrderStatus.CONFIRMED
        order.confirmed_at = clock.now()
        order.updated_by = _actor(user)
        order.save(update_fields=["status", "confirmed_at", "updated_by", "updated_at"])
        events.emit("sales.order_confirmed", aggregate=order, payload=_confirmed_payload(order, lines, got))
    return order


@transaction.atomic
def order_hold(*, order: SalesOrder, reason: str = "", user: Any = None) -> SalesOrder:
    order = _locked(order)
    lifecycle.check(order.status, OrderStatus.ON_HOLD)
    order.held_from = order.status
    order.status = OrderStatus.ON_HOLD
    if reason:
        order.notes = f"{order.notes}\nOn hold: {reason}".strip()
    order.updated_by = _actor(user)
    order.save()
    events.emit("sales.order_held", aggregate=order, payload=order_payload(order, reason=reason))
    return order


@transaction.atomic
def order_release(*, order: SalesOrder, user: Any = None) -> SalesOrder:
    """Take an order off hold, back to the state it was held in."""
    order = _locked(order)
    if order.status != OrderStatus.ON_HOLD:
        raise InvalidTransition(document="sales order", current=order.status, target="released")
    target = order.held_from or OrderStatus.DRAFT
    lifecycle.check(order.status, target)
    order.status = target
    order.held_from = ""
    order.updated_by = _actor(user)
    order.save()
    events.emit("sales.order_released", aggregate=order, payload=order_payload(order))
    return order


@transaction.atomic
def order_cancel(*, order: SalesOrder, reason: str = "", user: Any = None) -> SalesOrder:
    """Cancel and release every reservation of the order."""
    order = _locked(order)
    lifecycle.check(order.status, OrderStatus.CANCELLED)
    released = 0
    for line_id in order.lines.values_list("pk", flat=True):
        released += reservations_release_for_demand(demand_type=DEMAND_TYPE, demand_id=line_id, user=user)
    order.status = OrderStatus.CANCELLED
    order.cancelled_at = clock.now()
    if reason:
        order.notes = f"{order.notes}\nCancelled: {reason}".strip()
    order.updated_by = _actor(user)
    order.save()
    events.emit("sales.order_cancelled", aggregate=order, payload=order_payload(order, reason=reason))
    return order


@transaction.atomic
def order_close(*, order: SalesOrder, user: Any = None) -> SalesOrder:
    order = _locked(order)
    lifecycle.check(order.status, OrderStatus.CLOSED)
    order.status = OrderStatus.CLOSED
    order.updated_by = _actor(user)
    order.save(update_fields=["status", "updated_by", "updated_at"])
    events.emit("sales.order_closed", aggregate=order, payload=order_payload(order))
    return order
