"""A store selling through Shopify: warehouse, web channel, the sample order's products, a connection."""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from integrations.connections import connection_create
from integrations.models import Connection
from integrations.shopify.fake import ACCESS_TOKEN, CLIENT_SECRET, SHOP_DOMAIN
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
