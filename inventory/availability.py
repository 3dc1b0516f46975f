"""Availability: on hand, reserved, available, incoming, outgoing, projected.

On hand and reserved are read from StockLevel (indexed sums per warehouse),
never from the ledger. Incoming and outgoing come from the apps that own the
documents (open purchase orders, open sales order lines, manufacturing orders),
through providers they register here, so inventory imports none of them.

    projected = on hand + incoming - reserved - outgoing

where ``outgoing`` is demand not yet covered by a reservation (a provider must
not count what it has reserved: that is in ``reserved`` already).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Sum

from erp.money import ZERO
from inventory.models import LocationKind, StockLevel, Transfer, TransferLine, TransferStatus

# (product ids, warehouse id or None for all) -> {(product_id, warehouse_id): quantity}
FlowProvider = Callable[[list[int], int | None], dict[tuple[int, int], Decimal]]

_incoming: dict[str, FlowProvider] = {}
_outgoing: dict[str, FlowProvider] = {}


def register_incoming(name: str, provider: FlowProvider) -> None:
    """Register quantities on their way into a warehouse (e.g. open purchase orders)."""
    _incoming[name] = provider


def register_outgoing(name: str, provider: FlowProvider) -> None:
    """Register unreserved demand on a warehouse (e.g. backordered sales order lines)."""
    _outgoing[name] = provider


def incoming_providers() -> dict[str, FlowProvider]:
    return dict(_incoming)


def outgoing_providers() -> dict[str, FlowProvider]:
    return dict(_outgoing)


@dataclass(frozen=True)
class Availability:
    on_hand: Decimal = ZERO
    reserved: Decimal = ZERO
    incoming: Decimal = ZERO
    outgoing: Decimal = ZERO

    @property
    def available(self) -> Decimal:
        return self.on_hand - self.reserved

    @property
    def projected(self) -> Decimal:
        return self.on_hand + self.incoming - self.reserved - self.outgoing

    def as_dict(self) -> dict[str, str]:
        return {
            "on_hand": str(self.on_hand),
            "reserved": str(self.reserved),
            "available": str(self.available),
            "incoming": str(self.incoming),
            "outgoing": str(self.outgoing),
            "projected": str(self.projected),
        }


def _collect(
    providers: dict[str, FlowProvider], product_ids: list[int], warehouse_id: int | None
) -> dict[tuple[int, int], Decimal]:
    totals: dict[tuple[int, int], Decimal] = defaultdict(lambda: ZERO)
    for provider in providers.values():
        for key, quantity in provider(product_ids, warehouse_id).items():
            totals[key] += quantity
    return totals


def by_warehouse(
    product_ids: Iterable[int], warehouse_id: int | None = None
) -> dict[tuple[int, int], Availability]:
    """(product, warehouse) -> Availability, for every pair with stock or flows.

    One query for levels plus one per registered provider, whatever the number of products.
    """
    ids = sorted(set(product_ids))
    if not ids:
        return {}
    levels = StockLevel.objects.filter(product_id__in=ids, location__kind=LocationKind.INTERNAL)
    if warehouse_id is not None:
        levels = levels.filter(warehouse_id=warehouse_id)
    stock = {
        (r["product_id"], r["warehouse_id"]): (r["on_hand"], r["reserved"])
        for r in levels.values("product_id", "warehouse_id").annotate(
            on_hand=Sum("on_hand"), reserved=Sum("reserved")
        )
    }
    incoming = _collect(_incoming, ids, warehouse_id)
    outgoing = _collect(_outgoing, ids, warehouse_id)
    keys = set(stock) | set(incoming) | set(outgoing)
    return {
        key: Availability(
            on_hand=stock.get(key, (ZERO, ZERO))[0],
            reserved=stock.get(key, (ZERO, ZERO))[1],
            incoming=incoming.get(key, ZERO),
            outgoing=outgoing.get(key, ZERO),
        )
        for key in keys
    }


def totals(product_ids: Iterable[int], warehouse_id: int | None = None) -> dict[int, Availability]:
    """product -> Availability over every warehouse (or one)."""
    result: dict[int, Availability] = {}
    for (product_id, _), a in by_warehouse(product_ids, warehouse_id).items():
        b = result.get(product_id, Availability())
        result[product_id] = Availability(
            on_hand=b.on_hand + a.on_hand,
            reserved=b.reserved + a.reserved,
            incoming=b.incoming + a.incoming,
            outgoing=b.outgoing + a.outgoing,
        )
    return result


def of(product_id: int, warehouse_id: int | None = None) -> Availability:
    return totals([product_id], warehouse_id).get(product_id, Availability())


def _transfers_in_transit(product_ids: list[int], warehouse_id: int | None) -> dict[tuple[int, int], Decimal]:
    """Two-step transfers on their way: incoming at the destination warehouse."""
    lines = TransferLine.objects.filter(
        product_id__in=product_ids, transfer__status=TransferStatus.IN_TRANSIT
    )
    if warehouse_id is not None:
        lines = lines.filter(transfer__to_location__warehouse_id=warehouse_id)
    rows = lines.values("product_id", "transfer__to_location__warehouse_id").annotate(
        quantity=Sum("quantity")
    )
    return {(r["product_id"], r["transfer__to_location__warehouse_id"]): r["quantity"] for r in rows}


register_incoming("inventory.transfers_in_transit", _transfers_in_transit)

__all__ = [
    "Availability",
    "Transfer",
    "by_warehouse",
    "of",
    "register_incoming",
    "register_outgoing",
    "totals",
]
