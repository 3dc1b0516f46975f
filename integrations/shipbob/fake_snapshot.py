"""The fake ShipBob's state as plain JSON, for the simulated day's drift check
(``FakeShipBob.snapshot``)::

    {"tool": "shipbob", "at": "<iso now>",
     "orders": {"<reference_id>": {"id": int, "channel_id": int, "status": str,
                "products": {"<sku>": units},
                "shipments": [{"id": int, "status": str, "location_id": int,
                               "products": {"<sku>": units}, "carrier": str | None,
                               "tracking_number": str | None, "delivered": bool}]}},
     "stock": {"<sku>": {"<location id>": {"on_hand": int, "committed": int,
                                           "fulfillable": int, "awaiting": int}}},
     "receiving": {"<wro id>": {"status": str, "location_id": int,
                                "purchase_order_number": str | None,
                                "expected": {"<sku>": units}, "received": {"<sku>": units}}}}

Orders are keyed by their ``reference_id`` (unique per channel; the hub writes through one channel).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from typing import Any


def _units(products: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    units: dict[str, int] = {}
    for product in products:
        quantity = (
            product["quantity"]
            if "quantity" in product
            else sum(item["quantity"] for item in product["inventory_items"])
        )
        units[product["sku"]] = units.get(product["sku"], 0) + int(quantity)
    return units


def order_snapshot(order: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "id": order["id"],
        "channel_id": order["channel"]["id"],
        "status": order["status"],
        "products": _units(order["products"]),
        "shipments": [
            {
                "id": shipment["id"],
                "status": shipment["status"],
                "location_id": shipment["location"]["id"],
                "products": _units(shipment["products"]),
                "carrier": (shipment["tracking"] or {}).get("carrier"),
                "tracking_number": (shipment["tracking"] or {}).get("tracking_number"),
                "delivered": shipment["delivery_date"] is not None,
            }
            for shipment in order["shipments"]
        ],
    }


def shipbob_snapshot(
    *,
    now: datetime.datetime,
    orders: Iterable[Mapping[str, Any]],
    levels: Iterable[Mapping[str, Any]],
    wros: Iterable[Mapping[str, Any]],
    reference_ids: Iterable[str] | None = None,
) -> dict[str, Any]:
    """The account as the drift check reads it; ``levels`` are ``inventory-level/locations`` items."""
    wanted = None if reference_ids is None else set(reference_ids)
    stock = {
        item["sku"]: {
            str(level["location_id"]): {
                "on_hand": level["on_hand_quantity"],
                "committed": level["committed_quantity"],
                "fulfillable": level["fulfillable_quantity"],
                "awaiting": level["awaiting_quantity"],
            }
            for level in item["locations"]
        }
        for item in levels
    }
    return {
        "tool": "shipbob",
        "at": now.isoformat(),
        "orders": {
            order["reference_id"]: order_snapshot(order)
            for order in orders
            if wanted is None or order["reference_id"] in wanted
        },
        "stock": stock,
        "receiving": {
            str(wro["id"]): {
                "status": wro["status"],
                "location_id": wro["fulfillment_center"]["id"],
                "purchase_order_number": wro["purchase_order_number"],
                "expected": {q["sku"]: q["expected_quantity"] for q in wro["inventory_quantities"]},
                "received": {q["sku"]: q["received_quantity"] for q in wro["inventory_quantities"]},
            }
            for wro in wros
        },
    }
