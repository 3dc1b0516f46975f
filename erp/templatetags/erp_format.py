"""The template side of erp.formatting: ``{{ amount|money:currency }}``, ``{{ qty|quantity:unit }}``,
and ``{{ value|number }}``. Loaded on every page (a builtin, see
settings.TEMPLATES), so no template formats a number by hand."""

from __future__ import annotations

from typing import Any

from django import template

from erp import formatting

register = template.Library()


def _blank(value: Any) -> bool:
    return value is None or value == ""


@register.filter
def money(value: Any, currency: str) -> str:
    return "" if _blank(value) else formatting.money(value, str(currency))


@register.filter
def quantity(value: Any, unit: str = "") -> str:
    return "" if _blank(value) else formatting.quantity(value, str(unit or ""))


@register.filter
def number(value: Any) -> str:
    return "" if _blank(value) else formatting.number(value)
