"""Orders the marketplace fulfils itself (Amazon FBA) in and out: recorded for sales and accounting,
but nothing of ours is reserved for them and no shipping tool is ever asked to ship them."""

from __future__ import annotations

import dataclasses
from decimal import Decimal as D

import pytest

from erp.models import OutboxEvent
from integrations import appliers
from integrations.contract import InboundItem
from integrations.models import FulfilmentRule
from integrations.outbound_items import Resolved
from integrations.outbound_orders import order_out, resolve_order
from integrations.records import FulfilledBy, OrderRecord, ShipmentLineRecord, ShipmentRecord
from inventory import availability
from inventory.models import StockMove
from sales.models import FulfilledBy as LineFulfilment
from sales.models import OrderStatus, SalesOrder
from sales.selectors import order_detail, order_figures, reserved_by_line
from tests.integrations.factories import SyncRunFactory
from tests.integrations.fake_tool import acme_connection, acme_environment, acme_order, order_item
from tests.inventory.factories import warehouse
from tests.sales.factories import stocked_product

FBA = FulfilledBy.MARKETPLACE


@pytest.fixture
def connection(db):
    with acme_environment():
        yield acme_connection()


@pytest.fixture
def run(connection):
    return SyncRunFactory(connection=connection, job="webhook")


@pytest.fixture
def shipping_tool(connection):
    """Another connection shipping for the same warehouse (a shipping tool or 3PL)."""
    tool = acme_connection("Ship tool")
    # (Acme takes no orders out: the resolver alone is under test, so the rule is written as is)
    FulfilmentRule.objects.create(warehouse=warehouse("WH1"), connection=tool)
    return tool


def marketplace_item(raw: dict, *fulfilled_by: FulfilledBy) -> InboundItem:
    """The Acme order with each line fulfilled as given (the Acme fake speaks no fulfilment)."""
    item = order_item(raw)
    record = item.record
    assert isinstance(record, OrderRecord)
    lines = tuple(
        dataclasses.replace(line, fulfilled_by=by)
        for line, by in zip(record.lines, fulfilled_by, strict=True)
    )
    return dataclasses.replace(item, record=dataclasses.replace(record, lines=lines))


def confirmed_event(order: SalesOrder) -> OutboxEvent:
    return OutboxEvent.objects.get(topic="sales.order_confirmed", aggregate_id=str(order.pk))


def test_a_marketplace_order_is_confirmed_with_nothing_reserved_and_our_stock_untouched(connection, run):
    # given: 5 tents of ours
    tent = stocked_product(5, sku="TENT")
    wh = warehouse("WH1")
    moves = StockMove.objects.count()
    item = marketplace_item(
        acme_order("1", lines=[{"id": "1-1", "sku": "TENT", "qty": 2, "price": "100.00"}]), FBA
    )

    # when
    applied = appliers.apply_order(connection, item, run)

    # then: sold and confirmed here, at the tool's totals, with nothing of ours held or moved
    order = SalesOrder.objects.get(pk=applied.internal_id)
    line = order.lines.get()
    assert (applied.outcome, order.status, order.total) == ("created", OrderStatus.CONFIRMED, D("200.00"))
    assert line.fulfilled_by == LineFulfilment.MARKETPLACE
    assert reserved_by_line([line.pk]) == {}
    assert order_figures(order_detail(order.pk)).backordered_lines() == 0
    assert StockMove.objects.count() == moves
    stock = availability.of(tent.pk, wh.pk)
    assert (stock.on_hand, stock.reserved, stock.outgoing) == (D(5), D(0), D(0))


def test_a_mixed_order_reserves_only_its_merchant_lines(connection, run):
    # given
    stocked_product(5, sku="TENT")
    stocked_product(5, sku="STOVE")
    raw = acme_order(
        "2",
        lines=[
            {"id": "2-1", "sku": "TENT", "qty": 2, "price": "100.00"},
            {"id": "2-2", "sku": "STOVE", "qty": 1, "price": "40.00"},
        ],
    )

    # when
    applied = appliers.apply_order(connection, marketplace_item(raw, FBA, FulfilledBy.MERCHANT), run)

    # then
    order = SalesOrder.objects.get(pk=applied.internal_id)
    tent, stove = order.lines.order_by("position")
    assert (tent.fulfilled_by, stove.fulfilled_by) == (LineFulfilment.MARKETPLACE, LineFulfilment.MERCHANT)
    assert reserved_by_line([tent.pk, stove.pk]) == {stove.pk: D(1)}


def test_the_marketplaces_shipment_is_recorded_without_moving_our_stock(connection, run):
    # given: an FBA order the marketplace has shipped already when it first arrives
    stocked_product(5, sku="TENT")
    raw = acme_order("3", lines=[{"id": "3-1", "sku": "TENT", "qty": 2, "price": "100.00"}])
    item = marketplace_item(raw, FBA)
    record = item.record
    assert isinstance(record, OrderRecord)
    shipped = ShipmentRecord(
        external_id="f-1", created_at=record.created_at, lines=(ShipmentLineRecord("3-1", D(2)),)
    )
    item = dataclasses.replace(item, record=dataclasses.replace(record, shipments=(shipped,)))
    moves = StockMove.objects.count()

    # when
    applied = appliers.apply_order(connection, item, run)

    # then: shipped here, and our stock never moved
    order = SalesOrder.objects.get(pk=applied.internal_id)
    assert (order.status, order.lines.get().quantity_shipped) == (OrderStatus.SHIPPED, D(2))
    assert StockMove.objects.count() == moves


def test_an_order_the_marketplace_fulfils_never_goes_out_to_a_shipping_tool(connection, run, shipping_tool):
    # given
    stocked_product(5, sku="TENT")
    raw = acme_order("4", lines=[{"id": "4-1", "sku": "TENT", "qty": 2, "price": "100.00"}])
    order = SalesOrder.objects.get(
        pk=appliers.apply_order(connection, marketplace_item(raw, FBA), run).internal_id
    )

    # when
    item = order_out(order, "")
    resolved = resolve_order(shipping_tool, confirmed_event(order), False)

    # then: no line to ship, so the shipping tool is not asked (skipped, with the reason)
    assert item.lines == ()
    assert (
        resolved
        == f"{order.number} is shipped by the marketplace it was sold on: nothing for {shipping_tool}."
    )


def test_a_mixed_order_goes_out_with_its_merchant_lines_only(connection, run, shipping_tool):
    # given
    stocked_product(5, sku="TENT")
    stocked_product(5, sku="STOVE")
    raw = acme_order(
        "5",
        lines=[
            {"id": "5-1", "sku": "TENT", "qty": 2, "price": "100.00"},
            {"id": "5-2", "sku": "STOVE", "qty": 1, "price": "40.00"},
        ],
    )
    applied = appliers.apply_order(connection, marketplace_item(raw, FBA, FulfilledBy.MERCHANT), run)
    order = SalesOrder.objects.get(pk=applied.internal_id)

    # when
    resolved = resolve_order(shipping_tool, confirmed_event(order), False)

    # then
    assert isinstance(resolved, Resolved)
    stove = order.lines.get(product__sku="STOVE")
    assert [(ln.line_id, ln.sku, ln.quantity) for ln in resolved.item.lines] == [
        (str(stove.pk), "STOVE", D(1))
    ]
