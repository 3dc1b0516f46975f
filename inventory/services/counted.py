"""Counted stock levels set many at once: a batch of inventory.services.bulk (one transaction,
validated as a whole, every refused item named ``items.<index>.<field>``), each item checked as
``stock_adjust`` and the ledger check it, all the count moves in ONE ``ledger.post``."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from copy import copy
from dataclasses import dataclass, replace
from decimal import Decimal
from functools import partial
from typing import Any

from django.db import DataError, IntegrityError, transaction
from django.db.models.functions import Lower

from erp import events
from erp.exceptions import DomainError
from erp.money import quantize_quantity
from inventory.ledger import Document, MoveSpec, post
from inventory.ledger import _check_level as check_level
from inventory.ledger import _validate as validate_move
from inventory.locks import LevelKey, lock_levels
from inventory.models import (
    Location,
    LocationKind,
    Lot,
    MoveKind,
    Product,
    StockLevel,
    StockMove,
)
from inventory.services.bulk import MAX_BATCH, ItemErrors, check_size, chunks
from inventory.services.catalog import (
    lot_get_or_create,
)
from inventory.services.stock import _require_internal, stock_adjust
from inventory.services.warehouses import virtual_location

COUNT_DOCUMENT_TYPE = "inventory.stockcount"


@dataclass(frozen=True)
class CountedLevel:
    """What was counted of a product (by SKU) in a bin (by id, or by its path), maybe of one lot."""

    sku: str
    counted: Decimal | str | int
    location: int | None = None
    location_path: str = ""
    lot: str = ""  # a lot or serial code; a new one is created for the product
    expiry_date: Any = None


@dataclass(frozen=True)
class Counted:
    index: int
    product: Product
    location: Location
    lot: Lot | None
    previous: Decimal
    counted: Decimal
    move: StockMove | None  # None: the level was already right


@dataclass(frozen=True)
class CountResult:
    batch: str  # the document id of the moves: document_type "inventory.stockcount"
    reference: str
    items: list[Counted]


@transaction.atomic
def stock_levels_set_counted(
    *,
    items: Sequence[CountedLevel],
    reference: str = "",
    reason: str = "stock count",
    user: Any = None,
    limit: int = MAX_BATCH,
) -> CountResult:
    """Set the on-hand quantity of many (product, bin[, lot]) to what was counted, all or nothing.

    Each level is set as ``stock_adjust`` sets it as a count (moves of kind ``count`` to or from
    the adjustment location, at the average cost), so the ledger explains every unit; the moves
    share one document (type ``inventory.stockcount``, the batch id, ``reference``) and ONE
    ``ledger.post``, hence one ``inventory.level_changed`` per (product, warehouse).
    """
    check_size(len(items), limit)
    with events.batched():
        return _set_counted(items, reference, reason, user)


def _set_counted(items: Sequence[CountedLevel], reference: str, reason: str, user: Any) -> CountResult:
    reason = reason.strip() or "stock count"
    batch = uuid.uuid4().hex[:12]
    document = Document(COUNT_DOCUMENT_TYPE, batch, (reference or "").strip()[:100] or f"count {batch}")
    errors = ItemErrors(len(items))

    skus = {item.sku.strip().lower() for item in items if item.sku.strip()}
    products: dict[str, Product] = {}
    for chunk in chunks(skus):
        rows = Product.objects.annotate(lc=Lower("sku")).filter(lc__in=chunk).select_related("stock_unit")
        products.update({row.sku.lower(): row for row in rows})
    by_id: dict[int, Location] = {}
    ids = {item.location for item in items if item.location is not None}
    for id_chunk in chunks(ids):
        by_id.update(Location.objects.select_related("warehouse").in_bulk(id_chunk))
    by_path: dict[str, Location] = {}
    paths = {item.location_path.strip().lower() for item in items if item.location_path.strip()}
    for path_chunk in chunks(paths):
        at_paths = (
            Location.objects.annotate(lp=Lower("path")).filter(lp__in=path_chunk).select_related("warehouse")
        )
        by_path.update({row.path.lower(): row for row in at_paths})

    resolved: list[tuple[int, Product, Location, Decimal]] = []
    for index, item in enumerate(items):
        sku = item.sku.strip()
        product = products.get(sku.lower()) if sku else None
        if not sku:
            errors.add(index, "sku", "A SKU is required.")
        elif product is None:
            errors.add(index, "sku", f"No product with SKU '{sku}'.")
        path = item.location_path.strip()
        location: Location | None = None
        if (item.location is None) == (not path):
            errors.add(index, "location", "Give the bin's id (location) or its path (location_path), one.")
        elif item.location is not None:
            location = by_id.get(item.location)
            if location is None:
                errors.add(index, "location", f"No location with id {item.location}.")
        else:
            location = by_path.get(path.lower())
            if location is None:
                errors.add(index, "location_path", f"No location with path '{path}'.")
        try:
            counted = quantize_quantity(item.counted)
        except (TypeError, ValueError):
            errors.add(index, "counted", f"Not a number: {item.counted!r}.")
            continue
        if counted < 0:
            errors.add(index, "counted", "A counted quantity cannot be negative.")
        if product is not None and location is not None and index not in errors.items:
            resolved.append((index, product, location, counted))

    # Lots (created when new), then every level locked at once, in the global order.
    lots: dict[int, Lot | None] = {}
    for index, product, _, _ in resolved:
        code = items[index].lot.strip()
        if code:
            lots[index] = errors.run(
                index,
                partial(lot_get_or_create, product=product, code=code, expiry_date=items[index].expiry_date),
            )
        else:
            lots[index] = None
    first_of: dict[tuple[int, int, int | None], int] = {}
    bins: set[tuple[int, int, int | None]] = set()
    for index, product, location, _ in resolved:
        if index in errors.items:
            continue
        lot = lots[index]
        key = (product.pk, location.pk, lot.pk if lot else None)
        if key in first_of:
            errors.add(index, "", f"The same product, bin and lot as item {first_of[key]}.")
            continue
        first_of[key] = index
        if location.holds_stock:  # anything else is refused by stock_adjust, below
            bins.add(key)
    sku_of = {product.pk: product.sku for _, product, _, _ in resolved}
    levels = lock_levels(bins, skus=sku_of) if bins else {}

    # Every difference checked item by item as ``stock_adjust`` would (no query), then posted in
    # ONE ``ledger.post``. Should the ledger still refuse (a serial already in stock elsewhere),
    # the savepoint is rolled back and the items go one by one, so the refusal names its item.
    adjustment = virtual_location(LocationKind.ADJUSTMENT)
    counted_items: list[Counted] = []
    posting: list[tuple[int, MoveSpec]] = []
    for index, product, location, counted in resolved:
        if index in errors.items:
            continue
        lot = lots[index]
        key = (product.pk, location.pk, lot.pk if lot else None)
        previous = levels[key].on_hand if key in levels else Decimal(0)
        spec = errors.check(index, partial(_count_spec, product, location, lot, counted, levels, adjustment))
        if spec is None or index in errors.items:
            continue
        spec.reason, spec.document = reason, document
        if spec.quantity != 0:
            posting.append((index, spec))
        counted_items.append(Counted(index, product, location, lot, previous, counted, None))
    moves = _post_all(posting, user)
    if moves is not None:
        by_index = dict(zip((index for index, _ in posting), moves, strict=True))
        counted_items = [replace(c, move=by_index.get(c.index)) for c in counted_items]
    else:
        counted_items = []
        for index, product, location, counted in resolved:
            if index in errors.items:
                continue
            lot = lots[index]
            level = levels.get((product.pk, location.pk, lot.pk if lot else None))
            previous = level.on_hand if level is not None else Decimal(0)
            move = errors.run(
                index,
                partial(
                    stock_adjust,
                    product=product,
                    location=location,
                    lot=lot,
                    quantity=counted,
                    reason=reason,
                    kind=MoveKind.COUNT,
                    document=document,
                    user=user,
                ),
            )
            if index not in errors.items:
                counted_items.append(Counted(index, product, location, lot, previous, counted, move))
    errors.raise_if_any("counts were")
    return CountResult(batch=batch, reference=document.reference, items=counted_items)


def _count_spec(
    product: Product,
    location: Location,
    lot: Lot | None,
    counted: Decimal,
    levels: dict[LevelKey, StockLevel],
    adjustment: Location,
) -> MoveSpec:
    """The move that sets a locked level to what was counted (quantity 0: none), refused as
    ``stock_adjust`` and ``ledger.post`` would refuse it, without a query."""
    _require_internal(location, "location")
    level = levels[(product.pk, location.pk, lot.pk if lot else None)]
    change = counted - level.on_hand
    if change == 0:
        return MoveSpec(product, Decimal(0), adjustment, location, MoveKind.COUNT, lot=lot)
    source, target = (adjustment, location) if change > 0 else (location, adjustment)
    spec = MoveSpec(product, abs(change), source, target, MoveKind.COUNT, lot=lot)
    validate_move(spec)
    if change < 0:  # what is drawn from the bin: reserved stock must stay
        after = copy(level)
        after.on_hand = counted
        check_level(
            after, product, location, requested=spec.quantity, available=level.on_hand - level.reserved
        )
    return spec


def _post_all(posting: list[tuple[int, MoveSpec]], user: Any) -> list[StockMove] | None:
    """Post every move in one call; None (nothing written) when the ledger refused one of them."""
    if not posting:
        return []
    try:
        with transaction.atomic():
            return post([spec for _, spec in posting], user=user).moves
    except (DomainError, IntegrityError, DataError):
        return None
