"""Purchasing hears when a product runs out: a subscriber of ``inventory.level_changed``.

When a product's available quantity in a warehouse falls to zero or below (it was above before
this change) and the product has a reorder rule in that warehouse (purchasing keeps it stocked;
a product without one is bought to order, or not at all), every user who writes procurement is
told, once per product while that notification is unread (key ``stock-out:<product>``).

Per event: nothing is asked when the product still has stock; else one query for the rule (with
the warehouse), and erp.notifications' set-based writes. No query per level or per user.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django.urls import reverse

from erp import events, notifications
from erp.formatting import number
from erp.models import OutboxEvent
from inventory.models import ReorderRule


def ran_out(payload: dict[str, Any]) -> bool:
    """Available fell to zero or below with this change (it was above zero before)."""
    try:
        available = Decimal(str(payload.get("available", "0")))
        change = Decimal(str(payload.get("available_change", "0")))
    except (InvalidOperation, ValueError):
        return False
    return change < 0 and available <= 0 < available - change


def on_level_changed(event: OutboxEvent) -> None:
    p = event.payload or {}
    if not ran_out(p) or p.get("product_id") is None or p.get("warehouse_id") is None:
        return
    rule = (
        ReorderRule.objects.filter(product_id=int(p["product_id"]), warehouse_id=int(p["warehouse_id"]))
        .select_related("warehouse")
        .first()
    )
    if rule is None:
        return
    sku = p.get("sku", "")
    notifications.notify(
        notifications.users_who_can("procurement", "write"),
        kind="stock_out",
        title=f"{sku} is out of stock in {rule.warehouse.code}",
        body=(
            f"Available {number(p.get('available', '0'))} (on hand {number(p.get('on_hand', '0'))}, "
            f"reserved {number(p.get('reserved', '0'))}); reorder point {number(rule.min_quantity)}."
        ),
        url=reverse("procurement:replenishment"),
        key=f"stock-out:{p.get('product_id')}",
    )


events.subscribe("inventory.level_changed", on_level_changed, name="procurement.stock_out")
