"""Purchase suggestions: inventory's reorder suggestions, bought from the preferred supplier.

For each product below its minimum in a warehouse (inventory.replenishment, which
rounds the need up to the rule's multiple), the preferred supplier item turns the
stock quantity into purchase units (rounded up), raises it to the minimum order
quantity, and prices it with the price break reached.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal
from typing import Any

from django.db import transaction

from erp.exceptions import ValidationFailed
from inventory import replenishment as stock_replenishment
from procurement.models import PurchaseOrder, SupplierItem
from procurement.services.orders import POLineSpec, po_create
from procurement.services.suppliers import price_for


@dataclass(frozen=True)
class PurchaseSuggestion:
    stock: stock_replenishment.Suggestion
    item: SupplierItem | None  # None: no supplier for this product yet
    quantity: Decimal  # in purchase units
    unit_price: Decimal | None

    @property
    def key(self) -> str:
        return f"{self.stock.rule.product_id}-{self.stock.rule.warehouse_id}"

    @property
    def stock_quantity(self) -> Decimal:
        return self.quantity * self.item.factor if self.item else self.stock.quantity


def purchase_quantity(item: SupplierItem, stock_quantity: Decimal) -> Decimal:
    units = (stock_quantity / item.factor).to_integral_value(rounding=ROUND_CEILING)
    return max(units, item.min_order_quantity.to_integral_value(rounding=ROUND_CEILING))


def suggestions(*, warehouse_id: int | None = None) -> list[PurchaseSuggestion]:
    below = stock_replenishment.suggestions(warehouse_id=warehouse_id)
    preferred = {
        i.product_id: i
        for i in SupplierItem.objects.filter(
            product_id__in={s.rule.product_id for s in below}, is_preferred=True
        )
        .select_related("supplier", "purchase_unit")
        .prefetch_related("price_breaks")
    }
    result = []
    for s in below:
        item = preferred.get(s.rule.product_id)
        if item is None:
            result.append(PurchaseSuggestion(stock=s, item=None, quantity=s.quantity, unit_price=None))
            continue
        quantity = purchase_quantity(item, s.quantity)
        result.append(
            PurchaseSuggestion(stock=s, item=item, quantity=quantity, unit_price=price_for(item, quantity))
        )
    return result


@transaction.atomic
def orders_from_suggestions(*, keys: Iterable[str], user: Any = None) -> list[PurchaseOrder]:
    """Turn the chosen suggestions into draft purchase orders, one per supplier and warehouse."""
    wanted = set(keys)
    chosen = [s for s in suggestions() if s.key in wanted]
    missing = [s for s in chosen if s.item is None]
    if missing:
        skus = ", ".join(s.stock.rule.product.sku for s in missing)
        raise ValidationFailed(f"No preferred supplier for: {skus}. Add one, or order these by hand.")
    if not chosen:
        raise ValidationFailed("None of the chosen suggestions is still below its minimum.")
    groups: dict[tuple[int, int], list[PurchaseSuggestion]] = defaultdict(list)
    for s in chosen:
        assert s.item is not None
        groups[(s.item.supplier_id, s.stock.rule.warehouse_id)].append(s)
    orders = []
    for (_, _), group in sorted(groups.items()):
        first = group[0]
        assert first.item is not None
        orders.append(
            po_create(
                supplier=first.item.supplier,
                warehouse=first.stock.rule.warehouse,
                lines=[POLineSpec(product=s.stock.rule.product, quantity=s.quantity) for s in group],
                notes="Replenishment",
                user=user,
            )
        )
    return orders
