"""A store selling through Shopify: warehouse, web channel, the sample order's products, a connection."""

from __future__ import annotations

import copy
import json
from decimal import Decimal as D
from typing import Any

from django.urls import reverse

from integrations.connections import connection_create
from integrations.models import Connection
from integrations.shopify.fake import ACCESS_TOKEN, CLIENT_SECRET, SHOP_DOMAIN, sample_bytes
from inventory.models import LocationKind, StockLevel
from tests.integrations.shopify.conftest import shopify_settings
from tests.inventory.factories import warehouse
from tests.sales.factories import ChannelFactory, stocked_product

STOCK = {"TENT-2P-GRN": ("249.00", 10), "SLBAG-20F-REG": ("179.00", 10), "STOVE-TI-01": ("59.00", 10)}


def stocked_store() -> dict[str, Any]:
    """The hub's side: WH1, the 'web' USD channel selling from it, the three products of the sample order."""
    wh = warehouse("WH1")
    channel = ChannelFactory(warehouse=wh)
    products = {
        sku: stocked_product(quantity, wh=wh, price=price, sku=sku, name=sku.title())
        for sku, (price, quantity) in STOCK.items()
    }
    return {"warehouse": wh, "channel": channel, "products": products}


def shopify_connection(
    store: dict[str, Any], name: str = "Acme Outdoors", shop_domain: str = SHOP_DOMAIN
) -> Connection:
    return connection_create(
        connector="shopify",
        name=name,
        settings=shopify_settings(shop_domain=shop_domain),
        secrets={"access_token": ACCESS_TOKEN, "client_secret": CLIENT_SECRET},
        warehouse=store["warehouse"],
        sales_channel=store["channel"],
    )


def post_webhook(client, connection: Connection, headers: dict[str, str], body: bytes):
    """POST a delivery to the connection's hook endpoint as Shopify would."""
    return client.post(
        reverse("integrations:hook", args=[connection.pk]),
        data=body,
        content_type=headers.get("Content-Type", "application/json"),
        headers={k: v for k, v in headers.items() if k.lower() != "content-type"},
    )


# --- the sample order, changed in Shopify (orders/updated deliveries) ---------------------------

SAMPLE: dict[str, Any] = json.loads(sample_bytes("webhook_orders_create.json"))
LINES = {li["sku"]: li["id"] for li in SAMPLE["line_items"]}  # TENT 1, SLBAG 2, STOVE 1


def fulfilment(fid: int, lines: dict[str, int], *, tracking: str = "1Z999AA10123456784") -> dict[str, Any]:
    """A Shopify fulfilment (REST shape) of ``lines`` (SKU -> quantity) of the sample order."""
    return {
        "id": fid,
        "order_id": SAMPLE["id"],
        "status": "success",
        "created_at": "2026-03-15T09:00:00-04:00",
        "updated_at": "2026-03-15T09:00:00-04:00",
        "service": "manual",
        "shipment_status": None,
        "location_id": 24826418,
        "name": f"#1042.{fid % 10}",
        "tracking_company": "UPS",
        "tracking_number": tracking,
        "tracking_numbers": [tracking],
        "tracking_url": f"https://www.ups.com/track?tracknum={tracking}",
        "tracking_urls": [f"https://www.ups.com/track?tracknum={tracking}"],
        "line_items": [
            {"id": LINES[sku], "sku": sku, "quantity": quantity, "fulfillment_status": "fulfilled"}
            for sku, quantity in lines.items()
        ],
    }


def refund(
    rid: int, lines: dict[str, int], *, restock: str = "return", amount: str = "0.00"
) -> dict[str, Any]:
    """A Shopify refund (REST shape) of ``lines`` (SKU -> quantity), paying back ``amount``."""
    by_sku = {li["sku"]: li for li in SAMPLE["line_items"]}
    return {
        "id": rid,
        "order_id": SAMPLE["id"],
        "created_at": "2026-03-20T11:00:00-04:00",
        "processed_at": "2026-03-20T11:00:00-04:00",
        "note": "Arrived damaged",
        "restock": restock != "no_restock",
        "refund_line_items": [
            {
                "id": rid * 10 + n,
                "quantity": quantity,
                "line_item_id": by_sku[sku]["id"],
                "location_id": 24826418,
                "restock_type": restock,
                "subtotal": by_sku[sku]["price"],
                "total_tax": "0.00",
                "line_item": {"id": by_sku[sku]["id"], "sku": sku},
            }
            for n, (sku, quantity) in enumerate(lines.items())
        ],
        "transactions": [
            {"id": rid * 100, "kind": "refund", "status": "success", "amount": amount, "currency": "USD"},
            {
                "id": rid * 100 + 1,
                "kind": "refund",
                "status": "failure",
                "amount": "999.00",
                "currency": "USD",
            },
        ],
        "order_adjustments": [],
    }


def updated(
    *fulfilments: dict[str, Any], refunds: tuple[dict[str, Any], ...] = (), minute: int = 1
) -> dict[str, Any]:
    """The sample order as orders/updated sends it after these fulfilments (and refunds: an order
    edit is a refund of unshipped units with restock_type "cancel"). Like Shopify, a line's
    current_quantity is its quantity less every refunded unit."""
    order = copy.deepcopy(SAMPLE)
    order["fulfillments"] = list(fulfilments)
    order["refunds"] = list(refunds)
    shipped = dict.fromkeys(LINES, 0)
    for f in fulfilments:
        for li in f["line_items"]:
            shipped[li["sku"]] += li["quantity"]
    refunded = dict.fromkeys(LINES.values(), 0)
    for r in refunds:
        for item in r["refund_line_items"]:
            refunded[item["line_item_id"]] += item["quantity"]
    for li in order["line_items"]:
        li["current_quantity"] = li["quantity"] - refunded[li["id"]]
        cancelled = sum(
            item["quantity"]
            for r in refunds
            for item in r["refund_line_items"]
            if item["line_item_id"] == li["id"] and item["restock_type"] == "cancel"
        )
        li["fulfillable_quantity"] = li["quantity"] - shipped[li["sku"]] - cancelled
        li["fulfillment_status"] = "fulfilled" if li["fulfillable_quantity"] == 0 else None
    complete = all(li["fulfillable_quantity"] == 0 for li in order["line_items"])
    order["fulfillment_status"] = "fulfilled" if complete else "partial"
    order["updated_at"] = f"2026-03-15T09:{minute:02d}:00-04:00"
    return order


def deliver(client, connection, delivery: tuple[dict[str, str], bytes], capture):
    """Post a (headers, body) delivery and run what it commits (the processing task)."""
    headers, body = delivery
    with capture(execute=True):
        response = post_webhook(client, connection, headers, body)
    assert response.status_code == 200, response.content
    return response


def on_hand(sku: str) -> D:
    levels = StockLevel.objects.filter(product__sku=sku, location__kind=LocationKind.INTERNAL)
    return sum((lv.on_hand for lv in levels), D(0))
