"""Products: categories by path, reading and validating a products file, and applying it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db import transaction

from erp.exceptions import ValidationFailed
from erp.money import currency_problem
from inventory.csv_io.cells import parse_boolean, parse_cell, parse_decimal
from inventory.csv_io.plan import (
    CREATE,
    ERROR,
    UNCHANGED,
    UPDATE,
    ImportPlan,
    ImportResult,
    RowPlan,
    apply_rows,
    chunks,
    products_by_sku,
    require_valid,
)
from inventory.csv_io.reading import EXTRA, Source, check_columns, read_table
from inventory.models import Barcode, Category, Product, ProductKind, StockMove, Tracking, UnitOfMeasure
from inventory.services import product_archive, product_create, product_update

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
BARCODE_SEPARATOR = "|"
CATEGORY_SEPARATOR = "/"


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


@dataclass
class _ProductChange:
    product: Product | None  # None: create
    fields: dict[str, Any]  # for product_create / product_update; "category" is a path here
    barcodes: list[str] | None = None  # None: leave them
    active: bool | None = None  # None: leave it
    changed: list[str] = field(default_factory=list)
    new_category: str = ""  # a category path that apply will create


def parse_products(source: Source) -> ImportPlan:
    """Read and validate a products file (CSV or XLSX). Writes nothing."""
    plan = ImportPlan(kind="products")
    table = read_table(plan, source)
    if plan.file_errors:
        return plan
    check_columns(plan, table, PRODUCT_COLUMNS, required=["sku"])
    if plan.file_errors:
        return plan
    columns = set(plan.columns)
    comma_decimal = table.comma_decimal

    # Look-ups: a constant number of queries (per 500 rows) whatever the file's length.
    skus = [cells.get("sku", "") for _, cells in table.rows if cells.get("sku")]
    existing = products_by_sku(skus)
    units = {u.code.lower(): u for u in UnitOfMeasure.objects.all()}
    categories = _Categories()
    with_moves: set[int] = set()
    own_barcodes: dict[int, set[str]] = {}
    box_barcodes: dict[int, set[str]] = {}
    for chunk in chunks(p.pk for p in existing.values()):
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
    for chunk in chunks(listed_codes):
        barcode_owner.update(Barcode.objects.filter(code__in=chunk).values_list("code", "product__sku"))

    seen_skus: dict[str, int] = {}
    seen_codes: dict[str, int] = {}
    for number, cells in table.rows:
        row = RowPlan(number=number, cells=cells)
        plan.rows.append(row)
        if EXTRA in cells:
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
            price = parse_cell(row, "sale_price", lambda t: parse_decimal(t, comma_decimal=comma_decimal))
            if price is not None and price < 0:
                row.error("sale_price", "Cannot be negative.")
            values["sale_price"] = price
        if "currency" in columns and cells["currency"]:
            currency = cells["currency"].upper()
            if problem := currency_problem(currency):
                row.error("currency", problem)
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
                weight = parse_cell(row, "weight", lambda t: parse_decimal(t, comma_decimal=comma_decimal))
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
            active = parse_cell(row, "active", parse_boolean)

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


def apply_products(plan: ImportPlan, *, user: Any = None, progress: Any = None) -> ImportResult:
    """Create and update the products of a valid plan, all in one transaction."""
    require_valid(plan, "products")
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

    return apply_rows(plan, apply_row, progress)
