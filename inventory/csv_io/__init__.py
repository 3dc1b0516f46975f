"""Import of products and of opening stock from CSV files and Excel workbooks, and CSV export: the
service the UI (and later the API) calls.

Import is two steps, so that people see what will happen before anything does::

    plan = parse_products(upload)          # read and validate every row; writes nothing
    if plan.is_valid:
        apply_products(plan, user=user)    # one transaction: every row or none

``parse_*`` reads the file through tablib (``reading``: a CSV file in UTF-8 with or without a BOM,
``,`` or ``;`` separated, sniffed from the header line; or an .xlsx workbook), validates every row
against the database with a constant number of queries, and returns an :class:`ImportPlan`: per
row, what will happen (create / update / unchanged) or the errors by column. ``apply_*`` refuses a
plan with errors, then runs every row through the inventory services inside ONE
``transaction.atomic()``; if a service refuses a row, everything is rolled back and
:class:`ImportFailed` names the row.

Products (``products``; columns in :data:`PRODUCT_COLUMNS`, only ``sku`` is required):

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

Opening stock (``opening_stock``; columns in :data:`STOCK_COLUMNS`; ``on_hand`` is read as
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

Exports (``export``) are generators of CSV text for ``StreamingHttpResponse``: they iterate
querysets with ``.iterator()`` at a constant number of queries, whatever the size of the catalog.

The other modules: ``plan`` (the plan, the result, applying all or nothing), ``cells`` (numbers,
yes/no and dates as people type them).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from erp.exceptions import ValidationFailed
from inventory.csv_io.cells import MAX_PLACES
from inventory.csv_io.export import LEVEL_COLUMNS, export_levels, export_products
from inventory.csv_io.opening_stock import (
    OPENING_STOCK_REASON,
    STOCK_COLUMN_ALIASES,
    STOCK_COLUMNS,
    apply_opening_stock,
    parse_opening_stock,
)
from inventory.csv_io.plan import (
    CREATE,
    ERROR,
    UNCHANGED,
    UPDATE,
    ImportFailed,
    ImportInvalid,
    ImportPlan,
    ImportResult,
    RowPlan,
)
from inventory.csv_io.products import (
    BARCODE_SEPARATOR,
    CATEGORY_SEPARATOR,
    PRODUCT_COLUMNS,
    apply_products,
    category_get_or_create,
    category_paths,
    parse_products,
)
from inventory.csv_io.reading import MAX_ROWS, Source, decode, is_xlsx, read_upload, sniff_delimiter

KINDS: dict[str, tuple[str, Callable[[Source], ImportPlan], Callable[..., ImportResult]]] = {
    "products": ("Products", parse_products, apply_products),
    "stock": ("Opening stock", parse_opening_stock, apply_opening_stock),
}


def parse(kind: str, source: Source) -> ImportPlan:
    """One entry point per kind, for the views and the API: ``kind`` is a key of :data:`KINDS`."""
    if kind not in KINDS:
        raise ValidationFailed(f"Unknown import “{kind}”.", field_errors={"kind": ["Unknown."]})
    return KINDS[kind][1](source)


def apply(plan: ImportPlan, *, user: Any = None, progress: Any = None) -> ImportResult:
    """``progress``: a background job's (erp.jobs.Progress), told of each row applied."""
    return KINDS[plan.kind][2](plan, user=user, progress=progress)


__all__ = [
    "BARCODE_SEPARATOR",
    "CATEGORY_SEPARATOR",
    "CREATE",
    "ERROR",
    "KINDS",
    "LEVEL_COLUMNS",
    "MAX_PLACES",
    "MAX_ROWS",
    "OPENING_STOCK_REASON",
    "PRODUCT_COLUMNS",
    "STOCK_COLUMNS",
    "STOCK_COLUMN_ALIASES",
    "UNCHANGED",
    "UPDATE",
    "ImportFailed",
    "ImportInvalid",
    "ImportPlan",
    "ImportResult",
    "RowPlan",
    "Source",
    "ValidationFailed",
    "apply",
    "apply_opening_stock",
    "apply_products",
    "category_get_or_create",
    "category_paths",
    "decode",
    "export_levels",
    "export_products",
    "is_xlsx",
    "parse",
    "parse_opening_stock",
    "parse_products",
    "read_upload",
    "sniff_delimiter",
]
