"""Shopify's part in the simulated day (``integrations.simulate``): a fake shop selling the same
four products as we do, its customers' orders, and the merchant's edits, cancellations and refunds
in Shopify's admin."""

from __future__ import annotations

import random
from decimal import Decimal
from typing import Any, ClassVar

from integrations.connections import connection_create
from integrations.fakes.clock import Clock
from integrations.models import Connection
from integrations.shopify import fake_data
from integrations.shopify.fake import CLIENT_ID, CLIENT_SECRET, LOCATION_ID, SHOP_DOMAIN, FakeShopify
from integrations.simulate.consistency import Change
from integrations.simulate.faults import Faults
from integrations.simulate.tools import ChannelTool

STOCK_RESOURCE = "inventory_levels/set.json"


class Tool(ChannelTool):
    key: ClassVar[str] = "shopify"
    origin: ClassVar[str] = f"https://{SHOP_DOMAIN}"
    stock_resource: ClassVar[str] = STOCK_RESOURCE

    def __init__(self, *, clock: Clock, rng: random.Random, faults: Faults) -> None:
        super().__init__(clock=clock, rng=rng, faults=faults)
        self._fake = FakeShopify(clock=clock, monotonic=clock.monotonic)
        self.location = str(LOCATION_ID)

    @property
    def fake(self) -> FakeShopify:
        return self._fake

    def skus(self) -> list[str]:
        return [variant["sku"] for _, variant in self._fake.variants()]

    def setup(self, *, warehouse: Any, tag: str, stock: int, served_at: str | None) -> Connection:
        from inventory.models import Product
        from inventory.services import product_create
        from sales.models import ChannelKind
        from sales.services import channel_create

        channel = channel_create(
            code=f"sim-{self.key}-{tag}",
            name=f"Simulated Shopify {tag}",
            warehouse=warehouse,
            kind=ChannelKind.WEB_STORE,
        )
        for _, variant in self._fake.variants():
            sku = variant["sku"]
            if not Product.objects.filter(sku=sku).exists():
                product_create(
                    sku=sku, name=sku.title(), sale_price=Decimal(variant["price"]), currency="USD"
                )
            self._fake.set_available(sku, stock)
        issued = self._fake.issue_token(expiring=True)
        settings: dict[str, Any] = {
            "shop_domain": SHOP_DOMAIN,
            "api_version": fake_data.API_VERSION,
            "location_id": LOCATION_ID,
        }
        if served_at:
            settings["base_url"] = served_at
        self.connection = connection_create(
            connector="shopify",
            name=f"Simulated shop {tag}",
            settings=settings,
            secrets={
                "access_token": issued.access_token,
                "refresh_token": issued.refresh_token,
                "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET,
            },
            warehouse=warehouse,
            sales_channel=channel,
        )
        self.connection.token_expires_at = issued.expires_at
        self.connection.save(update_fields=["token_expires_at"])
        return self.connection

    # --- faults ------------------------------------------------------------------------------------

    def expire_tokens(self) -> None:
        self._fake.expire_tokens()
        self.api_faults["tokens_expired"] += 1

    def refuse_for_good(self) -> None:
        """Shopify refuses the next level set with 422 (an inventory item no longer stocked there)."""
        body = {"errors": ["Inventory item does not have inventory tracking enabled"]}
        self._fake.fail_next(1, status=422, match=STOCK_RESOURCE, body=body)
        self.injected.append(
            {"tool": self.key, "resource": STOCK_RESOURCE, "status": 422, "topics": self.stock_topics()}
        )
        self.api_faults["permanent_422"] += 1

    # --- the shop's customers and merchant ----------------------------------------------------

    def place_order(self) -> Change:
        rng = self.rng
        picked = rng.sample(self.skus(), k=rng.choice((1, 1, 2, 3)))
        lines = [(sku, rng.choice((1, 1, 2))) for sku in picked]
        # The storefront sells what the shop shows available (Shopify's default inventory policy,
        # "deny"): a customer asking for more is told "out of stock" and orders nothing.
        if any((self._fake.available(sku) or 0) < quantity for sku, quantity in lines):
            self.actions["refused_out_of_stock"] += 1
            return Change(self.key, "refused_out_of_stock", self.clock(), orders=(), skus=tuple(picked))
        placed = self._fake.create_order(lines)
        self.placed.append(placed["id"])
        self.actions["ordered"] += 1
        return Change(self.key, "ordered", self.clock(), orders=(str(placed["id"]),), skus=tuple(picked))

    def change_in_tool(self) -> Change | None:
        if not self.placed:
            return None
        rng, fake = self.rng, self._fake
        order_id = rng.choice(self.placed)
        order = fake.order(order_id)
        if order.get("cancelled_at") or self.shipped_here(order_id):
            return None
        shipped = fake._shipped(order)
        skus = tuple(sorted({line["sku"] for line in order["line_items"]}))
        roll = rng.random()
        if roll < 0.4 and not shipped:
            line = rng.choice(order["line_items"])
            if line.get("fulfillable_quantity", line["quantity"]) >= 1:
                fake.edit_order(order_id, {line["id"]: 1}, staff_note="customer asked")
                self.actions["edited"] += 1
                return Change(self.key, "edited", self.clock(), orders=(str(order_id),), skus=(line["sku"],))
        elif roll < 0.7 and not shipped:
            fake.cancel_order(order_id, reason="customer")
            self.actions["cancelled"] += 1
            return Change(self.key, "cancelled", self.clock(), orders=(str(order_id),), skus=skus)
        elif shipped:
            line_id, quantity = next(iter(shipped.items()))
            refunded = sum(
                item["quantity"]
                for refund in fake.refunds(order_id)
                for item in refund["refund_line_items"]
                if item["line_item_id"] == line_id
            )
            if quantity - refunded >= 1:
                fake.refund_order(order_id, {line_id: 1}, restock_type="return", note="returned")
                self.actions["refunded"] += 1
                return Change(self.key, "refunded", self.clock(), orders=(str(order_id),), skus=skus)
        return None

    def snapshot(self, order_ids: Any = None) -> dict[str, Any]:
        return dict(self._fake.snapshot())
