"""What is below its minimum, and how much to order: from reorder rules and projected quantity."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal

from erp.money import ZERO
from inventory import availability
from inventory.models import ReorderRule
from inventory.selectors import reorder_rule_list


@dataclass(frozen=True)
class Suggestion:
    rule: ReorderRule
    availability: availability.Availability
    quantity: Decimal  # to order, a multiple of the rule's multiple

    @property
    def projected(self) -> Decimal:
        return self.availability.projected


def suggested_quantity(rule: ReorderRule, projected: Decimal) -> Decimal:
    """Up to max, rounded up to the multiple; zero when projected is not below min."""
    if projected >= rule.min_quantity:
        return ZERO
    need = rule.max_quantity - projected
    steps = (need / rule.multiple).to_integral_value(rounding=ROUND_CEILING)
    return steps * rule.multiple


def suggestions(*, warehouse_id: int | None = None) -> list[Suggestion]:
    """Every rule whose projected quantity is below its minimum. Queries: 2 + one per provider."""
    rules = list(reorder_rule_list().filter(**({"warehouse_id": warehouse_id} if warehouse_id else {})))
    flows = availability.by_warehouse({r.product_id for r in rules}, warehouse_id)
    result = []
    for rule in rules:
        avail = flows.get((rule.product_id, rule.warehouse_id), availability.Availability())
        quantity = suggested_quantity(rule, avail.projected)
        if quantity > 0:
            result.append(Suggestion(rule=rule, availability=avail, quantity=quantity))
    return result
