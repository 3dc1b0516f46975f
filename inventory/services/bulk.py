"""Many at once, for tools that sync: products upserted by SKU, counted stock levels set.

Each is ONE transaction and is validated as a whole: every item goes through the same
services as a single one (``product_create``/``product_update``/``product_archive``;
``stock_adjust`` as a count), each in its own savepoint so that every refused item is
reported, keyed ``items.<index>.<field>``; when any is refused, everything is rolled back
and :class:`BatchInvalid` (422) names them all. Rows are locked up front, in the one
global order (inventory.locks), so two batches never deadlock.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import partial
from typing import Any, TypeVar

from django.db import DataError, IntegrityError, transaction
from django.db.models.functions import Lower

from erp.exceptions import DomainError, ValidationFailed
from erp.money import quantize_money, quantize_quantity
from inventory.ledger import Document
from inventory.locks import lock_levels, lock_products
from inventory.models import Category, Location, Lot, MoveKind, Product, StockMove
from inventory.services.catalog import PRODUCT_FIELDS, lot_get_or_create, product_archive, product_create
from inventory.services.catalog import product_update as _product_update
from inventory.services.stock import stock_adjust

MAX_BATCH = 1000
CHUNK = 500  # ids per IN (...), well under SQLite's parameter limit
COUNT_DOCUMENT_TYPE = "inventory.stockcount"

CREATED, UPDATED, UNCHANGED = "created", "updated", "unchanged"
T = TypeVar("T")


class BatchInvalid(ValidationFailed):
    """Some items of a batch were refused; nothing was written. ``field_errors``: ``items.<i>.<field>``."""


def _chunks(values: Iterable[T]) -> Iterable[list[T]]:
    values = list(values)
    for start in range(0, len(values), CHUNK):
        yield values[start : start + CHUNK]


def _check_size(count: int) -> None:
    if count == 0:
        raise ValidationFailed("Send at least one item.", field_errors={"items": ["Send at least one item."]})
    if count > MAX_BATCH:
        message = f"At most {MAX_BATCH} items per request ({count} sent); send the rest in another request."
        raise ValidationFailed(message, field_errors={"items": [message]})


class _Errors:
    """Errors of a batch, by item."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.by_key: dict[str, list[str]] = {}
        self.items: set[int] = set()

    def add(self, index: int, name: str, message: str) -> None:
        key = f"items.{index}.{name}" if name and name != "__all__" else f"items.{index}"
        self.by_key.setdefault(key, []).append(message)
        self.items.add(index)

    def refused(self, index: int, exc: DomainError) -> None:
        if exc.field_errors:
            for name, messages in exc.field_errors.items():
                for message in messages:
                    self.add(index, name, message)
        else:
            self.add(index, "", exc.message)

    def run(self, index: int, action: Callable[[], T]) -> T | None:
        """Run one item's writes in a savepoint; a refusal is recorded and rolled back alone."""
        try:
            with transaction.atomic():
                return action()
        except DomainError as exc:
            self.refused(index, exc)
        except (IntegrityError, DataError) as exc:
            self.add(index, "", f"The database refused it ({exc}).")
        return None

    def raise_if_any(self, what: str) -> None:
        if not self.by_key:
            return
        first_key, first = next(iter(self.by_key.items()))
        raise BatchInvalid(
            f"{len(self.items)} of {self.total} {what} refused; nothing was written. {first_key}: {first[0]}",
            field_errors=self.by_key,
        )


# --- products by SKU ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ProductUpsert:
    """One product of a batch: its SKU and the fields given (those left out are left as they are).

    ``values`` holds fields of ``PRODUCT_FIELDS`` with ``category`` as a category id (or None) and
    ``stock_unit`` as a unit code; ``barcodes`` (None: leave them) replaces the product's own
    barcodes; ``is_active`` False archives, True restores.
    """

    sku: str
    values: dict[str, Any] = field(default_factory=dict)
    barcodes: list[str] | None = None
    is_active: bool | None = None


@dataclass(frozen=True)
class Upserted:
    index: int
    sku: str
    action: str  # created, updated or unchanged
    product: Product


def _differs(product: Product, name: str, value: Any) -> bool:
    if name == "stock_unit":
        return str(value) != product.stock_unit.code
    if name == "category":
        return value != product.category_id
    if name == "sale_price":
        try:
            return quantize_money(value) != product.sale_price
        except (TypeError, ValueError):
            return True
    if name == "weight":
        try:
            current = product.weight
            return (value is None) != (current is None) or (
                value is not None and quantize_quantity(value) != current
            )
        except (TypeError, ValueError):
            return True
    return bool(getattr(product, name) != value)


@transaction.atomic
def products_upsert(*, items: Sequence[ProductUpsert], user: Any = None) -> list[Upserted]:
    """Create the products whose SKU is new, update the others; all or nothing (BatchInvalid)."""
    _check_size(len(items))
    errors = _Errors(len(items))
    unknown = sorted({k for item in items for k in item.values} - set(PRODUCT_FIELDS) - {"sku"})
    if unknown:
        raise ValidationFailed(f"Cannot set: {', '.join(unknown)}.")

    # Look-ups and locks: a constant number of queries per 500 items.
    first_of: dict[str, int] = {}
    for index, item in enumerate(items):
        key = item.sku.strip().lower()
        if not key:
            errors.add(index, "sku", "A SKU is required.")
        elif key in first_of:
            errors.add(
                index, "sku", f"SKU {item.sku.strip()} is also item {first_of[key]} (SKUs ignore case)."
            )
        else:
            first_of[key] = index
    existing: dict[str, int] = {}
    for chunk in _chunks(first_of):
        found_rows = Product.objects.annotate(lc=Lower("sku")).filter(lc__in=chunk).values_list("pk", "sku")
        existing.update({found_sku.lower(): pk for pk, found_sku in found_rows})
    locked = lock_products(existing.values())
    products = {
        p.pk: p
        for p in Product.objects.filter(pk__in=locked)
        .select_related("stock_unit")
        .prefetch_related("barcodes")
    }
    category_ids = {item.values["category"] for item in items if isinstance(item.values.get("category"), int)}
    categories = Category.objects.in_bulk(category_ids) if category_ids else {}
    barcode_items: dict[str, int] = {}
    for index, item in enumerate(items):
        for code in {c.strip() for c in item.barcodes or () if c and c.strip()}:
            if code in barcode_items:
                errors.add(index, "barcodes", f"Barcode {code} is also on item {barcode_items[code]}.")
            barcode_items.setdefault(code, index)

    done: list[Upserted] = []
    for index, item in enumerate(items):
        if index in errors.items:
            continue
        sku = item.sku.strip()
        values = dict(item.values)
        values.pop("sku", None)
        if "category" in values and values["category"] is not None:
            category = categories.get(values["category"])
            if category is None:
                errors.add(index, "category", f"No category with id {values['category']}.")
                continue
        found = existing.get(sku.lower())
        product = products.get(found) if found is not None else None
        if product is None:
            if not str(values.get("name") or "").strip():
                errors.add(index, "name", "A name is required for a new product.")
                continue
            if "category" in values:
                values["category"] = categories.get(values["category"]) if values["category"] else None
            created = errors.run(index, partial(_create, item, values, sku, user))
            if created is not None:
                done.append(Upserted(index, created.sku, CREATED, created))
            continue
        changes = {name: value for name, value in values.items() if _differs(product, name, value)}
        own = {b.code for b in product.barcodes.all() if b.unit_id is None}
        barcodes = item.barcodes
        if barcodes is not None and {c.strip() for c in barcodes if c and c.strip()} == own:
            barcodes = None
        active = (
            item.is_active if item.is_active is not None and item.is_active != product.is_active else None
        )
        if not changes and barcodes is None and active is None:
            done.append(Upserted(index, product.sku, UNCHANGED, product))
            continue
        if "category" in changes:
            changes["category"] = categories.get(changes["category"]) if changes["category"] else None
        updated = errors.run(index, partial(_update, product, changes, barcodes, active, user))
        if updated is not None:
            done.append(Upserted(index, updated.sku, UPDATED, updated))
    errors.raise_if_any("products were")
    return sorted(done, key=lambda u: u.index)


def _create(item: ProductUpsert, values: dict[str, Any], sku: str, user: Any) -> Product:
    product = product_create(sku=sku, **values, barcodes=item.barcodes or (), user=user)
    if item.is_active is False:
        product = product_archive(product=product, user=user)
    return product


def _update(
    product: Product, changes: dict[str, Any], barcodes: list[str] | None, active: bool | None, user: Any
) -> Product:
    if changes or barcodes is not None:
        product = _product_update(product=product, barcodes=barcodes, user=user, **changes)
    if active is not None:
        product = product_archive(product=product, active=active, user=user)
    return product


# --- counted stock levels -----------------------------------------------------------------------


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
    *, items: Sequence[CountedLevel], reference: str = "", reason: str = "stock count", user: Any = None
) -> CountResult:
    """Set the on-hand quantity of many (product, bin[, lot]) to what was counted, all or nothing.

    Each level is set through ``stock_adjust`` as a count (moves of kind ``count`` to or from the
    adjustment location, at the average cost), so the ledger explains every unit; the moves share
    one document (type ``inventory.stockcount``, the batch id, ``reference``).
    """
    _check_size(len(items))
    reason = reason.strip() or "stock count"
    batch = uuid.uuid4().hex[:12]
    document = Document(COUNT_DOCUMENT_TYPE, batch, (reference or "").strip()[:100] or f"count {batch}")
    errors = _Errors(len(items))

    skus = {item.sku.strip().lower() for item in items if item.sku.strip()}
    products: dict[str, Product] = {}
    for chunk in _chunks(skus):
        rows = Product.objects.annotate(lc=Lower("sku")).filter(lc__in=chunk).select_related("stock_unit")
        products.update({row.sku.lower(): row for row in rows})
    by_id: dict[int, Location] = {}
    ids = {item.location for item in items if item.location is not None}
    for id_chunk in _chunks(ids):
        by_id.update(Location.objects.select_related("warehouse").in_bulk(id_chunk))
    by_path: dict[str, Location] = {}
    paths = {item.location_path.strip().lower() for item in items if item.location_path.strip()}
    for path_chunk in _chunks(paths):
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
    levels = lock_levels(bins) if bins else {}

    counted_items: list[Counted] = []
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
