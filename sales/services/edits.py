"""Editing a confirmed order's lines: fewer units (or none) of what has not shipped yet, or more.

A channel edits an order after it was placed (Shopify's order edits, a refund of goods that never
left): the lines shrink here too, what is reserved beyond the new open quantity is released, and
the amounts follow. A draft is edited with ``order_update`` instead; a line cannot go below what
was shipped or invoiced.

An order also takes more after it was confirmed (``order_lines_extend``: a channel's edit, or a
person on the order page or the API): lines grow and new lines are added, priced by
``sales.pricing`` as ``order_create`` prices its lines, and stock is reserved for the new open
quantities as ``order_confirm`` reserves it (what is missing is backordered).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import F

from erp import events, formatting
from erp.exceptions import InvalidTransition, ValidationFailed
from erp.money import ZERO, quantize_money, quantize_quantity, round_money, to_decimal
from inventory.selectors import active_reservations_by_demand
from inventory.services import reservation_release
from sales.models import OrderLine, OrderLineTax, OrderStatus, SalesOrder
from sales.pricing import LineIn, LineOut, TaxIn, compute
from sales.selectors import lines_can_be_added, reserved_by_line
from sales.services.orders import (
    DEMAND_TYPE,
    LineSpec,
    TaxSpec,
    _actor,
    _locked,
    _reserve_lines,
    _validate_lines,
    line_row,
    order_payload,
)

EDITABLE = (OrderStatus.CONFIRMED, OrderStatus.PARTIALLY_SHIPPED, OrderStatus.ON_HOLD)


@transaction.atomic
def order_lines_reduce(
    *, order: SalesOrder, quantities: Mapping[int, Decimal | str | int], reason: str = "", user: Any = None
) -> SalesOrder:
    """Lower the quantity of lines (order line id -> new quantity) of a confirmed order.

    Each line keeps at least what was shipped and invoiced; a line that goes to zero with nothing
    shipped or invoiced is removed. Reservations beyond the new open quantity are released (newest
    first). Amounts are prorated: the line's net, discount and each tax shrink by the same share,
    and the order's totals follow. Emits ``sales.order_updated``."""
    order = _locked(order)
    if order.status not in EDITABLE:
        raise InvalidTransition(document="sales order", current=order.status, target="edited")
    lines = {ln.pk: ln for ln in order.lines.select_related("product__stock_unit").prefetch_related("taxes")}
    wanted = {pk: quantize_quantity(q) for pk, q in quantities.items()}
    errors: dict[str, list[str]] = {}
    for pk, quantity in wanted.items():
        line = lines.get(pk)
        if line is None:
            raise ValidationFailed(f"Line {pk} is not a line of {order.number}.")
        floor = max(line.quantity_shipped, line.quantity_invoiced)
        unit = line.product.stock_unit.code
        if quantity < floor:
            errors[f"line {line.position}"] = [
                f"{line.product.sku}: {formatting.quantity(floor, unit)} is shipped or invoiced already; "
                f"it cannot go down to {formatting.quantity(quantity, unit)}."
            ]
        elif quantity > line.quantity:
            errors[f"line {line.position}"] = [f"{line.product.sku}: an edit here only lowers a quantity."]
    if errors:
        raise ValidationFailed(
            f"Cannot edit {order.number}: {next(iter(errors.values()))[0]}", field_errors=errors
        )
    changed = {pk: q for pk, q in wanted.items() if q != lines[pk].quantity}
    if not changed:
        return order
    if all(changed.get(pk, ln.quantity) == 0 for pk, ln in lines.items()):
        raise ValidationFailed(f"{order.number} would have no line left: cancel it instead.")
    _release_beyond(order, lines, changed, user)
    for pk, quantity in changed.items():
        _shrink(order, lines[pk], quantity)
    shipped_all = not OrderLine.objects.filter(order=order, quantity__gt=F("quantity_shipped")).exists()
    if order.status == OrderStatus.PARTIALLY_SHIPPED and shipped_all:
        order.status = OrderStatus.SHIPPED  # what was left to ship was edited away
    order.updated_by = _actor(user)
    order.save()
    events.emit(
        "sales.order_updated",
        aggregate=order,
        payload=order_payload(
            order,
            reason=reason,
            lines=[{"line_id": pk, "quantity": str(q)} for pk, q in changed.items()],
        ),
    )
    return order


def _release_beyond(
    order: SalesOrder, lines: dict[int, OrderLine], changed: dict[int, Decimal], user: Any
) -> None:
    held = active_reservations_by_demand(DEMAND_TYPE, changed)
    for pk, quantity in changed.items():
        line = lines[pk]
        excess = sum((r.quantity for r in held.get(pk, [])), ZERO) - (quantity - line.quantity_shipped)
        for reservation in reversed(held.get(pk, [])):
            if excess <= 0:
                break
            take = min(reservation.quantity, excess)
            reservation_release(reservation=reservation, quantity=take, user=user)
            excess -= take


def _shrink(order: SalesOrder, line: OrderLine, quantity: Decimal) -> None:
    """Prorate the line to ``quantity`` (or remove it) and move the order's totals by the difference."""
    currency = order.currency

    def share(amount: Decimal) -> Decimal:
        return round_money(amount * quantity / line.quantity, currency)

    old_taxes = list(line.taxes.all())
    new_net, new_discount = share(line.line_subtotal), share(line.discount_amount)
    new_taxes = [share(t.amount) for t in old_taxes]
    new_tax = sum(new_taxes, ZERO)
    order.subtotal -= line.line_subtotal - new_net
    order.discount_total -= line.discount_amount - new_discount
    order.tax_total -= line.tax_amount - new_tax
    order.total -= line.line_total - (new_net + new_tax)
    if quantity == 0 and line.quantity_shipped == 0 and line.quantity_invoiced == 0:
        OrderLineTax.objects.filter(line=line).delete()
        line.delete()
        return
    for tax, amount in zip(old_taxes, new_taxes, strict=True):
        tax.amount = amount
        tax.save(update_fields=["amount"])
    line.quantity = quantity
    line.line_subtotal, line.discount_amount, line.tax_amount = new_net, new_discount, new_tax
    line.line_total = new_net + new_tax
    line.save(update_fields=["quantity", "line_subtotal", "discount_amount", "tax_amount", "line_total"])


# --- more: lines that grow, lines added ------------------------------------------------------


@dataclass(frozen=True)
class LineGrowth:
    """A line's new, higher quantity, with the whole line priced as a channel charged it there.

    The line is re-priced at ``quantity`` from these (``sales.pricing``: ``discount_amount`` the
    line's whole discount, each tax with the amount charged, as in a ``LineSpec``); a bare quantity
    instead prices only the extra units, at the line's unit price, discount percentage and tax rates,
    and adds them to the line."""

    quantity: Decimal | str | int
    unit_price: Decimal | str | int | None = None  # None: the line's
    discount_percent: Decimal | str | int = 0
    discount_amount: Decimal | str | int = 0
    taxes: Sequence[TaxSpec] = ()


@dataclass(frozen=True)
class _Raise:
    line: OrderLine
    quantity: Decimal
    growth: LineGrowth | None
    unit_price: Decimal
    discount_percent: Decimal


@transaction.atomic
def order_lines_extend(
    *,
    order: SalesOrder,
    grow: Mapping[int, Decimal | str | int | LineGrowth] | None = None,
    add: Sequence[LineSpec] = (),
    reason: str = "",
    user: Any = None,
) -> SalesOrder:
    """Raise the quantity of lines (order line id -> new quantity) and add lines to a confirmed order.

    For an order that is confirmed or partially shipped, or on hold from either
    (``sales.selectors.lines_can_be_added``). New lines are validated and priced as ``order_create``
    prices lines (their unit price, discount and taxes as given; the product's sale price without a
    price) and take the next positions, in the order given; a grown line is priced as
    ``LineGrowth`` says. The order's totals move by the difference (the order discount, already
    shared over the lines, is not shared again). Stock is reserved in the channel's warehouse for the
    new open quantities as at confirmation: what is missing is backordered, and a line that takes
    none of our stock reserves nothing. Emits ``sales.order_updated``.

    Field errors are named ``grow.<line id>`` and ``add.<index>.<field>``."""
    order = _locked(order)
    if not lines_can_be_added(order.status, order.held_from):
        raise InvalidTransition(document="sales order", current=order.status, target="edited")
    grow = dict(grow or {})
    if not grow and not add:
        raise ValidationFailed(
            f"Nothing to change on {order.number}: give a line to add or a higher quantity.",
            field_errors={"add": ["Give a line to add or a higher quantity."]},
        )
    lines = {ln.pk: ln for ln in order.lines.select_related("product__stock_unit").prefetch_related("taxes")}
    errors: dict[str, list[str]] = {}
    raised = _raises(order, lines, grow, errors)
    clean: list[dict[str, Any]] = []
    if add:
        try:
            clean = _validate_lines(add)
        except ValidationFailed as exc:
            if not exc.field_errors:
                raise
            errors.update(
                {f"add{key[len('lines') :]}": problems for key, problems in exc.field_errors.items()}
            )
    if errors:
        raise ValidationFailed(
            f"Cannot edit {order.number}: {next(iter(errors.values()))[0]}", field_errors=errors
        )
    if not raised and not clean:
        return order  # every quantity is what it was
    outs = _price(order, raised, clean)
    grown = [_grow(order, r, out) for r, out in zip(raised, outs, strict=False)]
    added = _add(order, lines, clean, outs[len(raised) :])
    touched = grown + added
    held_before = reserved_by_line([ln.pk for ln in touched])
    got = _reserve_lines(order, touched, held_before, user)
    order.updated_by = _actor(user)
    order.save()
    events.emit(
        "sales.order_updated",
        aggregate=order,
        payload=order_payload(
            order,
            reason=reason,
            lines=[
                {
                    "line_id": ln.pk,
                    "sku": ln.product.sku,
                    "quantity": str(ln.quantity),
                    "change": "added" if ln in added else "grown",
                    "reserved": str(got.get(ln.pk, ZERO)),
                    "backordered": str(
                        max(
                            ln.quantity
                            - ln.quantity_shipped
                            - held_before.get(ln.pk, ZERO)
                            - got.get(ln.pk, ZERO),
                            ZERO,
                        )
                        if ln.uses_our_stock
                        else ZERO
                    ),
                }
                for ln in touched
            ],
        ),
    )
    return order


def _raises(
    order: SalesOrder,
    lines: dict[int, OrderLine],
    grow: dict[int, Decimal | str | int | LineGrowth],
    errors: dict[str, list[str]],
) -> list[_Raise]:
    """The lines that grow, checked: each problem goes to ``errors`` under ``grow.<line id>``."""
    raised = []
    for pk, value in grow.items():
        key = f"grow.{pk}"
        line = lines.get(pk)
        if line is None:
            errors[key] = [f"Line {pk} is not a line of {order.number}."]
            continue
        growth = value if isinstance(value, LineGrowth) else None
        try:
            quantity = quantize_quantity(growth.quantity if growth is not None else value)
            price = quantize_money(
                line.unit_price if growth is None or growth.unit_price is None else growth.unit_price
            )
            percent = line.discount_percent if growth is None else to_decimal(growth.discount_percent)
        except (TypeError, ValueError) as exc:
            errors[key] = [str(exc)]
            continue
        product, unit = line.product, line.product.stock_unit
        if quantity <= 0:
            errors[key] = ["Must be positive."]
        elif quantity < line.quantity:
            errors[key] = [
                f"{product.sku}: {formatting.quantity(quantity, unit.code)} is less than the "
                f"{formatting.quantity(line.quantity, unit.code)} ordered: only a higher quantity "
                "is taken here."
            ]
        elif not unit.allows_fractions and quantity != quantity.to_integral_value():
            errors[key] = [f"{product.sku} is sold in whole {unit}."]
        elif price < 0:
            errors[key] = ["A unit price cannot be negative."]
        elif not 0 <= percent <= 100:
            errors[key] = ["A discount is between 0 and 100 %."]
        elif quantity > line.quantity:
            raised.append(_Raise(line, quantity, growth, price, percent))
    return raised


def _price(order: SalesOrder, raised: list[_Raise], clean: list[dict[str, Any]]) -> list[LineOut]:
    """What the extra units of each grown line (or the whole line, for a LineGrowth), then each new
    line, come to: one ``sales.pricing.compute`` of them, without the order's discount or shipping."""
    ins = []
    for r in raised:
        if r.growth is None:
            taxes = [TaxIn(t.name, t.rate) for t in r.line.taxes.all()]
            ins.append(LineIn(r.quantity - r.line.quantity, r.unit_price, r.discount_percent, taxes))
        else:
            given = [
                TaxIn(t.name[:60], to_decimal(t.rate), None if t.amount is None else quantize_money(t.amount))
                for t in r.growth.taxes
            ]
            discount = quantize_money(r.growth.discount_amount)
            ins.append(LineIn(r.quantity, r.unit_price, r.discount_percent, given, discount))
    ins += [
        LineIn(
            ln["quantity"],
            ln["unit_price"],
            ln["discount_percent"],
            [TaxIn(n, r, a) for n, r, a in ln["taxes"]],
            ln["discount_amount"],
        )
        for ln in clean
    ]
    try:
        result = compute(
            ins,
            currency=order.currency,
            prices_include_tax=order.prices_include_tax,
            tax_exempt=order.customer.tax_exempt,
        )
    except ValueError as exc:
        raise ValidationFailed(f"Cannot edit {order.number}: {exc}") from exc
    return result.lines


def _move_totals(order: SalesOrder, *, net: Decimal, discount: Decimal, tax: Decimal) -> None:
    order.subtotal += net
    order.discount_total += discount
    order.tax_total += tax
    order.total += net + tax


def _grow(order: SalesOrder, r: _Raise, out: LineOut) -> OrderLine:
    """Write the grown line (its extra units added, or re-priced whole) and move the order's totals."""
    line = r.line
    if r.growth is None:
        taxes = list(line.taxes.all())
        for tax, amount in zip(taxes, out.taxes or [ZERO] * len(taxes), strict=True):
            tax.amount += amount
            tax.save(update_fields=["amount"])
        net, discount = line.line_subtotal + out.net, line.discount_amount + out.discount
        tax_amount = sum((t.amount for t in taxes), ZERO)
    else:
        OrderLineTax.objects.filter(line=line).delete()
        specs = list(r.growth.taxes)
        OrderLineTax.objects.bulk_create(
            OrderLineTax(line=line, name=t.name[:60], rate=to_decimal(t.rate), amount=amount)
            for t, amount in zip(specs, out.taxes or [ZERO] * len(specs), strict=True)
        )
        net, discount, tax_amount = out.net, out.discount, out.tax
    _move_totals(
        order,
        net=net - line.line_subtotal,
        discount=discount - line.discount_amount,
        tax=tax_amount - line.tax_amount,
    )
    line.quantity, line.unit_price, line.discount_percent = r.quantity, r.unit_price, r.discount_percent
    line.line_subtotal, line.discount_amount, line.tax_amount = net, discount, tax_amount
    line.line_total = net + tax_amount
    line.save(
        update_fields=[
            "quantity",
            "unit_price",
            "discount_percent",
            "line_subtotal",
            "discount_amount",
            "tax_amount",
            "line_total",
        ]
    )
    return line


def _add(
    order: SalesOrder, lines: dict[int, OrderLine], clean: list[dict[str, Any]], outs: list[LineOut]
) -> list[OrderLine]:
    """Write the new lines after the last one, with their taxes, and move the order's totals."""
    if not clean:
        return []
    last = max((ln.position for ln in lines.values()), default=0)
    created = OrderLine.objects.bulk_create(
        line_row(order, last + i, ln, out)
        for i, (ln, out) in enumerate(zip(clean, outs, strict=True), start=1)
    )
    OrderLineTax.objects.bulk_create(
        OrderLineTax(line=row, name=name, rate=rate, amount=amount)
        for row, ln, out in zip(created, clean, outs, strict=True)
        for (name, rate, _), amount in zip(ln["taxes"], out.taxes or [ZERO] * len(ln["taxes"]), strict=True)
    )
    for out in outs:
        _move_totals(order, net=out.net, discount=out.discount, tax=out.tax)
    return created
