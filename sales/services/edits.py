"""Editing a confirmed order's lines: fewer units (or none) of what has not shipped yet.

A channel edits an order after it was placed (Shopify's order edits, a refund of goods that never
left): the lines shrink here too, what is reserved beyond the new open quantity is released, and
the amounts follow. A draft is edited with ``order_update`` instead; a line cannot go below what
was shipped or invoiced.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import F

from erp import events, formatting
from erp.exceptions import InvalidTransition, ValidationFailed
from erp.money import ZERO, quantize_quantity, round_money
from inventory.selectors import active_reservations_by_demand
from inventory.services import reservation_release
from sales.models import OrderLine, OrderLineTax, OrderStatus, SalesOrder
from sales.services.orders import DEMAND_TYPE, _actor, _locked, order_payload

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
