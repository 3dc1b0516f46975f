"""Order edits in: lines the tool shrank or removed before they shipped shrink here too; lines it
added or grew are added and grow here too.

A channel edits an order after it was placed (Shopify's order edits), or refunds goods that never
left (a refund line with ``Restock.CANCEL``). Either way the tool says what is left of each line:
``OrderLineRecord.current_quantity`` (what the tool still counts, after edits and every refund),
or, when it does not say, the ordered quantity less the cancelled refunds. Units refunded after
they shipped are recorded as returns (appliers.refunds), not as an edit: they are added back.

Each line of the order then goes down to that quantity through ``sales.services.order_lines_reduce``
(reservations beyond it released, amounts prorated, a line at zero removed), never below what was
shipped or invoiced here; what cannot be followed is noted for a person. When every line is gone
(Shopify refunds all of an unshipped order's goods without cancelling it), nothing is left to
ship: the order is cancelled here (``order_cancel``, its reservations released).

A line above ours (the tool's quantity grew), and a line of an id the order does not have (added in
the tool; its product resolved as a new order's lines are, an unknown SKU a MissingDependency) go
through ``sales.services.order_lines_extend`` on a confirmed order (or one partially shipped, or on
hold from either): priced as the tool charged them (its unit price, the line's discount and taxes,
prorated when the tool's amounts are for another quantity than what is left), reserved as at
confirmation (what is missing is backordered), each new line linked (ExternalRef("order_line")).
Shrinking comes first, so that what it releases can be reserved for what grows. The caller checks
that the totals are still the tool's (``as_sold``: when the tool's totals are those of its lines).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from erp.money import ZERO, round_money
from integrations.appliers.lines import line_products
from integrations.appliers.refs import ORDER_LINE, ct, order_line_ids
from integrations.models import Connection, ExternalRef
from integrations.records import OrderLineRecord, OrderRecord, Restock
from sales import lifecycle
from sales.models import FulfilledBy, OrderLine, OrderStatus, SalesOrder
from sales.selectors import lines_can_be_added
from sales.services import (
    LineGrowth,
    LineSpec,
    TaxSpec,
    order_cancel,
    order_lines_extend,
    order_lines_reduce,
)
from sales.services.edits import EDITABLE


@dataclass(frozen=True)
class Edits:
    """What following the tool's edits did."""

    changed: bool = False  # the order's lines changed
    extended: bool = False  # lines grew or were added
    notes: list[str] = field(default_factory=list)  # for a person


def as_sold(record: OrderRecord) -> bool:
    """The tool's totals are those of its lines as they stand: none edited down (its current
    quantity, when the tool gives one, is its quantity) and nothing refunded."""
    return all(ln.current_quantity in (None, ln.quantity) for ln in record.lines) and not record.refunds


def apply_edits(connection: Connection, order: SalesOrder, record: OrderRecord) -> Edits:
    """Take the order's lines to what the tool has of them: shrink, grow, add."""
    line_ids = order_line_ids(connection, record.external_id)
    lines = {ln.pk: ln for ln in OrderLine.objects.filter(order=order)}
    refunded_after_shipping: dict[str, Decimal] = {}
    cancelled: dict[str, Decimal] = {}
    for refund in record.refunds:
        for item in refund.lines:
            target = cancelled if item.restock == Restock.CANCEL else refunded_after_shipping
            target[item.line_external_id] = target.get(item.line_external_id, ZERO) + item.quantity
    wanted: dict[int, Decimal] = {}
    grow: dict[int, LineGrowth] = {}
    new: list[tuple[int, OrderLineRecord, Decimal]] = []  # (position in the record, line, quantity)
    notes: list[str] = []
    for position, rec in enumerate(record.lines, start=1):
        line = lines.get(line_ids.get(rec.external_id, 0))
        if rec.current_quantity is not None:
            shipped = line.quantity_shipped if line is not None else ZERO
            gone_shipped = min(refunded_after_shipping.get(rec.external_id, ZERO), shipped)
            left = rec.current_quantity + gone_shipped
        else:
            left = rec.quantity - cancelled.get(rec.external_id, ZERO)
        if line is None:
            if rec.external_id and left > 0:  # added in the tool (a line without an id cannot be followed)
                new.append((position, rec, left))
            continue
        floor = max(line.quantity_shipped, line.quantity_invoiced)
        if left < floor:
            notes.append(
                f"line {line.position} was cut to {left} in the tool, but {floor} of it is shipped or "
                "invoiced here: kept at that"
            )
            left = floor
        if left < line.quantity:
            wanted[line.pk] = left
        elif left > line.quantity:
            discount, taxes = _charged(rec, left, order.currency)
            grow[line.pk] = LineGrowth(left, rec.unit_price, discount_amount=discount, taxes=taxes)
    if order.status not in EDITABLE:
        return Edits(notes=[_not_followed(order)] if grow or new else [])
    if (grow or new) and not lines_can_be_added(order.status, order.held_from):
        notes.append(_not_followed(order))
        grow, new = {}, []
    added = _specs(connection, order, record, new)
    emptied = bool(wanted) and all(wanted.get(pk, ln.quantity) == 0 for pk, ln in lines.items())
    if emptied and not added:
        if any(not s.voided for s in record.shipments) or refunded_after_shipping:
            # Goods left in the tool (its shipments are recorded after this): not a removal.
            return Edits(notes=[*notes, "every line is refunded in the tool after it shipped"])
        # Nothing is left to ship (a line shipped or invoiced here is never emptied): the order is
        # cancelled here, so that its reservations go and nobody ships what the customer no longer has.
        if not lifecycle.can(order.status, OrderStatus.CANCELLED):
            unable = f"every line was removed in the tool, but {order.number} cannot be cancelled"
            return Edits(notes=[*notes, unable])
        reason = f"every line was removed in {connection.name}: nothing is left to ship"
        order_cancel(order=order, reason=reason)
        return Edits(changed=True, notes=[*notes, "every line was removed in the tool: cancelled here"])
    if not (wanted or grow or added):
        return Edits(notes=notes)
    reason = f"edited in {connection.name}"
    if wanted and not emptied:  # first, so that what it releases can be reserved for what grows
        order_lines_reduce(order=order, quantities=wanted, reason=reason)
    if grow or added:
        order_lines_extend(order=order, grow=grow, add=added, reason=reason)
        _link_added(connection, order, record, [rec for _, rec, _ in new])
    if emptied:  # every line of before went in the tool, for the lines it added
        order_lines_reduce(order=order, quantities=wanted, reason=reason)
    return Edits(changed=True, extended=bool(grow or added), notes=notes)


def _not_followed(order: SalesOrder) -> str:
    return (
        f"lines were added or grown in the tool, but {order.number} is "
        f"{order.get_status_display().lower()} here: not followed"
    )


def _charged(rec: OrderLineRecord, quantity: Decimal, currency: str) -> tuple[Decimal, list[TaxSpec]]:
    """The line's discount and taxes as the tool charged them, for ``quantity`` of it: the tool's
    amounts are for its ordered quantity, so for another they are prorated (as order_lines_reduce
    prorates a line)."""

    def share(amount: Decimal) -> Decimal:
        if quantity == rec.quantity or not rec.quantity:
            return amount
        return round_money(amount * quantity / rec.quantity, currency)

    return share(rec.discount), [TaxSpec(t.name[:60], t.rate, share(t.amount)) for t in rec.taxes]


def _specs(
    connection: Connection,
    order: SalesOrder,
    record: OrderRecord,
    new: list[tuple[int, OrderLineRecord, Decimal]],
) -> list[LineSpec]:
    """The lines the tool added, as a new order's lines are made (``appliers.orders``)."""
    if not new:
        return []
    products = line_products(connection, record, [(position, rec) for position, rec, _ in new])
    specs = []
    for (_, rec, quantity), product in zip(new, products, strict=True):
        discount, taxes = _charged(rec, quantity, order.currency)
        specs.append(
            LineSpec(
                product=product,
                quantity=quantity,
                unit_price=rec.unit_price,
                description=rec.title or product.name,
                discount_amount=discount,
                taxes=taxes,
                fulfilled_by=FulfilledBy(rec.fulfilled_by.value),
            )
        )
    return specs


def _link_added(
    connection: Connection, order: SalesOrder, record: OrderRecord, added: list[OrderLineRecord]
) -> None:
    """ExternalRef("order_line") of each line just added: the last ones of the order, in order (the
    order is locked until the transaction ends, so nothing else added any)."""
    lines = list(OrderLine.objects.filter(order=order).order_by("-position", "-pk")[: len(added)])[::-1]
    for line, rec in zip(lines, added, strict=True):
        ExternalRef.objects.update_or_create(
            connection=connection,
            object_type=ORDER_LINE,
            external_id=rec.external_id,
            defaults={
                "content_type": ct(OrderLine),
                "object_id": line.pk,
                "extra": {"order": record.external_id},
            },
        )
