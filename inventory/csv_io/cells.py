"""Cells: reading numbers, yes/no and dates as people type them (a CellError names the problem),
and writing numbers and money the way the import reads them back."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

from erp import formatting
from erp.money import currency_places
from inventory.csv_io.plan import RowPlan

MAX_PLACES = 4  # quantities and money are stored with 4 decimal places
TRUE_WORDS = frozenset({"true", "yes", "y", "1", "active"})
FALSE_WORDS = frozenset({"false", "no", "n", "0", "inactive", "archived"})


class CellError(Exception):
    """A spreadsheet cell that cannot be read as its column's type (the message says why)."""


def parse_decimal(text: str, *, comma_decimal: bool, what: str = "a number") -> Decimal:
    value = text.strip().replace("\u00a0", "").replace(" ", "")
    if comma_decimal and "," in value and "." not in value:
        value = value.replace(",", ".")
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise CellError(f"“{text}” is not {what}.") from None
    if not number.is_finite():
        raise CellError(f"“{text}” is not {what}.")
    exponent = number.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -MAX_PLACES:
        raise CellError(f"“{text}” has more than {MAX_PLACES} decimal places.")
    return number


def parse_boolean(text: str) -> bool:
    word = text.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise CellError(f"“{text}” is not yes/no (true/false, 1/0).")


def parse_date(text: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(text.strip())
    except ValueError:
        raise CellError(f"“{text}” is not a date like 2025-12-31.") from None


def parse_cell(row: RowPlan, column: str, parse: Callable[[str], Any]) -> Any:
    """Parse a cell, recording the error against the column; None when it fails."""
    try:
        return parse(row.cells.get(column, ""))
    except CellError as exc:
        row.error(column, str(exc))
        return None


def format_number(value: Decimal) -> str:
    """``12.5000`` -> ``12.5``, ``5.15E+3`` -> ``5150``: no grouping, no exponent, no trailing zeros."""
    return formatting.plain(value)


def format_money(value: Decimal, currency: str | None = None) -> str:
    """An amount to the currency's minor unit (two decimals when none is given), more digits only
    where it carries them: ``12.50``, ``0.1234``, ``1200`` (JPY). No grouping, no symbol."""
    return formatting.plain(value, currency_places(currency) if currency else 2)
