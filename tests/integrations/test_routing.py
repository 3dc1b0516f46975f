"""Routing: a fulfilment rule per warehouse (and channel) names who ships its orders, and moving a
warehouse between tools mid-day moves its open orders: cancelled in the old tool, created in the new
one, never open in two at once, none lost, none shipped twice.

The two tools are ShipStation's fake and Parcel (the kit's made-up shipping tool).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from erp.exceptions import ValidationFailed
from integrations import registry, routing
from integrations.connections import connection_create
from integrations.http import mounted
from integrations.models import Connection, Delivery, DeliveryStatus, FulfilmentRule
from integrations.shipstation.fake import API_KEY, API_SECRET, BASE_URL, STORE_ID, FakeShipStation
from sales.models import OrderStatus, SalesOrder
from sales.services import order_confirm
from tests.integrations.conformance.parcel.connector import BASE_URL as PARCEL_URL
from tests.integrations.conformance.parcel.connector import ParcelConnector
from tests.integrations.conformance.parcel.fake import API_KEY as PARCEL_KEY
from tests.integrations.conformance.parcel.fake import API_SECRET as PARCEL_SECRET
from tests.integrations.conformance.parcel.fake import WEBHOOK_TOKEN as PARCEL_TOKEN
from tests.integrations.conformance.parcel.fake import FakeParcel
from tests.integrations.outbound_support import run_due_deliveries
from tests.inventory.factories import warehouse
from tests.sales.factories import ChannelFactory, order_for, stocked_product

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def parcel_registered() -> None:
    try:
        registry.get(ParcelConnector.key)
    except registry.UnknownConnector:
        registry.register(ParcelConnector)


@pytest.fixture
def tools() -> Iterator[tuple[FakeShipStation, FakeParcel]]:
    shipstation, parcel = FakeShipStation(), FakeParcel()
    with (
        mounted(BASE_URL, httpx.MockTransport(shipstation.handle)),
        mounted(PARCEL_URL, httpx.MockTransport(parcel.handle)),
    ):
        yield shipstation, parcel


@pytest.fixture
def shop(db) -> dict[str, Any]:
    wh = warehouse("WH1")
    web = ChannelFactory(warehouse=wh, code="web", name="Web")
    wholesale = ChannelFactory(warehouse=wh, code="b2b", name="Wholesale")
    tent = stocked_product(50, wh=wh, price="249.00", sku="TENT-2P-GRN")
    shipstation = connection_create(
        connector="shipstation",
        name="Shipping",
        settings={"store_id": STORE_ID},
        secrets={"api_key": API_KEY, "api_secret": API_SECRET, "webhook_token": "t"},
    )
    parcel = connection_create(
        connector="parcel",
        name="Parcel",
        settings={},
        secrets={"api_key": PARCEL_KEY, "api_secret": PARCEL_SECRET, "webhook_token": PARCEL_TOKEN},
    )
    return {"wh": wh, "web": web, "wholesale": wholesale, "tent": tent, "ss": shipstation, "parcel": parcel}


def run_due(capture) -> None:
    run_due_deliveries(capture, rounds=4)  # a delivery released by another's success: next round


ADDRESS = {
    "name": "Jane Buyer",
    "line1": "410 W Main St",
    "city": "Louisville",
    "region": "KY",
    "postal_code": "40202",
    "country": "US",
}


def sell(shop: dict[str, Any], capture, channel: str = "web", quantity: int = 1) -> SalesOrder:
    with capture(execute=True):
        order = order_confirm(
            order=order_for((shop["tent"], quantity), channel=shop[channel], shipping_address=ADDRESS)
        )
    run_due(capture)
    return order


def route(shop: dict[str, Any], capture, connection: Connection | None, channel: str | None = None) -> int:
    with capture(execute=True):
        moved = routing.route_set(
            warehouse=shop["wh"], connection=connection, channel=shop[channel] if channel else None
        )
    run_due(capture)
    return moved.orders


def open_in(shipstation: FakeShipStation, parcel: FakeParcel) -> dict[str, list[str]]:
    """Our order numbers each tool has open (to ship), sorted."""
    return {
        "shipstation": sorted(
            e["view"]["orderNumber"]
            for e in shipstation.orders.values()
            if e["view"]["orderStatus"] in ("awaiting_shipment", "on_hold")
        ),
        "parcel": sorted(
            o["orderNumber"]
            for o in parcel.orders.values()
            if o["orderStatus"] in ("awaiting_shipment", "on_hold")
        ),
    }


def test_no_rule_ships_here_and_a_channel_rule_wins_over_the_warehouses(
    shop, tools, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    shipstation, parcel = tools
    here = sell(shop, capture)
    assert routing.shipper_of(here) is None
    assert open_in(shipstation, parcel) == {"shipstation": [], "parcel": []}

    route(shop, capture, shop["ss"])
    route(shop, capture, shop["parcel"], channel="wholesale")
    web, b2b = sell(shop, capture), sell(shop, capture, channel="wholesale")

    assert (routing.shipper_of(web), routing.shipper_of(b2b)) == (shop["ss"].pk, shop["parcel"].pk)
    # the order confirmed while nothing routed it went to ShipStation with the new rule
    assert open_in(shipstation, parcel) == {
        "shipstation": sorted([here.number, web.number]),
        "parcel": [b2b.number],
    }
    assert [(r.channel, r.connection) for r in routing.routes_of_warehouse(shop["wh"])] == [
        (None, shop["ss"]),
        (shop["wholesale"], shop["parcel"]),
    ]


def test_a_rule_names_a_tool_that_ships_orders_and_a_channel_of_the_warehouse(shop, db):
    shopify = connection_create(
        connector="shopify",
        name="Store",
        settings={"shop_domain": "acme.myshopify.com", "location_id": 1},
        secrets={"access_token": "x", "client_secret": "y"},
    )
    with pytest.raises(ValidationFailed, match="does not ship orders"):
        routing.route_set(warehouse=shop["wh"], connection=shopify)
    other = ChannelFactory(warehouse=warehouse("WH2"), code="eu")
    with pytest.raises(ValidationFailed, match="sells from"):
        routing.route_set(warehouse=shop["wh"], connection=shop["ss"], channel=other)
    assert not FulfilmentRule.objects.exists()


def test_moving_a_warehouse_mid_day_moves_its_open_orders_and_loses_none(
    shop, tools, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    shipstation, parcel = tools
    route(shop, capture, shop["ss"])
    first = [sell(shop, capture) for _ in range(3)]
    shipstation.ship(first[0].number, tracking="9400100000000000000001")  # left before the move
    with capture(execute=True):
        # ShipStation's notification reaches the hub (polling here; the webhook path is the same)
        from integrations import polling

        polling.poll(connection=shop["ss"], object_type="shipment")
    run_due(capture)
    first[0].refresh_from_db()
    assert first[0].status == OrderStatus.SHIPPED

    # mid-day: the warehouse moves to Parcel
    assert route(shop, capture, shop["parcel"]) == 2
    moved = sorted(o.number for o in first[1:])
    assert open_in(shipstation, parcel) == {"shipstation": [], "parcel": moved}
    assert shipstation.order(first[0].number)["orderStatus"] == "shipped"  # what shipped stays shipped
    later = sell(shop, capture)
    assert open_in(shipstation, parcel)["parcel"] == sorted([*moved, later.number])

    # back to shipping here: Parcel gives them all back, nobody else gets them
    assert route(shop, capture, None) == 3
    assert open_in(shipstation, parcel) == {"shipstation": [], "parcel": []}
    assert not FulfilmentRule.objects.exists()

    # and to ShipStation again: a new ShipStation order under a new key (it never reopens a cancelled one)
    assert route(shop, capture, shop["ss"]) == 3
    assert open_in(shipstation, parcel)["shipstation"] == sorted([*moved, later.number])
    keys = {
        e["view"]["orderKey"] for e in shipstation.orders.values() if e["view"]["orderStatus"] != "cancelled"
    }
    assert keys == {first[0].number, *(f"{n}/2" for n in moved), later.number}
    assert not Delivery.objects.filter(status=DeliveryStatus.DEAD).exists()


def test_an_orders_events_reach_only_the_shipping_tool_it_concerns(
    shop, tools, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    route(shop, capture, shop["parcel"], channel="wholesale")

    web = sell(shop, capture)  # shipped here: no tool hears of it
    b2b = sell(shop, capture, channel="wholesale")  # Parcel's

    def told(order: SalesOrder) -> set[str]:
        return set(
            Delivery.objects.filter(event__aggregate_id=str(order.pk), connection__isnull=False).values_list(
                "connection__name", flat=True
            )
        )

    assert told(web) == set()
    assert told(b2b) == {"Parcel"}
    # moved to ShipStation, the order's later events go to both: Parcel had it (it cancels it there)
    route(shop, capture, shop["ss"], channel="wholesale")
    with capture(execute=True):
        from sales.services import order_hold

        order_hold(order=SalesOrder.objects.get(pk=b2b.pk), reason="address check")
    held = Delivery.objects.filter(event__aggregate_id=str(b2b.pk), topic="sales.order_held")
    assert set(held.values_list("connection__name", flat=True)) == {"Parcel", "Shipping"}


def test_moving_a_warehouse_from_shipstation_to_the_3pl_and_back_here(
    shop, tools, django_capture_on_commit_callbacks
):
    """The issue's swap: ShipStation to ShipBob mid-day, then back to the warehouse's own staff."""
    from integrations.shipbob.fake import ACCESS_TOKEN, CHANNEL_ID, FakeShipBob
    from integrations.shipbob.fake import BASE_URL as SHIPBOB_URL

    capture = django_capture_on_commit_callbacks
    shipstation, _ = tools
    threepl = FakeShipBob(stock={"TENT-2P-GRN": {10: 50}}, limits=False)
    with mounted(SHIPBOB_URL, httpx.MockTransport(threepl.handle)):
        shipbob = connection_create(
            connector="shipbob",
            name="ShipBob",
            settings={"channel_id": CHANNEL_ID},
            secrets={"token": ACCESS_TOKEN, "webhook_secret": "whsec_" + "A" * 32},
        )
        route(shop, capture, shop["ss"])
        orders = [sell(shop, capture) for _ in range(3)]

        assert route(shop, capture, shipbob) == 3
        in_shipbob = {o["reference_id"]: o["status"] for o in threepl.orders.values()}
        assert in_shipbob == {o.number: "Processing" for o in orders}
        assert {e["view"]["orderStatus"] for e in shipstation.orders.values()} == {"cancelled"}

        assert route(shop, capture, None) == 3
        assert {o["status"] for o in threepl.orders.values()} == {"Cancelled"}
        assert {o.number for o in orders} == set(
            SalesOrder.objects.filter(status=OrderStatus.CONFIRMED).values_list("number", flat=True)
        )
        assert not Delivery.objects.filter(status=DeliveryStatus.DEAD).exists()
