"""What is below its minimum, and how much to order: from reorder rules and projected quantity.

Draft orders count: a draft purchase or manufacturing order is supply someone has already planned,
so a rule it covers is listed as "covered by draft PO-0012" instead of offering a second order
(issue #21). Drafts are not stock on its way (availability's incoming counts sent and confirmed
orders only); the apps that own them register a provider here, so inventory imports none of them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal

from django.db.models import QuerySet

from erp.money import ZERO
from inventory import availability
from inventory.models import ReorderRule
from inventory.selectors import reorder_rule_list


@dataclass(frozen=True)
class Draft:
    """A draft order that will bring stock: its number, its page, and how much (stock units)."""

    number: str
    url: str
    quantity: Decimal


# (product ids, warehouse id or None for all) -> {(product_id, warehouse_id): [Draft, ...]}
DraftProvider = Callable[[list[int], int | None], dict[tuple[int, int], list[Draft]]]

_drafts: dict[str, DraftProvider] = {}


def register_drafts(name: str, provider: DraftProvider) -> None:
    """Register draft orders that will bring stock (draft purchase orders, draft manufacturing orders)."""
    _drafts[name] = provider


def drafts_by_warehouse(
    product_ids: list[int], warehouse_id: int | None
) -> dict[tuple[int, int], list[Draft]]:
    """Every registered provider's drafts per (product, warehouse): one query per provider."""
    found: dict[tuple[int, int], list[Draft]] = defaultdict(list)
    if not product_ids:
        return found
    for provider in _drafts.values():
        for key, drafts in provider(product_ids, warehouse_id).items():
            found[key].extend(drafts)
    for drafts in found.values():
        drafts.sort(key=lambda d: d.number)
    return found


@dataclass(frozen=True)
class Suggestion:
    rule: ReorderRule
    availability: availability.Availability
    quantity: Decimal  # to order, a multiple of the rule's multiple, after what drafts bring
    drafts: tuple[Draft, ...] = ()  # draft orders already planned for this product and warehouse

    @property
    def projected(self) -> Decimal:
        return self.availability.projected

    @property
    def drafted(self) -> Decimal:
        return sum((d.quantity for d in self.drafts), ZERO)

    @property
    def covered(self) -> bool:
        """The drafts bring it back to its minimum: nothing more to order."""
        return bool(self.drafts) and self.quantity <= 0


def suggested_quantity(rule: ReorderRule, projected: Decimal) -> Decimal:
    """Up to max, rounded up to the multiple; zero when projected is not below min."""
    if projected >= rule.min_quantity:
        return ZERO
    need = rule.max_quantity - projected
    steps = (need / rule.multiple).to_integral_value(rounding=ROUND_CEILING)
    return steps * rule.multiple


def _rules_with_availability(
    rules_read: QuerySet[ReorderRule], warehouse_id: int | None
) -> tuple[list[ReorderRule], dict[tuple[int, int], availability.Availability]]:
    rules = list(rules_read.filter(**({"warehouse_id": warehouse_id} if warehouse_id else {})))
    return rules, availability.by_warehouse(sorted({r.product_id for r in rules}), warehouse_id)


def below_minimum_count(*, warehouse_id: int | None = None) -> int:
    """How many rules ``suggestions()`` lists (drafts included): the homes' figure. Drafts change a
    suggestion's quantity, never whether the rule is listed, so they are not read: the rules and
    their availability only."""
    lean = ReorderRule.objects.order_by().only(
        "product_id", "warehouse_id", "min_quantity", "max_quantity", "multiple"
    )
    rules, flows = _rules_with_availability(lean, warehouse_id)
    empty = availability.Availability()
    return sum(
        1
        for rule in rules
        if suggested_quantity(rule, flows.get((rule.product_id, rule.warehouse_id), empty).projected) > 0
    )


def suggestions(*, warehouse_id: int | None = None, covered: bool = True) -> list[Suggestion]:
    """Every rule whose projected quantity is below its minimum. The quantity is what is still to
    order once the drafts arrive; ``covered=False`` leaves out the rules the drafts already cover.
    Queries: the rules, their availability (``availability.by_warehouse``) and one per draft provider."""
    rules, flows = _rules_with_availability(reorder_rule_list(), warehouse_id)
    drafts = drafts_by_warehouse(sorted({r.product_id for r in rules}), warehouse_id)
    result = []
    for rule in rules:
        avail = flows.get((rule.product_id, rule.warehouse_id), availability.Availability())
        if suggested_quantity(rule, avail.projected) <= 0:
            continue
        planned = tuple(drafts.get((rule.product_id, rule.warehouse_id), ()))
        with_drafts = avail.projected + sum((d.quantity for d in planned), ZERO)
        suggestion = Suggestion(
            rule=rule, availability=avail, quantity=suggested_quantity(rule, with_drafts), drafts=planned
        )
        if covered or not suggestion.covered:
            result.append(suggestion)
    return result
