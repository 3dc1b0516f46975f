"""Demo data: an Amazon seller account (a local fake SP-API) beside the demo Shopify and BigCommerce.

Registered with ``erp.demo`` (order 32, after the demo Shopify's 30 and BigCommerce's 31: their
products are ours too), run by ``manage.py seed_demo``; ``integrations.apps`` imports every
connector package's demo.

* The fake is integrations.amazon.fake (one in-memory seller account per process), served at
  /integrations/fake-amazon/ with the fakes on (``integrations.demo_fakes``): its SP-API, its Login
  with Amazon token endpoint and its pre-signed documents all answer there, and the hub's client
  reaches it in-process.
* The connection "Demo Amazon US" sells in the US marketplace through a channel of its own,
  "amazon-demo" (a marketplace) on MAIN, reads buyer data (the fake grants restricted-data
  tokens), and holds the fake's app credentials and refresh token: its first request gets an
  access token from the fake's Login with Amazon. Each process has a fake of its own: the token
  seeding got (``manage.py seed_demo``) is one the served app's fake never issued, which it
  answers as Amazon answers a token it does not know (403 "revoked, malformed or invalid"), and
  the connection refreshes it once and goes on (``AmazonConnector.token_rejected``).
* Its merchant-fulfilled listings are linked to our products by SKU, as "Import listings" would:
  the tents and the sleeping bag; the stove is STOVE-TITANIUM here (unlinked, as in the other
  demos); the enamel mug is fulfilled by Amazon and never pushed.
* Idempotent: the channel, the connection and the refs are looked up by natural key.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from erp import demo
from integrations import demo_fakes
from integrations.models import Connection
from inventory.models import Warehouse

DEMO_NAME = "Demo Amazon US"
KEY = "amazon"
CHANNEL_CODE = "amazon-demo"
CHANNEL_NAME = "Amazon US demo"
WAREHOUSE_CODE = "MAIN"


def install_fakes() -> None:
    from integrations.amazon.fake import shared_fake

    fake = shared_fake()
    fake.documents_url = demo_fakes.fake_url(KEY)
    demo_fakes.mount(KEY, fake)


def install_fakes_for_serving() -> None:
    """Mount the fake for a served app (the URL conf calls this once); tests mount their own."""
    if demo_fakes.fakes_enabled():
        install_fakes()


def _channel(warehouse: Warehouse | None) -> Any:
    from sales.models import ChannelKind, SalesChannel
    from sales.services import channel_create

    channel = SalesChannel.objects.filter(code=CHANNEL_CODE).first()
    if channel is None and warehouse is not None:
        channel = channel_create(
            code=CHANNEL_CODE,
            name=CHANNEL_NAME,
            warehouse=warehouse,
            kind=ChannelKind.MARKETPLACE,
            currency="USD",
        )
    return channel


def _connection(warehouse: Warehouse | None) -> Connection:
    from integrations.amazon.fake import (
        LWA_CLIENT_ID,
        LWA_CLIENT_SECRET,
        MARKETPLACE_ID,
        REFRESH_TOKEN,
        SELLER_ID,
    )
    from integrations.connections import connection_create

    connection = Connection.objects.filter(name=DEMO_NAME).first()
    if connection is not None:
        return connection
    base = demo_fakes.fake_url(KEY)
    return connection_create(
        connector=KEY,
        name=DEMO_NAME,
        settings={
            "marketplace_ids": [MARKETPLACE_ID],
            "seller_id": SELLER_ID,
            "read_buyer_data": True,
            "endpoint": base,
            "lwa_endpoint": f"{base}/auth/o2/token",
        },
        secrets={
            "lwa_client_id": LWA_CLIENT_ID,
            "lwa_client_secret": LWA_CLIENT_SECRET,
            "refresh_token": REFRESH_TOKEN,
        },
        warehouse=warehouse,
        sales_channel=_channel(warehouse),
    )


def _refs(connection: Connection) -> list[str]:
    """The fake's merchant-fulfilled listings linked to our products of the same SKU (as importing
    the listings would, without creating products for the others); the SKUs linked."""
    from django.contrib.contenttypes.models import ContentType

    from integrations.amazon.fake_data import seed_listings
    from integrations.models import ExternalRef
    from inventory.models import Product

    listings = {sku: listing for sku, listing in seed_listings().items() if not listing["fba_only"]}
    ours = {p.sku: p for p in Product.objects.filter(sku__in=list(listings), is_active=True)}
    product_type = ContentType.objects.get_for_model(Product)
    linked = []
    for sku, listing in sorted(listings.items()):
        product = ours.get(sku)
        if product is None:
            continue
        ExternalRef.objects.get_or_create(
            connection=connection,
            object_type="variant",
            external_id=sku,
            defaults={
                "content_type": product_type,
                "object_id": product.pk,
                "extra": {"product_type": listing["productType"], "asin": listing["asin"]},
            },
        )
        linked.append(sku)
    return linked


@transaction.atomic
def seed_amazon() -> list[str]:
    from integrations import registry

    try:
        registry.get(KEY)
    except registry.UnknownConnector:
        return ["integrations: no Amazon connector installed, no demo connection"]
    if demo_fakes.fakes_enabled():
        install_fakes()
    warehouse = (
        Warehouse.objects.filter(code=WAREHOUSE_CODE).first() or Warehouse.objects.order_by("code").first()
    )
    connection = _connection(warehouse)
    linked = _refs(connection)
    return [
        f"integrations: connection '{connection.name}' (id {connection.pk}) to the fake Amazon SP-API at "
        f"{demo_fakes.fake_url(KEY)}/; {len(linked)} SKUs linked ({', '.join(linked) or 'none'})"
    ]


demo.register(32, "integrations-amazon", seed_amazon)
