"""CSV import and export of products and of opening stock: the service the UI (and later the API) calls.

Import is two steps, so that people see what will happen before anything does::

    plan = parse_products(upload)          # read and validate every row; writes nothing
    if plan.is_valid:
        apply_products(plan, user=user)    # one transaction: every row or none

``parse_*`` reads the file (UTF-8 with or without a BOM; ``,`` or ``;`` separated,
sniffed from the header line), validates every row against the database with
a constant number of queries, and returns an :class:`ImportPlan`: per row, what
will happen (create / update / unchanged) or the errors by column. ``apply_*``
refuses a plan with errors, then runs every row through the inventory services
inside ONE ``transaction.atomic()``; if a service refuses a row, everything is
rolled back and :class:`ImportFailed` names the row.

Products (columns in :data:`PRODUCT_COLUMNS`, only ``sku`` is required):

* A row whose SKU exists (SKUs ignore case) updates that product through
  ``product_update`` (and ``product_archive`` for ``active``); otherwise
  ``product_create`` creates it. Stock is never touched.
* A column missing from the file is left as it is. A blank cell clears the
  fields that may be empty (description, category, barcodes, weight) and leaves
  the others as they are (or takes their default when the product is new).
* ``category`` is a path from the root (``Apparel/T-shirts``) or a name that is
  unique among the categories, matched ignoring case; missing ones are created.
* ``barcodes`` are separated by ``|``; only a product's own barcodes are listed
  and replaced, box barcodes belong to its units.

Opening stock (columns in :data:`STOCK_COLUMNS`; ``on_hand`` is read as
``quantity``, so a stock-levels export imports back as "unchanged"):

* Each row SETS the on-hand quantity of (product, bin, lot).
* An empty level (on hand 0) is filled with ``stock_receive`` at the row's
  ``unit_cost``, which is required there: a receipt brings value in, so the
  product's moving-average cost takes it in (weighted with stock it already has
  elsewhere; several rows of one product average as successive receipts would).
* A level that holds stock is set with ``stock_adjust(quantity=...)``. An
  adjustment carries the current average cost and does not change it (the
  ledger's rule): ``unit_cost`` is then ignored, and the preview says so.
* The choice is made again at apply time from the levels then current.
  ``location`` is a path (``WH1/A/A-01``, or ``A/A-01`` within the row's
  warehouse) or the name of a bin unique in the warehouse; blank is the
  warehouse's default bin. Numbers use ``.`` as the decimal point (``,`` too
  in ``;``-separated files, as spreadsheets in many locales write them).

Exports are generators of CSV text for ``StreamingHttpResponse``: they iterate
querysets with ``.iterator()`` at a constant number of queries, whatever the
size of the catalog.
"""

from __future__ import annotations

import csv
import datetime
import functools
import io
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import IO, Any

from django.db import DataError, IntegrityError, transaction
from django.db.models import QuerySet
from django.db.models.functions import Lower

from erp.exceptions import DomainError, ValidationFailed
from erp.money import ZERO, iso_currencies
from inventory.models import (
    Barcode,
    Category,
    Location,
    LocationKind,
    Lot,
    Product,
    ProductKind,
    StockLevel,
    StockMove,
    Tracking,
    UnitOfMeasure,
    Warehouse,
)
from inventory.services import (
    lot_get_or_create,
    product_archive,
    product_create,
    product_update,
    stock_adjust,
    stock_receive,
)

PRODUCT_COLUMNS = (
    "sku",
    "name",
    "description",
    "category",
    "kind",
    "unit",
    "sale_price",
    "currency",
    "tracking",
    "barcodes",
    "weight",
    "active",
)
STOCK_COLUMNS = ("sku", "warehouse", "location", "quantity", "unit_cost", "lot", "expiry_date")
STOCK_COLUMN_ALIASES = {"on_hand": "quantity"}
LEVEL_COLUMNS = ("sku", "warehouse", "location", "lot", "on_hand", "reserved", "unit_cost")

OPENING_STOCK_REASON = "opening stock import"
MAX_ROWS = 50_000
MAX_PLACES = 4  # quantities and money are stored with 4 decimal places
BARCODE_SEPARATOR = "|"
CATEGORY_SEPARATOR = "/"
LOOKUP_CHUNK = 500  # ids per IN (...) in the look-ups, well under SQLite's parameter limit

TRUE_WORDS = frozenset({"true", "yes", "y", "1", "active"})
FALSE_WORDS = frozenset({"false", "no", "n", "0", "inactive", "archived"})

CREATE, UPDATE, UNCHANGED, ERROR = "create", "update", "unchanged", "error"


class ImportInvalid(ValidationFailed):
    """The plan has errors; nothing was imported. ``field_errors`` is keyed ``rows.<n>.<column>``."""


class ImportFailed(ValidationFailed):
    """A service refused a row while applying; everything was rolled back."""

    def __init__(self, *, row: int, message: str, field_errors: dict[str, list[str]] | None = None):
        errors = {f"rows.{row}.{name or 'row'}": msgs for name, msgs in (field_errors or {}).items()}
        errors = errors or {f"rows.{row}.row": [message]}
        super().__init__(f"Row {row}: {message} Nothing was imported.", field_errors=errors, row=row)
        self.row = row
        self.reason = message


# --- the plan ---------------------------------------------------------------------------------


@dataclass
class RowPlan:
    """One data row: what will happen to it, or why it cannot be imported."""

    number: int  # the row in the file; the header is row 1
    cells: dict[str, str]
    action: str = ""
    summary: str = ""  # what will happen, for people
    errors: dict[str, list[str]] = field(default_factory=dict)  # column ("" = the row) -> messages
    warnings: list[str] = field(default_factory=list)
    change: Any = None  # what apply_* needs: _ProductChange or _StockChange

    def error(self, column: str, message: str) -> None:
        self.errors.setdefault(column, []).append(message)

    @property
    def has_errors(self) -> bool:
        return bool(self.errors)

    @property
    def messages(self) -> list[str]:
        return [f"{column}: {m}" if column else m for column, msgs in self.errors.items() for m in msgs]


@dataclass
class ImportPlan:
    kind: str  # "products" or "stock"
    columns: list[str] = field(default_factory=list)
    rows: list[RowPlan] = field(default_factory=list)
    file_errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def is_valid(self) -> bool:
        return not self.file_errors and bool(self.rows) and not any(r.has_errors for r in self.rows)

    @property
    def counts(self) -> dict[str, int]:
        counts = {CREATE: 0, UPDATE: 0, UNCHANGED: 0, ERROR: 0}
        for row in self.rows:
            counts[ERROR if row.has_errors else row.action] += 1
        return counts

    @property
    def changes(self) -> int:
        """Rows that will write something."""
        counts = self.counts
        return counts[CREATE] + counts[UPDATE]

    @property
    def error_rows(self) -> list[RowPlan]:
        return [r for r in self.rows if r.has_errors]

    def preview_rows(self, limit: int = 100) -> list[RowPlan]:
        """The first ``limit`` rows, then every row with errors after them."""
        return self.rows[:limit] + [r for r in self.rows[limit:] if r.has_errors]

    def field_errors(self) -> dict[str, list[str]]:
        errors: dict[str, list[str]] = {}
        if self.file_errors:
            errors["file"] = list(self.file_errors)
        for row in self.rows:
            for column, msgs in row.errors.items():
                errors[f"rows.{row.number}.{column or 'row'}"] = list(msgs)
        return errors


@dataclass(frozen=True)
class ImportResult:
    kind: str
    created: int
    updated: int
    unchanged: int

    @property
    def message(self) -> str:
        what = "products" if self.kind == "products" else "stock levels"
        return f"Imported {what}: {self.created} created, {self.updated} updated, {self.unchanged} unchanged."


# --- reading the file ---------------------------------------------------------------------------


Source = bytes | str | IO[bytes] | IO[str]


def decode(source: Source) -> str:
    """The file's text: UTF-8, with or without a byte-order mark."""
    raw = source.read() if hasattr(source, "read") else source
    if isinstance(raw, str):
        return raw.removeprefix("\ufeff")
    try:
        return bytes(raw).decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValidationFailed(
            f"The file is not UTF-8 text (byte {exc.start}); save it as “CSV UTF-8”.",
            field_errors={"file": ["Not UTF-8 text."]},
        ) from exc


def sniff_delimiter(text: str) -> str:
    """``;`` when the header line has more semicolons than commas, else ``,``."""
    header = text.split("\n", 1)[0]
    return ";" if header.count(";") > header.count(",") else ","


@dataclass
class _Table:
    columns: list[str]
    rows: list[tuple[int, dict[str, str]]]
    delimiter: str


def _read_table(plan: ImportPlan, source: Source, aliases: dict[str, str] | None = None) -> _Table:
    text = decode(source)
    delimiter = sniff_delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    table = _Table(columns=[], rows=[], delimiter=delimiter)
    try:
        header = next(reader, None)
        if not header or not any(h.strip() for h in header):
            plan.file_errors.append("The file is empty: the first line must name the columns.")
            return table
        columns = [(aliases or {}).get(h.strip().lower(), h.strip().lower()) for h in header]
        doubled = sorted({c for c in columns if c and columns.count(c) > 1})
        if doubled:
            plan.file_errors.append(f"Columns named twice: {', '.join(doubled)}.")
            return table
        table.columns = columns
        for number, cells in enumerate(reader, start=2):
            if not any(c.strip() for c in cells):
                continue
            if len(table.rows) >= MAX_ROWS:
                plan.file_errors.append(f"More than {MAX_ROWS} rows: split the file.")
                return table
            values = {
                col: (cells[i].strip() if i < len(cells) else "") for i, col in enumerate(columns) if col
            }
            row_extra = [c for c in cells[len(columns) :] if c.strip()]
            if row_extra:
                values["__extra__"] = "|".join(row_extra)
            table.rows.append((number, values))
    except csv.Error as exc:
        plan.file_errors.append(f"Line {reader.line_num}: the file is not valid CSV ({exc}).")
    if not table.rows and not plan.file_errors:
        plan.file_errors.append("The file has a header but no rows.")
    return table


def _check_columns(plan: ImportPlan, table: _Table, known: Iterable[str], required: Iterable[str]) -> None:
    known = list(known)
    missing = [c for c in required if c not in table.columns]
    if missing:
        plan.file_errors.append(
            f"Missing column(s): {', '.join(missing)}. The columns are: {', '.join(known)}."
        )
    unknown = [c for c in table.columns if c and c not in known]
    if unknown:
        plan.warnings.append(f"Ignored column(s): {', '.join(unknown)}.")
    plan.columns = [c for c in table.columns if c in known]


# --- parsing cells ------------------------------------------------------------------------------


class _CellError(Exception):
    pass


def _decimal(text: str, *, comma_decimal: bool, what: str = "a number") -> Decimal:
    value = text.strip().replace("\u00a0", "").replace(" ", "")
    if comma_decimal and "," in value and "." not in value:
        value = value.replace(",", ".")
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise _CellError(f"“{text}” is not {what}.") from None
    if not number.is_finite():
        raise _CellError(f"“{text}” is not {what}.")
    exponent = number.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -MAX_PLACES:
        raise _CellError(f"“{text}” has more than {MAX_PLACES} decimal places.")
    return number


def _boolean(text: str) -> bool:
    word = text.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise _CellError(f"“{text}” is not yes/no (true/false, 1/0).")


def _cell(row: RowPlan, column: str, parse: Callable[[str], Any]) -> Any:
    """Parse a cell, recording the error against the column; None when it fails."""
    try:
        return parse(row.cells.get(column, ""))
    except _CellError as exc:
        row.error(column, str(exc))
        return None


def _chunks(values: Iterable[Any]) -> Iterator[list[Any]]:
    values = list(values)
    for i in range(0, len(values), LOOKUP_CHUNK):
        yield values[i : i + LOOKUP_CHUNK]


def _products_by_sku(skus: Iterable[str]) -> dict[str, Product]:
    found: dict[str, Product] = {}
    for chunk in _chunks({s.lower() for s in skus}):
        for product in (
            Product.objects.annotate(sku_lower=Lower("sku"))
            .filter(sku_lower__in=chunk)
            .select_related("stock_unit")
        ):
            found[product.sku.lower()] = product
    return found


# --- categories ---------------------------------------------------------------------------------


def category_paths() -> dict[int, str]:
    """Every category's path from the root (``Apparel/T-shirts``), in one query."""
    rows = {
        pk: (name, parent) for pk, name, parent in Category.objects.values_list("pk", "name", "parent_id")
    }
    paths: dict[int, str] = {}

    def path(pk: int, depth: int = 0) -> str:
        if pk not in paths:
            name, parent = rows[pk]
            paths[pk] = name if parent is None or depth > 50 else f"{path(parent, depth + 1)}/{name}"
        return paths[pk]

    for pk in rows:
        path(pk)
    return paths


def _category_parts(text: str) -> list[str]:
    return [part.strip() for part in text.split(CATEGORY_SEPARATOR) if part.strip()]


@transaction.atomic
def category_get_or_create(path: str) -> Category:
    """The category at ``path`` (``Apparel/T-shirts``), creating what is missing; names ignore case.

    Categories have no service of their own yet; this belongs in services/catalog.py.
    """
    parent: Category | None = None
    parts = _category_parts(path)
    if not parts:
        raise ValidationFailed("A category path needs a name.", field_errors={"category": ["Required."]})
    for name in parts:
        category = Category.objects.filter(parent=parent, name__iexact=name).first()
        if category is None:
            category = Category.objects.create(parent=parent, name=name)
        parent = category
    assert parent is not None
    return parent


class _Categories:
    """Resolves a category cell against what exists, without writing."""

    def __init__(self) -> None:
        self.paths = category_paths()
        self.by_path = {p.lower(): pk for pk, p in self.paths.items()}
        self.by_name: dict[str, list[int]] = {}
        for pk, p in self.paths.items():
            self.by_name.setdefault(p.rsplit("/", 1)[-1].lower(), []).append(pk)

    def resolve(self, text: str) -> tuple[int | None, str]:
        """(existing category id or None, the canonical path)."""
        parts = _category_parts(text)
        key = "/".join(parts).lower()
        if key in self.by_path:
            pk = self.by_path[key]
            return pk, self.paths[pk]
        if len(parts) == 1 and len(self.by_name.get(key, [])) == 1:
            pk = self.by_name[key][0]
            return pk, self.paths[pk]
        return None, "/".join(parts)


# --- products: parse ----------------------------------------------------------------------------


@dataclass
class _ProductChange:
    product: Product | None  # None: create
    fields: dict[str, Any]  # for product_create / product_update; "category" is a path here
    barcodes: list[str] | None = None  # None: leave them
    active: bool | None = None  # None: leave it
    changed: list[str] = field(default_factory=list)
    new_category: str = ""  # a category path that apply will create


def parse_products(source: Source) -> ImportPlan:
    """Read and validate a products CSV. Writes nothing."""
    plan = ImportPlan(kind="products")
    table = _read_table(plan, source)
    if plan.file_errors:
        return plan
    _check_columns(plan, table, PRODUCT_COLUMNS, required=["sku"])
    if plan.file_errors:
        return plan
    columns = set(plan.columns)
    comma_decimal = table.delimiter == ";"

    # Look-ups: a constant number of queries (per 500 rows) whatever the file's length.
    skus = [cells.get("sku", "") for _, cells in table.rows if cells.get("sku")]
    existing = _products_by_sku(skus)
    units = {u.code.lower(): u for u in UnitOfMeasure.objects.all()}
    categories = _Categories()
    with_moves: set[int] = set()
    own_barcodes: dict[int, set[str]] = {}
    box_barcodes: dict[int, set[str]] = {}
    for chunk in _chunks(p.pk for p in existing.values()):
        with_moves.update(
            StockMove.objects.filter(product_id__in=chunk).values_list("product_id", flat=True).distinct()
        )
        for product_id, code, unit_id in Barcode.objects.filter(product_id__in=chunk).values_list(
            "product_id", "code", "unit_id"
        ):
            (own_barcodes if unit_id is None else box_barcodes).setdefault(product_id, set()).add(code)
    listed_codes = {
        code.strip()
        for _, cells in table.rows
        for code in cells.get("barcodes", "").split(BARCODE_SEPARATOR)
        if code.strip()
    }
    barcode_owner: dict[str, str] = {}
    for chunk in _chunks(listed_codes):
        barcode_owner.update(Barcode.objects.filter(code__in=chunk).values_list("code", "product__sku"))

    seen_skus: dict[str, int] = {}
    seen_codes: dict[str, int] = {}
    for number, cells in table.rows:
        row = RowPlan(number=number, cells=cells)
        plan.rows.append(row)
        if "__extra__" in cells:
            row.error("", f"More cells than the {len(table.columns)} columns of the header.")
        sku = cells.get("sku", "")
        if not sku:
            row.error("sku", "A SKU is required.")
            continue
        if len(sku) > 64:
            row.error("sku", "At most 64 characters.")
        if sku.lower() in seen_skus:
            row.error("sku", f"SKU {sku} is already on row {seen_skus[sku.lower()]} (SKUs ignore case).")
        seen_skus.setdefault(sku.lower(), number)
        product = existing.get(sku.lower())
        values: dict[str, Any] = {}

        if "name" in columns and cells["name"]:
            if len(cells["name"]) > 200:
                row.error("name", "At most 200 characters.")
            values["name"] = cells["name"]
        elif product is None:
            row.error("name", "A name is required for a new product.")
        if "description" in columns:
            values["description"] = cells["description"]
        if "category" in columns:
            text = cells["category"]
            if text and any(len(part) > 100 for part in _category_parts(text)):
                row.error("category", "A category name is at most 100 characters.")
            values["category"] = categories.resolve(text) if text and _category_parts(text) else (None, "")
        if "kind" in columns and cells["kind"]:
            kind = cells["kind"].lower()
            if kind not in ProductKind.values:
                row.error("kind", f"“{cells['kind']}” is not one of: {', '.join(ProductKind.values)}.")
            values["kind"] = kind
        if "unit" in columns and cells["unit"]:
            unit = units.get(cells["unit"].lower())
            if unit is None:
                row.error("unit", f"Unknown unit “{cells['unit']}”. Known units: {', '.join(sorted(units))}.")
            elif product is not None and unit.pk != product.stock_unit_id and product.pk in with_moves:
                row.error("unit", "The stock unit cannot change once the product has stock moves.")
            values["stock_unit"] = unit
        if "sale_price" in columns and cells["sale_price"]:
            price = _cell(row, "sale_price", lambda t: _decimal(t, comma_decimal=comma_decimal))
            if price is not None and price < 0:
                row.error("sale_price", "Cannot be negative.")
            values["sale_price"] = price
        if "currency" in columns and cells["currency"]:
            currency = cells["currency"].upper()
            if currency not in iso_currencies():
                row.error("currency", f"“{cells['currency']}” is not an ISO 4217 currency code.")
            values["currency"] = currency
        if "tracking" in columns and cells["tracking"]:
            tracking = cells["tracking"].lower()
            if tracking not in Tracking.values:
                row.error("tracking", f"“{cells['tracking']}” is not one of: {', '.join(Tracking.values)}.")
            elif product is not None and tracking != product.tracking and product.pk in with_moves:
                row.error("tracking", "Tracking cannot change once the product has stock moves.")
            values["tracking"] = tracking
        if "weight" in columns:
            weight = None
            if cells["weight"]:
                weight = _cell(row, "weight", lambda t: _decimal(t, comma_decimal=comma_decimal))
                if weight is not None and weight < 0:
                    row.error("weight", "Cannot be negative.")
            values["weight"] = weight
        barcodes: list[str] | None = None
        if "barcodes" in columns:
            barcodes = [c.strip() for c in cells["barcodes"].split(BARCODE_SEPARATOR) if c.strip()]
            for code in barcodes:
                if len(code) > 64:
                    row.error("barcodes", f"Barcode {code[:20]}… is longer than 64 characters.")
                owner = barcode_owner.get(code)
                if owner is not None and owner.lower() != sku.lower():
                    row.error("barcodes", f"Barcode {code} belongs to {owner}.")
                if code in seen_codes and seen_codes[code] != number:
                    row.error("barcodes", f"Barcode {code} is also on row {seen_codes[code]}.")
                seen_codes.setdefault(code, number)
            if len(set(barcodes)) != len(barcodes):
                row.error("barcodes", "A barcode is listed twice.")
        active: bool | None = None
        if "active" in columns and cells["active"]:
            active = _cell(row, "active", _boolean)

        if row.has_errors:
            row.action = ERROR
            continue
        if product is None:
            values["sku"] = sku
        row.change = _product_change(product, values, barcodes, active, own_barcodes, box_barcodes)
        _describe_product_row(row)
    return plan


def _product_change(
    product: Product | None,
    values: dict[str, Any],
    barcodes: list[str] | None,
    active: bool | None,
    own_barcodes: dict[int, set[str]],
    box_barcodes: dict[int, set[str]],
) -> _ProductChange:
    category = values.pop("category", None)
    if product is None:
        change = _ProductChange(product=None, fields=values, barcodes=barcodes, active=active)
        if category is not None:
            change.fields["category"] = category[1]
            change.new_category = category[1] if category[0] is None else ""
        return change
    change = _ProductChange(product=product, fields={})
    for name, value in values.items():
        if getattr(product, name) != value:
            change.fields[name] = value
            change.changed.append(name)
    if category is not None:
        category_id, path = category
        if category_id != product.category_id or (category_id is None and path):
            change.fields["category"] = path
            change.changed.append("category")
            change.new_category = path if category_id is None else ""
    if barcodes is not None:
        mine = own_barcodes.get(product.pk, set())
        if set(barcodes) - box_barcodes.get(product.pk, set()) != mine:
            change.barcodes = barcodes
            change.changed.append("barcodes")
    if active is not None and active != product.is_active:
        change.active = active
        change.changed.append("active")
    return change


def _describe_product_row(row: RowPlan) -> None:
    change: _ProductChange = row.change
    if change.product is None:
        row.action = CREATE
        details = [f"new {change.fields.get('kind', ProductKind.STOCKED)} product"]
        if change.fields.get("category"):
            details.append(f"in {change.fields['category']}")
        if change.active is False:
            details.append("archived")
        row.summary = " ".join(details)
    elif change.changed:
        row.action = UPDATE
        row.summary = "changes " + ", ".join(_label(c) for c in change.changed)
    else:
        row.action = UNCHANGED
        row.summary = "no change"
    if change.new_category:
        row.summary += f" (new category {change.new_category})"


def _label(name: str) -> str:
    return {"stock_unit": "unit", "is_active": "active"}.get(name, name)


# --- products: apply ----------------------------------------------------------------------------


def _require_valid(plan: ImportPlan, kind: str) -> None:
    if plan.kind != kind:
        raise ValidationFailed(f"This is a plan for {plan.kind}, not {kind}.")
    if not plan.is_valid:
        first = (plan.file_errors or [f"Row {r.number}: {r.messages[0]}" for r in plan.error_rows] or ["-"])[
            0
        ]
        raise ImportInvalid(
            f"The file has errors; nothing was imported. {first}", field_errors=plan.field_errors()
        )


def _apply_rows(plan: ImportPlan, apply_row: Callable[[RowPlan], str]) -> ImportResult:
    done = {CREATE: 0, UPDATE: 0, UNCHANGED: 0}
    with transaction.atomic():
        for row in plan.rows:
            try:
                done[apply_row(row)] += 1
            except DomainError as exc:
                raise ImportFailed(
                    row=row.number, message=exc.message, field_errors=exc.field_errors
                ) from exc
            except (IntegrityError, DataError) as exc:
                raise ImportFailed(row=row.number, message=f"The database refused it ({exc}).") from exc
    return ImportResult(plan.kind, created=done[CREATE], updated=done[UPDATE], unchanged=done[UNCHANGED])


def apply_products(plan: ImportPlan, *, user: Any = None) -> ImportResult:
    """Create and update the products of a valid plan, all in one transaction."""
    _require_valid(plan, "products")
    categories: dict[str, Category] = {}

    def category_of(path: str | None) -> Category | None:
        if not path:
            return None
        if path.lower() not in categories:
            categories[path.lower()] = category_get_or_create(path)
        return categories[path.lower()]

    def apply_row(row: RowPlan) -> str:
        change: _ProductChange = row.change
        fields = dict(change.fields)
        if "category" in fields:
            fields["category"] = category_of(fields["category"])
        if change.product is None:
            product = product_create(**fields, barcodes=change.barcodes or (), user=user)
            if change.active is False:
                product_archive(product=product, user=user)
            return CREATE
        if not change.changed:
            return UNCHANGED
        if fields or change.barcodes is not None:
            product_update(product=change.product, barcodes=change.barcodes, user=user, **fields)
        if change.active is not None:
            product_archive(product=change.product, active=change.active, user=user)
        return UPDATE

    return _apply_rows(plan, apply_row)


# --- opening stock: parse -----------------------------------------------------------------------


@dataclass
class _StockChange:
    product: Product
    location: Location
    lot_code: str
    expiry_date: datetime.date | None
    quantity: Decimal
    unit_cost: Decimal | None


LevelKey = tuple[int, int, str]  # (product id, location id, lot code or "")


class _Locations:
    """The bins of the warehouses named in a file, resolved without further queries."""

    def __init__(self, warehouses: Iterable[Warehouse]) -> None:
        self.by_path: dict[str, Location] = {}
        self.by_name: dict[tuple[int, str], list[Location]] = {}
        self.default: dict[int, Location] = {}
        locations = Location.objects.filter(warehouse__in=list(warehouses)).select_related("warehouse")
        for loc in locations.order_by("path"):
            self.by_path[loc.path.lower()] = loc
            if loc.kind != LocationKind.INTERNAL or loc.warehouse_id is None:
                continue
            self.by_name.setdefault((loc.warehouse_id, loc.name.lower()), []).append(loc)
            # warehouse_default_location's rule: the active Stock bin, else the first active bin by path
            current = self.default.get(loc.warehouse_id)
            if loc.is_active and (current is None or (loc.name == "Stock" and current.name != "Stock")):
                self.default[loc.warehouse_id] = loc

    def resolve(self, warehouse: Warehouse, text: str) -> Location:
        if not text:
            if warehouse.pk not in self.default:
                raise _CellError(f"Warehouse {warehouse.code} has no active bin to hold stock.")
            return self.default[warehouse.pk]
        path = "/".join(p.strip() for p in text.strip("/").split("/")).lower()
        location = self.by_path.get(path) or self.by_path.get(f"{warehouse.code.lower()}/{path}")
        if location is None:
            named = self.by_name.get((warehouse.pk, path), [])
            if len(named) > 1:
                raise _CellError(
                    f"Several bins of {warehouse.code} are named “{text}”: "
                    f"{', '.join(loc.path for loc in named)}; give the path."
                )
            location = named[0] if named else None
        if location is None:
            raise _CellError(f"No location “{text}” in warehouse {warehouse.code}.")
        if location.warehouse_id != warehouse.pk:
            raise _CellError(f"{location.path} is not in warehouse {warehouse.code}.")
        if location.kind != LocationKind.INTERNAL:
            raise _CellError(f"{location.path} is a zone; name one of its bins.")
        if not location.is_active:
            raise _CellError(f"{location.path} is archived.")
        return location


def _levels(
    product_ids: Iterable[int], location_ids: Iterable[int]
) -> dict[LevelKey, tuple[Decimal, Decimal]]:
    """(product, location, lot code) -> (on hand, reserved)."""
    location_ids = list(set(location_ids))
    found: dict[LevelKey, tuple[Decimal, Decimal]] = {}
    for chunk in _chunks(set(product_ids)):
        rows = StockLevel.objects.filter(product_id__in=chunk, location_id__in=location_ids).values_list(
            "product_id", "location_id", "lot__code", "on_hand", "reserved"
        )
        for product_id, location_id, lot_code, on_hand, reserved in rows:
            found[(product_id, location_id, lot_code or "")] = (on_hand, reserved)
    return found


def _date(text: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(text.strip())
    except ValueError:
        raise _CellError(f"“{text}” is not a date like 2025-12-31.") from None


def parse_opening_stock(source: Source) -> ImportPlan:
    """Read and validate an opening-stock CSV. Writes nothing."""
    plan = ImportPlan(kind="stock")
    table = _read_table(plan, source, aliases=STOCK_COLUMN_ALIASES)
    if plan.file_errors:
        return plan
    _check_columns(plan, table, STOCK_COLUMNS, required=["sku", "warehouse", "quantity"])
    if plan.file_errors:
        return plan
    comma_decimal = table.delimiter == ";"

    products = _products_by_sku(cells.get("sku", "") for _, cells in table.rows if cells.get("sku"))
    codes = {cells.get("warehouse", "").upper() for _, cells in table.rows}
    warehouses = {w.code.upper(): w for w in Warehouse.objects.filter(code__in=codes)}
    locations = _Locations(warehouses.values())
    lots: dict[tuple[int, str], Lot] = {}
    for chunk in _chunks(p.pk for p in products.values() if p.tracking != Tracking.NONE):
        for lot in Lot.objects.filter(product_id__in=chunk):
            lots[(lot.product_id, lot.code)] = lot

    pending: list[tuple[RowPlan, _StockChange]] = []
    seen: dict[LevelKey, int] = {}
    for number, cells in table.rows:
        row = RowPlan(number=number, cells=cells)
        plan.rows.append(row)
        if "__extra__" in cells:
            row.error("", f"More cells than the {len(table.columns)} columns of the header.")
        product = products.get(cells.get("sku", "").lower())
        if not cells.get("sku"):
            row.error("sku", "A SKU is required.")
        elif product is None:
            row.error("sku", f"No product with SKU {cells['sku']}.")
        elif not product.is_stocked:
            row.error("sku", f"{product.sku} is a service: it has no stock.")
        warehouse = warehouses.get(cells.get("warehouse", "").upper())
        location = None
        if not cells.get("warehouse"):
            row.error("warehouse", "A warehouse code is required.")
        elif warehouse is None:
            row.error("warehouse", f"No warehouse {cells['warehouse']}.")
        else:
            location = _cell(row, "location", functools.partial(locations.resolve, warehouse))
        quantity = None
        if not cells.get("quantity"):
            row.error("quantity", "A quantity is required.")
        else:
            quantity = _cell(row, "quantity", lambda t: _decimal(t, comma_decimal=comma_decimal))
        if quantity is not None and quantity < 0:
            row.error("quantity", "Cannot be negative.")
        unit_cost = None
        if cells.get("unit_cost"):
            unit_cost = _cell(row, "unit_cost", lambda t: _decimal(t, comma_decimal=comma_decimal))
            if unit_cost is not None and unit_cost < 0:
                row.error("unit_cost", "Cannot be negative.")
        lot_code = cells.get("lot", "")
        expiry = _cell(row, "expiry_date", _date) if cells.get("expiry_date") else None
        if product is not None and product.is_stocked:
            _check_tracking(row, product, lot_code, expiry, quantity, lots)
        if row.has_errors or product is None or location is None or quantity is None:
            row.action = ERROR
            continue
        key = (product.pk, location.pk, lot_code)
        if key in seen:
            what = f"{product.sku} at {location.path}" + (f", lot {lot_code}" if lot_code else "")
            row.error("", f"{what} is already on row {seen[key]}.")
            row.action = ERROR
            continue
        seen[key] = number
        pending.append((row, _StockChange(product, location, lot_code, expiry, quantity, unit_cost)))

    levels = _levels((c.product.pk for _, c in pending), (c.location.pk for _, c in pending))
    for row, change in pending:
        on_hand, reserved = levels.get((change.product.pk, change.location.pk, change.lot_code), (ZERO, ZERO))
        _describe_stock_row(row, change, on_hand, reserved)
    return plan


def _check_tracking(
    row: RowPlan,
    product: Product,
    lot_code: str,
    expiry: datetime.date | None,
    quantity: Decimal | None,
    lots: dict[tuple[int, str], Lot],
) -> None:
    if product.tracking == Tracking.NONE:
        if lot_code:
            row.error("lot", f"{product.sku} is not tracked by lot or serial; leave the lot empty.")
        if expiry:
            row.error("expiry_date", "An expiry date belongs to a lot.")
    else:
        what = "serial number" if product.tracking == Tracking.SERIAL else "lot"
        if not lot_code:
            row.error("lot", f"{product.sku} is tracked by {what}: give one.")
        elif len(lot_code) > 64:
            row.error("lot", "At most 64 characters.")
        existing = lots.get((product.pk, lot_code))
        if existing is not None and expiry and existing.expiry_date != expiry:
            row.error(
                "expiry_date",
                f"Lot {lot_code} of {product.sku} already exists with expiry {existing.expiry_date}.",
            )
        if product.tracking == Tracking.SERIAL and quantity is not None and quantity not in (0, 1):
            row.error("quantity", f"{product.sku} is serial-tracked: one row per serial, quantity 0 or 1.")
    if (
        quantity is not None
        and not product.stock_unit.allows_fractions
        and quantity != quantity.to_integral_value()
    ):
        row.error("quantity", f"{product.sku} is counted in {product.stock_unit}: use a whole number.")


def _fmt(value: Decimal) -> str:
    return f"{value.normalize():f}" if value else "0"


def _fmt_money(value: Decimal) -> str:
    cents = value.quantize(Decimal("0.01"))
    return f"{cents:f}" if cents == value else _fmt(value)


def _describe_stock_row(row: RowPlan, change: _StockChange, on_hand: Decimal, reserved: Decimal) -> None:
    target = change.quantity
    row.change = change
    lot_note = f", lot {change.lot_code}" if change.lot_code else ""
    if target < reserved:
        row.error("quantity", f"{_fmt(reserved)} is reserved here; the quantity cannot go below it.")
        row.action = ERROR
        return
    if target == on_hand:
        row.action = UNCHANGED
        row.summary = f"no change ({_fmt(on_hand)} on hand{lot_note})"
    elif on_hand == 0:
        if change.unit_cost is None:
            row.error("unit_cost", "Required: this row receives stock into an empty level, at this cost.")
            row.action = ERROR
            return
        row.action = CREATE
        row.summary = f"receive {_fmt(target)} at {_fmt_money(change.unit_cost)}{lot_note}"
    else:
        row.action = UPDATE
        delta = target - on_hand
        row.summary = (
            f"adjust {_fmt(on_hand)} → {_fmt(target)} ({'+' if delta > 0 else ''}{_fmt(delta)}){lot_note}"
        )
        if change.unit_cost is not None and change.unit_cost != change.product.average_cost:
            row.warnings.append(
                f"unit_cost ignored: adjusting stock keeps the average cost "
                f"({_fmt_money(change.product.average_cost)})."
            )


# --- opening stock: apply -----------------------------------------------------------------------


def apply_opening_stock(plan: ImportPlan, *, user: Any = None) -> ImportResult:
    """Set every level of a valid plan, in one transaction.

    Receive or adjust is decided again here from the current levels, so a plan
    parsed a while ago still sets each level to the file's quantity.
    """
    _require_valid(plan, "stock")
    changes: list[_StockChange] = [row.change for row in plan.rows]
    levels: dict[LevelKey, tuple[Decimal, Decimal]] = {}

    def apply_row(row: RowPlan) -> str:
        change: _StockChange = row.change
        on_hand = levels.get((change.product.pk, change.location.pk, change.lot_code), (ZERO, ZERO))[0]
        if on_hand == change.quantity:
            return UNCHANGED
        lot = None
        if change.lot_code:
            lot = lot_get_or_create(
                product=change.product, code=change.lot_code, expiry_date=change.expiry_date
            )
        if on_hand == 0:
            stock_receive(
                product=change.product,
                location=change.location,
                quantity=change.quantity,
                unit_cost=change.unit_cost,
                lot=lot,
                reason=OPENING_STOCK_REASON,
                user=user,
            )
            return CREATE
        stock_adjust(
            product=change.product,
            location=change.location,
            quantity=change.quantity,
            lot=lot,
            reason=OPENING_STOCK_REASON,
            user=user,
        )
        return UPDATE

    with transaction.atomic():
        levels.update(_levels((c.product.pk for c in changes), (c.location.pk for c in changes)))
        return _apply_rows(plan, apply_row)


# --- one entry point per kind, for the views and the API ----------------------------------------

KINDS: dict[str, tuple[str, Callable[[Source], ImportPlan], Callable[..., ImportResult]]] = {
    "products": ("Products", parse_products, apply_products),
    "stock": ("Opening stock", parse_opening_stock, apply_opening_stock),
}


def parse(kind: str, source: Source) -> ImportPlan:
    if kind not in KINDS:
        raise ValidationFailed(f"Unknown import “{kind}”.", field_errors={"kind": ["Unknown."]})
    return KINDS[kind][1](source)


def apply(plan: ImportPlan, *, user: Any = None) -> ImportResult:
    return KINDS[plan.kind][2](plan, user=user)


# --- export -------------------------------------------------------------------------------------


class _Echo:
    """A file-like object whose write() returns what it was given (for csv.writer in a generator)."""

    def write(self, value: str) -> str:
        return value


def _csv_lines(header: Iterable[str], rows: Iterator[list[str]]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield "\ufeff" + writer.writerow(header)  # the BOM makes spreadsheets read UTF-8
    for row in rows:
        yield writer.writerow(row)


def export_products(products: QuerySet[Product] | None = None) -> Iterator[str]:
    """The products CSV (re-importable as it is), line by line.

    Three queries whatever the number of products: categories, products and
    their own barcodes, the last two streamed in pk order and merged.
    """
    queryset = Product.objects.all() if products is None else products
    return _csv_lines(PRODUCT_COLUMNS, _product_rows(queryset))


def _product_rows(queryset: QuerySet[Product]) -> Iterator[list[str]]:
    paths = category_paths()
    barcodes = iter(
        Barcode.objects.filter(unit__isnull=True, product__in=queryset.values("pk"))
        .order_by("product_id", "code")
        .values_list("product_id", "code")
        .iterator(chunk_size=5000)
    )
    pending = next(barcodes, None)
    products = queryset.select_related("stock_unit").order_by("pk").iterator(chunk_size=2000)
    for product in products:
        codes = []
        while pending is not None and pending[0] <= product.pk:
            if pending[0] == product.pk:
                codes.append(pending[1])
            pending = next(barcodes, None)
        yield [
            product.sku,
            product.name,
            product.description,
            paths.get(product.category_id, "") if product.category_id else "",
            product.kind,
            product.stock_unit.code,
            _fmt_money(product.sale_price),
            product.currency,
            product.tracking,
            BARCODE_SEPARATOR.join(codes),
            _fmt(product.weight) if product.weight is not None else "",
            "yes" if product.is_active else "no",
        ]


def export_levels(levels: QuerySet[StockLevel] | None = None) -> Iterator[str]:
    """Stock levels of bins that hold or reserve something, with the product's average cost.

    One query, streamed. Its ``on_hand`` column imports back as opening stock.
    """
    queryset = StockLevel.objects.all() if levels is None else levels
    queryset = (
        queryset.filter(location__kind=LocationKind.INTERNAL)
        .exclude(on_hand=0, reserved=0)
        .select_related("product", "location", "warehouse", "lot")
        .order_by("product__sku", "location__path", "lot__code")
    )
    return _csv_lines(LEVEL_COLUMNS, _level_rows(queryset))


def _level_rows(queryset: QuerySet[StockLevel]) -> Iterator[list[str]]:
    for level in queryset.iterator(chunk_size=2000):
        yield [
            level.product.sku,
            level.warehouse.code if level.warehouse else "",
            level.location.path,
            level.lot.code if level.lot else "",
            _fmt(level.on_hand),
            _fmt(level.reserved),
            _fmt_money(level.product.average_cost),
        ]
