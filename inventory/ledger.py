"""The double-entry engine: every quantity change goes through ``post()``.

One call is one business operation: it validates the moves, locks every level
it touches (creating missing ones) in pk order, applies the moves and the
reservation changes, refuses negative stock where the warehouse does, writes
the append-only moves, updates moving-average costs, and records one
``inventory.level_changed`` event per (product, warehouse) touched. The caller
holds the transaction (services are @transaction.atomic).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Sum

from erp import clock, events, formatting
from erp.money import ZERO, quantize_money, quantize_quantity
from erp.rows import update_rows
from inventory.exceptions import InsufficientStock, InvalidStockOperation
from inventory.locks import LevelKey, lock_levels, lock_products
from inventory.models import (
    Location,
    LocationKind,
    Lot,
    MoveKind,
    Product,
    StockLevel,
    StockMove,
    Tracking,
)

# Moves from these virtual locations into stock bring new cost in (moving average).
COST_SOURCES = frozenset({LocationKind.SUPPLIER, LocationKind.PRODUCTION})


@dataclass(frozen=True)
class Document:
    """The document a move belongs to, e.g. Document("procurement.receipt", 12, "RC-00012")."""

    type: str = ""
    id: str | int = ""
    reference: str = ""


NO_DOCUMENT = Document()


@dataclass
class MoveSpec:
    product: Product
    quantity: Decimal
    from_location: Location
    to_location: Location
    kind: MoveKind
    lot: Lot | None = None
    unit_cost: Decimal | None = None  # None: the product's moving-average cost
    document: Document = NO_DOCUMENT
    reason: str = ""
    reversal_of: StockMove | None = None
    consume_reserved: Decimal = ZERO  # reserved quantity at the source that this move takes


@dataclass
class ReservedDelta:
    """A change of the reserved quantity of a level (reserve: +, release: -)."""

    product: Product
    location: Location
    lot: Lot | None
    delta: Decimal


@dataclass
class Posted:
    moves: list[StockMove] = field(default_factory=list)
    levels: dict[LevelKey, StockLevel] = field(default_factory=dict)


def _key(product: Product, location: Location, lot: Lot | None) -> LevelKey:
    return (product.pk, location.pk, lot.pk if lot else None)


def _validate(spec: MoveSpec) -> None:
    product = spec.product
    spec.quantity = quantize_quantity(spec.quantity)
    if spec.quantity <= 0:
        raise InvalidStockOperation(
            f"Quantity must be positive, not {spec.quantity}.",
            field_errors={"quantity": ["Must be positive."]},
        )
    if not product.is_stocked:
        raise InvalidStockOperation(f"{product.sku} is a service: it has no stock to move.")
    if spec.from_location.pk == spec.to_location.pk:
        raise InvalidStockOperation(f"{product.sku}: source and destination are both {spec.from_location}.")
    for end in (spec.from_location, spec.to_location):
        if end.kind == LocationKind.VIEW:
            raise InvalidStockOperation(f"{end} is a zone; choose one of its bins.")
        if not end.is_active:
            raise InvalidStockOperation(f"{end} is archived.")
    if not product.stock_unit.allows_fractions and spec.quantity != spec.quantity.to_integral_value():
        raise InvalidStockOperation(
            f"{product.sku} is counted in {product.stock_unit}: "
            f"{spec.quantity.normalize()} is not a whole number."
        )
    if product.tracking != Tracking.NONE and spec.lot is None:
        what = "serial number" if product.tracking == Tracking.SERIAL else "lot"
        raise InvalidStockOperation(
            f"{product.sku} is tracked by {what}: give one.", field_errors={"lot": [f"A {what} is required."]}
        )
    if product.tracking == Tracking.NONE and spec.lot is not None:
        raise InvalidStockOperation(f"{product.sku} is not tracked by lot or serial.")
    if spec.lot is not None and spec.lot.product_id != product.pk:
        raise InvalidStockOperation(f"Lot {spec.lot} belongs to another product than {product.sku}.")
    if product.tracking == Tracking.SERIAL and spec.quantity != 1:
        raise InvalidStockOperation(f"{product.sku} is serial-tracked: move serial numbers one at a time.")
    if spec.unit_cost is not None:
        spec.unit_cost = quantize_money(spec.unit_cost)
        if spec.unit_cost < 0:
            raise InvalidStockOperation("A unit cost cannot be negative.")


def post(
    moves: Sequence[MoveSpec] = (),
    *,
    reserved: Sequence[ReservedDelta] = (),
    user: Any = None,
    when: Any = None,
) -> Posted:
    """Apply moves and reservation changes atomically (the caller's transaction)."""
    for spec in moves:
        _validate(spec)
    when = when or clock.now()

    # Locks, in the one global order: products (for costs), then levels.
    cost_product_ids = {
        s.product.pk
        for s in moves
        if (s.from_location.kind in COST_SOURCES and s.to_location.holds_stock)
        or (s.reversal_of is not None and s.to_location.kind in COST_SOURCES and s.from_location.holds_stock)
    }
    locked_products = lock_products(cost_product_ids) if cost_product_ids else {}
    keys: set[LevelKey] = set()
    for s in moves:
        keys.add(_key(s.product, s.from_location, s.lot))
        keys.add(_key(s.product, s.to_location, s.lot))
    for r in reserved:
        keys.add(_key(r.product, r.location, r.lot))
    skus = {s.product.pk: s.product.sku for s in moves} | {r.product.pk: r.product.sku for r in reserved}
    levels = lock_levels(keys, skus=skus)
    before = {key: level.on_hand - level.reserved for key, level in levels.items()}

    # Moving-average cost, from the quantity in stock before these moves.
    costs = _average_costs(moves, locked_products)

    # Apply, checking each source as it is drawn from.
    for r in reserved:
        level = levels[_key(r.product, r.location, r.lot)]
        level.reserved = quantize_quantity(level.reserved + r.delta)
        _check_level(level, r.product, r.location, requested=r.delta if r.delta > 0 else ZERO)
    rows: list[StockMove] = []
    operation = uuid.uuid4()
    for s in moves:
        source = levels[_key(s.product, s.from_location, s.lot)]
        target = levels[_key(s.product, s.to_location, s.lot)]
        if s.consume_reserved:
            if s.consume_reserved > source.reserved:
                raise InvalidStockOperation(
                    f"{s.product.sku} at {s.from_location}: {formatting.number(s.consume_reserved)} reserved "
                    f"to take but only {formatting.number(source.reserved)} is."
                )
            source.reserved -= s.consume_reserved
        available_before = source.on_hand - source.reserved
        source.on_hand -= s.quantity
        target.on_hand += s.quantity
        if s.from_location.holds_stock:
            _check_level(source, s.product, s.from_location, requested=s.quantity, available=available_before)
        unit_cost = (
            s.unit_cost if s.unit_cost is not None else costs.get(s.product.pk, s.product.average_cost)
        )
        rows.append(
            StockMove(
                product=s.product,
                quantity=s.quantity,
                from_location=s.from_location,
                to_location=s.to_location,
                lot=s.lot,
                unit_cost=unit_cost,
                kind=s.kind,
                reference=s.document.reference,
                document_type=s.document.type,
                document_id=str(s.document.id),
                reason=s.reason,
                reversal_of=s.reversal_of,
                operation=operation,
                user=user if getattr(user, "is_authenticated", False) else None,
                created_at=when,
            )
        )

    update_rows(StockLevel, list(levels.values()), ["on_hand", "reserved", "updated_at"])
    _check_serials_unique(moves)
    created = StockMove.objects.bulk_create(rows)
    _save_costs(moves, locked_products, costs)
    _emit_level_changes(
        levels.values(),
        {s.product.pk: s.product for s in moves} | {r.product.pk: r.product for r in reserved},
        before,
    )
    return Posted(moves=created, levels=levels)


def post_reserved_on_locked(
    changes: Sequence[tuple[StockLevel, Product, Decimal]], *, locked: Sequence[StockLevel]
) -> None:
    """Change reserved quantities of levels the caller has locked (``changes``: the level, its
    product and the change; + reserves, - releases), as ``post(reserved=...)`` does, without
    locking again: one UPDATE of the levels changed, and the ``inventory.level_changed`` events.

    ``locked`` holds EVERY internal level of each (product, warehouse) changed, locked, with
    ``location`` (and its ``warehouse``) loaded: the events' totals are summed from them instead of
    read again (what ``warehouse_totals`` would read, under the same locks).
    """
    if not changes:
        return
    before = {_level_key(level): level.on_hand - level.reserved for level in locked}
    changed: dict[int, StockLevel] = {}
    for level, product, delta in changes:
        level.reserved = quantize_quantity(level.reserved + delta)
        _check_level(level, product, level.location, requested=delta if delta > 0 else ZERO)
        changed[level.pk] = level
    update_rows(StockLevel, list(changed.values()), ["reserved", "updated_at"])
    touched = {(level.product_id, level.warehouse_id) for level in changed.values()}
    totals: dict[tuple[int, int], tuple[Decimal, Decimal]] = {}
    change: dict[tuple[int, int], Decimal] = defaultdict(lambda: ZERO)
    for level in locked:
        if level.warehouse_id is None or (level.product_id, level.warehouse_id) not in touched:
            continue
        pair = (level.product_id, level.warehouse_id)
        on_hand, reserved = totals.get(pair, (ZERO, ZERO))
        totals[pair] = (on_hand + level.on_hand, reserved + level.reserved)
        change[pair] += level.on_hand - level.reserved - before[_level_key(level)]
    products = {product.pk: product for _, product, _ in changes}
    _emit_totals(totals, change, products)


def _level_key(level: StockLevel) -> LevelKey:
    return (level.product_id, level.location_id, level.lot_id)


def _check_level(
    level: StockLevel,
    product: Product,
    location: Location,
    *,
    requested: Decimal,
    available: Decimal | None = None,
) -> None:
    """Refuse negative stock (unless the warehouse allows it) and taking reserved stock."""
    if not location.holds_stock:
        return
    avail = available if available is not None else level.on_hand - (level.reserved - requested)
    allow_negative = location.warehouse is not None and location.warehouse.allow_negative_stock
    if level.on_hand < 0 and not allow_negative:
        raise InsufficientStock(
            sku=product.sku, location=str(location), requested=requested, available=max(avail, ZERO)
        )
    if level.reserved > 0 and level.reserved > level.on_hand:
        raise InsufficientStock(
            sku=product.sku,
            location=str(location),
            requested=requested,
            available=max(avail, ZERO),
            detail=f"{level.reserved.normalize():f} is reserved for other demand",
        )


def _check_serials_unique(moves: Sequence[MoveSpec]) -> None:
    """A serial number is in stock in one place at most, once."""
    serials = {s.lot.pk: s for s in moves if s.product.tracking == Tracking.SERIAL and s.lot is not None}
    if not serials:
        return
    doubled = (
        StockLevel.objects.filter(lot_id__in=serials, location__kind=LocationKind.INTERNAL)
        .values("lot_id")
        .annotate(total=Sum("on_hand"))
        .filter(total__gt=1)
        .values_list("lot_id", flat=True)
    )
    for lot_id in doubled:
        spec = serials[lot_id]
        raise InvalidStockOperation(f"Serial {spec.lot} of {spec.product.sku} is already in stock.")


def _average_costs(moves: Sequence[MoveSpec], products: dict[int, Product]) -> dict[int, Decimal]:
    """New moving-average cost per product after the receipts among ``moves``."""
    if not products:
        return {}
    in_stock = dict(
        StockLevel.objects.filter(product_id__in=products, location__kind=LocationKind.INTERNAL)
        .values("product_id")
        .annotate(total=Sum("on_hand"))
        .values_list("product_id", "total")
    )
    quantity = {pk: max(in_stock.get(pk) or ZERO, ZERO) for pk in products}
    cost = {pk: p.average_cost for pk, p in products.items()}
    for s in moves:
        pk = s.product.pk
        if pk not in products:
            continue
        if s.from_location.kind in COST_SOURCES and s.to_location.holds_stock:
            unit = s.unit_cost if s.unit_cost is not None else cost[pk]
            total = quantity[pk] + s.quantity
            cost[pk] = quantize_money((quantity[pk] * cost[pk] + s.quantity * unit) / total)
            quantity[pk] = total
        elif s.reversal_of is not None and s.to_location.kind in COST_SOURCES:
            # Undoing a receipt takes its value back out at the cost it came in with.
            unit = s.reversal_of.unit_cost
            remaining = quantity[pk] - s.quantity
            if remaining > 0:
                cost[pk] = quantize_money(
                    max((quantity[pk] * cost[pk] - s.quantity * unit) / remaining, ZERO)
                )
            quantity[pk] = max(remaining, ZERO)
    return cost


def _save_costs(moves: Sequence[MoveSpec], products: dict[int, Product], costs: dict[int, Decimal]) -> None:
    changed = []
    for pk, product in products.items():
        if costs.get(pk) is not None and costs[pk] != product.average_cost:
            product.average_cost = costs[pk]
            changed.append(product)
    if changed:
        Product.objects.bulk_update(changed, ["average_cost"])
    for s in moves:  # the caller's instances see the new cost too
        if s.product.pk in costs:
            s.product.average_cost = costs[s.product.pk]


def warehouse_totals(pairs: Iterable[tuple[int, int]]) -> dict[tuple[int, int], tuple[Decimal, Decimal]]:
    """(product, warehouse) -> (on_hand, reserved) over its internal locations, in one query."""
    pairs = set(pairs)
    if not pairs:
        return {}
    rows = (
        StockLevel.objects.filter(
            product_id__in={p for p, _ in pairs},
            warehouse_id__in={w for _, w in pairs},
            location__kind=LocationKind.INTERNAL,
        )
        .values("product_id", "warehouse_id")
        .annotate(on_hand=Sum("on_hand"), reserved=Sum("reserved"))
    )
    found = {(r["product_id"], r["warehouse_id"]): (r["on_hand"], r["reserved"]) for r in rows}
    return {pair: found.get(pair, (ZERO, ZERO)) for pair in pairs}


def _emit_level_changes(
    levels: Iterable[StockLevel], products: dict[int, Product], before: dict[LevelKey, Decimal]
) -> None:
    """One event per (product, warehouse): the new totals and how much available changed."""
    pairs = defaultdict(set)
    change: dict[tuple[int, int], Decimal] = defaultdict(lambda: ZERO)
    for level in levels:
        if level.warehouse_id is not None:
            pairs[level.product_id].add(level.warehouse_id)
            key = (level.product_id, level.location_id, level.lot_id)
            change[(level.product_id, level.warehouse_id)] += level.on_hand - level.reserved - before[key]
    totals = warehouse_totals((p, w) for p, ws in pairs.items() for w in ws)
    _emit_totals(totals, change, products)


def _emit_totals(
    totals: dict[tuple[int, int], tuple[Decimal, Decimal]],
    change: dict[tuple[int, int], Decimal],
    products: dict[int, Product],
) -> None:
    for (product_id, warehouse_id), (on_hand, reserved) in sorted(totals.items()):
        product = products[product_id]
        events.emit(
            "inventory.level_changed",
            aggregate=("inventory.product", product_id),
            payload={
                "product_id": product_id,
                "sku": product.sku,
                "warehouse_id": warehouse_id,
                "on_hand": str(quantize_quantity(on_hand)),
                "reserved": str(quantize_quantity(reserved)),
                "available": str(quantize_quantity(on_hand - reserved)),
                "available_change": str(quantize_quantity(change[(product_id, warehouse_id)])),
            },
        )
