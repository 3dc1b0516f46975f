"""Fixtures: a fresh fake Shopify, a Shopify connection pointed at it, and its connector.

The connector talks through the hub's real HTTP client (integrations.http.HubHttp);
``mounted`` routes the shop's URL to the fake, so nothing leaves the process.
"""

from __future__ import annotations

import httpx
import pytest

from integrations import registry
from integrations.connections import connection_create
from integrations.http import mounted
from integrations.shopify.connector import ShopifyConnector
from integrations.shopify.fake import ACCESS_TOKEN, CLIENT_SECRET, LOCATION_ID, SHOP_DOMAIN, FakeShopify

SHOP_URL = f"https://{SHOP_DOMAIN}"


def shopify_settings(**overrides):
    return {"shop_domain": SHOP_DOMAIN, "api_version": "2025-07", "location_id": LOCATION_ID, **overrides}


@pytest.fixture
def fake():
    return FakeShopify()


@pytest.fixture
def shop(fake):
    """The fake mounted at the shop's URL for the duration of the test."""
    with mounted(SHOP_URL, httpx.MockTransport(fake.handle)):
        yield fake


@pytest.fixture
def connection(db):
    return connection_create(
        connector="shopify",
        name="Acme Outdoors",
        settings=shopify_settings(),
        secrets={"access_token": ACCESS_TOKEN, "client_secret": CLIENT_SECRET},
    )


@pytest.fixture
def connector(connection, shop) -> ShopifyConnector:
    built = registry.connector_for(connection)
    assert isinstance(built, ShopifyConnector)
    return built
