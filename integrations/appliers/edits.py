"""Order edits in: lines the tool shrank or removed before they shipped shrink here too.

A channel edits an order after it was placed (Shopify's order edits), or refunds goods that never
left (a refund line with ``Restock.CANCEL``). Either way the tool says what is left of each line:
``OrderLineRecord.current_quantity`` (what the tool still counts, after edits and every refund),
or, when it does not say, the ordered quantity less the cancelled refunds. Units refunded after
they shipped are recorded as returns (appliers.refunds), not as an edit: they are added back.

Each line of the order then goes down to that quantity through ``sales.services.order_lines_reduce``
(reservations beyond it released, amounts prorated, a line at zero removed), never below what was
shipped or invoiced here; what cannot be followed is noted for a person.
"""

from __future__ import annotations

from decimal import Decimal

from erp.money import ZERO
from integrations.appliers.refs import order_line_ids
from integrations.models import Connection
from integrations.records import OrderRecord, Restock
from sales.models import OrderLine, SalesOrder
from sales.services import order_lines_reduce
from sales.services.edits import EDITABLE


def apply_edits(connection: Connection, order: SalesOrder, record: OrderRecord) -> tuple[bool, list[str]]:
    """Shrink the order's lines to what the tool has left of them: (changed, notes for a person)."""
    if order.status not in EDITABLE:
        return False, []
    line_ids = order_line_ids(connection, record.external_id)
    lines = {ln.pk: ln for ln in OrderLine.objects.filter(order=order)}
    refunded_after_shipping: dict[str, Decimal] = {}
    cancelled: dict[str, Decimal] = {}
    for refund in record.refunds:
        for item in refund.lines:
            target = cancelled if item.restock == Restock.CANCEL else refunded_after_shipping
            target[item.line_external_id] = target.get(item.line_external_id, ZERO) + item.quantity
    wanted: dict[int, Decimal] = {}
    notes: list[str] = []
    for rec in record.lines:
        line = lines.get(line_ids.get(rec.external_id, 0))
        if line is None:
            continue
        if rec.current_quantity is not None:
            gone_shipped = min(refunded_after_shipping.get(rec.external_id, ZERO), line.quantity_shipped)
            left = rec.current_quantity + gone_shipped
        else:
            left = rec.quantity - cancelled.get(rec.external_id, ZERO)
        floor = max(line.quantity_shipped, line.quantity_invoiced)
        if left < floor:
            notes.append(
                f"line {line.position} was cut to {left} in the tool, but {floor} of it is shipped or "
                "invoiced here: kept at that"
            )
            left = floor
        if left < line.quantity:
            wanted[line.pk] = left
    if not wanted:
        return False, notes
    if all(wanted.get(pk, ln.quantity) == 0 for pk, ln in lines.items()):
        return False, [
            *notes,
            "every line was removed in the tool: cancel the order if it is cancelled there",
        ]
    order_lines_reduce(order=order, quantities=wanted, reason=f"edited in {connection.name}")
    return True, notes
