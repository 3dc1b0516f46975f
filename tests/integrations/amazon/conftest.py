"""Amazon through the whole hub: the fake SP-API at Amazon's three hosts (SP-API, Login with Amazon,
S3's pre-signed documents) on the hub's HTTP client, one simulated clock for the fake and the hub's
rate limits, a store selling the fake's SKUs and its connection (``hub_support`` has the helpers).
A module that defines a fixture of the same name (the fakes' own tests) uses its own."""

from __future__ import annotations

import contextlib
import datetime
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from integrations import ratelimits, tokens
from integrations.amazon.fake import FakeAmazon
from integrations.fakes.clock import SimClock
from integrations.http import mounted
from integrations.models import Connection
from tests.integrations.amazon.hub_support import DOCUMENTS, ORIGINS, SKUS, connect, poll
from tests.inventory.factories import warehouse
from tests.sales.factories import ChannelFactory, stocked_product


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> SimClock:
    """The fake's clock and the hub's rate-limit clock: one, an hour behind the wall clock (so the
    hub's own "two minutes before now" always lies ahead of the fake's)."""
    sim = SimClock(datetime.datetime.now(datetime.UTC).replace(microsecond=0) - datetime.timedelta(hours=1))
    monkeypatch.setattr(ratelimits, "now", sim)
    monkeypatch.setattr(ratelimits, "sleep", sim.sleep)
    monkeypatch.setattr(tokens, "sleep", sim.sleep)
    return sim


@pytest.fixture
def fake(clock: SimClock) -> Iterator[FakeAmazon]:
    amazon = FakeAmazon(clock=clock, documents_url=DOCUMENTS, feed_seconds=90)
    for sku in SKUS:
        amazon.set_quantity(sku, 10)  # as the hub last pushed it
    transport = httpx.MockTransport(amazon.handle)
    with contextlib.ExitStack() as stack:
        for origin in ORIGINS:
            stack.enter_context(mounted(origin, transport))
        yield amazon


@pytest.fixture
def store(db) -> dict[str, Any]:
    wh = warehouse("WH1")
    products = {sku: stocked_product(10, wh=wh, price=price, sku=sku) for sku, price in SKUS.items()}
    products["MUG-ENAMEL-FBA"] = stocked_product(0, wh=wh, price="14.50", sku="MUG-ENAMEL-FBA")
    return {"warehouse": wh, "products": products, "channel": ChannelFactory(warehouse=wh, currency="USD")}


@pytest.fixture
def amazon(store, fake, django_capture_on_commit_callbacks) -> Connection:
    """The connection, its listings imported (each linked by SKU to our product)."""
    connection = connect(store)
    run = poll(connection, django_capture_on_commit_callbacks, "product")
    assert run.created + run.updated == 4, run.errors
    return connection
