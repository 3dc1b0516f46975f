"""What the hub's page, API and command tests share: users by role, a Shopify connection to a fake
shop (mounted on the hub's HTTP client), and rows of every kind the pages list (made by the factories
of tests/integrations/factories.py).

Test modules import the fixtures they use by their function names (``connection_fixture``…);
tests ask for them by name (``connection``).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from django.test import Client
from django.utils import timezone

from erp.models import OutboxEvent
from integrations.connections import connection_create
from integrations.http import mounted
from integrations.models import (
    Connection,
    Delivery,
    DeliveryStatus,
    Drift,
    InboundEvent,
    InboundStatus,
    SyncJob,
    SyncRun,
    SyncRunStatus,
    WebhookSubscription,
)
from integrations.shopify.fake import ACCESS_TOKEN, CLIENT_SECRET, LOCATION_ID, SHOP_DOMAIN, FakeShopify
from inventory.models import Product
from tests.erp.factories import UserFactory
from tests.integrations.factories import (
    DeliveryFactory,
    DriftFactory,
    ExternalRefFactory,
    InboundEventFactory,
    OutboxEventFactory,
    RequestLogFactory,
    SyncRunFactory,
)
from tests.inventory.factories import warehouse
from tests.sales.factories import ChannelFactory, stocked_product

SHOP_URL = f"https://{SHOP_DOMAIN}"
HTMX = {"HTTP_HX_REQUEST": "true"}


def htmx(target: str = "") -> dict[str, str]:
    return {**HTMX, "HTTP_HX_TARGET": target} if target else dict(HTMX)


def client_for(username: str, *roles: str, **fields: Any) -> Client:
    client = Client()
    client.force_login(UserFactory(username=username, roles=list(roles), **fields))
    return client


def shopify_settings(**overrides: Any) -> dict[str, Any]:
    return {"shop_domain": SHOP_DOMAIN, "api_version": "2025-07", "location_id": LOCATION_ID, **overrides}


SECRETS = {"access_token": ACCESS_TOKEN, "client_secret": CLIENT_SECRET}


@pytest.fixture(name="admin")
def admin_fixture(db) -> Client:
    """An integration admin (integrations:write)."""
    return client_for("ines", "Integration admin")


@pytest.fixture(name="reader")
def reader_fixture(db) -> Client:
    """The operations manager reads integrations but does not write them."""
    return client_for("otto", "Operations manager")


@pytest.fixture(name="outsider")
def outsider_fixture(db) -> Client:
    """A sales clerk: no integrations right at all."""
    return client_for("sam", "Sales")


@pytest.fixture(name="fake")
def fake_fixture() -> FakeShopify:
    return FakeShopify()


@pytest.fixture(name="shop")
def shop_fixture(fake: FakeShopify) -> Iterator[FakeShopify]:
    with mounted(SHOP_URL, httpx.MockTransport(fake.handle)):
        yield fake


@pytest.fixture(name="connection")
def connection_fixture(db) -> Connection:
    wh = warehouse("WH1")
    return connection_create(
        connector="shopify",
        name="Acme Outdoors",
        settings=shopify_settings(),
        secrets=SECRETS,
        warehouse=wh,
        sales_channel=ChannelFactory(code="shopify", name="Shopify", warehouse=wh),
    )


def product_ref(
    connection: Connection, product: Product, object_type: str, external_id: str, **extra: Any
) -> Any:
    return ExternalRefFactory.create(
        connection=connection, object_type=object_type, external_id=external_id, internal=product, extra=extra
    )


def mapped_variant(connection: Connection, fake: FakeShopify, sku: str, stock: int) -> Product:
    """A product with the shop's SKU, stocked in WH1, linked to the shop's variant (so it is pushed)."""
    product = stocked_product(stock, sku=sku, wh=warehouse("WH1"))
    variant = fake.variant_by_sku(sku)
    product_ref(
        connection, product, "variant", str(variant["id"]), inventory_item_id=variant["inventory_item_id"]
    )
    return product


def outbox_event(topic: str = "inventory.level_changed", **payload: Any) -> OutboxEvent:
    """An event as the outbox holds it; a level change of a product that no longer exists (pushing it
    is skipped), unless a payload is given."""
    return OutboxEventFactory.create(topic=topic, **({"payload": payload} if payload else {}))


def delivery(
    *,
    connection: Connection | None = None,
    subscription: WebhookSubscription | None = None,
    status: str = DeliveryStatus.DEAD,
    topic: str = "inventory.level_changed",
) -> Delivery:
    return DeliveryFactory.create(
        connection=connection,
        subscription=subscription,
        topic=topic,
        status=status,
        dead=status == DeliveryStatus.DEAD,
    )


def inbound_event(
    connection: Connection,
    *,
    status: str = InboundStatus.PROCESSED,
    topic: str = "orders/create",
    **fields: Any,
) -> InboundEvent:
    return InboundEventFactory.create(connection=connection, status=status, topic=topic, **fields)


def quarantined(connection: Connection, sku: str) -> InboundEvent:
    return inbound_event(
        connection,
        status=InboundStatus.QUARANTINED,
        missing={"kind": "sku", "value": sku},
        last_error=f"No product for SKU {sku}.",
    )


def drift(connection: Connection, *, label: str = "TENT-2P-GRN", healable: bool = False) -> Drift:
    return DriftFactory.create(connection=connection, label=label, healable=healable)


def sync_run(connection: Connection, *, requests: int = 1, job: str = SyncJob.POLL) -> SyncRun:
    now = timezone.now()
    run = SyncRunFactory.create(
        connection=connection,
        job=job,
        object_type="order",
        status=SyncRunStatus.SUCCEEDED,
        started_at=now - timedelta(seconds=2),
        finished_at=now,
        created=1,
    )
    for i in range(requests):
        RequestLogFactory.create(
            sync_run=run,
            url=f"{SHOP_URL}/admin/api/2025-07/orders.json?page={i}",
            request_headers={"X-Shopify-Access-Token": "[redacted]"},
        )
    return run
