"""Purchase suggestions: inventory's reorder suggestions, bought from the preferred supplier.

For each product below its minimum in a warehouse (inventory.replenishment, which
rounds the need up to the rule's multiple), the preferred supplier item turns the
stock quantity into purchase units (rounded up), raises it to the minimum order
quantity, and prices it with the price break reached.

Draft purchase orders count (issue #21): a product a draft already brings back to its minimum is
listed as covered by it ("covered by draft PO-0012") and cannot be ordered again; ordering twice
makes one draft, not two.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal
from typing import Any

from django.db import transaction
from django.db.models import F
from django.urls import reverse

from erp.exceptions import ValidationFailed
from inventory import replenishment as stock_replenishment
from procurement.models import PurchaseOrder, PurchaseOrderLine, PurchaseOrderStatus, SupplierItem
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

    @property
    def covered(self) -> bool:
        """Draft orders already bring it back to its minimum: nothing to order."""
        return self.stock.covered

    @property
    def drafts(self) -> tuple[stock_replenishment.Draft, ...]:
        return self.stock.drafts

    @property
    def orderable(self) -> bool:
        return self.item is not None and not self.covered


def draft_purchase_orders(
    product_ids: list[int], warehouse_id: int | None
) -> dict[tuple[int, int], list[stock_replenishment.Draft]]:
    """Draft purchase orders per (product, warehouse), in stock units: one query."""
    lines = PurchaseOrderLine.objects.filter(
        product_id__in=product_ids,
        order__status=PurchaseOrderStatus.DRAFT,
        quantity__gt=F("quantity_received"),
    )
    if warehouse_id is not None:
        lines = lines.filter(order__warehouse_id=warehouse_id)
    per_order: dict[tuple[int, int, int], Decimal] = defaultdict(Decimal)
    numbers: dict[int, str] = {}
    for line in lines.values(
        "product_id",
        "order__warehouse_id",
        "order_id",
        "order__number",
        "quantity",
        "quantity_received",
        "factor",
    ):
        key = (line["product_id"], line["order__warehouse_id"], line["order_id"])
        per_order[key] += (line["quantity"] - line["quantity_received"]) * line["factor"]
        numbers[line["order_id"]] = line["order__number"]
    found: dict[tuple[int, int], list[stock_replenishment.Draft]] = defaultdict(list)
    for (product_id, wh_id, order_id), quantity in sorted(per_order.items()):
        url = reverse("procurement:order", args=[order_id])
        found[(product_id, wh_id)].append(stock_replenishment.Draft(numbers[order_id], url, quantity))
    return found


stock_replenishment.register_drafts("procurement.draft_purchase_orders", draft_purchase_orders)


def purchase_quantity(item: SupplierItem, stock_quantity: Decimal) -> Decimal:
    units = (stock_quantity / item.factor).to_integral_value(rounding=ROUND_CEILING)
    return max(units, item.min_order_quantity.to_integral_value(rounding=ROUND_CEILING))


def suggestions(*, warehouse_id: int | None = None, covered: bool = True) -> list[PurchaseSuggestion]:
    """``covered=False``: without the products draft orders already cover."""
    below = stock_replenishment.suggestions(warehouse_id=warehouse_id, covered=covered)
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
        if item is None or s.covered:
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
    missing = [s for s in chosen if s.item is None and not s.covered]
    if missing:
        skus = ", ".join(s.stock.rule.product.sku for s in missing)
        raise ValidationFailed(f"No preferred supplier for: {skus}. Add one, or order these by hand.")
    covered = [s for s in chosen if s.covered]
    chosen = [s for s in chosen if not s.covered]
    if not chosen and covered:
        drafts = ", ".join(
            f"{s.stock.rule.product.sku} by {', '.join(d.number for d in s.drafts)}" for s in covered
        )
        raise ValidationFailed(
            f"Already covered by draft orders: {drafts}. Send or change the draft instead."
        )
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
