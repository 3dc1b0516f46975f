"""Refunds in: money paid back in a tool becomes a credit note here, and goods that came back
are back in stock.

A refund on an ``OrderRecord`` (``RefundRecord``) not seen before (ExternalRef("refund")) is
recorded through the sales services, by what became of each line's goods:

* ``Restock.RETURN``: a return of those quantities is announced and received at once
  (``return_create`` + ``return_receive``): the stock comes back into the channel's warehouse
  through the ledger, the line's returned quantity grows, and the credit note is issued. The
  money the tool paid back is recorded as the return's refund (``refund_record``), up to what
  the credit note leaves; more than that (a shipping refund) is noted.
* ``Restock.NONE``: shipped goods that are not coming back: a credit note for the quantities
  (``credit_note_create``), no stock move.
* ``Restock.CANCEL``: goods refunded before they left: the line shrinks (appliers.edits), nothing is
  credited (nothing was invoiced for it).

Quantities are capped at what each line can still return (shipped, less returned); a refund
whose lines the hub does not know is noted, the rest is recorded.
"""

from __future__ import annotations

from decimal import Decimal

from erp.money import ZERO
from integrations.appliers.refs import link, order_line_ids, refs
from integrations.models import Connection
from integrations.records import OrderRecord, RefundRecord, Restock
from sales.models import Invoice, OrderLine, ReturnDisposition, SalesOrder, SalesReturn
from sales.services import (
    ReturnLineSpec,
    credit_note_create,
    refund_record,
    return_create,
    return_receive,
)

REFUND = "refund"


def apply_refunds(connection: Connection, order: SalesOrder, record: OrderRecord) -> tuple[int, list[str]]:
    """Record the tool's new refunds of ``order``: (how many were recorded, notes for a person)."""
    if not record.refunds:
        return 0, []
    known = set(
        refs(connection, REFUND)
        .filter(external_id__in=[r.external_id for r in record.refunds])
        .values_list("external_id", flat=True)
    )
    new = sorted(
        (r for r in record.refunds if r.external_id not in known), key=lambda r: (r.created_at, r.external_id)
    )
    if not new:
        return 0, []
    line_ids = order_line_ids(connection, record.external_id)
    recorded, notes = 0, []
    for refund in new:
        lines = {ln.pk: ln for ln in OrderLine.objects.select_related("product").filter(order=order)}
        returned, kept, unknown, cancelled = _split(refund, line_ids, lines)
        if unknown:
            notes.append(f"refund {refund.external_id} has lines unknown here ({', '.join(unknown)})")
        credited: SalesReturn | Invoice | None = None
        if returned:
            sales_return = return_create(
                order=order,
                lines=[
                    ReturnLineSpec(lines[pk], q, ReturnDisposition.RESTOCK, refund.note)
                    for pk, q in returned.items()
                ],
                reason=f"refunded in {connection.name} ({refund.external_id})",
            )
            sales_return = return_receive(sales_return=sales_return)
            credited = sales_return
            assert sales_return.credit_note is not None
            left = sales_return.credit_note.total
            if refund.amount > 0:
                refund_record(
                    sales_return=sales_return,
                    amount=min(refund.amount, left),
                    method=connection.name[:40],
                    reference=refund.external_id,
                )
            if refund.amount > left:
                notes.append(
                    f"refund {refund.external_id} paid back {refund.amount}, the returned goods are "
                    f"credited {left}: the difference (shipping, adjustments) is not recorded here"
                )
        if kept:
            note = credit_note_create(
                order=order,
                lines=[(lines[pk], q) for pk, q in kept.items()],
                reason=f"refunded in {connection.name} ({refund.external_id}), not returned",
            )
            credited = credited or note
        if credited is None and not cancelled:
            notes.append(f"refund {refund.external_id}: nothing of it could be recorded here")
            continue
        # a refund of goods that never shipped credits nothing: it is linked to the order, as seen
        link(connection, REFUND, refund.external_id, credited or order)
        recorded += credited is not None
    return recorded, notes


def _split(
    refund: RefundRecord, line_ids: dict[str, int], lines: dict[int, OrderLine]
) -> tuple[dict[int, Decimal], dict[int, Decimal], list[str], list[str]]:
    """(returned, kept, unknown line ids, cancelled line ids): quantities per our line."""
    returned: dict[int, Decimal] = {}
    kept: dict[int, Decimal] = {}
    unknown: list[str] = []
    cancelled: list[str] = []
    for item in refund.lines:
        if item.restock == Restock.CANCEL:  # never shipped: an edit of the line (appliers.edits)
            cancelled.append(item.line_external_id)
            continue
        pk = line_ids.get(item.line_external_id)
        if pk is None or pk not in lines:
            unknown.append(item.line_external_id)
            continue
        line = lines[pk]
        returnable = (
            line.quantity_shipped - line.quantity_returned - returned.get(pk, ZERO) - kept.get(pk, ZERO)
        )
        quantity = min(item.quantity, returnable)
        if quantity <= 0:
            continue
        target = returned if item.restock == Restock.RETURN else kept
        target[pk] = target.get(pk, ZERO) + quantity
    return returned, kept, unknown, cancelled
