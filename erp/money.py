"""Money and quantities: Decimal throughout, one precision and one rounding rule.

The rules, decided once for every app:

* Quantities are stored with 4 decimal places (``QuantityField``: max 14 digits
  before the point) and rounded half up to 0.0001. Units that need fractions
  (kg, m) get them; counted units simply carry ``.0000``.
* Money is stored with 4 decimal places (``MoneyField``) so unit prices and
  costs keep sub-cent precision. Amounts a customer or supplier sees (line
  totals, tax, document totals) are rounded half up to the currency's minor
  unit (2 for EUR and USD, 0 for JPY, 3 for KWD) per line, and totals are sums
  of rounded lines.
* Currencies are ISO 4217 codes, validated against Babel's CLDR data.
* Floats are refused at the edge: ``to_decimal(0.1)`` raises.
* A number that cannot be stored (a quantity of 1e30, an amount of 1.93e245, NaN or
  Infinity) is refused with ``NumberOutOfRange``, a 422 naming the limit: quantities hold
  at most 14 digits before the point, amounts 15. Nothing reaches ``Decimal.quantize`` that
  would overflow it.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import cache
from typing import Any

from babel.numbers import format_currency, get_currency_precision, list_currencies
from django.core.exceptions import ValidationError
from django.db import models

from erp.exceptions import ValidationFailed

ROUNDING = ROUND_HALF_UP
QUANTITY_PLACES = 4
MONEY_PLACES = 4
QUANTITY_STEP = Decimal(1).scaleb(-QUANTITY_PLACES)
MONEY_STEP = Decimal(1).scaleb(-MONEY_PLACES)
ZERO = Decimal("0")
QUANTITY_DIGITS = 18  # QuantityField.max_digits
MONEY_DIGITS = 19  # MoneyField.max_digits
QUANTITY_LIMIT = Decimal(10) ** (QUANTITY_DIGITS - QUANTITY_PLACES)  # 10^14: not reached
MONEY_LIMIT = Decimal(10) ** (MONEY_DIGITS - MONEY_PLACES)  # 10^15: not reached


class NumberOutOfRange(ValidationFailed):
    """A number too large to be stored, or not a finite number at all."""

    def __init__(self, what: str, limit: Decimal, *, field: str | None = None) -> None:
        digits = len(str(int(limit))) - 1
        message = (
            f"{what.capitalize()} must be a finite number with at most {digits} digits before the point."
        )
        super().__init__(message, field_errors={field: [message]} if field else None)


def _bounded(value: Decimal, limit: Decimal, what: str) -> Decimal:
    if not value.is_finite() or abs(value) >= limit:
        raise NumberOutOfRange(what, limit)
    return value


def to_decimal(value: Any) -> Decimal:
    """Convert str/int/Decimal to Decimal; refuse floats (they cannot hold 0.1)."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, (bool, float)):
        raise TypeError(f"Refusing {type(value).__name__} {value!r}: pass a str or Decimal")
    try:
        return Decimal(str(value).strip()) if isinstance(value, str) else Decimal(value)
    except (InvalidOperation, TypeError) as exc:
        raise ValueError(f"Not a number: {value!r}") from exc


def quantize_quantity(value: Any) -> Decimal:
    """Round to the stored quantity precision; NumberOutOfRange when it cannot be stored."""
    number = _bounded(to_decimal(value), QUANTITY_LIMIT, "a quantity")
    return number.quantize(QUANTITY_STEP, rounding=ROUNDING)


def quantize_money(value: Any) -> Decimal:
    """Round to the stored money precision (unit prices, costs); NumberOutOfRange when it
    cannot be stored."""
    number = _bounded(to_decimal(value), MONEY_LIMIT, "an amount")
    return number.quantize(MONEY_STEP, rounding=ROUNDING)


@cache
def currency_places(currency: str) -> int:
    return int(get_currency_precision(currency))


def round_money(value: Any, currency: str) -> Decimal:
    """Round an amount to the currency's minor unit, half up (line totals, tax, totals)."""
    places = currency_places(currency)
    number = _bounded(to_decimal(value), MONEY_LIMIT, "an amount")
    return number.quantize(Decimal(1).scaleb(-places), rounding=ROUNDING)


@cache
def iso_currencies() -> frozenset[str]:
    return frozenset(code for code in list_currencies() if len(code) == 3 and code.isupper())


CURRENCY_MESSAGE = "'%(code)s' is not an ISO 4217 currency code."


def currency_problem(code: object) -> str | None:
    """What is wrong with ``code`` as a currency (the one message every form and API says), or None."""
    if isinstance(code, str) and code in iso_currencies():
        return None
    return CURRENCY_MESSAGE % {"code": code}


def validate_currency(code: str) -> None:
    """The model field validator (CurrencyField)."""
    if currency_problem(code) is not None:
        raise ValidationError(CURRENCY_MESSAGE, code="currency", params={"code": code})


def format_money(value: Decimal, currency: str, locale: str = "en_US") -> str:
    return str(format_currency(value, currency, locale=locale))


class QuantityField(models.DecimalField):
    """A quantity: 18 digits, 4 of them after the point."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max_digits", 18)
        kwargs.setdefault("decimal_places", QUANTITY_PLACES)
        super().__init__(*args, **kwargs)


class MoneyField(models.DecimalField):
    """An amount of money: 19 digits, 4 of them after the point."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max_digits", 19)
        kwargs.setdefault("decimal_places", MONEY_PLACES)
        super().__init__(*args, **kwargs)


class CurrencyField(models.CharField):
    """An ISO 4217 currency code."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 3)
        kwargs.setdefault("validators", [validate_currency])
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> Any:
        name, path, args, kwargs = super().deconstruct()
        kwargs.pop("validators", None)
        return name, path, args, kwargs
