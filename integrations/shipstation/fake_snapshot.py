"""The fake ShipStation's state as plain JSON, for the simulated day's drift check
(``FakeShipStation.snapshot``)::

    {"tool": "shipstation", "at": "<iso now>",
     "orders": {"<orderKey>": {"orderId": int, "orderNumber": str, "status": str, "store_id": int,
                "items": [{"orderItemId": int, "lineItemKey": str | None, "sku": str | None,
                           "quantity": int, "shipped": int}],
                "lines": {"<sku>": {"quantity": int, "shipped": int}},
                "tracking_numbers": ["<tracking of each label not voided>"]}},
     "shipments": {"<shipmentId>": {"order_id": int, "order_key": str, "order_number": str,
                   "batch": str, "tracking": str, "carrier": str, "service": str,
                   "voided": bool, "lines": {"<lineItemKey or sku>": units}}}}

``shipped`` counts the units of labels that are not voided. Deleted orders are left out.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from typing import Any


def _line_name(item: Mapping[str, Any]) -> str:
    return str(item.get("lineItemKey") or item.get("sku") or f"item:{item['orderItemId']}")


def shipstation_snapshot(
    *,
    now: datetime.datetime,
    orders: Iterable[Mapping[str, Any]],
    shipments: Iterable[Mapping[str, Any]],
    order_keys: Iterable[str] | None = None,
) -> dict[str, Any]:
    """The orders and shipments as the drift check reads them (see the module doc)."""
    wanted = None if order_keys is None else set(order_keys)
    shipments = list(shipments)
    shipped: dict[int, int] = {}
    for shipment in shipments:
        if not shipment["view"]["voided"]:
            for item_id, quantity in shipment["lines"].items():
                shipped[item_id] = shipped.get(item_id, 0) + int(quantity)
    result_orders: dict[str, Any] = {}
    for entry in orders:
        view = entry["view"]
        if wanted is not None and view["orderKey"] not in wanted:
            continue
        items = [
            {
                "orderItemId": item["orderItemId"],
                "lineItemKey": item["lineItemKey"],
                "sku": item["sku"],
                "quantity": int(item["quantity"]),
                "shipped": shipped.get(item["orderItemId"], 0),
            }
            for item in view["items"]
        ]
        lines: dict[str, dict[str, int]] = {}
        for item in items:
            line = lines.setdefault(str(item["sku"] or _line_name(item)), {"quantity": 0, "shipped": 0})
            line["quantity"] += item["quantity"]
            line["shipped"] += item["shipped"]
        result_orders[view["orderKey"]] = {
            "orderId": view["orderId"],
            "orderNumber": view["orderNumber"],
            "status": view["orderStatus"],
            "store_id": view["advancedOptions"]["storeId"],
            "items": items,
            "lines": lines,
            "tracking_numbers": [
                s["view"]["trackingNumber"]
                for s in shipments
                if s["order_id"] == view["orderId"] and not s["view"]["voided"]
            ],
        }
    result_shipments: dict[str, Any] = {}
    for shipment in shipments:
        view = shipment["view"]
        if wanted is not None and view["orderKey"] not in wanted:
            continue
        names = {i["orderItemId"]: _line_name(i) for i in view["shipmentItems"] or []}
        result_shipments[str(view["shipmentId"])] = {
            "order_id": view["orderId"],
            "order_key": view["orderKey"],
            "order_number": view["orderNumber"],
            "batch": view["batchNumber"],
            "tracking": view["trackingNumber"],
            "carrier": view["carrierCode"],
            "service": view["serviceCode"],
            "voided": view["voided"],
            "lines": {names.get(k, f"item:{k}"): int(v) for k, v in shipment["lines"].items()},
        }
    return {
        "tool": "shipstation",
        "at": now.isoformat(),
        "orders": result_orders,
        "shipments": result_shipments,
    }
