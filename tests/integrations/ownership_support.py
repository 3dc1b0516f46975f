"""A 3PL for the ownership tests: Acme's warehouse service, which owns the on-hand in its warehouse.

``DepotConnector`` is Acme (tests/integrations/fake_tool.py) as a 3PL: it sends its counts
(INVENTORY_IN, webhook topic ``inventory.counted``), takes inventory levels (INVENTORY_OUT, so the
echo it must not get back is a real risk) and declares ``tool_owns = {"inventory"}``: by default
its warehouse's stock is its truth. It talks to the same fake (``AcmeFake``) at acme.test.

Test modules import the fixtures they use by their function names (``depot_fixture``…) and ask for
them by name (``depot``, ``fake``).
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import Any

import pytest
from django.db import transaction

from integrations import appliers, http, registry
from integrations.appliers.refs import Applied
from integrations.contract import Action, Capability, InboundItem
from integrations.models import Connection, SyncJob, SyncRun
from integrations.records import InventoryLevelRecord
from inventory.models import Product, Warehouse
from tests.integrations.factories import ConnectionFactory, ExternalRefFactory
from tests.integrations.fake_tool import API_KEY, BASE_URL, T0, WEBHOOK_SECRET, AcmeConnector, AcmeFake
from tests.inventory.factories import warehouse

COUNTED = "inventory.counted"


def level_item(
    sku: str,
    on_hand: int | str,
    *,
    location: str = "",
    variant: str = "",
    counted_at: datetime.datetime | None = T0,
    committed: int | None = None,
) -> InboundItem:
    record = InventoryLevelRecord(
        sku=sku,
        location_external_id=location,
        on_hand=Decimal(str(on_hand)),
        variant_external_id=variant,
        counted_at=counted_at,
        committed=None if committed is None else Decimal(committed),
    )
    return InboundItem("inventory_level", f"{location}|{sku}", Action.UPSERT, counted_at, record)


class DepotConnector(AcmeConnector):
    key = "acme-depot"
    name = "Acme Depot (test 3PL)"
    capabilities = frozenset({Capability.INVENTORY_IN, Capability.INVENTORY_OUT})
    tool_owns = frozenset({"inventory"})
    topics = ("inventory.level_changed",)
    poll_object_types = ()
    reconcile_object_types = ("inventory",)
    webhook_topics = (COUNTED,)

    def parse_webhook(self, topic: str, headers: Mapping[str, str], body: bytes) -> list[InboundItem]:
        if topic != COUNTED:
            return super().parse_webhook(topic, headers, body)
        payload = json.loads(body)
        return [
            level_item(
                payload["sku"],
                payload["on_hand"],
                location=payload.get("location", ""),
                counted_at=datetime.datetime.fromisoformat(payload["counted_at"]),
            )
        ]


@pytest.fixture(name="fake")
def fake_fixture() -> AcmeFake:
    return AcmeFake()


@pytest.fixture(name="tools")
def tools_fixture(fake: AcmeFake) -> Iterator[AcmeFake]:
    """Acme and its 3PL registered, both served by the fake, for the test."""
    registry.register(AcmeConnector)
    registry.register(DepotConnector)
    try:
        with http.mounted("https://acme.test/", fake.transport()):
            yield fake
    finally:
        registry.unregister(DepotConnector.key)
        registry.unregister(AcmeConnector.key)


@pytest.fixture(name="depot")
def depot_fixture(db, tools: AcmeFake) -> Connection:
    """The 3PL's connection: its warehouse is WH1, it sells nothing."""
    return depot_connection()


def depot_connection(name: str = "Depot", wh: Warehouse | None = None) -> Connection:
    return ConnectionFactory.create(
        connector=DepotConnector.key,
        name=name,
        settings={"base_url": BASE_URL},
        secrets={"api_key": API_KEY, "webhook_secret": WEBHOOK_SECRET},
        warehouse=wh or warehouse("WH1"),
    )


def map_variant(connection: Connection, product: Product, variant: str) -> Any:
    return ExternalRefFactory.create(
        connection=connection, object_type="variant", external_id=variant, internal=product
    )


def apply_level(connection: Connection, item: InboundItem) -> Applied:
    """Apply one level as the inbound pipeline does: in a transaction, within a sync run."""
    run = SyncRun.objects.create(connection=connection, job=SyncJob.WEBHOOK)
    with transaction.atomic():
        return appliers.apply(connection, item, run)
