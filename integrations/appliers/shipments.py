"""Shipments in: what a tool shipped itself becomes a shipment of the order here.

An order fulfilled in a channel's own admin (Shopify's "Fulfill items"), by a shipping tool or
by a 3PL arrives as ``ShipmentRecord``s on its ``OrderRecord``. Each one not seen before becomes a
shipment here through ``sales.services.shipment_create`` (``shipped_elsewhere``: what is not
reserved yet is reserved first, then the reservations are consumed, so the stock leaves once),
with the tool's carrier, service and tracking number.

A shipment on its own (object type "shipment": from a shipping tool or a 3PL the hub sent the
order to, ``apply_shipment``) names the tool's order, which is ours through ExternalRef("order"),
and its lines by the line reference we sent, or only by SKU. A label voided after it was recorded
here is marked so (its ref's ``voided``), and the tool's next label for the same goods takes its
place: our shipment travels under the new tracking (``sales.shipment_updated`` tells the channel),
and the new label is linked to it (``_replace_voided``). The goods left once; only the label changed.

ExternalRef("fulfilment") links the tool's shipment to ours, both ways:
* a shipment the hub pushed to the tool (outbound_items links it when the tool answers) comes
  back on the order's next update and is recognised, not recorded twice;
* a shipment recorded from the tool is not pushed back to it (the fulfilment resolver finds the
  ref), while it still fans out to any other connection that takes shipments.

Quantities are capped at what is still open on each line; a shipment whose lines are all
shipped here already is linked to nothing and noted. Lines the hub does not know (no
ExternalRef("order_line")) are noted, the rest is recorded.

A cumulative record (``ShipmentRecord.cumulative``: a tool that shows only how many units of each
line it has shipped so far, ours included, e.g. Amazon's ``QuantityShipped``) records per line what
the tool shows beyond what is shipped here, still capped at what is open: a line of 3 we shipped 1
of, which the tool shows 2 of shipped, records 1 whatever the order the two shipments happened in.
One that shows nothing beyond what is shipped here (what we shipped ourselves, read back; or a
count our own confirmation has not reached yet) records nothing and says nothing: it is linked to
nothing, and its counts are weighed again should it come again. It is never taken for a new label
of a voided one (``_replace_voided``): it is a count, not a label.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from django.contrib.contenttypes.models import ContentType
from django.db import transaction

from erp.money import ZERO
from integrations.appliers.refs import ORDER, Applied, link, order_line_ids, refs
from integrations.contract import InboundItem
from integrations.errors import MissingDependency, TransientError
from integrations.models import Connection, SyncRun
from integrations.records import OrderRecord, ShipmentLineRecord, ShipmentRecord
from sales.models import OrderLine, SalesOrder, Shipment
from sales.services import ShipLine, shipment_create, shipment_tracking_set
from sales.services.fulfilment import ALLOCATABLE

FULFILMENT, SHIPMENT = "fulfilment", "shipment"


def apply_shipments(connection: Connection, order: SalesOrder, record: OrderRecord) -> tuple[int, list[str]]:
    """Record the tool's new shipments of ``order``: (how many were recorded, notes for a person)."""
    return _record(connection, order, record.external_id, record.shipments)


def apply_shipment(connection: Connection, item: InboundItem, run: SyncRun) -> Applied:
    """A shipment on its own, from a tool the hub sent the order to (a shipping tool, a 3PL)."""
    record = item.record
    if not isinstance(record, ShipmentRecord):
        raise ValueError(f"A shipment item of {connection} carries no ShipmentRecord.")
    order_ref = refs(connection, ORDER).filter(external_id=record.order_external_id).first()
    order = SalesOrder.objects.filter(pk=order_ref.object_id).first() if order_ref is not None else None
    if order is None:
        raise MissingDependency(
            f"Shipment {record.external_id} is for order {record.order_external_id or '(none named)'}, "
            f"which {connection} did not get from the hub.",
            kind="order",
            value=record.order_external_id,
        )
    known = refs(connection, FULFILMENT).filter(external_id=record.external_id).first()
    if record.voided:
        if known is None:
            return Applied(SHIPMENT, record.external_id, "skipped", "voided before it was recorded here")
        if known.extra.get("voided") or known.extra.get("replaced_by"):
            return Applied(SHIPMENT, record.external_id, "skipped", "voided already", known.object_id)
        known.extra = {**known.extra, "voided": True}
        known.save(update_fields=["extra"])
        note = (
            f"label {record.external_id} was voided in {connection} after it was recorded here: the "
            "order's next label there takes its place"
        )
        return Applied(SHIPMENT, record.external_id, "updated", note, known.object_id, order.number)
    if known is None and not record.cumulative:
        replaced = _replace_voided(connection, order, record)
        if replaced is not None:
            return replaced
    recorded, notes = _record(connection, order, record.order_external_id, (record,))
    if recorded and order_ref is not None and order_ref.extra.get("sent"):
        # the tool shipped from the order we sent it: it takes no more changes of it (outbound_orders)
        order_ref.extra = {**order_ref.extra, "shipped": True}
        order_ref.save(update_fields=["extra"])
    if notes:
        run.errors = [*run.errors, *notes]
    if not recorded:
        reason = "; ".join(notes) or ("shipped here already" if record.cumulative else "recorded already")
        return Applied(SHIPMENT, record.external_id, "skipped", reason, order.pk, order.number)
    return Applied(SHIPMENT, record.external_id, "created", "; ".join(notes), order.pk, order.number)


def _replace_voided(connection: Connection, order: SalesOrder, record: ShipmentRecord) -> Applied | None:
    """A new label of the tool for goods a voided label of it shipped here (a label misprinted,
    voided after the hub recorded it, printed again): our shipment travels under the new tracking
    now (``shipment_tracking_set``: the channel's fulfilment is updated), and the new label is
    linked to it. None when the label ships something else (recorded as a shipment of its own).

    A label for goods shipped here already, while the label that shipped them is not known to be
    voided yet (its void and the new label come separately, in either order), waits: a
    ``TransientError`` retries it once the void may have arrived."""
    shipment_ct = ContentType.objects.get_for_model(Shipment)
    ours = {
        s.pk: s for s in Shipment.objects.filter(order=order).prefetch_related("lines__order_line__product")
    }
    labels = list(
        refs(connection, FULFILMENT).filter(content_type=shipment_ct, object_id__in=list(ours)).order_by("pk")
    )
    if not labels:
        return None
    line_ids = order_line_ids(connection, record.order_external_id)
    lines = {ln.pk: ln for ln in OrderLine.objects.filter(order=order).select_related("product")}
    wanted, _ = _quantities(record, line_ids, lines)
    if wanted:
        return None  # it ships what is still open: a shipment of its own
    goods = _goods(record, line_ids, lines)
    for label in labels:
        shipment = ours[label.object_id]
        if not label.extra.get("voided") or label.extra.get("replaced_by"):
            continue
        if _goods_of(shipment) != goods:
            continue
        shipment_tracking_set(
            shipment=shipment,
            carrier=record.carrier,
            service=record.service,
            tracking_number=record.tracking_number,
        )
        link(connection, FULFILMENT, record.external_id, shipment, extra=_extra(record))
        label.extra = {**label.extra, "replaced_by": record.external_id}
        label.save(update_fields=["extra"])
        return Applied(
            SHIPMENT,
            record.external_id,
            "updated",
            f"label {label.external_id} was voided: {shipment.number} travels under "
            f"{record.tracking_number} now",
            order.pk,
            order.number,
        )
    if any(_goods_of(ours[label.object_id]) == goods for label in labels if not label.extra.get("voided")):
        raise TransientError(
            f"Label {record.external_id} ships what {connection} shipped of {order.number} already: "
            "waiting to hear that the earlier label was voided."
        )
    return None


def _goods(
    record: ShipmentRecord, line_ids: dict[str, int], lines: dict[int, OrderLine]
) -> dict[str, Decimal]:
    """A label's goods: SKU (case-folded; of our line where the tool names it) -> quantity."""
    goods: dict[str, Decimal] = {}
    for item in record.lines:
        pk = line_ids.get(item.line_external_id) if item.line_external_id else None
        sku = (lines[pk].product.sku if pk in lines else item.sku).casefold()
        goods[sku] = goods.get(sku, ZERO) + Decimal(item.quantity)
    return goods


def _goods_of(shipment: Shipment) -> dict[str, Decimal]:
    goods: dict[str, Decimal] = {}
    for line in shipment.lines.all():
        sku = line.order_line.product.sku.casefold()
        goods[sku] = goods.get(sku, ZERO) + line.quantity
    return goods


@transaction.atomic
def _record(
    connection: Connection, order: SalesOrder, order_external_id: str, shipments: Sequence[ShipmentRecord]
) -> tuple[int, list[str]]:
    shipments = [s for s in shipments if not s.voided]
    if not shipments:
        return 0, []
    # The order's lock before its known shipments are read: the same shipment told twice at once (a
    # webhook and a poll taken by two workers) is recorded by the first; the second reads its link
    # once the first committed. Without it both found none, both recorded it, and the second link
    # was ignored as a duplicate (a CI day: ShipBob's shipment recorded twice).
    SalesOrder.objects.select_for_update().filter(pk=order.pk).values_list("pk").first()
    known = set(
        refs(connection, FULFILMENT)
        .filter(external_id__in=[s.external_id for s in shipments])
        .values_list("external_id", flat=True)
    )
    new = [s for s in shipments if s.external_id not in known]
    if not new:
        return 0, []
    line_ids = order_line_ids(connection, order_external_id)
    lines = {ln.pk: ln for ln in OrderLine.objects.filter(order=order).select_related("product")}
    if order.status not in ALLOCATABLE:
        if all(_shipped_here_already(s, line_ids, lines) for s in new):
            return 0, []  # the tool's counts of what was shipped here (an order shipped in full)
        return 0, [f"shipped in the tool, but {order.number} is {order.status} here: not recorded"]
    recorded, notes = 0, []
    for shipment in sorted(new, key=lambda s: (s.created_at, s.external_id)):
        wanted, unknown = _quantities(shipment, line_ids, lines)
        if unknown:
            notes.append(f"shipment {shipment.external_id} has lines unknown here ({', '.join(unknown)})")
        if not wanted:
            if not _shipped_here_already(shipment, line_ids, lines):
                notes.append(f"shipment {shipment.external_id}: nothing of it is open here")
            continue
        ours = shipment_create(
            order=order,
            lines=[ShipLine(lines[pk], quantity) for pk, quantity in wanted.items()],
            carrier=shipment.carrier,
            service=shipment.service,
            tracking_number=shipment.tracking_number,
            shipped_elsewhere=True,
        )
        link(connection, FULFILMENT, shipment.external_id, ours, extra=_extra(shipment))
        for pk, quantity in wanted.items():  # what the next shipment of the same record finds open
            lines[pk].quantity_shipped += quantity
        order.refresh_from_db(fields=["status"])
        recorded += 1
    return recorded, notes


def _line_of(
    item: ShipmentLineRecord,
    line_ids: dict[str, int],
    lines: dict[int, OrderLine],
    *,
    cumulative: bool = False,
) -> int | None:
    """Our line for a shipment line: by the tool's line id, else (a tool that names only the SKU)
    the first line of that SKU with something left to ship; for a cumulative record, whose count
    may be of a line shipped in full here, the first line of that SKU when none is open."""
    pk = line_ids.get(item.line_external_id) if item.line_external_id else None
    if pk is not None and pk in lines:
        return pk
    if item.sku:
        sku = item.sku.casefold()
        # a tool we sent the order to ships only what we ship: never a marketplace's line
        ours = [
            line
            for line in lines.values()
            if line.product.sku.casefold() == sku and not line.fulfilled_by_marketplace
        ]
        for line in ours:
            if line.quantity > line.quantity_shipped:
                return line.pk
        if cumulative and ours:
            return ours[0].pk
    return None


def _shipped_here_already(
    shipment: ShipmentRecord, line_ids: dict[str, int], lines: dict[int, OrderLine]
) -> bool:
    """A cumulative record whose every line the tool shows no more of shipped than is shipped here:
    nothing new (our own shipments read back, or counts that have not caught up with ours yet)."""
    if not shipment.cumulative:
        return False
    for item in shipment.lines:
        pk = _line_of(item, line_ids, lines, cumulative=True)
        if pk is None or item.quantity > lines[pk].quantity_shipped:
            return False
    return True


def _quantities(
    shipment: ShipmentRecord, line_ids: dict[str, int], lines: dict[int, OrderLine]
) -> tuple[dict[int, Decimal], list[str]]:
    """What ``shipment`` ships of each of our lines (at most what is open), and the lines of it the
    hub does not know. A cumulative record's line quantity is the tool's running total: what it
    ships is what that total shows beyond what is shipped here."""
    wanted: dict[int, Decimal] = {}
    unknown: list[str] = []
    for item in shipment.lines:
        pk = _line_of(item, line_ids, lines, cumulative=shipment.cumulative)
        if pk is None:
            unknown.append(item.line_external_id or item.sku)
            continue
        line = lines[pk]
        open_quantity = line.quantity - line.quantity_shipped - wanted.get(pk, ZERO)
        if shipment.cumulative:
            beyond = item.quantity - line.quantity_shipped - wanted.get(pk, ZERO)
            quantity = max(ZERO, min(beyond, open_quantity))
        else:
            quantity = min(item.quantity, open_quantity)
        if quantity > 0:
            wanted[pk] = wanted.get(pk, ZERO) + quantity
    return wanted, unknown


def _extra(shipment: ShipmentRecord) -> dict[str, str]:
    return {"tracking_url": shipment.tracking_url} if shipment.tracking_url else {}
