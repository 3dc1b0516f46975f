"""Pricing a confirmed order when its channel names the prices only later.

A marketplace takes an order before the buyer's payment is authorised, and says what it costs only
then (Amazon's Pending orders carry no prices; they become Unshipped, priced). The hub records such
an order at once, confirmed and reserving its stock, so that no channel sells those units again;
``order_prices_set`` then prices it as the channel charged it: each line re-priced whole at its
quantity (unit price, the line's discount, each tax with the amount charged), shipping with its tax,
and the order's totals recomputed from them. Quantities, reservations and shipments are untouched.

Nothing invoiced may change its price (the invoice holds the old one): an order with an invoiced
line is refused, as is a cancelled or closed one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction

from erp import events
from erp.exceptions import InvalidTransition, ValidationFailed
from erp.money import ZERO, quantize_money, to_decimal
from sales.models import OrderLine, OrderLineTax, OrderStatus, SalesOrder
from sales.pricing import LineIn, TaxIn, compute
from sales.services.orders import TaxSpec, _actor, _locked, order_payload

PRICEABLE = (OrderStatus.DRAFT, OrderStatus.CONFIRMED, OrderStatus.PARTIALLY_SHIPPED, OrderStatus.ON_HOLD)


@dataclass(frozen=True)
class LinePrice:
    """A line's price as the channel charged it, for the line's whole quantity."""

    unit_price: Decimal | str | int
    discount_amount: Decimal | str | int = 0  # the line's whole discount
    taxes: Sequence[TaxSpec] = ()  # each with the amount charged (TaxSpec.amount), or none at all


@dataclass(frozen=True)
class ShippingPrice:
    amount: Decimal | str | int  # net of its discount
    tax_rate: Decimal | str | int = 0
    tax_amount: Decimal | str | int | None = None  # as charged; None: computed from the rate


def _tax_in(spec: TaxSpec) -> TaxIn:
    amount = None if spec.amount is None else quantize_money(spec.amount)
    return TaxIn(spec.name[:60], to_decimal(spec.rate), amount)


@transaction.atomic
def order_prices_set(
    *,
    order: SalesOrder,
    prices: Mapping[int, LinePrice],
    shipping: ShippingPrice | None = None,
    reason: str = "",
    user: Any = None,
) -> SalesOrder:
    """Price lines (order line id -> ``LinePrice``) and shipping of an order, whole, as charged.

    Every line is named (a channel prices the whole order at once); the order discount stays shared
    over the lines as before. Refused (``InvalidTransition``) for a cancelled or closed order, and
    (``ValidationFailed``) when a line is missing, invoiced or not the order's, or the amounts do not
    fit (a discount above the line's amount, a negative price or tax). Emits
    ``sales.order_updated``."""
    order = _locked(order)
    if order.status not in PRICEABLE:
        raise InvalidTransition(document="sales order", current=order.status, target="priced")
    lines = list(order.lines.order_by("position", "pk").prefetch_related("taxes"))
    by_pk = {ln.pk: ln for ln in lines}
    errors: dict[str, list[str]] = {}
    for pk in prices:
        line = by_pk.get(pk)
        if line is None:
            errors[f"prices.{pk}"] = [f"Line {pk} is not a line of {order.number}."]
        elif line.quantity_invoiced > 0:
            errors[f"prices.{pk}"] = [f"Line {line.position} is invoiced: its price cannot change."]
    for line in lines:
        if line.pk not in prices:
            errors[f"prices.{line.pk}"] = [f"Line {line.position} has no price: price every line."]
    for pk, price in prices.items():
        if to_decimal(price.unit_price) < 0:
            errors.setdefault(f"prices.{pk}", []).append("A unit price cannot be negative.")
    if errors:
        raise ValidationFailed(
            f"Cannot price {order.number}: {next(iter(errors.values()))[0]}", field_errors=errors
        )
    ins = [_line_in(line, prices[line.pk]) for line in lines]
    ship = shipping or ShippingPrice(
        order.shipping_amount,
        order.shipping_tax_rate,
        order.shipping_total - order.shipping_amount if not order.prices_include_tax else None,
    )
    try:
        result = compute(
            ins,
            currency=order.currency,
            prices_include_tax=order.prices_include_tax,
            order_discount=order.order_discount,
            shipping=quantize_money(ship.amount),
            shipping_tax_rate=to_decimal(ship.tax_rate),
            tax_exempt=order.customer.tax_exempt,
            shipping_tax_amount=None if ship.tax_amount is None else quantize_money(ship.tax_amount),
        )
    except ValueError as exc:
        raise ValidationFailed(f"Cannot price {order.number}: {exc}") from exc
    OrderLineTax.objects.filter(line__in=lines).delete()
    OrderLineTax.objects.bulk_create(
        OrderLineTax(line=line, name=t.name, rate=t.rate, amount=amount)
        for line, line_in, out in zip(lines, ins, result.lines, strict=True)
        for t, amount in zip(line_in.taxes, out.taxes or [ZERO] * len(line_in.taxes), strict=True)
    )
    for line, line_in, out in zip(lines, ins, result.lines, strict=True):
        line.unit_price, line.discount_percent = line_in.unit_price, ZERO
        line.line_subtotal, line.discount_amount, line.tax_amount = out.net, out.discount, out.tax
        line.line_total = out.net + out.tax
    OrderLine.objects.bulk_update(
        lines,
        ["unit_price", "discount_percent", "line_subtotal", "discount_amount", "tax_amount", "line_total"],
    )
    order.shipping_amount = quantize_money(ship.amount)
    order.shipping_tax_rate = to_decimal(ship.tax_rate)
    order.subtotal = result.subtotal
    order.discount_total = result.discount_total
    order.tax_total = result.tax_total
    order.shipping_total = result.shipping_net + result.shipping_tax
    order.total = result.total
    order.updated_by = _actor(user)
    order.save()
    events.emit(
        "sales.order_updated",
        aggregate=order,
        payload=order_payload(order, reason=reason or "priced", priced=[str(pk) for pk in prices]),
    )
    return order


def _line_in(line: OrderLine, price: LinePrice) -> LineIn:
    taxes = [_tax_in(t) for t in price.taxes]
    return LineIn(
        line.quantity, quantize_money(price.unit_price), ZERO, taxes, quantize_money(price.discount_amount)
    )
