"""Reconciliation: inventory drifts found and healed by a push, orders missing here or duplicated."""

from __future__ import annotations

import pytest

from erp.exceptions import ValidationFailed
from integrations import reconcile
from integrations.errors import HubError
from integrations.models import Drift, DriftStatus, ExternalRef, RequestLog, SyncRun
from integrations.outbound_items import PUSHED_AVAILABLE, inventory_hash
from sales.models import SalesOrder
from sales.services import LineSpec, order_create
from tests.integrations.factories import ExternalRefFactory, SyncRunFactory
from tests.integrations.fake_tool import AcmeFake, acme_connection, acme_environment, acme_order, order_item
from tests.sales.factories import CustomerFactory, stocked_product


@pytest.fixture
def acme(db):
    with acme_environment() as fake:
        yield fake


@pytest.fixture
def connection(acme):
    return acme_connection()


def map_variant(connection, product, external_id, **extra):
    return ExternalRefFactory(connection=connection, external_id=external_id, internal=product, extra=extra)


@pytest.fixture
def stock(connection, acme: AcmeFake):
    """Two mapped variants: TENT (10 here, 7 in the tool) and STOVE (4 here, 4 there)."""
    tent, stove = stocked_product(10, sku="TENT"), stocked_product(4, sku="STOVE")
    map_variant(connection, tent, "v-tent", stock_item=1)
    map_variant(connection, stove, "v-stove", stock_item=2)
    acme.levels.update({"v-tent": 7, "v-stove": 4})
    return tent, stove


def test_an_injected_inventory_drift_is_found_then_healed_by_a_push(acme, connection, stock):
    # when: found, not healed yet
    run = reconcile.reconcile(connection=connection, object_type="inventory", heal=False)

    # then
    assert (run.job, run.status, run.created, run.skipped) == ("reconcile", "succeeded", 1, 1)
    drift = Drift.objects.get()
    assert (drift.kind, drift.label, drift.hub_value, drift.tool_value, drift.healable, drift.status) == (
        "quantity_mismatch",
        "TENT",
        "10",
        "7",
        True,
        DriftStatus.OPEN,
    )
    assert acme.pushes == []

    # when: healed on demand
    healed = reconcile.drift_heal(drift=drift)

    # then: the hub's quantity was pushed and recorded as the outbound side records a push
    assert healed.status == DriftStatus.HEALED
    assert acme.pushes == [{"variant_id": "v-tent", "available": 10}]
    variant = ExternalRef.objects.get(external_id="v-tent")
    assert (variant.pushed_hash, variant.extra[PUSHED_AVAILABLE]) == (inventory_hash(10), 10)
    heal_run = SyncRun.objects.filter(job="reconcile").order_by("id").last()
    assert (heal_run.status, heal_run.updated) == ("succeeded", 1)
    assert RequestLog.objects.filter(sync_run=heal_run, method="POST").count() == 1

    # and the next reconciliation finds nothing
    run = reconcile.reconcile(connection=connection, object_type="inventory")
    assert (run.created, run.skipped) == (0, 2)


def test_reconciliation_heals_inventory_at_once_by_default(acme, connection, stock):
    run = reconcile.reconcile(connection=connection, object_type="inventory")
    assert Drift.objects.get().status == DriftStatus.HEALED
    assert acme.levels["v-tent"] == 10
    assert run.errors == [
        {"level": "info", "message": "1 drift: 1 quantity_mismatch.", "drifts": {"quantity_mismatch": 1}},
        {"level": "info", "message": "Healed 1 drift(s)."},
    ]


def test_a_drift_found_again_is_refreshed_and_one_gone_is_closed(acme, connection, stock):
    reconcile.reconcile(connection=connection, object_type="inventory", heal=False)
    acme.levels["v-tent"] = 6
    run = reconcile.reconcile(connection=connection, object_type="inventory", heal=False)
    assert (run.created, run.updated) == (0, 1)
    assert Drift.objects.get().tool_value == "6"
    acme.levels["v-tent"] = 10  # someone fixed it in the tool
    reconcile.reconcile(connection=connection, object_type="inventory", heal=False)
    assert Drift.objects.get().status == DriftStatus.RESOLVED


def test_a_variant_without_a_level_in_the_tool_is_a_drift_when_the_hub_has_stock(acme, connection, stock):
    del acme.levels["v-stove"]
    reconcile.reconcile(connection=connection, object_type="inventory", heal=False)
    drift = Drift.objects.get(label="STOVE")
    assert (drift.kind, drift.tool_value, drift.healable) == ("missing_there", "", True)


def test_a_failed_heal_leaves_the_drift_open_and_says_why(acme, connection, stock):
    reconcile.reconcile(connection=connection, object_type="inventory", heal=False)
    drift = Drift.objects.get()
    acme.fail_next = [422]
    with pytest.raises(HubError, match="422"):
        reconcile.drift_heal(drift=drift)
    drift.refresh_from_db()
    assert drift.status == DriftStatus.OPEN
    assert SyncRun.objects.order_by("id").last().status == "failed"


def test_an_order_missing_here_is_found_and_healed_by_importing_it(acme, connection):
    # given: the tool has two recent orders, the hub imported one
    stocked_product(5, sku="TENT")
    from integrations import appliers

    run = SyncRunFactory(connection=connection, job="webhook")
    appliers.apply_order(connection, order_item(acme_order("1")), run)
    acme.orders["1"] = acme_order("1")
    acme.orders["2"] = acme_order("2")
    for raw in acme.orders.values():
        raw["updated_at"] = raw["created_at"] = "2099-01-01T00:00:00+00:00"

    # when
    run = reconcile.reconcile(connection=connection, object_type="order")

    # then
    assert (run.created, run.skipped) == (1, 1)
    drift = Drift.objects.get()
    assert (drift.kind, drift.label, drift.external_id, drift.healable) == ("missing_here", "A-2", "2", True)
    reconcile.drift_heal(drift=drift)
    assert SalesOrder.objects.filter(external_reference="A-2").count() == 1
    drift.refresh_from_db()
    assert drift.status == DriftStatus.HEALED


def test_two_orders_for_one_external_order_are_a_duplicate_a_person_resolves(acme, connection, admin_user):
    product = stocked_product(5, sku="TENT")
    from integrations import appliers

    appliers.apply_order(
        connection, order_item(acme_order("1")), SyncRunFactory(connection=connection, job="webhook")
    )
    order_create(
        channel=connection.sales_channel,
        customer=CustomerFactory(),
        lines=[LineSpec(product, 1)],
        external_reference="A-1",
    )
    acme.orders["1"] = acme_order("1")
    acme.orders["1"]["updated_at"] = "2099-01-01T00:00:00+00:00"

    reconcile.reconcile(connection=connection, object_type="order")

    drift = Drift.objects.get()
    assert (drift.kind, drift.healable, drift.label) == ("duplicate_here", False, "A-1")
    assert drift.hub_value.count("SO-") == 2
    with pytest.raises(ValidationFailed, match="cannot be healed"):
        reconcile.drift_heal(drift=drift)
    resolved = reconcile.drift_resolve(drift=drift, user=admin_user)
    assert (resolved.status, resolved.resolved_by) == (DriftStatus.RESOLVED, admin_user)


def test_an_unknown_object_type_fails_the_run(acme, connection):
    run = reconcile.reconcile(connection=connection, object_type="invoice")
    assert run.status == "failed"
    assert "cannot reconcile" in run.errors[0]["message"]


def test_reconcilable_lists_active_connections(acme, connection):
    assert set(reconcile.reconcilable()) == {(connection.pk, "inventory"), (connection.pk, "order")}


def test_the_periodic_task_reconciles_every_active_connection(acme, connection, stock):
    from integrations import tasks

    assert tasks.reconcile_all_task() == 2  # eager here: inventory and orders ran
    assert SyncRun.objects.filter(job="reconcile").count() == 2
    assert Drift.objects.get().status == DriftStatus.HEALED
