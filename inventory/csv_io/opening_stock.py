"""Opening stock: reading and validating a file of quantities per product, bin and lot, and setting
them (a receipt into an empty level, an adjustment of a filled one)."""

from __future__ import annotations

import datetime
import functools
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction

from erp.money import ZERO
from inventory.csv_io.cells import (
    CellError,
    format_money,
    format_number,
    parse_cell,
    parse_date,
    parse_decimal,
)
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
from inventory.models import Location, LocationKind, Lot, Product, StockLevel, Tracking, Warehouse
from inventory.services import lot_get_or_create, stock_adjust, stock_receive

STOCK_COLUMNS = ("sku", "warehouse", "location", "quantity", "unit_cost", "lot", "expiry_date")
STOCK_COLUMN_ALIASES = {"on_hand": "quantity"}
OPENING_STOCK_REASON = "opening stock import"


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
                raise CellError(f"Warehouse {warehouse.code} has no active bin to hold stock.")
            return self.default[warehouse.pk]
        path = "/".join(p.strip() for p in text.strip("/").split("/")).lower()
        location = self.by_path.get(path) or self.by_path.get(f"{warehouse.code.lower()}/{path}")
        if location is None:
            named = self.by_name.get((warehouse.pk, path), [])
            if len(named) > 1:
                raise CellError(
                    f"Several bins of {warehouse.code} are named “{text}”: "
                    f"{', '.join(loc.path for loc in named)}; give the path."
                )
            location = named[0] if named else None
        if location is None:
            raise CellError(f"No location “{text}” in warehouse {warehouse.code}.")
        if location.warehouse_id != warehouse.pk:
            raise CellError(f"{location.path} is not in warehouse {warehouse.code}.")
        if location.kind != LocationKind.INTERNAL:
            raise CellError(f"{location.path} is a zone; name one of its bins.")
        if not location.is_active:
            raise CellError(f"{location.path} is archived.")
        return location


def _levels(
    product_ids: Iterable[int], location_ids: Iterable[int]
) -> dict[LevelKey, tuple[Decimal, Decimal]]:
    """(product, location, lot code) -> (on hand, reserved)."""
    location_ids = list(set(location_ids))
    found: dict[LevelKey, tuple[Decimal, Decimal]] = {}
    for chunk in chunks(set(product_ids)):
        rows = StockLevel.objects.filter(product_id__in=chunk, location_id__in=location_ids).values_list(
            "product_id", "location_id", "lot__code", "on_hand", "reserved"
        )
        for product_id, location_id, lot_code, on_hand, reserved in rows:
            found[(product_id, location_id, lot_code or "")] = (on_hand, reserved)
    return found


def parse_opening_stock(source: Source) -> ImportPlan:
    """Read and validate an opening-stock file (CSV or XLSX). Writes nothing."""
    plan = ImportPlan(kind="stock")
    table = read_table(plan, source, aliases=STOCK_COLUMN_ALIASES)
    if plan.file_errors:
        return plan
    check_columns(plan, table, STOCK_COLUMNS, required=["sku", "warehouse", "quantity"])
    if plan.file_errors:
        return plan
    comma_decimal = table.comma_decimal

    products = products_by_sku(cells.get("sku", "") for _, cells in table.rows if cells.get("sku"))
    codes = {cells.get("warehouse", "").upper() for _, cells in table.rows}
    warehouses = {w.code.upper(): w for w in Warehouse.objects.filter(code__in=codes)}
    locations = _Locations(warehouses.values())
    lots: dict[tuple[int, str], Lot] = {}
    for chunk in chunks(p.pk for p in products.values() if p.tracking != Tracking.NONE):
        for lot in Lot.objects.filter(product_id__in=chunk):
            lots[(lot.product_id, lot.code)] = lot

    pending: list[tuple[RowPlan, _StockChange]] = []
    seen: dict[LevelKey, int] = {}
    for number, cells in table.rows:
        row = RowPlan(number=number, cells=cells)
        plan.rows.append(row)
        if EXTRA in cells:
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
            location = parse_cell(row, "location", functools.partial(locations.resolve, warehouse))
        quantity = None
        if not cells.get("quantity"):
            row.error("quantity", "A quantity is required.")
        else:
            quantity = parse_cell(row, "quantity", lambda t: parse_decimal(t, comma_decimal=comma_decimal))
        if quantity is not None and quantity < 0:
            row.error("quantity", "Cannot be negative.")
        unit_cost = None
        if cells.get("unit_cost"):
            unit_cost = parse_cell(row, "unit_cost", lambda t: parse_decimal(t, comma_decimal=comma_decimal))
            if unit_cost is not None and unit_cost < 0:
                row.error("unit_cost", "Cannot be negative.")
        lot_code = cells.get("lot", "")
        expiry = parse_cell(row, "expiry_date", parse_date) if cells.get("expiry_date") else None
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


def _describe_stock_row(row: RowPlan, change: _StockChange, on_hand: Decimal, reserved: Decimal) -> None:
    target = change.quantity
    row.change = change
    lot_note = f", lot {change.lot_code}" if change.lot_code else ""
    if target < reserved:
        row.error("quantity", f"{format_number(reserved)} is reserved here; the quantity cannot go below it.")
        row.action = ERROR
        return
    if target == on_hand:
        row.action = UNCHANGED
        row.summary = f"no change ({format_number(on_hand)} on hand{lot_note})"
    elif on_hand == 0:
        if change.unit_cost is None:
            row.error("unit_cost", "Required: this row receives stock into an empty level, at this cost.")
            row.action = ERROR
            return
        row.action = CREATE
        row.summary = f"receive {format_number(target)} at {format_money(change.unit_cost)}{lot_note}"
    else:
        row.action = UPDATE
        delta = target - on_hand
        sign = "+" if delta > 0 else ""
        row.summary = (
            f"adjust {format_number(on_hand)} → {format_number(target)} "
            f"({sign}{format_number(delta)}){lot_note}"
        )
        if change.unit_cost is not None and change.unit_cost != change.product.average_cost:
            row.warnings.append(
                f"unit_cost ignored: adjusting stock keeps the average cost "
                f"({format_money(change.product.average_cost)})."
            )


def apply_opening_stock(plan: ImportPlan, *, user: Any = None, progress: Any = None) -> ImportResult:
    """Set every level of a valid plan, in one transaction.

    Receive or adjust is decided again here from the current levels, so a plan
    parsed a while ago still sets each level to the file's quantity.
    """
    require_valid(plan, "stock")
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
        return apply_rows(plan, apply_row, progress)
