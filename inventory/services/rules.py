"""Reorder rules: keep a product between min and max in a warehouse."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import transaction

from erp import formatting
from erp.exceptions import ValidationFailed
from erp.money import quantize_quantity
from inventory.models import Product, ReorderRule, Warehouse


@transaction.atomic
def reorder_rule_set(
    *,
    product: Product,
    warehouse: Warehouse,
    min_quantity: Decimal | str | int,
    max_quantity: Decimal | str | int,
    multiple: Decimal | str | int = 1,
    user: Any = None,
) -> ReorderRule:
    """Create or change the rule of (product, warehouse)."""
    low, high, step = (
        quantize_quantity(min_quantity),
        quantize_quantity(max_quantity),
        quantize_quantity(multiple),
    )
    errors: dict[str, list[str]] = {}
    if low < 0:
        errors["min_quantity"] = ["Cannot be negative."]
    if high < low:
        errors["max_quantity"] = [f"Must be at least the minimum ({formatting.number(low)})."]
    if step <= 0:
        errors["multiple"] = ["Must be positive."]
    if not product.is_stocked:
        errors["product"] = [f"{product.sku} is a service; it is not replenished."]
    if errors:
        raise ValidationFailed(next(iter(errors.values()))[0], field_errors=errors)
    actor = user if getattr(user, "is_authenticated", False) else None
    rule, created = ReorderRule.objects.update_or_create(
        product=product,
        warehouse=warehouse,
        defaults={"min_quantity": low, "max_quantity": high, "multiple": step, "updated_by": actor},
    )
    if created:
        rule.created_by = actor
        rule.save(update_fields=["created_by"])
    return rule


@transaction.atomic
def reorder_rule_delete(*, rule: ReorderRule) -> None:
    rule.delete()
