"""BigCommerce's part in the simulated day (``integrations.simulate``): a fake store selling the same
four products as we do at its location 1, its shoppers' orders (refused at checkout beyond what the
store has to sell), and the merchant's cancellations, refunds and shipments in BigCommerce's admin.

BigCommerce's API tokens do not expire: the day's "every token expires at once" fault does nothing
here, and no refresh is ever counted."""

from __future__ import annotations

import random
from decimal import Decimal
from typing import Any, ClassVar

from integrations.bigcommerce.fake import (
    ACCESS_TOKEN,
    CLIENT_SECRET,
    STORE_HASH,
    FakeBigCommerce,
    OutOfStock,
)
from integrations.bigcommerce.fake_data import CANCELLED, DECLINED, REFUNDED
from integrations.connections import connection_create
from integrations.fakes.clock import Clock
from integrations.models import Connection
from integrations.simulate.consistency import Change
from integrations.simulate.faults import Faults
from integrations.simulate.tools import ChannelTool

STOCK_RESOURCE = "PUT v3/inventory/adjustments/absolute"
LOCATION_ID = 1
WEBHOOK_SECRET = "bc-simulated-day-header-secret"
# The SKUs both channels sell (the store's enamel mug, tracked by product, is not ours).
SKUS = ("TENT-2P-GRN", "TENT-2P-ORG", "SLBAG-20F-REG", "STOVE-TI-01")


class Tool(ChannelTool):
    key: ClassVar[str] = "bigcommerce"
    origin: ClassVar[str] = "https://api.bigcommerce.com"
    stock_resource: ClassVar[str] = STOCK_RESOURCE

    def __init__(self, *, clock: Clock, rng: random.Random, faults: Faults) -> None:
        super().__init__(clock=clock, rng=rng, faults=faults)
        # A generous quota: the day's own 429 bursts are injected; the window still answers its headers.
        self._fake = FakeBigCommerce(clock=clock, monotonic=clock.monotonic, quota=10_000)
        self.location = str(LOCATION_ID)

    @property
    def fake(self) -> FakeBigCommerce:
        return self._fake

    def skus(self) -> list[str]:
        return list(SKUS)

    def setup(self, *, warehouse: Any, tag: str, stock: int, served_at: str | None) -> Connection:
        from django.contrib.contenttypes.models import ContentType

        from integrations.models import ExternalRef
        from inventory.models import Product
        from inventory.services import product_create
        from sales.models import ChannelKind
        from sales.services import channel_create

        channel = channel_create(
            code=f"sim-{self.key}-{tag}",
            name=f"Simulated BigCommerce {tag}",
            warehouse=warehouse,
            kind=ChannelKind.WEB_STORE,
        )
        settings: dict[str, Any] = {"store_hash": STORE_HASH, "location_id": LOCATION_ID}
        if served_at:
            settings["base_url"] = served_at
        self.connection = connection_create(
            connector=self.key,
            name=f"Simulated BigCommerce store {tag}",
            settings=settings,
            secrets={
                "access_token": ACCESS_TOKEN,
                "webhook_secret": WEBHOOK_SECRET,
                "client_secret": CLIENT_SECRET,
            },
            warehouse=warehouse,
            sales_channel=channel,
        )
        product_type = ContentType.objects.get_for_model(Product)
        for sku in SKUS:
            variant = self._fake.variant_by_sku(sku)
            product = Product.objects.filter(sku=sku).first()
            if product is None:
                product = product_create(
                    sku=sku, name=sku.title(), sale_price=Decimal(str(variant["price"])), currency="USD"
                )
            # linked by SKU, as "import products" does: the hub pushes this variant's stock
            ExternalRef.objects.get_or_create(
                connection=self.connection,
                object_type="variant",
                external_id=str(variant["id"]),
                defaults={
                    "content_type": product_type,
                    "object_id": product.pk,
                    "extra": {"product_id": variant["product_id"]},
                },
            )
            self._fake.set_stock(sku, LOCATION_ID, stock)
        return self.connection

    # --- faults ------------------------------------------------------------------------------------

    def expire_tokens(self) -> None:
        """Nothing: BigCommerce's API account tokens do not expire (no refresh grant exists), so the
        day's "every token expires at once" fault has nothing to expire here and counts nothing."""

    def token_refreshes(self) -> int:
        return 0

    def refuse_for_good(self) -> None:
        """BigCommerce refuses the next absolute adjustment with 422 problem details."""
        body = {
            "status": 422,
            "title": "[Inventory tracking is disabled for the item, enable it to adjust its stock]",
            "type": "https://developer.bigcommerce.com/api-docs/getting-started/api-status-codes",
            "errors": {},
        }
        self._fake.fail_next(1, status=422, match=STOCK_RESOURCE, body=body)
        self.injected.append(
            {"tool": self.key, "resource": STOCK_RESOURCE, "status": 422, "topics": self.stock_topics()}
        )
        self.api_faults["permanent_422"] += 1

    # --- the store's shoppers and merchant ------------------------------------------------------

    def place_order(self) -> Change:
        rng = self.rng
        picked = rng.sample(list(SKUS), k=rng.choice((1, 1, 2, 3)))
        lines = [(sku, rng.choice((1, 1, 2))) for sku in picked]
        try:
            placed = self._fake.create_order(lines, location_id=LOCATION_ID)
        except OutOfStock:
            # the checkout told the shopper "out of stock": no order, nothing to agree on but the stock
            self.actions["refused_out_of_stock"] += 1
            return Change(self.key, "refused_out_of_stock", self.clock(), orders=(), skus=tuple(picked))
        self.placed.append(placed["id"])
        self.actions["ordered"] += 1
        return Change(self.key, "ordered", self.clock(), orders=(str(placed["id"]),), skus=tuple(picked))

    def change_in_tool(self) -> Change | None:
        if not self.placed:
            return None
        rng, fake = self.rng, self._fake
        order_id = rng.choice(self.placed)
        order = fake.order(order_id)
        if order["status_id"] in (CANCELLED, DECLINED, REFUNDED) or self.shipped_here(order_id):
            return None
        products = fake.order_products(order_id)
        skus = tuple(sorted({p["sku"] for p in products}))
        if any(p["quantity_shipped"] for p in products):
            return None  # what left the store is the warehouse's business here, not the day's
        kept = {p["sku"]: p["quantity"] - p["quantity_refunded"] for p in products}
        if not any(kept.values()):
            return None  # every unit refunded already: nothing left to change
        roll = rng.random()
        if roll < 0.4:
            fake.cancel_order(order_id)
            self.actions["cancelled"] += 1
            return Change(self.key, "cancelled", self.clock(), orders=(str(order_id),), skus=skus)
        if roll < 0.7:
            sku = rng.choice([s for s, n in kept.items() if n >= 1])
            # one unit refunded before it shipped: it never left, so it is back in stock
            fake.refund_order(order_id, {sku: 1}, restock=True, reason="customer asked")
            self.actions["refunded"] += 1
            return Change(self.key, "refunded", self.clock(), orders=(str(order_id),), skus=skus)
        tracking = f"9400BC{rng.randrange(10**12):012d}"
        fake.ship_order(order_id, tracking_number=tracking, carrier="usps")
        self.actions["shipped_in_tool"] += 1
        return Change(self.key, "shipped_in_tool", self.clock(), orders=(str(order_id),), skus=skus)

    def snapshot(self, order_ids: Any = None) -> dict[str, Any]:
        ids = None if order_ids is None else [int(i) for i in order_ids]
        return dict(self._fake.snapshot(order_ids=ids))
