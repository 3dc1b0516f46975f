"""Reconciliation heals toward the owner (Hub v2): stock the tool owns is adjusted here through the
ledger to the tool's count; stock the hub owns is pushed, as before."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from erp.exceptions import ValidationFailed
from integrations import reconcile
from integrations.models import Connection, Drift, DriftStatus
from integrations.ownership import INVENTORY, ownership_rule_set
from inventory import availability
from inventory.models import Product, StockMove
from sales.services import order_confirm
from tests.integrations.fake_tool import AcmeFake
from tests.integrations.ownership_support import (
    depot_fixture,  # noqa: F401  (a fixture)
    fake_fixture,  # noqa: F401  (a fixture)
    map_variant,
    tools_fixture,  # noqa: F401  (a fixture)
)
from tests.inventory.factories import warehouse
from tests.queries import count_queries
from tests.sales.factories import ChannelFactory, order_for, stocked_product

pytestmark = pytest.mark.django_db


@pytest.fixture
def stock(depot: Connection, fake: AcmeFake) -> tuple[Product, Product]:
    """TENT: 10 here, the 3PL counts 7; STOVE: 4 here and there."""
    tent, stove = stocked_product(10, sku="TENT"), stocked_product(4, sku="STOVE")
    map_variant(depot, tent, "d-tent")
    map_variant(depot, stove, "d-stove")
    fake.levels.update({"d-tent": 7, "d-stove": 4})
    return tent, stove


def on_hand(product: Product) -> D:
    return availability.of(product.pk, warehouse("WH1").pk).on_hand


def test_a_drift_of_stock_the_tool_owns_heals_by_a_ledger_adjustment_here(
    depot: Connection, fake: AcmeFake, stock: tuple[Product, Product]
) -> None:
    tent, _ = stock

    run = reconcile.reconcile(connection=depot, object_type="inventory")

    drift = Drift.objects.get()
    assert (drift.kind, drift.label, drift.status) == ("quantity_mismatch", "TENT", DriftStatus.HEALED)
    assert (drift.hub_value, drift.tool_value) == ("10 → 7", "7")  # what changed here
    assert on_hand(tent) == 7
    move = StockMove.objects.filter(product=tent, kind="count").get()
    assert (move.quantity, move.reason) == (D(3), "Reconciled with Depot: its count")
    assert fake.pushes == []  # nothing pushed to the owner, not even the echo
    assert run.errors == [
        {"level": "info", "message": "1 drift: 1 quantity_mismatch.", "drifts": {"quantity_mismatch": 1}},
        {"level": "info", "message": "Healed 1 drift(s): on hand here set to Depot's count."},
    ]
    assert (run.created, run.skipped) == (1, 1)

    # and the next reconciliation finds nothing
    again = reconcile.reconcile(connection=depot, object_type="inventory")
    assert (again.created, again.skipped) == (0, 2)


def test_what_is_reserved_here_stays_reserved_the_tools_available_is_matched(
    depot: Connection, fake: AcmeFake, stock: tuple[Product, Product]
) -> None:
    # given: 3 of the 10 tents reserved here, so 7 available: the tool says 5 available
    tent, _ = stock
    order_confirm(order=order_for((tent, 3), channel=ChannelFactory(warehouse=warehouse("WH1"))))
    fake.levels["d-tent"] = 5

    reconcile.reconcile(connection=depot, object_type="inventory")

    level = availability.of(tent.pk, warehouse("WH1").pk)
    assert (level.on_hand, level.reserved, level.available) == (8, 3, 5)


def test_a_drift_healed_later_reads_the_tools_count_again(
    depot: Connection, fake: AcmeFake, stock: tuple[Product, Product]
) -> None:
    tent, _ = stock
    reconcile.reconcile(connection=depot, object_type="inventory", heal=False)
    drift = Drift.objects.get()
    assert (drift.hub_value, drift.tool_value, drift.healable) == ("10", "7", True)
    fake.levels["d-tent"] = 6  # the 3PL counted again meanwhile

    healed = reconcile.drift_heal(drift=drift)

    assert healed.status == DriftStatus.HEALED
    assert (healed.hub_value, healed.tool_value) == ("10 → 6", "6")
    assert on_hand(tent) == 6
    assert fake.pushes == []


def test_a_level_the_owning_tool_does_not_keep_is_left_to_a_person(
    depot: Connection, fake: AcmeFake, stock: tuple[Product, Product]
) -> None:
    tent, _ = stock
    del fake.levels["d-tent"]

    reconcile.reconcile(connection=depot, object_type="inventory")

    drift = Drift.objects.get()
    assert (drift.kind, drift.healable, drift.status) == ("missing_there", False, DriftStatus.OPEN)
    assert on_hand(tent) == 10  # never zeroed because the tool keeps no level
    with pytest.raises(ValidationFailed):
        reconcile.drift_heal(drift=drift)


def test_a_drift_of_stock_the_hub_owns_heals_by_a_push(
    depot: Connection, fake: AcmeFake, stock: tuple[Product, Product]
) -> None:
    tent, _ = stock
    ownership_rule_set(connection=depot, data_type=INVENTORY, warehouse=warehouse("WH1"), owner="hub")

    run = reconcile.reconcile(connection=depot, object_type="inventory")

    drift = Drift.objects.get()
    assert (drift.status, drift.hub_value, drift.tool_value) == (DriftStatus.HEALED, "10", "7")
    assert fake.pushes == [{"variant_id": "d-tent", "available": 10}]
    assert on_hand(tent) == 10
    assert not StockMove.objects.filter(product=tent, kind="count").exists()
    assert run.errors == [
        {"level": "info", "message": "1 drift: 1 quantity_mismatch.", "drifts": {"quantity_mismatch": 1}},
        {"level": "info", "message": "Healed 1 drift(s)."},
    ]


def test_the_comparison_costs_the_same_queries_for_more_variants(
    depot: Connection, fake: AcmeFake, stock: tuple[Product, Product]
) -> None:
    def compare() -> None:
        reconcile.reconcile(connection=depot, object_type="inventory", heal=False)

    def grow() -> None:  # more variants, all in sync
        for i in range(15):
            product = stocked_product(2, sku=f"ROPE-{i}")
            map_variant(depot, product, f"d-rope-{i}")
            fake.levels[f"d-rope-{i}"] = 2

    compare()
    before = count_queries(compare)
    grow()
    assert count_queries(compare) == before
