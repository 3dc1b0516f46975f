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

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Context, Decimal
from typing import Any

from django.db import connection
from django.db.models import QuerySet, Sum

from erp.money import ZERO
from erp.prepared import prepared_cursor
from inventory.models import LocationKind, StockLevel, Transfer, TransferLine, TransferStatus

# (product ids, warehouse id or None for all) -> a QuerySet, not yet run, whose rows are exactly
# (product id, warehouse id, quantity), grouped per (product, warehouse): ``.values(<product>,
# <warehouse>).annotate(quantity=...)``. Availability runs every provider's rows in ONE statement.
# Its SQL must depend on how many ids there are and whether a warehouse is given, never on their
# values: it is compiled once per shape (``_statement``).
FlowProvider = Callable[[list[int], int | None], QuerySet[Any]]

_incoming: dict[str, FlowProvider] = {}
_outgoing: dict[str, FlowProvider] = {}

# What SQLite hands back for a sum is a float: read it as Django reads an aggregate (15 digits).
_FLOAT = Context(prec=15)


def register_incoming(name: str, provider: FlowProvider) -> None:
    """Register quantities on their way into a warehouse (e.g. open purchase orders)."""
    _incoming[name] = provider
    _version[0] += 1


def register_outgoing(name: str, provider: FlowProvider) -> None:
    """Register unreserved demand on a warehouse (e.g. backordered sales order lines)."""
    _outgoing[name] = provider
    _version[0] += 1


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


_LEVELS, _INCOMING, _OUTGOING = 0, 1, 2


def _number(value: Any) -> Decimal:
    if value is None:
        return ZERO
    if isinstance(value, Decimal):
        return value
    if isinstance(value, float):
        return _FLOAT.create_decimal_from_float(value)
    return Decimal(value)


def _levels(product_ids: list[int], warehouse_id: int | None) -> QuerySet[Any]:
    levels = StockLevel.objects.filter(product_id__in=product_ids, location__kind=LocationKind.INTERNAL)
    if warehouse_id is not None:
        levels = levels.filter(warehouse_id=warehouse_id)
    return levels.values("product_id", "warehouse_id").annotate(
        on_hand=Sum("on_hand"), reserved=Sum("reserved")
    )


def _compile(product_ids: list[int], warehouse_id: int | None) -> tuple[str, list[Any]]:
    """The levels' sums and every provider's rows as one UNION ALL, each row tagged with its kind:
    (kind, product id, warehouse id, quantity, reserved). Positional, so a provider may name its
    columns as it likes."""
    parts: list[tuple[int, QuerySet[Any]]] = [(_LEVELS, _levels(product_ids, warehouse_id))]
    parts += [(_INCOMING, p(product_ids, warehouse_id)) for p in _incoming.values()]
    parts += [(_OUTGOING, p(product_ids, warehouse_id)) for p in _outgoing.values()]
    sql: list[str] = []
    params: list[Any] = []
    for n, (kind, queryset) in enumerate(parts):
        inner, inner_params = queryset.order_by().query.get_compiler(using=queryset.db).as_sql()
        padding = "" if kind == _LEVELS else ", 0"
        sql.append(f"SELECT {kind}, p{n}.*{padding} FROM ({inner}) p{n}")
        params.extend(inner_params)
    return " UNION ALL ".join(sql), params


# Compiling six querysets costs the ORM ~100 times what PostgreSQL needs to run them, so each
# statement's shape (how many ids, one warehouse or all) is compiled once, with stand-in values,
# and then reused with the real ones. Stand-ins are negative ids no row has.
_STAND_IN = -7_300_000_000
_shapes: dict[tuple[int, bool, int], tuple[str, list[Any], dict[int, int]]] = {}
_SHAPES_KEPT = 256
_version = [0]


def _statement(product_ids: list[int], warehouse_id: int | None) -> tuple[str, list[Any]]:
    shape = (len(product_ids), warehouse_id is not None, _version[0])
    found = _shapes.get(shape)
    if found is None:
        stand_ins = [_STAND_IN - n for n in range(len(product_ids))]
        wh_stand_in = _STAND_IN + 1 if warehouse_id is not None else None
        sql, params = _compile(stand_ins, wh_stand_in)
        slots = {value: n for n, value in enumerate(stand_ins)} | {_STAND_IN + 1: -1}
        positions = {i: slots[p] for i, p in enumerate(params) if type(p) is int and p in slots}
        if len(_shapes) >= _SHAPES_KEPT:
            _shapes.clear()
        found = _shapes[shape] = (sql, params, positions)
    sql, template, positions = found
    params = list(template)
    for i, slot in positions.items():
        params[i] = warehouse_id if slot == -1 else product_ids[slot]
    return sql, params


def _ids_per_statement() -> int | None:
    """How many product ids one statement may carry: each of its parts repeats them, and SQLite
    counts parameters (PostgreSQL binds them client-side: no limit)."""
    limit = connection.features.max_query_params
    if limit is None:
        return None
    return max(1, (limit - 50) // (1 + len(_incoming) + len(_outgoing)))


def by_warehouse(
    product_ids: Iterable[int], warehouse_id: int | None = None
) -> dict[tuple[int, int], Availability]:
    """(product, warehouse) -> Availability, for every pair with stock or flows.

    ONE query, whatever the number of providers and (on PostgreSQL) of products: StockLevel's sums
    and every provider's rows in a single UNION ALL. On SQLite a long list of ids is split to stay
    under its parameter limit.
    """
    ids = sorted({int(pk) for pk in product_ids})
    if not ids:
        return {}
    size = _ids_per_statement() or len(ids)
    sums: dict[tuple[int, int], list[Decimal]] = {}
    with prepared_cursor() as cursor:  # planned once per connection and shape (erp.prepared)
        for start in range(0, len(ids), size):
            cursor.execute(*_statement(ids[start : start + size], warehouse_id))
            for kind, product_id, wh_id, quantity, reserved in cursor.fetchall():
                row = sums.setdefault((product_id, wh_id), [ZERO, ZERO, ZERO, ZERO])
                if kind == _LEVELS:
                    row[0] += _number(quantity)
                    row[1] += _number(reserved)
                else:
                    row[kind + 1] += _number(quantity)
    return {
        key: Availability(on_hand=on_hand, reserved=reserved, incoming=incoming, outgoing=outgoing)
        for key, (on_hand, reserved, incoming, outgoing) in sums.items()
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


def _transfers_in_transit(product_ids: list[int], warehouse_id: int | None) -> QuerySet[Any]:
    """Two-step transfers on their way: incoming at the destination warehouse."""
    lines = TransferLine.objects.filter(
        product_id__in=product_ids, transfer__status=TransferStatus.IN_TRANSIT
    )
    if warehouse_id is not None:
        lines = lines.filter(transfer__to_location__warehouse_id=warehouse_id)
    return lines.values("product_id", "transfer__to_location__warehouse_id").annotate(
        quantity=Sum("quantity")
    )


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
