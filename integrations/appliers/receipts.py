"""Receipts in: what a 3PL received of a receiving order the hub sent it becomes a receipt of the
purchase order here (``procurement.services.receipt_create``): the stock comes in at the PO's
warehouse, at the ordered cost, and the PO moves to (partially) received.

A ``ReceiptRecord`` carries the tool's running totals (everything of each SKU received so far), not
what arrived since the last look: a tool that is polled says the same thing many times, and may say
it twice at once. So the hub keeps its own running total of each receiving order, in its
ExternalRef("receiving").extra ``received`` (per SKU, in stock units), and receives only the
difference; the ref is locked (``select_for_update``) for the whole of it, in the receipt's
transaction, so a duplicate or a concurrent delivery of the same record waits, then finds nothing
new ("skipped"), and never receives twice. A total that went down (the tool corrected a count) is
noted and takes nothing back. A record of a receiving order the hub never sent is linked to the PO
its reference names, if there is one (a receiving order made in the tool for our PO).

Units: the tool counts stock units; ``receipt_create`` takes purchase units per PO line. Each SKU's
new units are spread over the PO's lines of it in order (each up to what is open of it, the last
taking the rest, within the over-receipt tolerance) and divided by the line's factor; units that do
not make whole purchase units at the stored precision (5 units of a line bought in dozens) are
refused for a person, as are a PO closed or cancelled here and what ``receipt_create`` refuses (an
over-receipt beyond the tolerance, a lot- or serial-tracked product the tool names no lot for):
the event waits in the quarantine, nothing of it applied.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from erp.exceptions import InvalidTransition, ValidationFailed
from erp.money import ZERO, quantize_quantity
from integrations.appliers.refs import Applied, claim
from integrations.contract import InboundItem
from integrations.errors import MissingDependency, NeedsAPerson
from integrations.models import Connection, ExternalRef, SyncRun
from integrations.outbound_receiving import FINISHED, RECEIVED, RECEIVING, STATUS
from integrations.records import ReceiptRecord
from procurement.lifecycle import OPEN_STATUSES
from procurement.models import PurchaseOrder, PurchaseOrderLine
from procurement.services import ReceiveLine, receipt_create


class ReceiptRefused(NeedsAPerson):
    title = "What the 3PL received cannot be received here"
    kind = "receipt"


def totals_of(raw: Any) -> dict[str, Decimal]:
    """A ref's running totals (SKU, case-folded -> stock units), as stored in its extra."""
    if not isinstance(raw, Mapping):
        return {}
    return {str(sku): Decimal(str(units)) for sku, units in raw.items()}


def new_units(
    before: Mapping[str, Decimal], record: ReceiptRecord
) -> tuple[dict[str, Decimal], dict[str, Decimal], list[str]]:
    """What the record adds to ``before``: (SKU -> new units, the running totals now, notes). A total
    lower than the one recorded keeps the recorded one (nothing is taken back) and is noted."""
    totals = dict(before)
    new: dict[str, Decimal] = {}
    notes: list[str] = []
    said: dict[str, Decimal] = {}
    for line in record.lines:
        sku = line.sku.casefold()
        said[sku] = said.get(sku, ZERO) + line.received
    for sku, received in said.items():
        known = totals.get(sku, ZERO)
        if received > known:
            new[sku] = received - known
            totals[sku] = received
        elif received < known:
            notes.append(
                f"{sku}: {record.external_id} now says {received} received, {known} were received here"
            )
    return new, totals, notes


def spread(units: Decimal, lines: list[PurchaseOrderLine]) -> dict[int, Decimal]:
    """New stock units of one SKU over the PO's lines of it, in order: each line up to what is open
    of it, the last taking the rest. Line id -> stock units."""
    out: dict[int, Decimal] = {}
    left = units
    for i, line in enumerate(lines):
        room = max((line.quantity - line.quantity_received) * line.factor, ZERO)
        take = left if i == len(lines) - 1 else min(left, room)
        if take > 0:
            out[line.pk] = take
            left -= take
        if left <= 0:
            break
    return out


def in_purchase_units(line: PurchaseOrderLine, units: Decimal) -> Decimal:
    """Stock units as the line's purchase units, exactly; ReceiptRefused when they are not whole at
    the stored precision."""
    quantity = quantize_quantity(units / line.factor)
    if quantity * line.factor != units:
        raise ReceiptRefused(
            f"{units} {line.product.sku} received do not make whole {line.purchase_unit.code} of "
            f"{line.factor} on {line.order.number}: receive them by hand.",
            value=line.order.number,
        )
    return quantity


def _ref(connection: Connection, record: ReceiptRecord) -> ExternalRef:
    """The receiving order's ref, locked; linked to the PO its reference names when the hub never
    sent it. MissingDependency when neither names a PO of ours."""
    ref, claimed = claim(connection, RECEIVING, record.external_id, PurchaseOrder)
    if not claimed:
        return ref
    po = PurchaseOrder.objects.filter(number=record.reference).first() if record.reference else None
    if po is None:
        raise MissingDependency(
            f"{connection}'s receiving order {record.external_id} is for purchase order "
            f"{record.reference or '(none named)'}, which the hub does not know.",
            kind="purchase order",
            value=record.reference or record.external_id,
        )
    ref.object_id = po.pk
    ref.extra = {"cancelled": False, FINISHED: False, STATUS: "", RECEIVED: {}}
    ref.save(update_fields=["object_id", "extra"])
    return ref


def _lines_for(po: PurchaseOrder, new: Mapping[str, Decimal]) -> tuple[list[ReceiveLine], list[str]]:
    """The receipt's lines for the new units (purchase units per PO line), and the SKUs the PO has
    no line of."""
    lines = list(po.lines.select_related("product", "purchase_unit", "order").order_by("position", "pk"))
    by_sku: dict[str, list[PurchaseOrderLine]] = {}
    for line in lines:
        by_sku.setdefault(line.product.sku.casefold(), []).append(line)
    own = {line.pk: line for line in lines}
    receive: list[ReceiveLine] = []
    unknown: list[str] = []
    for sku, units in new.items():
        if sku not in by_sku:
            unknown.append(f"{units} {sku}")
            continue
        for pk, part in spread(units, by_sku[sku]).items():
            receive.append(ReceiveLine(line=own[pk], quantity=in_purchase_units(own[pk], part)))
    return receive, unknown


def apply_receipt(connection: Connection, item: InboundItem, run: SyncRun) -> Applied:
    """Receive here what the tool received since the hub last looked (nothing: skipped)."""
    record = item.record
    if not isinstance(record, ReceiptRecord):
        raise ValueError(f"A receiving item of {connection} carries no ReceiptRecord.")
    with transaction.atomic():
        ref = _ref(connection, record)
        po = PurchaseOrder.objects.filter(pk=ref.object_id).first()
        if po is None:
            raise MissingDependency(
                f"Receiving order {record.external_id} of {connection} is for a purchase order that no "
                "longer exists.",
                kind="purchase order",
                value=record.reference or record.external_id,
            )
        new, totals, notes = new_units(totals_of(ref.extra.get(RECEIVED)), record)
        ref.extra = {**ref.extra, STATUS: record.status, FINISHED: record.finished, RECEIVED: _stored(totals)}
        ref.synced_at = timezone.now()
        if not new:
            ref.save(update_fields=["extra", "synced_at"])
            reason = "; ".join(["nothing new received", *notes])
            return Applied(RECEIVING, record.external_id, "skipped", reason, po.pk, po.number)
        if po.status not in OPEN_STATUSES:
            got = ", ".join(f"{units} {sku}" for sku, units in new.items())
            raise ReceiptRefused(
                f"{connection} received {got} on receiving order {record.external_id}, but {po.number} "
                f"is {po.get_status_display().lower()} here: receive them by hand, or return them.",
                value=po.number,
            )
        lines, unknown = _lines_for(po, new)
        if unknown:
            notes.append(f"not on {po.number}, not received here: {', '.join(unknown)}")
        receipt = None
        if lines:
            try:
                receipt = receipt_create(
                    po=po,
                    lines=lines,
                    note=f"Received by {connection.name}: receiving order {record.external_id}",
                )
            except (ValidationFailed, InvalidTransition) as exc:
                raise ReceiptRefused(
                    f"{connection}'s receiving order {record.external_id}: {exc}", value=po.number
                ) from exc
        ref.save(update_fields=["extra", "synced_at"])
    if notes:
        run.errors = [*run.errors, *(f"{po.number}: {n}" for n in notes)]
    if receipt is None:
        return Applied(RECEIVING, record.external_id, "skipped", "; ".join(notes), po.pk, po.number)
    return Applied(RECEIVING, record.external_id, "created", "; ".join(notes), receipt.pk, receipt.number)


def _stored(totals: Mapping[str, Decimal]) -> dict[str, str]:
    return {sku: str(units) for sku, units in sorted(totals.items())}
