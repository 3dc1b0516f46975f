"""The fake BigCommerce's state as plain JSON, for the simulated day's drift check
(``FakeBigCommerce.snapshot``).

The same shape as the fake Shopify's, every key a string and every amount a decimal string
with two decimals::

    {"tool": "bigcommerce", "at": "<iso now>",
     "orders": {"<order id>": {"name": "<order id>", "cancelled": bool, "financial_status": str,
                "fulfillment_status": str | None, "current_total_price": "123.45",
                "status_id": int,
                "lines": {"<sku>": {"quantity": int, "current_quantity": int,
                                    "fulfilled": int, "refunded": int}},
                "tracking_numbers": ["..."],
                "refunds": [{"id": "<id>", "amount": "12.00", "lines": {"<sku>": qty},
                             "restocked": {"<sku>": qty}, "returned": {"<sku>": qty}}]}},
     "stock": {"<sku>": {"<location id>": on hand}}}

BigCommerce has one status where Shopify has two; they are read off it: ``cancelled`` is status
5 Cancelled (or 6 Declined); ``financial_status`` is "pending" before payment (0 Incomplete,
1 Pending, 7 Awaiting Payment), "voided" when cancelled or declined unpaid, "refunded" /
"partially_refunded" from ``refunded_amount``, else "paid"; ``fulfillment_status`` is None,
"partial" or "fulfilled" from the products' ``quantity_shipped``. ``current_total_price`` is
``total_inc_tax - refunded_amount``; a line's ``current_quantity`` is its quantity less its
refunded units. A refund's ``restocked`` units went back to stock; ``returned`` are those of them
that had shipped (goods that came back; restocked units that never shipped never left). Archived
orders are left out. Stock is the on-hand quantity (what an absolute adjustment sets).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from integrations.bigcommerce.fake_data import CANCELLED, DECLINED, cents

_UNPAID = (0, 1, 7)


def _amount(value: Decimal | str | float) -> str:
    return str(cents(Decimal(str(value))))


def _financial(order: Mapping[str, Any]) -> str:
    refunded = Decimal(order["refunded_amount"])
    if order["status_id"] in (CANCELLED, DECLINED) and refunded == 0 and not order.get("payment_status"):
        return "voided"
    if order["status_id"] in _UNPAID:
        return "pending"
    if refunded > 0:
        return "refunded" if refunded >= Decimal(order["total_inc_tax"]) else "partially_refunded"
    return "paid"


def order_snapshot(entry: Mapping[str, Any]) -> dict[str, Any]:
    order, products = entry["order"], entry["products"]
    skus = {p["id"]: str(p.get("sku") or f"line:{p['id']}") for p in products}
    lines: dict[str, dict[str, int]] = {}
    for product in products:
        line = lines.setdefault(
            skus[product["id"]], {"quantity": 0, "current_quantity": 0, "fulfilled": 0, "refunded": 0}
        )
        line["quantity"] += int(product["quantity"])
        line["current_quantity"] += int(product["quantity"]) - int(product["quantity_refunded"])
        line["fulfilled"] += int(product["quantity_shipped"])
        line["refunded"] += int(product["quantity_refunded"])
    ordered = sum(int(p["quantity"]) for p in products)
    shipped = sum(int(p["quantity_shipped"]) for p in products)
    refunds = []
    for refund in entry["refunds"]:
        counted: dict[str, int] = {}
        for item in refund["items"]:
            if item["item_type"] != "PRODUCT":
                continue  # an amount on the order or its shipping: no goods
            sku = skus.get(item["item_id"], f"line:{item['item_id']}")
            counted[sku] = counted.get(sku, 0) + int(item["quantity"])
        refunds.append(
            {
                "id": str(refund["id"]),
                "amount": _amount(refund["total_amount"]),
                "lines": counted,
                "restocked": dict(counted) if refund["restocked"] else {},
                "returned": dict(refund.get("returned") or {}),
            }
        )
    return {
        "name": str(order["id"]),
        "status_id": order["status_id"],
        "cancelled": order["status_id"] in (CANCELLED, DECLINED),
        "financial_status": _financial(order),
        "fulfillment_status": None if shipped == 0 else "fulfilled" if shipped >= ordered else "partial",
        "current_total_price": _amount(Decimal(order["total_inc_tax"]) - Decimal(order["refunded_amount"])),
        "lines": lines,
        "tracking_numbers": [s["tracking_number"] for s in entry["shipments"] if s.get("tracking_number")],
        "refunds": refunds,
    }


def store_snapshot(
    *,
    now: datetime.datetime,
    orders: Iterable[Mapping[str, Any]],
    variants: Mapping[int, Mapping[str, Any]],
    inventory: Mapping[tuple[int, int], Mapping[str, Any]],
    order_ids: Iterable[int] | None = None,
) -> dict[str, Any]:
    """The whole store as the drift check reads it (see the module doc)."""
    wanted = None if order_ids is None else {int(i) for i in order_ids}
    stock: dict[str, dict[str, int]] = {}
    for (variant_id, location_id), level in sorted(inventory.items()):
        variant = variants.get(variant_id)
        sku = str(variant["sku"]) if variant else f"variant:{variant_id}"
        stock.setdefault(sku, {})[str(location_id)] = int(level["onhand"])
    return {
        "tool": "bigcommerce",
        "at": now.isoformat(),
        "orders": {
            str(entry["order"]["id"]): order_snapshot(entry)
            for entry in orders
            if not entry["archived"] and (wanted is None or entry["order"]["id"] in wanted)
        },
        "stock": stock,
    }
