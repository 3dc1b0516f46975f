"""Shipments in: what a tool shipped itself becomes a shipment of the order here.

An order fulfilled in a channel's own admin (Shopify's "Fulfill items"), by a shipping tool or
by a 3PL arrives as ``ShipmentRecord``s on its ``OrderRecord``. Each one not seen before becomes a
shipment here through ``sales.services.shipment_create`` (``shipped_elsewhere``: what is not
reserved yet is reserved first, then the reservations are consumed, so the stock leaves once),
with the tool's carrier, service and tracking number.

ExternalRef("fulfilment") links the tool's shipment to ours, both ways:
* a shipment the hub pushed to the tool (outbound_items links it when the tool answers) comes
  back on the order's next update and is recognised, not recorded twice;
* a shipment recorded from the tool is not pushed back to it (the fulfilment resolver finds the
  ref), while it still fans out to any other connection that takes shipments.

Quantities are capped at what is still open on each line; a shipment whose lines are all
shipped here already is linked to nothing and noted. Lines the hub does not know (no
ExternalRef("order_line")) are noted, the rest is recorded.
"""

from __future__ import annotations

from decimal import Decimal

from erp.money import ZERO
from integrations.appliers.refs import link, order_line_ids, refs
from integrations.models import Connection
from integrations.records import OrderRecord, ShipmentRecord
from sales.models import OrderLine, SalesOrder
from sales.services import ShipLine, shipment_create
from sales.services.fulfilment import ALLOCATABLE

FULFILMENT = "fulfilment"


def apply_shipments(connection: Connection, order: SalesOrder, record: OrderRecord) -> tuple[int, list[str]]:
    """Record the tool's new shipments of ``order``: (how many were recorded, notes for a person)."""
    if not record.shipments:
        return 0, []
    known = set(
        refs(connection, FULFILMENT)
        .filter(external_id__in=[s.external_id for s in record.shipments])
        .values_list("external_id", flat=True)
    )
    new = [s for s in record.shipments if s.external_id not in known]
    if not new:
        return 0, []
    if order.status not in ALLOCATABLE:
        return 0, [f"shipped in the tool, but {order.number} is {order.status} here: not recorded"]
    line_ids = order_line_ids(connection, record.external_id)
    lines = {ln.pk: ln for ln in OrderLine.objects.filter(order=order)}
    recorded, notes = 0, []
    for shipment in sorted(new, key=lambda s: (s.created_at, s.external_id)):
        wanted, unknown = _quantities(shipment, line_ids, lines)
        if unknown:
            notes.append(f"shipment {shipment.external_id} has lines unknown here ({', '.join(unknown)})")
        if not wanted:
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


def _quantities(
    shipment: ShipmentRecord, line_ids: dict[str, int], lines: dict[int, OrderLine]
) -> tuple[dict[int, Decimal], list[str]]:
    wanted: dict[int, Decimal] = {}
    unknown: list[str] = []
    for item in shipment.lines:
        pk = line_ids.get(item.line_external_id)
        if pk is None or pk not in lines:
            unknown.append(item.line_external_id)
            continue
        line = lines[pk]
        open_quantity = line.quantity - line.quantity_shipped - wanted.get(pk, ZERO)
        quantity = min(item.quantity, open_quantity)
        if quantity > 0:
            wanted[pk] = wanted.get(pk, ZERO) + quantity
    return wanted, unknown


def _extra(shipment: ShipmentRecord) -> dict[str, str]:
    return {"tracking_url": shipment.tracking_url} if shipment.tracking_url else {}
