"""Amazon's part in the simulated day (``integrations.simulate``): a fake seller account selling the
same four products as the other channels, merchant-fulfilled from our warehouse, and an enamel mug
Amazon fulfils from its own stock (FBA).

Amazon's buyers check out orders that are Pending until Amazon authorises the payment (a few
minutes later, when the day's Amazon authorises every order older than ``AUTHORISE_AFTER``); some
are cancelled before they ship; Amazon ships the FBA ones itself. Amazon sends no webhooks: every
order reaches the hub by the day's polls, and only two minutes after its last change (getOrders'
rule), so its time to consistency is the poll's interval and more. The day's API faults apply to
the fake's operations (429 QuotaExceeded, 5xx, timeouts, slow answers), every access token expires
once (403 until Login with Amazon issues a new one), and one stock PATCH is refused with 400.
"""

from __future__ import annotations

import datetime
import random
from decimal import Decimal
from typing import Any, ClassVar

from integrations.amazon.connector import LWA_URL, REGIONS
from integrations.amazon.fake import (
    LWA_CLIENT_ID,
    LWA_CLIENT_SECRET,
    MARKETPLACE_ID,
    REFRESH_TOKEN,
    SELLER_ID,
    FakeAmazon,
    OutOfStock,
)
from integrations.amazon.fake_data import RATE_LIMITS
from integrations.connections import connection_create
from integrations.fakes.clock import Clock
from integrations.fakes.ratelimit import TokenBucket
from integrations.models import Connection
from integrations.simulate.consistency import Change
from integrations.simulate.faults import Faults
from integrations.simulate.tools import ChannelTool, Send

STOCK_RESOURCE = "patchListingsItem"
DOCUMENTS = "https://tortuga-prod-na.s3-external-1.amazonaws.com"
SKUS = ("TENT-2P-GRN", "TENT-2P-ORG", "SLBAG-20F-REG", "STOVE-TI-01")
FBA_SKU = "MUG-ENAMEL-FBA"
AUTHORISE_AFTER = datetime.timedelta(minutes=4)
POLL_EVERY = datetime.timedelta(minutes=2)  # orders come only by polling: more often than the safety net


class Tool(ChannelTool):
    key: ClassVar[str] = "amazon"
    origin: ClassVar[str] = REGIONS["na"]
    more_origins: ClassVar[tuple[str, ...]] = (LWA_URL.removesuffix("/auth/o2/token"), DOCUMENTS)
    stock_resource: ClassVar[str] = STOCK_RESOURCE
    sends_webhooks: ClassVar[bool] = False

    def __init__(self, *, clock: Clock, rng: random.Random, faults: Faults) -> None:
        super().__init__(clock=clock, rng=rng, faults=faults)
        self._fake = FakeAmazon(clock=clock, documents_url=DOCUMENTS)
        self.location = "DEFAULT"
        self.pending: dict[str, datetime.datetime] = {}  # order id -> when it was placed
        self.authorise_after = AUTHORISE_AFTER
        self.poll_every = POLL_EVERY

    @property
    def fake(self) -> FakeAmazon:
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
            name=f"Simulated Amazon {tag}",
            warehouse=warehouse,
            kind=ChannelKind.MARKETPLACE,
        )
        settings: dict[str, Any] = {
            "marketplace_ids": [MARKETPLACE_ID],
            "seller_id": SELLER_ID,
            "read_buyer_data": True,
        }
        if served_at:  # one port answers for the SP-API, Login with Amazon and the documents
            settings |= {"endpoint": served_at, "lwa_endpoint": f"{served_at}/auth/o2/token"}
            self._fake.documents_url = served_at
            # The day runs on the wall clock, its minutes passing SCALE times faster: so do
            # Amazon's two minutes, its payment authorisations and the hub's polls of it.
            from integrations.simulate.workers import SCALE

            self._fake.orders_lag = self._fake.orders_lag / SCALE
            self.authorise_after = self.authorise_after / SCALE
            self.poll_every = self.poll_every / SCALE
            # Amazon's per-operation limits pass as fast too, here and in the hub's buckets
            # (INTEGRATIONS_RATE_SCALE): getOrders' one request a minute is one a second.
            self._fake.buckets = {
                name: TokenBucket(float(rate) * SCALE, burst, self._fake.clock.monotonic)
                for name, (rate, burst) in RATE_LIMITS.items()
            }
        self.connection = connection_create(
            connector=self.key,
            name=f"Simulated Amazon US {tag}",
            settings=settings,
            secrets={
                "lwa_client_id": LWA_CLIENT_ID,
                "lwa_client_secret": LWA_CLIENT_SECRET,
                "refresh_token": REFRESH_TOKEN,
                "access_token": self._fake.access_token(),
            },
            warehouse=warehouse,
            sales_channel=channel,
        )
        product_type = ContentType.objects.get_for_model(Product)
        for sku in (*SKUS, FBA_SKU):
            listing = self._fake.listings[sku]
            product = Product.objects.filter(sku=sku).first()
            if product is None:
                product = product_create(
                    sku=sku, name=str(listing["title"]), sale_price=Decimal(listing["price"]), currency="USD"
                )
            if sku == FBA_SKU:
                continue  # Amazon's stock: sold here, never pushed
            # linked by SKU, as "import listings" does: the hub pushes this listing's quantity
            ExternalRef.objects.get_or_create(
                connection=self.connection,
                object_type="variant",
                external_id=sku,
                defaults={
                    "content_type": product_type,
                    "object_id": product.pk,
                    "extra": {"product_type": listing["productType"]},
                },
            )
            self._fake.set_quantity(sku, stock)
        return self.connection

    # --- no webhooks -------------------------------------------------------------------------------

    def deliver(self, send: Send, *, reorder: bool) -> None:
        """Nothing: Amazon sends no HTTP webhooks (its orders are polled). Amazon authorises the
        payment of the orders that have waited long enough."""
        self._authorise_due()

    def webhook_counts(self) -> dict[str, int]:
        return {}

    def webhooks_pending(self) -> bool:
        """No webhooks; but orders whose payment Amazon has still to authorise keep the day going."""
        return bool(self.pending)

    def inject_webhook_faults(self) -> None:
        """None: there are no webhooks to duplicate or drop (the API's faults still come)."""

    # --- faults ------------------------------------------------------------------------------------

    def expire_tokens(self) -> None:
        self._fake.expire_tokens()

    def refuse_for_good(self) -> None:
        """Amazon refuses the next Listings PATCH with 400 InvalidInput (no retry helps)."""
        body = {
            "errors": [
                {
                    "code": "InvalidInput",
                    "message": "Invalid input",
                    "details": "The product type does not accept fulfillment_availability for this SKU.",
                }
            ]
        }
        self._fake.fail_next(1, status=400, match=STOCK_RESOURCE, body=body)
        self.injected.append(
            {"tool": self.key, "resource": STOCK_RESOURCE, "status": 400, "topics": self.stock_topics()}
        )
        self.api_faults["permanent_400"] += 1

    # --- buyers and Amazon -----------------------------------------------------------------------

    def _authorise_due(self) -> None:
        now = self.clock()
        for order_id, placed in list(self.pending.items()):
            if now - placed < self.authorise_after:
                continue
            del self.pending[order_id]
            if self._fake.order(order_id)["OrderStatus"] == "Pending":
                self._fake.authorize_payment(order_id)
                self.actions["payment_authorised"] += 1

    def place_order(self) -> Change:
        self._authorise_due()
        rng = self.rng
        if rng.random() < 0.15:
            lines = [(FBA_SKU, rng.choice((1, 1, 2)))]
            channel = "AFN"
        else:
            picked = rng.sample(list(SKUS), k=rng.choice((1, 1, 2)))
            lines = [(sku, rng.choice((1, 1, 2))) for sku in picked]
            channel = "MFN"
        pending = rng.random() < 0.6
        try:
            placed = self._fake.place_order(
                lines,
                fulfillment_channel=channel,
                pending=pending,
                promotion=rng.random() < 0.2,
                gift_wrap=rng.random() < 0.05,
                shipping=rng.choice(("free", "free", "standard", "expedited")),
            )
        except OutOfStock:
            self.actions["refused_out_of_stock"] += 1
            skus = tuple(sku for sku, _ in lines)
            return Change(self.key, "refused_out_of_stock", self.clock(), orders=(), skus=skus)
        order_id = str(placed["AmazonOrderId"])
        self.placed.append(order_id)
        if pending:
            self.pending[order_id] = self.clock()
        self.actions["ordered_fba" if channel == "AFN" else "ordered"] += 1
        # Amazon's own stock (FBA) is not ours to agree on: only the merchant-fulfilled SKUs are.
        skus = tuple(sorted({sku for sku, _ in lines})) if channel == "MFN" else ()
        return Change(self.key, "ordered", self.clock(), orders=(order_id,), skus=skus)

    def change_in_tool(self) -> Change | None:
        self._authorise_due()
        if not self.placed:
            return None
        rng, fake = self.rng, self._fake
        order_id = rng.choice(self.placed)
        order = fake.order(order_id)
        status, channel = order["OrderStatus"], order["FulfillmentChannel"]
        skus = tuple(sorted({str(i["SellerSKU"]) for i in fake.order_items(order_id)} - {FBA_SKU}))
        if channel == "AFN" and status == "Unshipped":
            fake.ship_fba(order_id)  # Amazon ships it from its warehouse
            self.actions["shipped_by_amazon"] += 1
            return Change(self.key, "shipped_in_tool", self.clock(), orders=(order_id,), skus=skus)
        if status not in ("Pending", "Unshipped") or self.shipped_here(order_id):
            return None
        fake.cancel_order(
            order_id, reason=rng.choice(("BuyerCanceled", "NoInventory", "ShippingAddressUndeliverable"))
        )
        self.pending.pop(order_id, None)
        self.actions["cancelled"] += 1
        return Change(self.key, "cancelled", self.clock(), orders=(order_id,), skus=skus)

    def snapshot(self, order_ids: Any = None) -> dict[str, Any]:
        ids = None if order_ids is None else [str(i) for i in order_ids]
        return dict(self._fake.snapshot(order_ids=ids))
