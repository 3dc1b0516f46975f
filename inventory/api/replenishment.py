"""Reorder rules and the replenishment suggestions made from them."""

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Query
from ninja.pagination import PageNumberPagination, paginate

from erp.api_helpers import Listing, filtered, get_or_404, user_of
from inventory import replenishment, selectors, services
from inventory.api.common import PAGE_SIZE, product_by_id, router, warehouse_by_id, warehouse_filter
from inventory.filters import ReorderRuleFilter
from inventory.models import ReorderRule
from inventory.schemas.rules import (
    REORDER_RULE_ORDERING,
    ReorderRuleFilterIn,
    ReorderRuleIn,
    ReorderRuleOut,
    ReplenishmentSuggestionOut,
)

REORDER_RULES = Listing(ordering=REORDER_RULE_ORDERING)


@router.get("/reorder-rules", response=list[ReorderRuleOut])
@paginate(PageNumberPagination, page_size=PAGE_SIZE)
def reorder_rule_list(request: HttpRequest, filters: Query[ReorderRuleFilterIn]) -> QuerySet[ReorderRule]:
    return filtered(ReorderRuleFilter, filters, selectors.reorder_rule_list(), listing=REORDER_RULES)


@router.post("/reorder-rules", response=ReorderRuleOut)
def reorder_rule_set(request: HttpRequest, payload: ReorderRuleIn) -> ReorderRule:
    """Create or change the rule of (product, warehouse): keep between min and max, order in multiples."""
    rule = services.reorder_rule_set(
        product=product_by_id(payload.product),
        warehouse=warehouse_by_id(payload.warehouse),
        min_quantity=payload.min_quantity,
        max_quantity=payload.max_quantity,
        multiple=payload.multiple,
        user=user_of(request),
    )
    return selectors.reorder_rule_list().get(pk=rule.pk)


@router.delete("/reorder-rules/{rule_id}", response={204: None})
def reorder_rule_delete(request: HttpRequest, rule_id: int) -> None:
    services.reorder_rule_delete(rule=get_or_404(ReorderRule, rule_id, "reorder rule"))


@router.get("/replenishment", response=list[ReplenishmentSuggestionOut])
@paginate(PageNumberPagination, page_size=PAGE_SIZE)
def replenishment_suggestions(
    request: HttpRequest, warehouse: int | None = None
) -> list[replenishment.Suggestion]:
    """Rules whose projected quantity (on hand + incoming - reserved - outgoing) is below the
    minimum, with the quantity to order: up to the maximum, rounded up to the multiple."""
    return replenishment.suggestions(warehouse_id=warehouse_filter(warehouse))
