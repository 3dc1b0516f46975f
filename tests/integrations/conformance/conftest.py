"""The conformance kit's wiring: one run of every case per connector, each against its own fake.

Connectors: every registered one (``registry.all_connectors()`` at collection) plus the
kit's own test-only connectors (``KIT_CONNECTORS``), which are registered for the
duration of each test only, so the rest of the suite never sees them.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from integrations import http, outbound, registry
from integrations.connections import connection_create
from integrations.contract import Connector
from integrations.models import Connection, Delivery, DeliveryStatus
from inventory.models import Product, Warehouse
from inventory.services import stock_receive
from tests.integrations.conformance.harness import Harness, harness_class
from tests.integrations.conformance.minimal.connector import MinimalConnector
from tests.integrations.factories import ExternalRefFactory
from tests.inventory.factories import bin_of, warehouse
from tests.sales.factories import ChannelFactory, stocked_product

KIT_CONNECTORS: tuple[type[Connector], ...] = (MinimalConnector,)
HUB_STOCK = 10


def connectors_under_test() -> list[type[Connector]]:
    found = {c.key: c for c in registry.all_connectors()}
    for connector in KIT_CONNECTORS:
        found.setdefault(connector.key, connector)
    return [found[key] for key in sorted(found)]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "connector_cls" in metafunc.fixturenames:
        connectors = connectors_under_test()
        metafunc.parametrize("connector_cls", connectors, ids=[c.key for c in connectors])


@dataclass
class Kit:
    """One connection of the connector under test, its fake tool, and the hub's side of a store."""

    harness: Harness
    connection: Connection
    product: Product
    warehouse: Warehouse
    client: Any
    capture: Any

    def post(self, headers: dict[str, str], body: bytes):
        with self.capture(execute=True):
            return self.client.post(
                reverse("integrations:hook", args=[self.connection.pk]),
                data=body,
                content_type=headers.get("Content-Type", "application/json"),
                headers={k: v for k, v in headers.items() if k.lower() != "content-type"},
            )

    def receive_stock(self, quantity: int = 1) -> None:
        """A stock change in the hub: its outbox event fans out a (coalesced) push delivery."""
        with self.capture(execute=True):
            stock_receive(
                product=self.product, location=bin_of(self.warehouse), quantity=quantity, unit_cost=1
            )

    def run_due_deliveries(self) -> list[Delivery]:
        """Let the coalescing window (or a backoff) pass and attempt what is due."""
        open_ = Delivery.objects.filter(
            connection=self.connection, status__in=[DeliveryStatus.PENDING, DeliveryStatus.FAILED]
        )
        open_.update(next_attempt_at=timezone.now() - datetime.timedelta(seconds=1))
        with self.capture(execute=True):
            outbound.deliveries_enqueue_due()
        return list(Delivery.objects.filter(connection=self.connection, topic="inventory.level_changed"))


@pytest.fixture
def harness(connector_cls):
    try:
        known = registry.get(connector_cls.key)
    except registry.UnknownConnector:
        known = None
    if known is None:
        registry.register(connector_cls)
    try:
        try:
            tool = harness_class(connector_cls)()
        except LookupError as exc:
            pytest.fail(str(exc))
        with http.mounted(tool.base_url, tool.transport()):
            yield tool
    finally:
        if known is None:
            registry.unregister(connector_cls.key)


@pytest.fixture
def kit(harness, db, client, django_capture_on_commit_callbacks) -> Kit:
    wh = warehouse("WH1")
    channel = ChannelFactory(warehouse=wh)
    product = stocked_product(HUB_STOCK, wh=wh, price="10.00", sku=harness.sku)
    connection = connection_create(
        connector=harness.connector.key,
        name=f"{harness.connector.name} under test",
        settings=harness.settings(),
        secrets=harness.secrets(),
        warehouse=wh,
        sales_channel=channel,
    )
    external_id, extra = harness.variant(harness.sku)
    ExternalRefFactory(connection=connection, external_id=external_id, internal=product, extra=extra)
    return Kit(harness, connection, product, wh, client, django_capture_on_commit_callbacks)
