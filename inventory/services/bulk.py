"""Many at once, for tools that sync: products upserted by SKU here, counted stock levels set in
inventory.services.counted (which shares this module's limits and error collection).

Each is ONE transaction and is validated as a whole: every item is checked as the single-item
services check it (``product_create``/``product_update``, ``stock_adjust`` and the ledger), and
every refused item is reported, keyed ``items.<index>.<field>``; when any is refused, everything is
rolled back and :class:`BatchInvalid` (422) names them all. The valid items are then written
together, set-based: one statement per table and CHUNK rows, one ``ledger.post`` for every count
move, the events in one write (``events.batched``). Should the database or the ledger still refuse
the whole (a row changed since it was checked), that savepoint is rolled back and the items go
one by one through the single-item services, so the refusal names its item. Rows are locked up
front, in the one global order (inventory.locks), so two batches never deadlock.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any, TypeVar

from django.db import DataError, IntegrityError, transaction
from django.db.models import prefetch_related_objects
from django.db.models.functions import Lower
from django.utils import timezone
from simple_history.models import HistoricalRecords
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from erp import events
from erp.exceptions import DomainError, ValidationFailed
from erp.money import quantize_money, quantize_quantity
from erp.rows import update_rows
from inventory.locks import lock_products
from inventory.models import (
    Barcode,
    Category,
    Product,
    UnitOfMeasure,
)
from inventory.services.catalog import (
    PRODUCT_FIELDS,
    _clean_product_values,
    product_archive,
    product_create,
    product_payload,
)
from inventory.services.catalog import product_update as _product_update

# In a request: 5,000 items are written in a few seconds (one statement per table and 500 rows),
# well inside a worker's timeout. More, up to JOB_MAX, run as a background job (inventory.jobs),
# which a client follows at /api/v1/jobs/{id}.
MAX_BATCH = 5_000
JOB_MAX = 50_000
CHUNK = 500  # ids per IN (...), well under SQLite's parameter limit

CREATED, UPDATED, UNCHANGED = "created", "updated", "unchanged"
T = TypeVar("T")


class BatchInvalid(ValidationFailed):
    """Some items of a batch were refused; nothing was written. ``field_errors``: ``items.<i>.<field>``."""


def chunks(values: Iterable[T]) -> Iterable[list[T]]:
    values = list(values)
    for start in range(0, len(values), CHUNK):
        yield values[start : start + CHUNK]


def check_size(count: int, limit: int = MAX_BATCH) -> None:
    if count == 0:
        raise ValidationFailed("Send at least one item.", field_errors={"items": ["Send at least one item."]})
    if count > limit:
        message = f"At most {limit} items per request ({count} sent); send the rest in another request."
        raise ValidationFailed(message, field_errors={"items": [message]})


class ItemErrors:
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

    def check(self, index: int, action: Callable[[], T]) -> T | None:
        """Run one item's checks (no writes, so no savepoint); a refusal is recorded."""
        try:
            return action()
        except DomainError as exc:
            self.refused(index, exc)
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
def products_upsert(
    *, items: Sequence[ProductUpsert], user: Any = None, limit: int = MAX_BATCH
) -> list[Upserted]:
    """Create the products whose SKU is new, update the others; all or nothing (BatchInvalid).

    Its events are written together when it ends (``events.batched``): one statement, not two per
    product. ``limit``: MAX_BATCH in a request, JOB_MAX in a background job."""
    check_size(len(items), limit)
    with events.batched():
        return _products_upsert(items, user)


def _products_upsert(items: Sequence[ProductUpsert], user: Any) -> list[Upserted]:
    errors = ItemErrors(len(items))
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
    for chunk in chunks(first_of):
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

    new_products = _NewProducts(items, existing)
    changed_products = _ChangedProducts(new_products.units)
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
            if item.is_active is False:  # created, then archived: two events, as one by one
                created = errors.run(index, partial(_create, item, values, sku, user))
                if created is not None:
                    done.append(Upserted(index, created.sku, CREATED, created))
                continue
            new = errors.check(index, partial(new_products.check, item, values, sku, user))
            if new is not None:
                new_products.add(index, item, values, sku, new)
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
        if barcodes is None and active is None:  # fields only: checked now, written with the others
            if errors.check(index, partial(changed_products.check, product, changes, user)) is not None:
                changed_products.add(index, product, changes)
            continue
        updated = errors.run(index, partial(_update, product, changes, barcodes, active, user))
        if updated is not None:
            done.append(Upserted(index, updated.sku, UPDATED, updated))
    done += changed_products.write(errors, user)
    done += new_products.write(errors, user)
    errors.raise_if_any("products were")
    return sorted(done, key=lambda u: u.index)


# What ``product_create`` gives a field an item leaves out.
_CREATE_DEFAULTS = {
    name: parameter.default
    for name, parameter in inspect.signature(product_create).parameters.items()
    if name in PRODUCT_FIELDS and parameter.default is not inspect.Parameter.empty
}


class _NewProducts:
    """The new SKUs of a batch, checked one by one as ``product_create`` checks them, with what it
    queries per product (its unit, that the SKU is free, its barcodes) read once for all, then
    written together: one INSERT of the products, one of their history, one of their barcodes, and
    their events in the batch's one write. Should the database still refuse (a SKU taken since),
    the savepoint is rolled back and they are created one by one, so the refusal names its item."""

    def __init__(self, items: Sequence[ProductUpsert], existing: dict[str, int]) -> None:
        new = [item for item in items if item.sku.strip().lower() not in existing]
        codes = {str(item.values.get("stock_unit") or _CREATE_DEFAULTS["stock_unit"]) for item in items}
        self.units = {u.code: u for u in UnitOfMeasure.objects.filter(code__in=codes)}
        barcodes = {c.strip() for item in new for c in item.barcodes or () if c and c.strip()}
        self.taken: dict[str, Barcode] = {}
        for chunk in chunks(barcodes):
            self.taken.update(
                {b.code: b for b in Barcode.objects.filter(code__in=chunk).select_related("product")}
            )
        self.pending: list[tuple[int, ProductUpsert, dict[str, Any], str, Product]] = []

    def check(self, item: ProductUpsert, values: dict[str, Any], sku: str, user: Any) -> Product:
        """The product ``product_create`` would make of the item (unsaved), or its refusal."""
        given = {"sku": sku, **_CREATE_DEFAULTS, **values}
        unit = given["stock_unit"]
        if isinstance(unit, str) and unit in self.units:
            given["stock_unit"] = self.units[unit]  # an unknown code is looked up, and refused, as one by one
        if len(sku) <= 64:  # a longer one is refused whatever the clash query says
            given.pop("sku")  # free: it is not among the existing SKUs
        clean = _clean_product_values(given)
        clean["sku"] = sku
        codes = [c.strip() for c in item.barcodes or () if c and c.strip()]
        if len(set(codes)) != len(codes):
            raise ValidationFailed(
                "A barcode is listed twice.", field_errors={"barcodes": ["Duplicate barcode."]}
            )
        taken = [self.taken[c] for c in codes if c in self.taken]
        if taken:
            msg = "; ".join(f"barcode {b.code} belongs to {b.product.sku}" for b in taken)
            raise ValidationFailed(f"Barcodes in use: {msg}.", field_errors={"barcodes": [msg]})
        return Product(**clean, created_by=_actor(user), updated_by=_actor(user))

    def add(
        self, index: int, item: ProductUpsert, values: dict[str, Any], sku: str, product: Product
    ) -> None:
        self.pending.append((index, item, values, sku, product))

    def write(self, errors: ItemErrors, user: Any) -> list[Upserted]:
        if not self.pending:
            return []
        try:
            with transaction.atomic():
                return self._write_all(user)
        except (IntegrityError, DataError):
            pass
        done: list[Upserted] = []
        for index, item, values, sku, _ in self.pending:
            created = errors.run(index, partial(_create, item, values, sku, user))
            if created is not None:
                done.append(Upserted(index, created.sku, CREATED, created))
        return done

    def _write_all(self, user: Any) -> list[Upserted]:
        products = [product for *_, product in self.pending]
        bulk_create_with_history(
            products, Product, batch_size=CHUNK, custom_historical_attrs=_history_attrs()
        )
        Barcode.objects.bulk_create(
            [
                Barcode(product=product, code=code)
                for _, item, _, _, product in self.pending
                for code in dict.fromkeys(c.strip() for c in item.barcodes or () if c and c.strip())
            ],
            batch_size=CHUNK,
        )
        prefetch_related_objects(products, "barcodes")
        for product in products:
            events.emit("inventory.product_created", aggregate=product, payload=product_payload(product))
        return [Upserted(index, product.sku, CREATED, product) for index, _, _, _, product in self.pending]


class _ChangedProducts:
    """Existing products whose fields change (not their barcodes nor whether they are active),
    checked one by one as ``product_update`` checks them, then written together: one UPDATE per
    500, one INSERT of their history, their events in the batch's one write. A refusal by the
    database rolls the savepoint back and they go one by one, so the refusal names its item."""

    def __init__(self, units: dict[str, UnitOfMeasure]) -> None:
        self.units = units
        self.pending: list[tuple[int, Product, dict[str, Any]]] = []

    def check(self, product: Product, changes: dict[str, Any], user: Any) -> Product:
        given = dict(changes)
        unit = given.get("stock_unit")
        if isinstance(unit, str) and unit in self.units:
            given["stock_unit"] = self.units[unit]
        clean = _clean_product_values(given, instance=product)
        for name, value in clean.items():
            setattr(product, name, value)
        product.updated_by = _actor(user)
        return product

    def add(self, index: int, product: Product, changes: dict[str, Any]) -> None:
        self.pending.append((index, product, changes))

    def write(self, errors: ItemErrors, user: Any) -> list[Upserted]:
        if not self.pending:
            return []
        try:
            with transaction.atomic():
                return self._write_all()
        except (IntegrityError, DataError):
            pass
        done: list[Upserted] = []
        for index, product, changes in self.pending:
            updated = errors.run(index, partial(_update, product, changes, None, None, user))
            if updated is not None:
                done.append(Upserted(index, updated.sku, UPDATED, updated))
        return done

    def _write_all(self) -> list[Upserted]:
        products = [product for _, product, _ in self.pending]
        now = timezone.now()
        for product in products:
            product.updated_at = now
        fields = sorted(
            {name for _, _, changes in self.pending for name in changes} | {"updated_by", "updated_at"}
        )
        update_rows(Product, products, fields)
        # No fields: simple-history only records the rows' history, as save() would have.
        bulk_update_with_history(
            products, Product, [], batch_size=CHUNK, custom_historical_attrs=_history_attrs()
        )
        for product in products:
            events.emit("inventory.product_updated", aggregate=product, payload=product_payload(product))
        return [Upserted(index, product.sku, UPDATED, product) for index, product, _ in self.pending]


def _history_attrs() -> dict[str, Any] | None:
    """The API key of the request on each history row, as erp.history records it one by one."""
    request = getattr(HistoricalRecords.context, "request", None)
    api_key = getattr(request, "api_key", None)
    return {"history_api_key_id": api_key.pk} if api_key is not None else None


def _actor(user: Any) -> Any:
    return user if getattr(user, "is_authenticated", False) else None


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
