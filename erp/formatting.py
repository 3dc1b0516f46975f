"""Numbers as people read them: one formatter for every quantity and amount shown to a person.

Pages (through the ``erp_format`` template filters), toasts, confirmations, error messages,
search results, CSV exports and printed documents all write numbers through here:

* **Amounts** carry their currency: its symbol where it is unambiguous in the display locale
  (``$1,234.50``, ``€10,016.34``), its code otherwise (``KWD 1.250``); the currency's minor
  unit (2 for USD, 0 for JPY, 3 for KWD), more digits only where a unit price carries them
  (``$0.1234``); grouping; a minus sign in front; never an exponent.
* **Quantities** carry their unit (``12 pcs``, ``2.5 kg``): as many decimals as they have (at
  most the 4 stored), grouping, never an exponent. Quantities of different units are never
  added up: ``quantities_by_unit`` says ``12 pcs + 2.5 kg``.
* **Plain numbers** (percentages, factors) the same way, without a unit.
* **Numbers in files** a program reads back (CSV exports): ``plain``, without grouping or
  symbol, but never an exponent and no trailing zeros beyond the minor unit.

The API does not use this: it writes machine-readable decimal strings (erp.api_helpers).
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal, localcontext
from typing import Any

from babel.numbers import format_decimal

from erp.money import MONEY_PLACES, QUANTITY_PLACES, currency_places, to_decimal

LOCALE = "en_US"
# Symbols that name one currency only; any other currency is shown by its ISO code.
_UNAMBIGUOUS_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "INR": "₹", "KRW": "₩"}


def _decimal(value: Any) -> Decimal:
    if isinstance(value, Decimal):
        return value
    return to_decimal(str(value) if isinstance(value, float) else value)


def _grouped(value: Decimal, digits: int) -> str:
    """``value`` with ``digits`` decimals and thousands grouping, whatever its size (no exponent)."""
    pattern = "#,##0" + ("." + "0" * digits if digits else "")
    with localcontext() as context:
        context.prec = max(context.prec, len(value.as_tuple().digits) + digits + 30)
        return str(format_decimal(value, format=pattern, locale=LOCALE, decimal_quantization=True))


def _rounded(value: Decimal, maximum: int) -> Decimal:
    """``value`` rounded half up to ``maximum`` decimals (a rounded zero has no sign)."""
    with localcontext() as context:
        context.prec = max(context.prec, len(value.as_tuple().digits) + maximum + 30)
        rounded = value.quantize(Decimal(1).scaleb(-maximum), rounding=ROUND_HALF_UP)
    return rounded if rounded else Decimal(0)


def _places(value: Decimal, minimum: int, maximum: int) -> int:
    """How many decimals ``value`` (already rounded to ``maximum``) needs: at least ``minimum``."""
    exponent = value.normalize().as_tuple().exponent if value else 0
    needed = -exponent if isinstance(exponent, int) and exponent < 0 else 0
    return max(minimum, min(needed, maximum))


def number(value: Any, *, places: int | None = None, max_places: int = QUANTITY_PLACES) -> str:
    """``1234.5`` -> ``1,234.5``; ``Decimal("5.15E+3")`` -> ``5,150``; never an exponent."""
    amount = _rounded(_decimal(value), places if places is not None else max_places)
    digits = places if places is not None else _places(amount, 0, max_places)
    return _grouped(amount, digits)


def quantity(value: Any, unit: str = "") -> str:
    """``quantity(Decimal("12.0000"), "pcs")`` -> ``12 pcs``; ``49539.5956`` -> ``49,539.5956``."""
    text = number(value)
    return f"{text} {unit}" if unit else text


def quantities_by_unit(pairs: Iterable[tuple[Any, str]]) -> str:
    """A total that never adds kilograms to pieces: ``12 pcs + 2.5 kg`` (``0`` when empty)."""
    totals: dict[str, Decimal] = {}
    for value, unit in pairs:
        totals[unit] = totals.get(unit, Decimal(0)) + _decimal(value)
    if not totals:
        return "0"
    return " + ".join(quantity(total, unit) for unit, total in totals.items())


def money(value: Any, currency: str, *, total: bool = False) -> str:
    """``money(Decimal("10016.3400"), "EUR")`` -> ``€10,016.34``; ``money(1200, "JPY")`` -> ``¥1,200``;
    ``money("1.25", "KWD")`` -> ``KWD 1.250``; a unit price keeps the digits it carries beyond the
    minor unit (``$0.1234``). ``total=True``: a total (a stock value, a cost so far), rounded half up
    to the minor unit (``$1,234.57``, not ``$1,234.5678``)."""
    minor = min(currency_places(currency), MONEY_PLACES)
    amount = _rounded(_decimal(value), minor if total else MONEY_PLACES)
    text = _grouped(abs(amount), _places(amount, minor, MONEY_PLACES))
    sign = "-" if amount < 0 else ""
    symbol = _UNAMBIGUOUS_SYMBOLS.get(currency)
    if symbol or not currency:  # no currency (yet): the number alone, to its minor unit
        return f"{sign}{symbol or ''}{text}"
    return f"{sign}{currency} {text}"


def percent(value: Any) -> str:
    """A percentage given in percent: ``5`` -> ``5%``, ``12.50`` -> ``12.5%``."""
    return f"{number(value, max_places=2)}%"


def plain(value: Any, places: int | None = None) -> str:
    """A number for a file a program reads back (CSV exports): no grouping, no symbol, never an
    exponent, no trailing zeros beyond ``places`` (at least that many decimals: an amount's minor
    unit), the digits the value carries up to the 4 stored. ``plain(Decimal("5.15E+3"))`` ->
    ``5150``, ``plain(Decimal("12.5000"), 2)`` -> ``12.50``, ``plain(Decimal("0.1234"), 2)`` ->
    ``0.1234``, ``plain(Decimal("-0.0000"))`` -> ``0``."""
    amount = _rounded(_decimal(value), max(QUANTITY_PLACES, places or 0))
    digits = _places(amount, places or 0, max(QUANTITY_PLACES, places or 0))
    with localcontext() as context:
        context.prec = max(context.prec, len(amount.as_tuple().digits) + digits + 30)
        return f"{amount.quantize(Decimal(1).scaleb(-digits)):f}"
