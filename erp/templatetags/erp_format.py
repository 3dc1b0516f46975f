"""The template side of erp.formatting, loaded on every page (a builtin, see settings.TEMPLATES), so
no template formats a number by hand:

* ``{{ amount|money:currency }}``; in the base currency (settings.ERP_BASE_CURRENCY)
  ``{{ cost|base_money }}``, and ``{{ value|base_total }}`` for a total rounded to its minor unit;
* ``{{ qty|quantity:unit }}``, ``{{ pairs|quantities_by_unit }}`` (never kg added to pcs);
* ``{{ value|number }}`` and ``{{ pct|percent }}``;
* ``{{ value|plain }}`` in an input's value, which a parser reads back.

A blank value (None, "") shows as nothing; a value that is not a number shows as it is, rather
than failing the page.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import InvalidOperation
from functools import wraps
from typing import Any

from django import template
from django.conf import settings

from erp import formatting

register = template.Library()


def _blank(value: Any) -> bool:
    return value is None or value == ""


def _numeric(write: Callable[..., str]) -> Callable[..., str]:
    """The filter writes nothing for a blank value and the value as it is when it is not a number."""

    @wraps(write)
    def wrapper(value: Any, *args: Any) -> str:
        if _blank(value):
            return ""
        try:
            return write(value, *args)
        except (ValueError, TypeError, ArithmeticError, InvalidOperation):
            return str(value)

    return wrapper


@register.filter
@_numeric
def money(value: Any, currency: str) -> str:
    return formatting.money(value, str(currency or ""))


@register.filter
@_numeric
def base_money(value: Any) -> str:
    """An amount in the base currency: an average cost, a rate per hour (``$0.1235``)."""
    return formatting.money(value, settings.ERP_BASE_CURRENCY)


@register.filter
@_numeric
def base_total(value: Any) -> str:
    """A total in the base currency, to its minor unit: a stock value, a cost so far (``$1,234.57``)."""
    return formatting.money(value, settings.ERP_BASE_CURRENCY, total=True)


@register.filter
@_numeric
def quantity(value: Any, unit: str = "") -> str:
    return formatting.quantity(value, str(unit or ""))


@register.filter
def quantities_by_unit(pairs: Any) -> str:
    """``(quantity, unit)`` pairs as one total per unit: ``12 pcs + 2.5 kg`` (``0`` when empty)."""
    return formatting.quantities_by_unit(pairs or ())


@register.filter
@_numeric
def number(value: Any) -> str:
    return formatting.number(value)


@register.filter
@_numeric
def plain(value: Any) -> str:
    """A number to edit in an input (read back by a parser): no grouping, no exponent, ``12.5``."""
    return formatting.plain(value)


@register.filter
@_numeric
def percent(value: Any) -> str:
    """A percentage given in percent: ``{{ line.discount_percent|percent }}`` -> ``12.5%``. (The
    hub's own ``percent``, loaded with ``{% load integrations %}``, takes a fraction.)"""
    return formatting.percent(value)
