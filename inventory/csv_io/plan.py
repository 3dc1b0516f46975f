"""The plan of an import (what each row will do, or why it cannot), its result, and what both kinds
share: the look-ups by SKU and applying the rows all or nothing."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.db import DataError, IntegrityError, transaction
from django.db.models.functions import Lower

from erp.exceptions import DomainError, ValidationFailed
from inventory.models import Product

if TYPE_CHECKING:
    from erp.jobs import Progress

CREATE, UPDATE, UNCHANGED, ERROR = "create", "update", "unchanged", "error"
LOOKUP_CHUNK = 500  # ids per IN (...) in the look-ups, well under SQLite's parameter limit


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


def chunks(values: Iterable[Any]) -> Iterator[list[Any]]:
    values = list(values)
    for i in range(0, len(values), LOOKUP_CHUNK):
        yield values[i : i + LOOKUP_CHUNK]


def products_by_sku(skus: Iterable[str]) -> dict[str, Product]:
    found: dict[str, Product] = {}
    for chunk in chunks({s.lower() for s in skus}):
        for product in (
            Product.objects.annotate(sku_lower=Lower("sku"))
            .filter(sku_lower__in=chunk)
            .select_related("stock_unit")
        ):
            found[product.sku.lower()] = product
    return found


def require_valid(plan: ImportPlan, kind: str) -> None:
    if plan.kind != kind:
        raise ValidationFailed(f"This is a plan for {plan.kind}, not {kind}.")
    if not plan.is_valid:
        first = (plan.file_errors or [f"Row {r.number}: {r.messages[0]}" for r in plan.error_rows] or ["-"])[
            0
        ]
        raise ImportInvalid(
            f"The file has errors; nothing was imported. {first}", field_errors=plan.field_errors()
        )


def apply_rows(
    plan: ImportPlan, apply_row: Callable[[RowPlan], str], progress: Progress | None = None
) -> ImportResult:
    """Every row or none; ``progress`` (a background job's) is told of each row applied."""
    done = {CREATE: 0, UPDATE: 0, UNCHANGED: 0}
    if progress is not None:
        progress.total(len(plan.rows))
    with transaction.atomic():
        for row in plan.rows:
            if progress is not None:
                progress.step(f"Row {row.number}: {row.cells.get('sku', '')} ({row.summary or row.action})")
            try:
                done[apply_row(row)] += 1
            except DomainError as exc:
                raise ImportFailed(
                    row=row.number, message=exc.message, field_errors=exc.field_errors
                ) from exc
            except (IntegrityError, DataError) as exc:
                raise ImportFailed(row=row.number, message=f"The database refused it ({exc}).") from exc
            if progress is not None:
                progress.advance()
    return ImportResult(plan.kind, created=done[CREATE], updated=done[UPDATE], unchanged=done[UNCHANGED])
