"""The fake Amazon's state as plain JSON, for the simulated day's drift check (``FakeAmazon.snapshot``).

The same shape as the other fakes' (every key a string, every amount a decimal string with two
decimals)::

    {"tool": "amazon", "at": "<iso now>",
     "orders": {"<AmazonOrderId>": {"name": "<AmazonOrderId>", "cancelled": bool,
                "financial_status": "pending" | "paid" | "voided",
                "fulfillment_status": None | "partial" | "fulfilled",
                "current_total_price": "263.94", "status": "<OrderStatus>",
                "fulfillment_channel": "MFN" | "AFN",
                "lines": {"<sku>": {"quantity": int, "current_quantity": int,
                                    "fulfilled": int, "refunded": 0}},
                "tracking_numbers": ["..."], "refunds": []}},
     "stock": {"<sku>": {"DEFAULT": <MFN quantity>}}}

Amazon has one status; the rest is read off it: ``cancelled`` is ``Canceled``; ``financial_status``
is "pending" while ``Pending`` (payment not authorised), "voided" when cancelled, else "paid";
``fulfillment_status`` comes from the items' ``QuantityShipped``. ``current_total_price`` is the
``OrderTotal`` (0.00 while Pending and once cancelled: nothing is charged). A cancelled line's
``current_quantity`` is 0. The fake has no refunds (``refunded`` 0, ``refunds`` []). Stock is the
MFN quantity of each listing the seller fulfils (listings fulfilled by Amazon only are left out:
their stock is Amazon's, the seller never pushes it).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from typing import Any

from integrations.amazon.fake_data import order_total


def _financial(order: Mapping[str, Any]) -> str:
    if order["status"] == "Canceled":
        return "voided"
    return "paid" if order["paid"] else "pending"


def order_snapshot(order: Mapping[str, Any]) -> dict[str, Any]:
    cancelled = order["status"] == "Canceled"
    lines: dict[str, dict[str, int]] = {}
    for item in order["items"]:
        line = lines.setdefault(
            item["sku"], {"quantity": 0, "current_quantity": 0, "fulfilled": 0, "refunded": 0}
        )
        line["quantity"] += int(item["qty"])
        line["current_quantity"] += 0 if cancelled else int(item["qty"])
        line["fulfilled"] += int(item["shipped"])
    ordered = sum(int(i["qty"]) for i in order["items"])
    shipped = sum(int(i["shipped"]) for i in order["items"])
    charged = order["paid"] and not cancelled
    return {
        "name": order["id"],
        "cancelled": cancelled,
        "financial_status": _financial(order),
        "fulfillment_status": None if shipped == 0 else "fulfilled" if shipped >= ordered else "partial",
        "current_total_price": str(order_total(order)) if charged else "0.00",
        "status": order["status"],
        "fulfillment_channel": order["channel"],
        "lines": lines,
        # What the seller confirmed: Amazon's own (FBA) parcels are not in the Orders API.
        "tracking_numbers": [
            p["trackingNumber"]
            for p in order["packages"]
            if p.get("trackingNumber") and p.get("via") != "FBA"
        ],
        "refunds": [],
    }


def amazon_snapshot(
    *,
    now: datetime.datetime,
    orders: Iterable[Mapping[str, Any]],
    listings: Mapping[str, Mapping[str, Any]],
    order_ids: Iterable[str] | None = None,
) -> dict[str, Any]:
    """The seller's Amazon orders and MFN stock as the drift check reads them (see the module doc)."""
    wanted = None if order_ids is None else {str(i) for i in order_ids}
    return {
        "tool": "amazon",
        "at": now.isoformat(),
        "orders": {
            order["id"]: order_snapshot(order) for order in orders if wanted is None or order["id"] in wanted
        },
        "stock": {
            sku: {"DEFAULT": int(listing["mfn"])}
            for sku, listing in sorted(listings.items())
            if not listing["fba_only"]
        },
    }
