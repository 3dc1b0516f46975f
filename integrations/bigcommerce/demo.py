"""Demo data: a BigCommerce connection to a local fake store, beside the demo Shopify.

Registered with ``erp.demo`` (order 31, after the demo Shopify's 30: its products are ours too),
run by ``manage.py seed_demo``; ``integrations.apps`` imports every connector package's demo.

* The fake is integrations.bigcommerce.fake (one in-memory store per process). With the fakes on
  (DEBUG or ERP_DEMO_FAKES) the hub serves it at /integrations/fake-bigcommerce/ (the generic
  route of connector fakes) and the hub's HTTP client is routed to it in-process
  (``install_fakes``), so seeding and the connection work without a running server.
* The connection "Demo BigCommerce store" points ``base_url`` at that address (ERP_DEMO_BASE_URL),
  uses the fake's token and app secret, maps the MAIN warehouse to the store's location 1, and
  sells through a sales channel of its own, "bigcommerce-demo", on MAIN.
* The store's variants are linked to our products by SKU (ExternalRef "variant" with the product
  id BigCommerce adjusts stock by): the tents and the sleeping bag; the stove is STOVE-TITANIUM
  here and STOVE-TI-01 there (the demo Shopify's quarantine example), so it stays unlinked.
* Idempotent: the channel, connection and refs are looked up by natural key.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import transaction

from erp import demo
from integrations.models import Connection, ExternalRef
from inventory.models import Product, Warehouse

DEMO_NAME = "Demo BigCommerce store"
FAKE_PATH = "fake-bigcommerce"
CHANNEL_CODE = "bigcommerce-demo"
CHANNEL_NAME = "BigCommerce demo store"
WAREHOUSE_CODE = "MAIN"
LOCATION_ID = 1
WEBHOOK_SECRET = "bc-demo-header-secret"


def fakes_enabled() -> bool:
    return bool(settings.ERP_DEMO_FAKES)


def demo_base_url() -> str:
    return f"{str(settings.ERP_DEMO_BASE_URL).rstrip('/')}/integrations/{FAKE_PATH}"


def install_fakes() -> None:
    """Route the hub's requests to the demo base URL to this process's fake store (no network)."""
    import httpx

    from integrations import http
    from integrations.bigcommerce.fake import shared_fake

    http.mount(demo_base_url(), httpx.WSGITransport(app=shared_fake()))


def install_fakes_for_serving() -> None:
    """Mount the fake store for a served app (the URL conf calls this once); tests mount their own."""
    if fakes_enabled():
        install_fakes()


def is_demo(connection: Connection) -> bool:
    base = str((connection.settings or {}).get("base_url") or "")
    return connection.connector == "bigcommerce" and base.rstrip("/") == demo_base_url()


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
    from integrations.bigcommerce.fake import ACCESS_TOKEN, CLIENT_SECRET, STORE_HASH
    from integrations.connections import connection_create

    connection = Connection.objects.filter(name=DEMO_NAME).first()
    if connection is not None:
        return connection
    return connection_create(
        connector="bigcommerce",
        name=DEMO_NAME,
        settings={"store_hash": STORE_HASH, "location_id": LOCATION_ID, "base_url": demo_base_url()},
        secrets={
            "access_token": ACCESS_TOKEN,
            "webhook_secret": WEBHOOK_SECRET,
            "client_secret": CLIENT_SECRET,
        },
        warehouse=warehouse,
        sales_channel=_channel(warehouse),
    )


def _refs(connection: Connection) -> list[str]:
    """The store's variants linked to our products of the same SKU; the SKUs linked."""
    from integrations.bigcommerce import fake_data

    product_type = ContentType.objects.get_for_model(Product)
    variants = {
        entry["variant"]["sku"]: entry["variant"]
        for product in fake_data.seed_catalogue()
        for entry in product["variants"]
    }
    ours = {p.sku: p for p in Product.objects.filter(sku__in=list(variants), is_active=True)}
    linked = []
    for sku, variant in sorted(variants.items()):
        product = ours.get(sku)
        if product is None:
            continue
        ExternalRef.objects.get_or_create(
            connection=connection,
            object_type="variant",
            external_id=str(variant["id"]),
            defaults={
                "content_type": product_type,
                "object_id": product.pk,
                "extra": {"product_id": variant["product_id"]},
            },
        )
        linked.append(sku)
    return linked


@transaction.atomic
def seed_bigcommerce() -> list[str]:
    from integrations import registry

    try:
        registry.get("bigcommerce")
    except registry.UnknownConnector:
        return ["integrations: no BigCommerce connector installed, no demo connection"]
    if fakes_enabled():
        install_fakes()
    warehouse = (
        Warehouse.objects.filter(code=WAREHOUSE_CODE).first() or Warehouse.objects.order_by("code").first()
    )
    connection = _connection(warehouse)
    linked = _refs(connection)
    return [
        f"integrations: connection '{connection.name}' (id {connection.pk}) to the fake BigCommerce at "
        f"{demo_base_url()}/; {len(linked)} SKUs linked ({', '.join(linked) or 'none'})"
    ]


demo.register(31, "integrations-bigcommerce", seed_bigcommerce)
