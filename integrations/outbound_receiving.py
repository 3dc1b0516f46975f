"""Receiving out: a purchase order delivered to a warehouse whose stock a 3PL holds goes to the 3PL
as a receiving order, so its staff expect the goods; cancelled here, it is cancelled there.

Which connection: one whose connector takes ``RECEIVING_OUT`` and whose tool holds the PO's
warehouse (``location_of``): a warehouse the connection maps to one of the tool's locations
(``integrations.locations``: ShipBob's "fulfillment_center" mapping), or the connection's own
warehouse (then the connector's default location, ``ReceivingOut.location_id`` None). A PO to a
warehouse no 3PL holds gets no delivery at all (``concerns``, asked by ``fanout``).

The same resolver answers ``procurement.po_sent`` and ``procurement.po_cancelled``, from the PO as
it is now (so the two arriving out of order still end right): a PO still to be received that the
tool does not have yet becomes a ``ReceivingOut`` (our PO number as its reference, the tool's
location, what is still open of each line in stock units, per SKU, the expected date, the
supplier); a cancelled PO the tool has becomes a ``ReceivingCancelOut``. The tool's receiving order
is ExternalRef("receiving") of the PO, whose ``extra`` keeps where it stands there (``status``,
``finished``: the tool expects nothing more, ``cancelled``) and what the hub received of it so far
(``received``, per SKU in stock units: ``appliers.receipts`` keeps that running total). A PO the
tool has is never sent again: a second receiving order would expect the goods twice.

The PO page shows where it went (``_po_panel``, slot "procurement.purchase_order").
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from erp import panels
from erp.models import OutboxEvent
from integrations import locations, outbound_items, registry
from integrations.contract import Capability
from integrations.models import Connection, ExternalRef
from integrations.outbound_items import Resolved
from integrations.records import ReceivingCancelOut, ReceivingLineOut, ReceivingOut
from integrations.resolving import ref_of, remembering
from procurement.lifecycle import OPEN_STATUSES
from procurement.models import PurchaseOrder, PurchaseOrderStatus

RECEIVING = "receiving"  # ExternalRef object type: our PO -> the tool's receiving order
SENT, CANCELLED = "procurement.po_sent", "procurement.po_cancelled"
TOPICS = (SENT, CANCELLED)
# ExternalRef("receiving").extra keys
STATUS, FINISHED, RECEIVED = "status", "finished", "received"
PANEL_SLOT = "procurement.purchase_order"


def takes_receiving(connection: Connection) -> bool:
    try:
        return Capability.RECEIVING_OUT in registry.get(connection.connector).capabilities
    except registry.UnknownConnector:
        return False


def location_of(connection: Connection, warehouse_id: int | None) -> str | None:
    """The tool's location that takes deliveries to ``warehouse_id``: the one the connection maps to
    it, "" for the connection's own warehouse when it maps none to it (the connector's default);
    None: the connection's tool does not hold that warehouse's stock."""
    if warehouse_id is None:
        return None
    located = locations.locations_of(connection)
    if warehouse_id in located:
        return located[warehouse_id]
    return "" if locations.home_warehouse(connection) == warehouse_id else None


def concerns(connection: Connection, event: OutboxEvent) -> bool:
    """Whether a PO's event is for the connection: its tool holds the PO's warehouse, or has the PO
    (sent before a mapping changed). Fan-out asks, so the other connections get nothing to skip."""
    if location_of(connection, event.payload.get("warehouse_id")) is not None:
        return True
    return ExternalRef.objects.filter(
        connection=connection,
        object_type=RECEIVING,
        content_type=ContentType.objects.get_for_model(PurchaseOrder),
        object_id=event.payload.get("purchase_order_id") or 0,
    ).exists()


def expected_on(po: PurchaseOrder) -> datetime.date:
    """When the goods are expected: the PO's date, else the supplier's lead time from today."""
    if po.expected_date is not None:
        return po.expected_date
    return timezone.localdate() + datetime.timedelta(days=po.supplier.lead_time_days)


def open_units(po: PurchaseOrder) -> tuple[ReceivingLineOut, ...]:
    """What is still to arrive of each SKU, in stock units (purchase units times the line's factor)."""
    units: dict[str, Decimal] = {}
    for line in po.lines.all():
        left = (line.quantity - line.quantity_received) * line.factor
        if left > 0:
            units[line.product.sku] = units.get(line.product.sku, Decimal(0)) + left
    return tuple(ReceivingLineOut(sku, quantity) for sku, quantity in units.items())


def _withdraw(
    connection: Connection, po: PurchaseOrder, ref: ExternalRef | None, reason: str, force: bool
) -> Resolved | str:
    if ref is None:
        return f"{po.number} was cancelled, and {connection} never had it."
    if ref.extra.get("cancelled") and not force:
        return f"{po.number} was cancelled, and so is receiving order {ref.external_id} at {connection}."
    item = ReceivingCancelOut(reference=po.number, external_id=ref.external_id, reason=reason or "cancelled")
    extra = {"cancelled": True, FINISHED: True, STATUS: "Cancelled"}
    return Resolved(
        RECEIVING, Capability.RECEIVING_OUT, item, remembering(connection, RECEIVING, po, item, extra=extra)
    )


def resolve_receiving(connection: Connection, event: OutboxEvent, force: bool) -> Resolved | str:
    po = (
        PurchaseOrder.objects.select_related("supplier", "warehouse")
        .prefetch_related("lines__product")
        .filter(pk=event.payload.get("purchase_order_id"))
        .first()
    )
    if po is None:
        return "The purchase order no longer exists."
    ref = ref_of(connection, RECEIVING, po)
    if po.status == PurchaseOrderStatus.CANCELLED:
        return _withdraw(connection, po, ref, str(event.payload.get("reason") or ""), force)
    if ref is not None:
        return f"{connection} has {po.number} already, as receiving order {ref.external_id}."
    location = location_of(connection, po.warehouse_id)
    if location is None:
        return f"{po.number} is delivered to {po.warehouse.code}, whose stock {connection} does not hold."
    if po.status not in OPEN_STATUSES:
        return f"{po.number} is {po.get_status_display().lower()}: nothing for {connection} to expect."
    lines = open_units(po)
    if not lines:
        return f"Everything of {po.number} has been received."
    item = ReceivingOut(
        reference=po.number,
        lines=lines,
        expected_date=expected_on(po),
        supplier=po.supplier.name,
        location_id=location or None,
    )
    extra = {"cancelled": False, FINISHED: False, STATUS: "", RECEIVED: {}}
    return Resolved(
        RECEIVING, Capability.RECEIVING_OUT, item, remembering(connection, RECEIVING, po, item, extra=extra)
    )


def open_receiving(connection: Connection, *, after: int = 0, limit: int | None = None) -> list[ExternalRef]:
    """The receiving orders the hub sent on the connection that the tool has not finished: what a
    connector polls for receipts (oldest first, those after ref ``after``, at most ``limit``; one
    query)."""
    refs = (
        ExternalRef.objects.filter(connection=connection, object_type=RECEIVING, pk__gt=after)
        .exclude(extra__finished=True)
        .order_by("pk")
    )
    return list(refs[:limit] if limit is not None else refs)


# --- the purchase order's page ---------------------------------------------------------------------


def _po_panel(po: PurchaseOrder) -> dict[str, Any] | None:
    """Where the PO went: each tool's receiving order of it, with where it stands (None: nowhere)."""
    refs = list(
        ExternalRef.objects.filter(
            object_type=RECEIVING,
            content_type=ContentType.objects.get_for_model(PurchaseOrder),
            object_id=po.pk,
        )
        .select_related("connection")
        .order_by("pk")
    )
    if not refs:
        return None
    rows = [
        {
            "connection": ref.connection,
            "tool": _tool_name(ref.connection),
            "external_id": ref.external_id,
            "status": str(ref.extra.get(STATUS) or "sent"),
            "finished": bool(ref.extra.get(FINISHED)),
            "received": _units(ref.extra.get(RECEIVED)),
            "synced_at": ref.synced_at,
        }
        for ref in refs
    ]
    return {"po": po, "receiving": rows}


def _tool_name(connection: Connection) -> str:
    try:
        return registry.get(connection.connector).name.partition(" (")[0]
    except registry.UnknownConnector:
        return connection.connector


def _units(received: Any) -> Decimal:
    """The units received so far of a receiving order, all SKUs together."""
    if not isinstance(received, dict):
        return Decimal(0)
    return sum((Decimal(str(v)) for v in received.values()), Decimal(0))


def install() -> None:
    for topic in TOPICS:
        outbound_items.register_resolver(topic, Capability.RECEIVING_OUT, resolve_receiving)
    panels.register(
        panels.Panel(
            slot=PANEL_SLOT,
            template="integrations/_po_receiving.html",
            context=_po_panel,
            area="procurement",  # the buyers see where their PO went (the link needs integrations)
        )
    )
