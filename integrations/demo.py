"""Demo data of the hub: a Shopify connection to a local fake shop, so a new user sees orders arrive.

Registered with ``erp.demo`` (order 30, after sales' 20), run by ``manage.py seed_demo``.

* The fake is integrations.shopify.fake (one in-memory shop per process). In DEBUG, or
  with ERP_DEMO_FAKES on, this app serves it at /integrations/fake-shopify/ (its Admin
  API, and a small status page with its orders and inventory levels), and the hub's
  HTTP client is routed to it in-process (``install_fakes``), so no request leaves the
  machine and seeding works without a running server.
* The connection "Demo Shopify store" points its ``base_url`` at that address
  (ERP_DEMO_BASE_URL, default http://127.0.0.1:8000, as ``make run`` serves), maps the
  MAIN warehouse and a sales channel of its own, "shopify-demo" (the sales demo's
  "shopify" channel has its own history of #10xx orders, which the fake's order numbers
  would collide with), and carries the fake's token and its app's client id and secret: it
  works at once with the static token, and "Connect to Shopify" on its page signs in through
  the fake's consent page (served here too, at .../admin/oauth/authorize) for a token of its own.
* The shop sells four products; the hub has them too. Three have the same SKU here
  and are mapped (ExternalRef "sku" and "variant", with the fake's inventory item ids,
  so stock changes are pushed out); the stove is STOVE-TITANIUM here and STOVE-TI-01 in
  the shop, left unmapped on purpose: an order with a stove waits in the quarantine
  until someone maps the SKU there.
* "Simulate a Shopify order" on the connection's page (``simulate_order``) asks the
  fake for a new order, signs its orders/create webhook as Shopify does and hands it to
  the connection's hook endpoint.
* Idempotent: products, the connection and the refs are looked up by natural key
  (SKU, name, external id) and only what is missing is created.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.urls import reverse

from erp import demo
from integrations import hooks
from integrations.models import Connection, ExternalRef, InboundEvent
from inventory.models import Product, Warehouse

DEMO_NAME = "Demo Shopify store"
FAKE_PATH = "fake-shopify"
CHANNEL_CODE = "shopify-demo"
CHANNEL_NAME = "Shopify demo store"
WAREHOUSE_CODE = "MAIN"


@dataclass(frozen=True)
class DemoProduct:
    shop_sku: str  # the variant's SKU in the fake shop
    sku: str  # ours
    name: str
    price: str
    stock: int
    mapped: bool = True


PRODUCTS = (
    DemoProduct("TENT-2P-GRN", "TENT-2P-GRN", "Trail Tent 2P, green", "249.00", 40),
    DemoProduct("TENT-2P-ORG", "TENT-2P-ORG", "Trail Tent 2P, orange", "249.00", 25),
    DemoProduct("SLBAG-20F-REG", "SLBAG-20F-REG", "Down Sleeping Bag 20F, regular", "179.00", 30),
    DemoProduct("STOVE-TI-01", "STOVE-TITANIUM", "Titanium Stove", "59.00", 20, mapped=False),
)


def fakes_enabled() -> bool:
    """The local fakes are served in DEBUG, or when ERP_DEMO_FAKES is on."""
    return bool(settings.ERP_DEMO_FAKES)


def demo_base_url() -> str:
    origin = str(settings.ERP_DEMO_BASE_URL).rstrip("/")
    return f"{origin}/integrations/{FAKE_PATH}"


def install_fakes() -> None:
    """Route the hub's requests to the demo base URL to this process's fake shop (no network)."""
    import httpx

    from integrations import http
    from integrations.shopify.fake import shared_fake

    http.mount(demo_base_url(), httpx.WSGITransport(app=shared_fake()))


def install_fakes_for_serving() -> None:
    """Mount the fake shop for a served app (the URL conf calls this once); tests mount their own."""
    if fakes_enabled():
        install_fakes()


def is_demo(connection: Connection) -> bool:
    base = str((connection.settings or {}).get("base_url") or "")
    return connection.connector == "shopify" and base.rstrip("/") == demo_base_url()


def page_info(connection: Connection) -> dict[str, Any] | None:
    """What the connection page shows about the demo (None: not the demo connection, or fakes off)."""
    if not fakes_enabled() or not is_demo(connection):
        return None
    return {"status_url": reverse("integrations:fake-shopify")}


# --- simulating an order -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Simulated:
    order: dict[str, Any]
    status_code: int
    answer: str
    event: InboundEvent | None


def simulate_order(
    *,
    connection: Connection,
    host: str = "localhost",
    unknown_sku: bool = False,
    rng: random.Random | None = None,
) -> Simulated:
    """A shopper orders in the fake shop; its signed orders/create webhook reaches our hook endpoint.

    The order sells one or two of the mapped products; with ``unknown_sku`` also the stove,
    whose SKU is not mapped here, so the order waits in the quarantine.
    """
    from integrations.shopify.fake import shared_fake

    rng = rng or random.Random()
    fake = shared_fake()
    mapped = [p.shop_sku for p in PRODUCTS if p.mapped]
    picked = rng.sample(mapped, k=rng.choice((1, 1, 2)))
    if unknown_sku:
        picked += [p.shop_sku for p in PRODUCTS if not p.mapped]
    order = fake.create_order([(sku, rng.choice((1, 1, 2))) for sku in picked])
    headers, body = fake.webhook("orders/create", order)  # signed with the shop's app secret, as Shopify does
    status, answer = hooks.post_in_process(connection, headers, body, host)
    event = InboundEvent.objects.filter(
        connection=connection,
        external_id__in=[headers["X-Shopify-Webhook-Id"], headers["X-Shopify-Event-Id"]],
    ).first()
    return Simulated(order=order, status_code=status, answer=answer, event=event)


# --- the seeder ------------------------------------------------------------------------------------


def _products(warehouse: Warehouse | None) -> dict[str, Product]:
    from inventory.services import product_create, stock_receive, warehouse_default_location

    existing = {p.sku.upper(): p for p in Product.objects.filter(sku__in=[d.sku for d in PRODUCTS])}
    products = {}
    for spec in PRODUCTS:
        product = existing.get(spec.sku.upper())
        if product is None:
            product = product_create(
                sku=spec.sku, name=spec.name, sale_price=Decimal(spec.price), currency="USD"
            )
            if warehouse is not None:
                stock_receive(
                    product=product,
                    location=warehouse_default_location(warehouse),
                    quantity=spec.stock,
                    unit_cost=(Decimal(spec.price) * Decimal("0.45")).quantize(Decimal("0.01")),
                )
        products[spec.shop_sku] = product
    return products


def _channel(warehouse: Warehouse | None) -> Any:
    from sales.models import ChannelKind, SalesChannel
    from sales.services import channel_create

    channel = SalesChannel.objects.filter(code=CHANNEL_CODE).first()
    if channel is None and warehouse is not None:
        channel = channel_create(
            code=CHANNEL_CODE,
            name=CHANNEL_NAME,
            warehouse=warehouse,
            kind=ChannelKind.WEB_STORE,
            currency="USD",
        )
    return channel


def _connection(warehouse: Warehouse | None) -> Connection:
    from integrations.connections import connection_create, connection_update
    from integrations.shopify import fake_data

    connection = Connection.objects.filter(name=DEMO_NAME).first()
    if connection is not None:
        if is_demo(connection) and not connection.get_secrets().get("client_id"):
            # seeded before the sign-in: the app's client id is what is missing
            connection = connection_update(connection=connection, secrets={"client_id": fake_data.CLIENT_ID})
        return connection
    return connection_create(
        connector="shopify",
        name=DEMO_NAME,
        settings={
            "shop_domain": fake_data.SHOP_DOMAIN,
            "api_version": fake_data.API_VERSION,
            "location_id": fake_data.LOCATION_ID,
            "base_url": demo_base_url(),
        },
        secrets={
            "access_token": fake_data.ACCESS_TOKEN,
            "client_id": fake_data.CLIENT_ID,
            "client_secret": fake_data.CLIENT_SECRET,
        },
        warehouse=warehouse,
        sales_channel=_channel(warehouse),
    )


def _refs(connection: Connection, products: dict[str, Product]) -> int:
    """SKU and variant mappings of the mapped products (with the fake's inventory item ids)."""
    from integrations.shopify import fake_data

    product_type = ContentType.objects.get_for_model(Product)
    variants = {v["sku"]: v for p in fake_data.seed_products() for v in p["variants"]}
    created = 0
    for spec in PRODUCTS:
        if not spec.mapped or spec.shop_sku not in variants:
            continue
        product, variant = products[spec.shop_sku], variants[spec.shop_sku]
        for object_type, external_id, extra in (
            ("sku", spec.shop_sku, {}),
            ("variant", str(variant["id"]), {"inventory_item_id": variant["inventory_item_id"]}),
        ):
            _, made = ExternalRef.objects.get_or_create(
                connection=connection,
                object_type=object_type,
                external_id=external_id,
                defaults={"content_type": product_type, "object_id": product.pk, "extra": extra},
            )
            created += made
    return created


@transaction.atomic
def seed_integrations() -> list[str]:
    from integrations import registry

    try:
        registry.get("shopify")
    except registry.UnknownConnector:
        return ["integrations: no Shopify connector installed, no demo connection"]
    if fakes_enabled():
        install_fakes()
    warehouse = (
        Warehouse.objects.filter(code=WAREHOUSE_CODE).first() or Warehouse.objects.order_by("code").first()
    )
    products = _products(warehouse)
    connection = _connection(warehouse)
    _refs(connection, products)
    unmapped = ", ".join(p.shop_sku for p in PRODUCTS if not p.mapped)
    return [
        f"integrations: connection '{connection.name}' (id {connection.pk}) to the fake Shopify at "
        f"{demo_base_url()}/; {sum(p.mapped for p in PRODUCTS)} SKUs mapped, "
        f"{unmapped} left for the quarantine"
    ]


demo.register(30, "integrations", seed_integrations)
