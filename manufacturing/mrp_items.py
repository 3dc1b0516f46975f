"""Reading an MRP run: one row per item (a product in a warehouse), its suggestions and the demands
they cover inside (issue #21: an item whose demand came five times showed in five rows).

The run itself is manufacturing/mrp.py; it records with each suggestion the shortfall it answers
(``net``) and the item's whole demand in the horizon (``item_demand``), which this module sums.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.paginator import Paginator

from erp.money import ZERO
from inventory import availability, replenishment
from inventory.models import Product, ReorderRule, Warehouse
from manufacturing.models import MrpSuggestion
from procurement.models import SupplierItem

Key = tuple[int, int]  # (product, warehouse)


@dataclass
class ItemPlan:
    """One item (a product in a warehouse) of a run, as the MRP page shows it: what MRP saw (on hand,
    incoming with the drafts, the demands) and what it proposes (its suggestions, summed). An item
    whose demand came in five times is one row, its demands listed inside (issue #21)."""

    product: Product
    warehouse: Warehouse
    level: int
    suggestions: list[MrpSuggestion]
    stock: availability.Availability
    drafted: Decimal  # draft orders' quantity: supply MRP counts
    safety: Decimal  # the reorder rule's minimum
    rows: list[Any] = field(default_factory=list)  # what the page adds per suggestion (links, lateness)

    @property
    def kind(self) -> str:
        return self.suggestions[0].kind

    @property
    def open(self) -> list[MrpSuggestion]:
        return [s for s in self.suggestions if not s.converted_to]

    @property
    def open_ids(self) -> str:
        """The open suggestions' ids, comma-separated: one tick converts them all."""
        return ",".join(str(s.pk) for s in self.open)

    @property
    def quantity(self) -> Decimal:
        """What is still to make or buy: the open suggestions, summed."""
        return sum((s.quantity for s in self.open), ZERO)

    @property
    def incoming(self) -> Decimal:
        return self.stock.incoming + self.drafted

    @property
    def covers(self) -> list[dict[str, str]]:
        """Every demand the item's suggestions cover, by date."""
        found = [c for s in self.suggestions for c in (s.covers if isinstance(s.covers, list) else [])]
        return sorted(found, key=lambda c: (str(c.get("date", "")), str(c.get("demand", ""))))

    @property
    def demand(self) -> Decimal:
        """The item's demand in the horizon, as the run saw it; for a run before it was recorded,
        the demands its suggestions cover (the reorder minimum is safety stock, not demand)."""
        recorded = [_decimal(c["item_demand"]) for c in self.covers if "item_demand" in c]
        if recorded:
            return max(recorded)
        return sum(
            (_decimal(c.get("quantity")) for c in self.covers if c.get("demand") != "reorder minimum"), ZERO
        )

    @property
    def net(self) -> Decimal:
        """Net requirement: the shortfalls the run found (demand and safety stock not met by what is
        available and coming, day by day), before rounding to multiples and minimum orders."""
        shortfalls = [_decimal(c["net"]) for c in self.covers if "net" in c]
        if shortfalls:
            return sum(shortfalls, ZERO)
        return max(ZERO, self.demand + self.safety - self.stock.available - self.incoming)

    @property
    def due(self) -> datetime.date:
        return min(s.due_date for s in self.open or self.suggestions)

    @property
    def release(self) -> datetime.date:
        return min(s.release_date for s in self.open or self.suggestions)

    @property
    def supplier_item(self) -> SupplierItem | None:
        return next((s.supplier_item for s in self.suggestions if s.supplier_item is not None), None)

    @property
    def converted(self) -> list[str]:
        return sorted({s.converted_to for s in self.suggestions if s.converted_to})


def _decimal(value: Any) -> Decimal:
    try:
        return Decimal(str(value))
    except ArithmeticError:
        return ZERO


def item_page(suggestions: Any, number: Any, size: int) -> tuple[Any, list[ItemPlan]]:
    """A page of a run's suggestions grouped by item (level, then SKU, then warehouse), with what each
    item has on hand and coming. Queries: the count, the page's items, their suggestions, the
    availability providers, the reorder rules."""
    keys = (
        suggestions.order_by()
        .values_list("level", "product__sku", "warehouse__code", "product_id", "warehouse_id")
        .distinct()
        .order_by("level", "product__sku", "warehouse__code")
    )
    page = Paginator(keys, size).get_page(number)
    wanted = {(p, w) for _, _, _, p, w in page.object_list}
    products = sorted({p for p, _ in wanted})
    chosen = [
        s
        for s in suggestions.filter(product_id__in=products).order_by("release_date", "id")
        if (s.product_id, s.warehouse_id) in wanted
    ]
    grouped: dict[Key, list[MrpSuggestion]] = defaultdict(list)
    for s in chosen:
        grouped[(s.product_id, s.warehouse_id)].append(s)
    stock = availability.by_warehouse(products)
    drafts = replenishment.drafts_by_warehouse(products, None)
    safety = {
        (r.product_id, r.warehouse_id): r.min_quantity
        for r in ReorderRule.objects.filter(product_id__in=products)
    }
    items = []
    for _, _, _, product_id, warehouse_id in page.object_list:
        key = (product_id, warehouse_id)
        if not grouped.get(key):
            continue
        first = grouped[key][0]
        items.append(
            ItemPlan(
                product=first.product,
                warehouse=first.warehouse,
                level=first.level,
                suggestions=grouped[key],
                stock=stock.get(key, availability.Availability()),
                drafted=sum((d.quantity for d in drafts.get(key, [])), ZERO),
                safety=safety.get(key, ZERO),
            )
        )
    return page, items
