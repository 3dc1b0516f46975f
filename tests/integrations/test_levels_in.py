"""Inventory levels in (Hub v2): a 3PL's count becomes the on-hand here where the 3PL owns the stock,
through the ledger, and is never pushed back to it; where the hub owns the stock it is not applied."""

from __future__ import annotations

import datetime
from datetime import timedelta
from decimal import Decimal as D

import pytest
from django.urls import reverse
from django.utils import timezone

from erp import events
from erp.models import OutboxEvent
from integrations import inbound, outbound, polling
from integrations.models import Connection, Delivery, DeliveryStatus, InboundEvent, InboundStatus
from integrations.ownership import INVENTORY, ownership_rule_set
from inventory import availability
from inventory.models import Product, StockMove
from sales.services import order_confirm, shipment_create
from tests.integrations.factories import ExternalRefFactory
from tests.integrations.fake_tool import T0, AcmeFake, acme_connection
from tests.integrations.ownership_support import (
    COUNTED,
    apply_level,
    depot_fixture,  # noqa: F401  (a fixture)
    fake_fixture,  # noqa: F401  (a fixture)
    level_item,
    map_variant,
    tools_fixture,  # noqa: F401  (a fixture)
)
from tests.inventory.factories import warehouse
from tests.sales.factories import ChannelFactory, order_for, stocked_product

pytestmark = pytest.mark.django_db


@pytest.fixture
def tent(db) -> Product:
    return stocked_product(5, sku="TENT", price="100.00")


def on_hand(product: Product, code: str = "WH1") -> D:
    return availability.of(product.pk, warehouse(code).pk).on_hand


def moves(product: Product) -> list[tuple[str, D, str, str]]:
    return [
        (m.kind, m.quantity, m.reason, m.reference)
        for m in StockMove.objects.filter(product=product, kind="count").order_by("pk")
    ]


# --- the tool owns the stock ---------------------------------------------------------------------


def test_a_count_of_stock_the_tool_owns_becomes_the_on_hand_here_through_the_ledger(
    client, depot: Connection, fake: AcmeFake, tent: Product, django_capture_on_commit_callbacks
) -> None:
    # given: the 3PL counts 8 of "tent" (its SKU in lower case) in its warehouse, WH1
    hook = fake.webhook(COUNTED, {"sku": "tent", "on_hand": 8, "counted_at": T0.isoformat()})
    # when
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("integrations:hook", args=[depot.pk]),
            data=hook.body,
            content_type="application/json",
            headers=hook.headers,
        )
    # then
    assert response.status_code == 200
    event = InboundEvent.objects.get(connection=depot)
    assert event.status == InboundStatus.PROCESSED, event.last_error
    assert on_hand(tent) == 8
    assert moves(tent) == [("count", D(3), "Counted by Depot", "Depot")]
    assert event.result["items"][0]["reason"] == "on hand at WH1: 5 → 8, counted by Depot"


def test_a_lower_count_takes_the_difference_out(depot: Connection, tent: Product) -> None:
    result = apply_level(depot, level_item("TENT", 2))
    assert result.outcome == "updated"
    assert on_hand(tent) == 2
    assert moves(tent) == [("count", D(3), "Counted by Depot", "Depot")]


def test_the_same_count_again_changes_nothing(depot: Connection, tent: Product) -> None:
    apply_level(depot, level_item("TENT", 8))
    again = apply_level(depot, level_item("TENT", 8, counted_at=T0 + timedelta(hours=1)))
    assert (again.outcome, again.reason) == ("skipped", "unchanged: 8 on hand at WH1")
    assert len(moves(tent)) == 1


def test_a_count_older_than_the_one_applied_is_stale(depot: Connection, tent: Product) -> None:
    apply_level(depot, level_item("TENT", 8, counted_at=T0 + timedelta(hours=1)))
    stale = apply_level(depot, level_item("TENT", 3, counted_at=T0))
    assert (stale.outcome, stale.reason) == ("skipped", "stale: counted before the count applied last")
    assert on_hand(tent) == 8


def test_the_variant_mapping_names_the_product_before_the_sku(depot: Connection, tent: Product) -> None:
    other = stocked_product(0, sku="TENT-OLD")
    map_variant(depot, other, "d-77")
    apply_level(depot, level_item("TENT", 4, variant="d-77"))
    assert on_hand(other) == 4
    assert on_hand(tent) == 5


def test_a_count_at_a_mapped_location_is_of_its_warehouse(depot: Connection, tent: Product) -> None:
    wh2 = warehouse("WH2")
    ownership_rule_set(connection=depot, data_type=INVENTORY, warehouse=wh2, owner="tool")
    ExternalRefFactory.create(connection=depot, object_type="location", external_id="east", internal=wh2)

    apply_level(depot, level_item("TENT", 6, location="east"))

    assert (on_hand(tent, "WH2"), on_hand(tent, "WH1")) == (6, 5)


def test_a_count_below_what_is_reserved_here_waits_for_a_person(depot: Connection, tent: Product) -> None:
    order = order_for((tent, 4), channel=ChannelFactory(warehouse=warehouse("WH1")))
    order_confirm(order=order)  # 4 of the 5 reserved
    event, _ = polling.store_item(depot, "inventory_level", level_item("TENT", 2))

    event = inbound.inbound_process(event.pk)

    assert event.status == InboundStatus.QUARANTINED
    assert event.missing == {"kind": "reserved stock", "value": "TENT"}
    assert "4 is reserved here" in event.last_error
    assert on_hand(tent) == 5


def _sent_to(connection: Connection, order) -> None:
    """The hub has sent ``order`` to the tool (as outbound_orders records it)."""
    ExternalRefFactory.create(
        connection=connection,
        object_type="order",
        external_id=f"T-{order.pk}",
        internal=order,
        extra={"sent": True, "cancelled": False},
    )


def test_units_the_tool_shipped_before_the_hub_heard_of_it_are_taken_once(
    depot: Connection, tent: Product
) -> None:
    # given: 2 of the 5 reserved for an order the 3PL has
    order = order_for((tent, 2), channel=ChannelFactory(warehouse=warehouse("WH1")))
    order_confirm(order=order)
    _sent_to(depot, order)
    # when: the 3PL counts while the order waits there (2 committed), then after it shipped it,
    # before the hub recorded the shipment (on hand 3, nothing committed)
    waiting = apply_level(depot, level_item("TENT", 5, committed=2))
    shipped = apply_level(depot, level_item("TENT", 3, committed=0, counted_at=T0 + timedelta(minutes=1)))
    # then: neither count moves stock: the 2 units are still reserved here, for the shipment to take
    assert (waiting.outcome, shipped.outcome) == ("skipped", "skipped")
    assert on_hand(tent) == 5
    assert moves(tent) == []
    # and once the hub records the shipment, the same count still agrees
    shipment_create(order=order, carrier="UPS", tracking_number="1Z1")
    again = apply_level(depot, level_item("TENT", 3, committed=0, counted_at=T0 + timedelta(minutes=2)))
    assert (again.outcome, on_hand(tent)) == ("skipped", 3)


def test_units_committed_to_orders_the_hub_does_not_know_are_not_counted_here(
    depot: Connection, tent: Product
) -> None:
    order = order_for((tent, 2), channel=ChannelFactory(warehouse=warehouse("WH1")))
    order_confirm(order=order)
    _sent_to(depot, order)
    other = order_for((tent, 1), channel=ChannelFactory(warehouse=warehouse("WH1")))
    order_confirm(order=other)  # reserved here, not sent to the 3PL: it has no say in the count

    # 3 committed there: our 2 and 1 for an order of the 3PL's other channel
    result = apply_level(depot, level_item("TENT", 5, committed=3))

    assert result.reason == "on hand at WH1: 5 → 4, counted by Depot"
    assert on_hand(tent) == 4


# --- the hub owns the stock ---------------------------------------------------------------------


def test_a_count_of_stock_the_hub_owns_is_not_applied(depot: Connection, tent: Product) -> None:
    ownership_rule_set(connection=depot, data_type=INVENTORY, warehouse=warehouse("WH1"), owner="hub")

    result = apply_level(depot, level_item("TENT", 8))

    assert result.outcome == "skipped"
    assert "the stock at WH1 is the hub's" in result.reason
    assert on_hand(tent) == 5
    assert moves(tent) == []


# --- what cannot be applied yet -------------------------------------------------------------------


def test_an_unknown_sku_waits_in_the_quarantine_until_it_is_mapped(
    depot: Connection, tent: Product, django_capture_on_commit_callbacks
) -> None:
    event, _ = polling.store_item(depot, "inventory_level", level_item("TENT-XL", 7))

    event = inbound.inbound_process(event.pk)

    assert event.status == InboundStatus.QUARANTINED
    assert event.missing == {"kind": "sku", "value": "TENT-XL"}
    assert on_hand(tent) == 5

    # when a person maps the SKU, the count is applied (the event is replayed after commit)
    with django_capture_on_commit_callbacks(execute=True):
        assert inbound.quarantine_map_sku(connection=depot, sku="TENT-XL", product=tent) == 1
    assert on_hand(tent) == 7


def test_a_count_at_a_location_not_mapped_while_others_are_waits_for_a_mapping(
    depot: Connection, tent: Product
) -> None:
    ExternalRefFactory.create(
        connection=depot, object_type="location", external_id="east", internal=warehouse("WH1")
    )
    event, _ = polling.store_item(depot, "inventory_level", level_item("TENT", 7, location="west"))

    event = inbound.inbound_process(event.pk)

    assert event.status == InboundStatus.QUARANTINED
    assert event.missing == {"kind": "setting", "value": "location west"}


def test_a_3pl_without_a_warehouse_is_not_configured(tools, tent: Product) -> None:
    from tests.integrations.ownership_support import depot_connection

    depot = depot_connection()
    Connection.objects.filter(pk=depot.pk).update(warehouse=None)
    depot.refresh_from_db()
    event, _ = polling.store_item(depot, "inventory_level", level_item("TENT", 7))

    event = inbound.inbound_process(event.pk)

    assert (event.status, event.missing) == (
        InboundStatus.QUARANTINED,
        {"kind": "setting", "value": "warehouse"},
    )


# --- echo suppression -----------------------------------------------------------------------------


def test_the_counts_own_level_change_is_pushed_to_the_shop_but_never_back_to_the_3pl(
    depot: Connection, fake: AcmeFake, tent: Product
) -> None:
    # given: a shop selling WH1's stock, and the tent mapped in both tools
    shop = acme_connection("Shop")
    map_variant(shop, tent, "v-tent")
    map_variant(depot, tent, "d-tent")
    last = OutboxEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0

    # when: the 3PL's count is applied, and the level change it records is fanned out and attempted
    apply_level(depot, level_item("TENT", 8))
    changes = OutboxEvent.objects.filter(pk__gt=last, topic="inventory.level_changed")
    assert changes.count() == 1
    for event in changes:
        events.dispatch_event(event.pk)
    Delivery.objects.update(next_attempt_at=timezone.now() - datetime.timedelta(seconds=1))
    for pk in Delivery.objects.order_by("pk").values_list("pk", flat=True):
        outbound.delivery_attempt(pk)

    # then: the shop gets the new level; the 3PL, whose count it is, gets nothing
    to_depot = Delivery.objects.get(connection=depot)
    assert to_depot.status == DeliveryStatus.SKIPPED
    assert to_depot.last_error == "TENT is not pushed: Depot owns the stock at WH1."
    assert Delivery.objects.get(connection=shop).status == DeliveryStatus.SUCCEEDED
    assert fake.pushes == [{"variant_id": "v-tent", "available": 8}]


def test_a_forced_push_of_stock_the_tool_owns_is_refused_too(depot: Connection, tent: Product) -> None:
    from integrations.outbound_items import resolve_inventory

    map_variant(depot, tent, "d-tent")
    assert resolve_inventory(depot, tent.pk, force=True) == "TENT is not pushed: Depot owns the stock at WH1."
    ownership_rule_set(connection=depot, data_type=INVENTORY, warehouse=warehouse("WH1"), owner="hub")
    assert not isinstance(resolve_inventory(depot, tent.pk, force=True), str)
