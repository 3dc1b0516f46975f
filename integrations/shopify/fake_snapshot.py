"""The fake Shopify's state as plain JSON, for the simulated day's drift check (``FakeShopify.snapshot``).

The shape, every key a string and every amount a decimal string::

    {"tool": "shopify", "at": "<iso now>",
     "orders": {"<order id>": {"name": "#1043", "cancelled": bool, "financial_status": str,
                "fulfillment_status": str | None, "current_total_price": "123.45",
                "lines": {"<sku>": {"quantity": int, "current_quantity": int,
                                    "fulfilled": int, "refunded": int}},
                "tracking_numbers": ["..."],
                "refunds": [{"id": "<id>", "amount": "12.00", "lines": {"<sku>": qty},
                             "restocked": {"<sku>": qty}, "returned": {"<sku>": qty}}]}},
     "stock": {"<sku>": {"<location id>": available}}}

Two lines of one SKU in an order are summed under it; a line without a SKU is keyed
``line:<line id>``. A refund's ``amount`` is what its successful refund transactions paid back;
``restocked`` counts its refunded units that went back to stock (any restock type but
``no_restock``), ``returned`` those of them that came back from the customer (``return``; a
``cancel`` restock is goods that never left, taken off the order).
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from typing import Any

from integrations.shopify.fake_data import money


def _sku(line: Mapping[str, Any]) -> str:
    return str(line.get("sku") or f"line:{line['id']}")


def _add(counts: dict[str, int], key: str, quantity: int) -> None:
    counts[key] = counts.get(key, 0) + int(quantity)


def _refund(refund: Mapping[str, Any], skus: Mapping[int, str]) -> dict[str, Any]:
    lines: dict[str, int] = {}
    restocked: dict[str, int] = {}
    returned: dict[str, int] = {}
    for item in refund.get("refund_line_items") or ():
        sku = skus.get(item["line_item_id"]) or _sku(item.get("line_item") or {"id": item["line_item_id"]})
        _add(lines, sku, item["quantity"])
        if item.get("restock_type") != "no_restock":
            _add(restocked, sku, item["quantity"])
        if item.get("restock_type") == "return":
            _add(returned, sku, item["quantity"])
    paid = sum(
        (
            Decimal(str(t.get("amount") or 0))
            for t in refund.get("transactions") or ()
            if t.get("kind") == "refund" and t.get("status", "success") == "success"
        ),
        Decimal(0),
    )
    return {
        "id": str(refund["id"]),
        "amount": money(paid),
        "lines": lines,
        "restocked": restocked,
        "returned": returned,
    }


def order_snapshot(order: Mapping[str, Any], shipped: Mapping[int, int]) -> dict[str, Any]:
    """One order as the drift check reads it (``shipped``: units of each line id fulfilled)."""
    skus = {line["id"]: _sku(line) for line in order["line_items"]}
    refunded: dict[int, int] = {}
    for refund in order.get("refunds") or ():
        for item in refund.get("refund_line_items") or ():
            refunded[item["line_item_id"]] = refunded.get(item["line_item_id"], 0) + int(item["quantity"])
    lines: dict[str, dict[str, int]] = {}
    for line in order["line_items"]:
        entry = lines.setdefault(
            skus[line["id"]], {"quantity": 0, "current_quantity": 0, "fulfilled": 0, "refunded": 0}
        )
        entry["quantity"] += int(line["quantity"])
        entry["current_quantity"] += int(line.get("current_quantity", line["quantity"]))
        entry["fulfilled"] += int(shipped.get(line["id"], 0))
        entry["refunded"] += refunded.get(line["id"], 0)
    tracking = [
        number
        for fulfillment in order.get("fulfillments") or ()
        if fulfillment.get("status") == "success"
        for number in fulfillment.get("tracking_numbers") or ()
    ]
    return {
        "name": order["name"],
        "cancelled": bool(order.get("cancelled_at")),
        "financial_status": order.get("financial_status"),
        "fulfillment_status": order.get("fulfillment_status"),
        "current_total_price": money(str(order.get("current_total_price", order.get("total_price")) or 0)),
        "lines": lines,
        "tracking_numbers": tracking,
        "refunds": [_refund(refund, skus) for refund in order.get("refunds") or ()],
    }


def shop_snapshot(
    *,
    now: datetime.datetime,
    orders: Iterable[Mapping[str, Any]],
    shipped: Callable[[Mapping[str, Any]], Mapping[int, int]],
    variants: Iterable[Mapping[str, Any]],
    levels: Iterable[Mapping[str, Any]],
) -> dict[str, Any]:
    """The whole shop as the drift check reads it (see the module doc)."""
    sku_of_item = {
        v["inventory_item_id"]: str(v.get("sku") or f"item:{v['inventory_item_id']}") for v in variants
    }
    stock: dict[str, dict[str, int]] = {}
    for level in levels:
        sku = sku_of_item.get(level["inventory_item_id"], f"item:{level['inventory_item_id']}")
        stock.setdefault(sku, {})[str(level["location_id"])] = int(level.get("available") or 0)
    return {
        "tool": "shopify",
        "at": now.isoformat(),
        "orders": {str(order["id"]): order_snapshot(order, shipped(order)) for order in orders},
        "stock": stock,
    }
