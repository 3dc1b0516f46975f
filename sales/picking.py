"""What the warehouse prints: the pick list of an order or a shipment, and a shipment's delivery note.

Reads only (selectors for the printed documents), each a constant number of queries:
- an order's pick list: what is still to ship, from the locations (and lots) its reservations hold,
  plus what is not reserved yet, so nobody searches the shelves for it;
- a shipment's pick list: where its stock was taken from (the issue moves of the shipment);
- a delivery note: what the shipment delivered, line by line, with the lots that went out.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Prefetch

from inventory.models import Location, LocationKind, Lot, Reservation, ReservationStatus, StockMove
from sales.models import OrderLine, SalesOrder, Shipment, ShipmentLine

DEMAND_TYPE = "sales.orderline"
SHIPMENT_DOCUMENT = "sales.shipment"
ZERO = Decimal(0)


@dataclass
class PickRow:
    line: OrderLine
    quantity: Decimal
    location: Location | None = None  # None: not reserved yet / takes no stock of ours
    lot: Lot | None = None
    note: str = ""

    @property
    def sort_key(self) -> tuple[int, str, int, str]:
        # Unplaced rows last; then by location path (the walk through the warehouse), then line.
        path = self.location.path if self.location else ""
        return (self.location is None, path, self.line.position, self.lot.code if self.lot else "")


@dataclass
class DeliveryRow:
    shipment_line: ShipmentLine
    lots: list[tuple[Lot, Decimal]] = field(default_factory=list)

    @property
    def line(self) -> OrderLine:
        return self.shipment_line.order_line


def order_for_picking(pk: int) -> SalesOrder:
    """The order with its customer, channel and warehouse. One query."""
    return SalesOrder.objects.select_related("customer", "channel__warehouse").get(pk=pk)


def order_pick_rows(order: SalesOrder) -> list[PickRow]:
    """What is still to ship of an order, by location and lot: two queries (lines, reservations)."""
    lines = [
        line
        for line in OrderLine.objects.filter(order=order).select_related("product__stock_unit")
        if line.open_quantity > 0
    ]
    by_pk = {line.pk: line for line in lines}
    holds = (
        Reservation.objects.filter(
            demand_type=DEMAND_TYPE, demand_pk__in=list(by_pk), status=ReservationStatus.ACTIVE
        )
        .select_related("location", "lot")
        .order_by("location__path", "lot__code", "pk")
    )
    rows: list[PickRow] = []
    held: dict[int, Decimal] = defaultdict(Decimal)
    for hold in holds:
        line = by_pk[int(hold.demand_pk or 0)]
        rows.append(PickRow(line, hold.quantity, hold.location, hold.lot))
        held[line.pk] += hold.quantity
    for line in lines:
        rest = line.open_quantity - held[line.pk]
        if rest <= 0:
            continue
        if not line.uses_our_stock:
            note = "ships by the marketplace" if line.fulfilled_by_marketplace else "no stock to pick"
        else:
            note = "not reserved yet"
        rows.append(PickRow(line, rest, note=note))
    return sorted(rows, key=lambda row: row.sort_key)


def shipment_for_print(pk: int) -> Shipment:
    """A shipment with its order (customer, channel, warehouse) and lines (order line, product, unit).
    Two queries."""
    lines = ShipmentLine.objects.select_related("order_line__product__stock_unit").order_by(
        "order_line__position", "pk"
    )
    return (
        Shipment.objects.select_related("order__customer", "order__channel__warehouse")
        .prefetch_related(Prefetch("lines", queryset=lines))
        .get(pk=pk)
    )


def _issue_moves(shipment: Shipment) -> list[StockMove]:
    """The moves that took the shipment's stock off our shelves (reversed ones left out). One query."""
    return list(
        StockMove.objects.filter(
            document_type=SHIPMENT_DOCUMENT,
            document_id=str(shipment.pk),
            from_location__kind=LocationKind.INTERNAL,
            reversed_by__isnull=True,
        )
        .select_related("from_location", "lot")
        .order_by("from_location__path", "pk")
    )


def shipment_pick_rows(shipment: Shipment) -> list[PickRow]:
    """Where a shipment's stock was taken from, by location and lot. One query past the shipment's."""
    lines = list(shipment.lines.all())
    by_product: dict[int, list[ShipmentLine]] = defaultdict(list)
    for sl in lines:
        by_product[sl.order_line.product_id].append(sl)
    rows: list[PickRow] = []
    placed: dict[int, Decimal] = defaultdict(Decimal)
    for move in _issue_moves(shipment):
        candidates = by_product.get(move.product_id) or []
        if not candidates:
            continue
        # A product on two lines of the shipment: fill the first line before the next.
        target = next(
            (sl for sl in candidates if placed[sl.pk] < sl.quantity),
            candidates[-1],
        )
        rows.append(PickRow(target.order_line, move.quantity, move.from_location, move.lot))
        placed[target.pk] += move.quantity
    for sl in lines:
        rest = sl.quantity - placed[sl.pk]
        if rest > 0:
            note = "no stock to pick" if not sl.order_line.uses_our_stock else "location not recorded"
            rows.append(PickRow(sl.order_line, rest, note=note))
    return sorted(rows, key=lambda row: row.sort_key)


def delivery_rows(shipment: Shipment) -> list[DeliveryRow]:
    """What a shipment delivered, line by line, with the lots (serial numbers) that went out."""
    rows = [DeliveryRow(sl) for sl in shipment.lines.all()]
    by_product: dict[int, list[DeliveryRow]] = defaultdict(list)
    for row in rows:
        by_product[row.line.product_id].append(row)
    lots: dict[tuple[int, int], Decimal] = defaultdict(Decimal)
    lot_of: dict[int, Lot] = {}
    for move in _issue_moves(shipment):
        if move.lot is None:
            continue
        lots[(move.product_id, move.lot.pk)] += move.quantity
        lot_of[move.lot.pk] = move.lot
    for (product_id, lot_pk), quantity in lots.items():
        candidates = by_product.get(product_id)
        if candidates:
            candidates[0].lots.append((lot_of[lot_pk], quantity))
    for row in rows:
        row.lots.sort(key=lambda pair: pair[0].code)
    return rows
