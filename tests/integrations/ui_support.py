"""What the hub's page, API and command tests share: users by role, a Shopify connection to a fake
shop (mounted on the hub's HTTP client), and rows of every kind the pages list.

Test modules import the fixtures they use by their function names (``connection_fixture``…);
tests ask for them by name (``connection``).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from django.contrib.contenttypes.models import ContentType
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
    DriftStatus,
    ExternalRef,
    InboundEvent,
    InboundStatus,
    RequestLog,
    SyncJob,
    SyncRun,
    SyncRunStatus,
    WebhookSubscription,
)
from integrations.shopify.fake import ACCESS_TOKEN, CLIENT_SECRET, LOCATION_ID, SHOP_DOMAIN, FakeShopify
from inventory.models import Product
from tests.erp.factories import UserFactory
from tests.inventory.factories import warehouse
from tests.sales.factories import ChannelFactory, stocked_product

SHOP_URL = f"https://{SHOP_DOMAIN}"
HTMX = {"HTTP_HX_REQUEST": "true"}
_seq = itertools.count(1)


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
    return ExternalRef.objects.create(
        connection=connection,
        object_type=object_type,
        external_id=external_id,
        content_type=ContentType.objects.get_for_model(Product),
        object_id=product.pk,
        extra=extra,
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
    n = next(_seq)
    return OutboxEvent.objects.create(
        topic=topic,
        aggregate_type="test.thing",
        aggregate_id=str(n),
        sequence=1,
        payload=payload or {"n": n, "product_id": 0, "warehouse_id": 0, "available": "0"},
    )


def delivery(
    *,
    connection: Connection | None = None,
    subscription: WebhookSubscription | None = None,
    status: str = DeliveryStatus.DEAD,
    topic: str = "inventory.level_changed",
) -> Delivery:
    dead = status == DeliveryStatus.DEAD
    return Delivery.objects.create(
        event=outbox_event(topic),
        connection=connection,
        subscription=subscription,
        topic=topic,
        status=status,
        attempts=8 if dead else 0,
        last_status_code=503 if dead else None,
        last_error="Shop answered 503." if dead else "",
    )


def inbound_event(
    connection: Connection,
    *,
    status: str = InboundStatus.PROCESSED,
    topic: str = "orders/create",
    **fields: Any,
) -> InboundEvent:
    n = next(_seq)
    return InboundEvent.objects.create(
        connection=connection,
        external_id=f"evt-{n}",
        topic=topic,
        headers={"X-Shopify-Topic": topic},
        body=b'{"id": %d}' % n,
        status=status,
        **fields,
    )


def quarantined(connection: Connection, sku: str) -> InboundEvent:
    return inbound_event(
        connection,
        status=InboundStatus.QUARANTINED,
        missing={"kind": "sku", "value": sku},
        last_error=f"No product for SKU {sku}.",
    )


def drift(connection: Connection, *, label: str = "TENT-2P-GRN", healable: bool = False) -> Drift:
    return Drift.objects.create(
        connection=connection,
        object_type="inventory",
        external_id=str(next(_seq)),
        label=label,
        kind="quantity_mismatch",
        hub_value="40",
        tool_value="12",
        healable=healable,
        status=DriftStatus.OPEN,
    )


def sync_run(connection: Connection, *, requests: int = 1, job: str = SyncJob.POLL) -> SyncRun:
    now = timezone.now()
    run = SyncRun.objects.create(
        connection=connection,
        job=job,
        object_type="order",
        status=SyncRunStatus.SUCCEEDED,
        started_at=now - timedelta(seconds=2),
        finished_at=now,
        created=1,
    )
    for i in range(requests):
        RequestLog.objects.create(
            connection=connection,
            sync_run=run,
            method="GET",
            url=f"{SHOP_URL}/admin/api/2025-07/orders.json?page={i}",
            status_code=200,
            duration_ms=12,
            request_headers={"X-Shopify-Access-Token": "[redacted]"},
        )
    return run
