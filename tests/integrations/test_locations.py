"""Several locations per connection: our warehouses mapped to a tool's locations (for every connector
that declares a ``MappingKind`` whose ``ours`` is "warehouse"), and stock pushes batched.

Shown with Depots, a made-up channel whose tool keeps stock at locations "L1" and "L2" and takes
several stock items per request. What it was sent and what it holds are kept in memory.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from datetime import timedelta
from typing import Any, ClassVar

import pytest
from django.db import transaction
from django.utils import timezone

from erp import events
from integrations import outbound, reconcile, registry
from integrations.contract import Capability, MappingKind, PushContext, PushResult
from integrations.mappings import ToolChoices, mapping_set
from integrations.models import Connection, Delivery, DeliveryStatus, Drift, DriftStatus
from integrations.outbound_items import PUSHED_AT, STOCK_RECHECK
from integrations.records import InventoryOut, OutboundItem
from inventory.services import stock_receive
from tests.integrations.factories import ConnectionFactory
from tests.integrations.outbound_support import BASE, TinyConnector, map_variant
from tests.inventory.factories import ProductFactory, bin_of, warehouse
from tests.sales.factories import ChannelFactory

pytestmark = pytest.mark.django_db

LOCATIONS = ToolChoices([("L1", "North hall"), ("L2", "South hall")])


class DepotsConnector(TinyConnector):
    key = "depots"
    name = "Depots"
    capabilities = frozenset({Capability.INVENTORY_OUT})
    topics = ("inventory.level_changed",)
    batch_size = 10
    reconcile_object_types = ("inventory",)
    mapping_kinds = (MappingKind("location", "location", "warehouse"),)

    batches: ClassVar[list[list[tuple[str, str | None, int]]]] = []  # each request: (variant, location, qty)
    held: ClassVar[dict[tuple[str, str | None], int]] = {}  # what the tool holds

    def push(self, item: OutboundItem, context: PushContext) -> PushResult:
        result = self.push_batch([(item, context)])[0]
        if isinstance(result, Exception):
            raise result
        return result

    def push_batch(self, items: Sequence[tuple[OutboundItem, PushContext]]) -> list[PushResult | Exception]:
        sent = [(i.external_id, i.location_id, i.available) for i, _ in items if isinstance(i, InventoryOut)]
        self.batches.append(sent)
        for variant, location, quantity in sent:
            self.held[(variant, location)] = quantity
        return [PushResult(detail="set") for _ in items]

    def inventory_snapshot(self, items: list[InventoryOut]) -> dict[str, int | None]:
        assert len({i.location_id for i in items}) == 1, "asked once per location"
        return {i.external_id: self.held.get((i.external_id, i.location_id)) for i in items}


@pytest.fixture(autouse=True)
def depots() -> Iterator[type[DepotsConnector]]:
    DepotsConnector.batches, DepotsConnector.held = [], {}
    registry.register(DepotsConnector)
    yield DepotsConnector
    registry.unregister(DepotsConnector.key)


@pytest.fixture
def houses():
    return warehouse("WH1"), warehouse("WH2"), warehouse("WH3")


def depots_connection(home, *, mapped: dict[str, str] | None = None) -> Connection:
    connection = ConnectionFactory.create(
        connector=DepotsConnector.key,
        name="Depots",
        settings={"base_url": BASE},
        secrets={"access_token": "tok"},
        warehouse=home,
        sales_channel=ChannelFactory(warehouse=home),
    )
    for code, location in (mapped or {}).items():
        mapping_set(
            connection=connection, kind="location", our_value=code, tool_value=location, choices=LOCATIONS
        )
    return connection


def receive(product: Any, quantity: int, wh: Any) -> None:
    stock_receive(product=product, location=bin_of(wh), quantity=quantity, unit_cost="1.00")


def run_due() -> None:
    Delivery.objects.filter(status__in=outbound.OPEN).update(
        next_attempt_at=timezone.now() - timedelta(seconds=1)
    )
    outbound.deliveries_enqueue_due()


def statuses(connection: Connection) -> Counter[str]:
    return Counter(Delivery.objects.filter(connection=connection).values_list("status", flat=True))


def test_each_mapped_warehouse_goes_to_its_location_in_one_batch(houses, django_capture_on_commit_callbacks):
    wh1, wh2, _ = houses
    connection = depots_connection(wh1, mapped={"WH1": "L1", "WH2": "L2"})
    tent = ProductFactory(sku="TENT")
    ref = map_variant(connection, tent, "v-tent", inventory_item_id=7)

    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        receive(tent, 5, wh1)
        receive(tent, 8, wh2)
    keys = set(Delivery.objects.filter(connection=connection).values_list("coalesce_key", flat=True))
    assert keys == {f"inventory.product:{tent.pk}:wh:{wh1.pk}", f"inventory.product:{tent.pk}:wh:{wh2.pk}"}
    assert DepotsConnector.batches == []  # within the coalescing window
    run_due()

    assert [sorted(b) for b in DepotsConnector.batches] == [[("v-tent", "L1", 5), ("v-tent", "L2", 8)]]
    assert statuses(connection) == {DeliveryStatus.SUCCEEDED: 2}
    ref.refresh_from_db()
    assert ref.extra == {"inventory_item_id": 7, PUSHED_AT: {"L1": 5, "L2": 8}}
    assert ref.pushed_hash == ""  # the one-location memory is left alone


def test_a_level_change_in_an_unmapped_warehouse_is_not_pushed(houses, django_capture_on_commit_callbacks):
    wh1, _, wh3 = houses
    connection = depots_connection(wh1, mapped={"WH1": "L1"})
    tent = ProductFactory(sku="TENT")
    map_variant(connection, tent, "v-tent")

    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        receive(tent, 4, wh3)
    run_due()

    assert not Delivery.objects.filter(connection=connection).exists()
    assert DepotsConnector.batches == []


def test_coalescing_is_per_product_and_warehouse(houses, django_capture_on_commit_callbacks):
    wh1, wh2, _ = houses
    connection = depots_connection(wh1, mapped={"WH1": "L1", "WH2": "L2"})
    tent = ProductFactory(sku="TENT")
    map_variant(connection, tent, "v-tent")

    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(3):
            with transaction.atomic():
                receive(tent, 1, wh1)
        for _ in range(4):
            with transaction.atomic():
                receive(tent, 2, wh2)
    run_due()

    # one push per location, of the newest level; the rest superseded within their own key
    assert [sorted(b) for b in DepotsConnector.batches] == [[("v-tent", "L1", 3), ("v-tent", "L2", 8)]]
    assert statuses(connection) == {DeliveryStatus.SUCCEEDED: 2, DeliveryStatus.SUPERSEDED: 5}


def test_several_skus_of_several_locations_go_in_one_request(houses, django_capture_on_commit_callbacks):
    wh1, wh2, _ = houses
    connection = depots_connection(wh1, mapped={"WH1": "L1", "WH2": "L2"})
    products = [ProductFactory(sku=f"SKU-{n}") for n in range(3)]
    for n, product in enumerate(products):
        map_variant(connection, product, f"v-{n}")

    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        for n, product in enumerate(products):
            receive(product, n + 1, wh1)
            receive(product, 10 + n, wh2)
    run_due()

    assert len(DepotsConnector.batches) == 1  # one request
    assert sorted(DepotsConnector.batches[0]) == sorted(
        [(f"v-{n}", "L1", n + 1) for n in range(3)] + [(f"v-{n}", "L2", 10 + n) for n in range(3)]
    )
    assert statuses(connection) == {DeliveryStatus.SUCCEEDED: 6}

    # unchanged levels are not pushed again, per location
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        receive(products[0], 1, wh2)
    run_due()
    assert DepotsConnector.batches[1:] == [[("v-0", "L2", 11)]]


def test_batching_works_for_a_connection_without_mappings(houses, django_capture_on_commit_callbacks):
    wh1, wh2, _ = houses
    connection = depots_connection(wh1)
    products = [ProductFactory(sku=f"SKU-{n}") for n in range(3)]
    for n, product in enumerate(products):
        map_variant(connection, product, f"v-{n}")

    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        for n, product in enumerate(products):
            receive(product, n + 1, wh1)
            receive(product, 5, wh2)  # not the connection's warehouse
    keys = set(Delivery.objects.filter(connection=connection).values_list("coalesce_key", flat=True))
    assert keys == {f"inventory.product:{p.pk}" for p in products}
    run_due()

    assert [sorted(b) for b in DepotsConnector.batches] == [[(f"v-{n}", None, n + 1) for n in range(3)]]


def test_reconciliation_compares_and_heals_per_location(houses, django_capture_on_commit_callbacks):
    wh1, wh2, _ = houses
    connection = depots_connection(wh1, mapped={"WH1": "L1", "WH2": "L2"})
    tent = ProductFactory(sku="TENT")
    ref = map_variant(connection, tent, "v-tent")
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        receive(tent, 5, wh1)
        receive(tent, 8, wh2)
    run_due()
    DepotsConnector.held[("v-tent", "L2")] = 6  # somebody changed it in the tool

    run = reconcile.reconcile(connection=connection, object_type="inventory", heal=True)

    drift = Drift.objects.get(connection=connection)
    assert (drift.external_id, drift.label, drift.kind) == (
        "v-tent@L2",
        "TENT at location L2",
        "quantity_mismatch",
    )
    assert (drift.hub_value, drift.tool_value, drift.status) == ("8", "6", DriftStatus.HEALED)
    assert DepotsConnector.held == {("v-tent", "L1"): 5, ("v-tent", "L2"): 8}
    assert run.skipped == 1
    ref.refresh_from_db()
    assert ref.extra[PUSHED_AT] == {"L1": 5, "L2": 8}

    again = reconcile.reconcile(connection=connection, object_type="inventory")
    assert again.skipped == 2
    assert not Drift.objects.filter(connection=connection, status=DriftStatus.OPEN).exists()


def test_a_stock_recheck_names_its_warehouse_and_is_forced_there(houses, django_capture_on_commit_callbacks):
    wh1, wh2, _ = houses
    connection = depots_connection(wh1, mapped={"WH1": "L1", "WH2": "L2"})
    tent = ProductFactory(sku="TENT")
    map_variant(connection, tent, "v-tent")
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        receive(tent, 2, wh2)
    run_due()
    assert DepotsConnector.batches == [[("v-tent", "L2", 2)]]

    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        event = events.emit(
            STOCK_RECHECK,
            aggregate=("inventory.product", tent.pk),
            payload={"connection_id": connection.pk, "product_id": tent.pk, "warehouse_id": wh2.pk},
        )
    events.dispatch_event(event.pk)
    recheck = Delivery.objects.get(event=event)
    assert recheck.coalesce_key == f"inventory.product:{tent.pk}:wh:{wh2.pk}"
    run_due()

    assert DepotsConnector.batches[1:] == [[("v-tent", "L2", 2)]]  # unchanged, pushed anyway
