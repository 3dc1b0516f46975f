"""The `make run` demo's shipping: ShipStation ships the demo BigCommerce store's orders from MAIN, and
ShipBob holds 3PL-IL's stock and ships its orders; each seeded idempotently against its fake (served
at /integrations/fake-<key>/ with the fakes on), with demo actions on the connection's page that make
the fake's warehouse ship or count, and the tool's webhooks reach the hub in process."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal as D
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.db import connection as db
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from erp import demo as erp_demo
from integrations import demo as shopify_demo
from integrations import demo_fakes, health, hooks, http
from integrations.bigcommerce import demo as bigcommerce_demo
from integrations.bigcommerce.fake import shared_fake as bigcommerce_fake
from integrations.connections import connection_create
from integrations.models import Connection, ExternalRef, FulfilmentRule, ValueMapping
from integrations.shipbob import demo as shipbob_demo
from integrations.shipbob.fake import shared_fake as shipbob_fake
from integrations.shipstation import demo as shipstation_demo
from integrations.shipstation.fake import API_KEY, API_SECRET, STORE_ID
from integrations.shipstation.fake import shared_fake as shipstation_fake
from integrations.shopify.fake import shared_fake as shopify_fake
from inventory import availability
from inventory.models import MoveKind, Product, StockMove, Warehouse
from sales.models import OrderStatus, SalesChannel, SalesOrder, Shipment
from sales.services import order_confirm
from tests.integrations.outbound_support import run_due_deliveries
from tests.integrations.ui_support import (
    admin_fixture,  # noqa: F401  (a fixture)
    client_for,
    reader_fixture,  # noqa: F401  (a fixture)
)
from tests.inventory.factories import unit, warehouse
from tests.sales.factories import ChannelFactory, order_for

pytestmark = pytest.mark.django_db

COUNTED = f"Counted by {shipbob_demo.DEMO_NAME}"


@pytest.fixture
def fakes(settings) -> Iterator[None]:
    """The fakes on, each shared fake as new; the seeders mount them on the hub's client."""
    settings.ERP_DEMO_FAKES = True
    for fake in (shopify_fake(), bigcommerce_fake(), shipstation_fake(), shipbob_fake()):
        fake.reset()
    yield
    for prefix in (
        shopify_demo.demo_base_url(),
        bigcommerce_demo.demo_base_url(),
        demo_fakes.fake_url(shipstation_demo.KEY),
        demo_fakes.fake_url(shipbob_demo.KEY),
    ):
        http.unmount(prefix)


def seed() -> list[str]:
    return [
        *shopify_demo.seed_integrations(),  # the products are the demo Shopify's
        *bigcommerce_demo.seed_bigcommerce(),  # the channel ShipStation ships
        *shipstation_demo.seed_shipstation(),
        *shipbob_demo.seed_shipbob(),
    ]


@pytest.fixture
def seeded(fakes, db) -> list[str]:
    unit("pcs")
    warehouse("MAIN")
    ChannelFactory(code="shopify", name="Shopify web store", warehouse=warehouse("MAIN"))
    return seed()


@pytest.fixture
def shipstation(seeded) -> Connection:
    return Connection.objects.get(name=shipstation_demo.DEMO_NAME)


@pytest.fixture
def shipbob(seeded) -> Connection:
    return Connection.objects.get(name=shipbob_demo.DEMO_NAME)


def act(client: Client, connection: Connection, name: str, capture: Any) -> tuple[Any, list[str]]:
    """POST a demo action as the page's button does; the answer and the messages it flashed."""
    with capture(execute=True):
        response = client.post(reverse("integrations:connection-demo", args=[connection.pk, name]))
    run_due_deliveries(capture)
    return response, [str(m) for m in get_messages(response.wsgi_request)]


def on_hand_at_3pl() -> dict[str, tuple[int, int]]:
    """Per SKU ShipBob stocks: (on hand at 3PL-IL here, on hand at Cicero there)."""
    fake = shipbob_fake()
    wh = Warehouse.objects.get(code=shipbob_demo.WAREHOUSE_CODE)
    found = {}
    for sku in fake.products:
        product = Product.objects.get(sku=shipbob_demo.LINKED.get(sku, sku))
        found[sku] = (int(availability.of(product.pk, wh.pk).on_hand), fake.on_hand(sku, shipbob_demo.CENTRE))
    return found


# --- seeding ---------------------------------------------------------------------------------------


def test_they_seed_after_the_demo_bigcommerce_store():
    seeders = [name for _, name, _ in sorted(erp_demo._seeders, key=lambda s: s[0])]

    assert (
        seeders.index("integrations")
        < seeders.index("integrations-bigcommerce")
        < seeders.index("integrations-shipstation")
        < seeders.index("integrations-shipbob")
    )


def test_seeding_twice_makes_the_connections_rules_and_mapping_once(seeded: list[str]) -> None:
    moves = StockMove.objects.filter(kind=MoveKind.COUNT, reason=COUNTED).count()

    again = seed()

    assert Connection.objects.filter(name=shipstation_demo.DEMO_NAME).count() == 1
    assert Connection.objects.filter(name=shipbob_demo.DEMO_NAME).count() == 1
    assert Warehouse.objects.filter(code="3PL-IL").count() == 1
    assert SalesChannel.objects.filter(code=shipbob_demo.CHANNEL_CODE).count() == 1
    # ShipStation: the fake's store, keys and token; SHIP_NOTIFY subscribed with the token
    ss = Connection.objects.get(name=shipstation_demo.DEMO_NAME)
    assert ss.connector == "shipstation"
    assert ss.settings["base_url"] == demo_fakes.fake_url("shipstation")
    assert ss.settings["store_id"] == STORE_ID
    assert ss.get_secrets()["webhook_token"] == shipstation_demo.WEBHOOK_TOKEN
    hooks_there = list(shipstation_fake().webhooks.values())
    assert [(h["event"], h["active"]) for h in hooks_there] == [("SHIP_NOTIFY", True)]
    assert f"token={shipstation_demo.WEBHOOK_TOKEN}" in hooks_there[0]["url"]
    assert shipstation_fake().base_url == demo_fakes.fake_url("shipstation")  # its resource URLs
    # ShipBob: 3PL-IL, Cicero mapped to it, the stove linked, order.shipped subscribed
    sb = Connection.objects.get(name=shipbob_demo.DEMO_NAME)
    assert (sb.connector, sb.warehouse.code, sb.warehouse.name) == (
        "shipbob",
        "3PL-IL",
        "ShipBob Cicero (IL)",
    )
    assert sb.settings["base_url"] == demo_fakes.fake_url("shipbob")
    assert list(
        ValueMapping.objects.filter(connection=sb).values_list("kind", "our_value", "tool_value")
    ) == [("fulfillment_center", "3PL-IL", "10")]
    assert ExternalRef.objects.get(connection=sb, object_type="sku", external_id="STOVE-TI-01").object_id == (
        Product.objects.get(sku="STOVE-TITANIUM").pk
    )
    assert "order.shipped" in {t for s in shipbob_fake().subscription_views() for t in s["topics"]}
    # the rules: the demo BigCommerce store's orders at MAIN to ShipStation, 3PL-IL's to ShipBob
    assert sorted(
        FulfilmentRule.objects.values_list("warehouse__code", "channel__code", "connection__name")
    ) == [("3PL-IL", None, "Demo ShipBob"), ("MAIN", "bigcommerce-demo", "Demo ShipStation")]
    # 3PL-IL's on hand is ShipBob's count at Cicero, counted once
    assert all(here == there for here, there in on_hand_at_3pl().values()), on_hand_at_3pl()
    assert on_hand_at_3pl()["TENT-2P-GRN"] == (40, 40)
    assert moves == 4
    assert StockMove.objects.filter(kind=MoveKind.COUNT, reason=COUNTED).count() == moves
    # and it says so
    assert "ships MAIN's bigcommerce-demo orders; SHIP_NOTIFY subscribed" in again[-2]
    assert "on hand at 3PL-IL as ShipBob counts it: SLBAG-20F-REG 12, STOVE-TITANIUM 25" in again[-1]


def test_without_the_fakes_the_connections_are_made_but_not_checked(db, settings) -> None:
    settings.ERP_DEMO_FAKES = False
    unit("pcs")
    warehouse("MAIN")
    shopify_demo.seed_integrations()
    bigcommerce_demo.seed_bigcommerce()

    report = shipstation_demo.seed_shipstation() + shipbob_demo.seed_shipbob()

    assert "not subscribed (the fakes are off)" in report[0]
    assert "not read (the fakes are off)" in report[1]
    assert FulfilmentRule.objects.count() == 2


# --- ShipStation: a BigCommerce order, its label, its tracking back to BigCommerce ---------------------


def sell_on_bigcommerce(capture: Any, lines: list[tuple[str, int]]) -> tuple[dict[str, Any], SalesOrder]:
    """A shopper orders in the demo BigCommerce store; its webhooks reach the hub in process."""
    store = Connection.objects.get(name=bigcommerce_demo.DEMO_NAME)
    health.health_check(connection=store)  # the store's hooks, to the hub
    fake = bigcommerce_fake()
    placed = fake.create_order(lines)

    def send(url: str, headers: dict[str, str], body: bytes) -> int:
        with capture(execute=True):
            return hooks.post_in_process(store, headers, body, "testserver")[0]

    assert {d.attempts[-1].status for d in fake.deliver_webhooks(send)} == {200}
    run_due_deliveries(capture)
    ref = ExternalRef.objects.get(connection=store, object_type="order", external_id=str(placed["id"]))
    return placed, SalesOrder.objects.get(pk=ref.object_id)


def test_print_labels_ships_a_bigcommerce_order_and_its_tracking_reaches_the_store(
    shipstation: Connection, admin: Client, django_capture_on_commit_callbacks
) -> None:
    capture = django_capture_on_commit_callbacks
    placed, order = sell_on_bigcommerce(capture, [("TENT-2P-GRN", 1), ("SLBAG-20F-REG", 1)])
    assert (order.channel.code, order.status) == ("bigcommerce-demo", OrderStatus.CONFIRMED)
    [there] = shipstation_fake().orders_awaiting()  # routed to ShipStation by the rule
    assert there["orderNumber"] == order.number

    response, said = act(admin, shipstation, "print-labels", capture)

    assert response.status_code == 302
    assert response["Location"] == reverse("integrations:connection", args=[shipstation.pk])
    [label] = shipstation_fake().shipments_of(order.number)
    assert said == [f"1 label printed: {order.number} (tracking {label['trackingNumber']})."]
    order.refresh_from_db()
    assert order.status == OrderStatus.SHIPPED
    [shipment] = Shipment.objects.filter(order=order)
    assert (shipment.tracking_number, shipment.carrier) == (label["trackingNumber"], "stamps_com")
    # ... and BigCommerce hears it from the hub
    [told] = bigcommerce_fake()._entry(placed["id"])["shipments"]
    assert told["tracking_number"] == label["trackingNumber"]
    assert not shipstation_fake().orders_awaiting()


def test_print_labels_with_nothing_waiting_says_so(
    shipstation: Connection, admin: Client, django_capture_on_commit_callbacks
) -> None:
    response, said = act(admin, shipstation, "print-labels", django_capture_on_commit_callbacks)

    assert response.status_code == 302
    assert len(said) == 1
    assert said[0].startswith("No order awaits a label in the fake ShipStation")
    assert not Shipment.objects.exists()


def test_the_served_fake_gets_its_subscription_again_before_printing(
    shipstation: Connection, admin: Client, django_capture_on_commit_callbacks
) -> None:
    """A served app's fake starts empty (the seeder subscribed in another process): the action
    subscribes SHIP_NOTIFY again before its notifications are sent."""
    capture = django_capture_on_commit_callbacks
    _, order = sell_on_bigcommerce(capture, [("TENT-2P-ORG", 1)])
    for hook_id in list(shipstation_fake().webhooks):
        shipstation_fake().unsubscribe(hook_id)

    act(admin, shipstation, "print-labels", capture)

    assert Shipment.objects.filter(order=order).count() == 1


# --- ShipBob: its stock at 3PL-IL, a cycle count, its shipments ----------------------------------------


def test_a_cycle_count_at_shipbob_reaches_3pl_il_as_a_count_move(
    shipbob: Connection, admin: Client, django_capture_on_commit_callbacks
) -> None:
    before = StockMove.objects.filter(kind=MoveKind.COUNT, reason=COUNTED).count()

    response, said = act(admin, shipbob, "cycle-count", django_capture_on_commit_callbacks)

    assert response.status_code == 302
    [move] = StockMove.objects.filter(kind=MoveKind.COUNT, reason=COUNTED).order_by("-pk")[:1]
    assert StockMove.objects.filter(kind=MoveKind.COUNT, reason=COUNTED).count() == before + 1
    assert abs(move.quantity) == 1
    assert all(here == there for here, there in on_hand_at_3pl().values()), on_hand_at_3pl()
    assert len(said) == 1
    assert said[0].startswith("Cycle count at ShipBob Cicero (IL): ")
    assert f'(a count move "{COUNTED}")' in said[0]
    assert f"3PL-IL has {int(availability.of(move.product_id, shipbob.warehouse_id).on_hand)}" in said[0]


def test_ship_waiting_orders_ships_the_3pl_channels_order(
    shipbob: Connection, admin: Client, django_capture_on_commit_callbacks
) -> None:
    capture = django_capture_on_commit_callbacks
    channel = SalesChannel.objects.get(code=shipbob_demo.CHANNEL_CODE)
    tent = Product.objects.get(sku="TENT-2P-GRN")
    with capture(execute=True):
        order = order_confirm(order=order_for((tent, 2), channel=channel, shipping_address=ADDRESS))
    run_due_deliveries(capture)
    assert shipbob_fake().order_by_reference(order.number) is not None  # routed to ShipBob

    response, said = act(admin, shipbob, "ship-orders", capture)

    assert response.status_code == 302
    order.refresh_from_db()
    assert order.status == OrderStatus.SHIPPED
    [shipment] = Shipment.objects.filter(order=order)
    assert shipment.tracking_number
    assert said == [f"ShipBob shipped 1 order: {order.number} (tracking {shipment.tracking_number})."]
    assert shipbob_fake().on_hand("TENT-2P-GRN", shipbob_demo.CENTRE) == 38
    assert availability.of(tent.pk, shipbob.warehouse_id).on_hand == D(38)


ADDRESS = {
    "name": "Jane Buyer",
    "line1": "410 W Main St",
    "city": "Louisville",
    "region": "KY",
    "postal_code": "40202",
    "country": "US",
}


# --- BigCommerce: "Simulate an order" puts an order on bigcommerce-demo --------------------------------
# Transactional, as the served app is (autocommit, tasks eager): each webhook's event is processed
# once it is stored, so the action's message can name the order the hub imported.


@pytest.fixture
def store(seeded) -> Connection:
    return Connection.objects.get(name=bigcommerce_demo.DEMO_NAME)


def simulate(client: Client, store: Connection) -> tuple[Any, list[str]]:
    """POST "Simulate an order" as the card's button does; the answer and the messages it flashed."""
    response = client.post(reverse("integrations:connection-demo", args=[store.pk, "simulate-order"]))
    return response, [str(m) for m in get_messages(response.wsgi_request)]


def imported(store: Connection, order_id: int) -> SalesOrder:
    ref = ExternalRef.objects.get(connection=store, object_type="order", external_id=str(order_id))
    return SalesOrder.objects.get(pk=ref.object_id)


def new_orders(before: set[int]) -> list[int]:
    """The fake store's orders placed since ``before`` (it is seeded with a few of its own)."""
    return sorted(set(bigcommerce_fake().orders) - before)


def said_lines(order_id: int) -> str:
    products = bigcommerce_fake().order_products(order_id)
    return ", ".join(f"{p['quantity']} × {p['sku']}" for p in products)


@pytest.mark.django_db(transaction=True)
def test_simulate_an_order_imports_it_confirmed_and_sends_it_to_shipstation(
    store: Connection, shipstation: Connection, admin: Client
) -> None:
    linked = {"TENT-2P-GRN", "TENT-2P-ORG", "SLBAG-20F-REG"}
    before = set(bigcommerce_fake().orders)

    response, said = simulate(admin, store)

    assert response.status_code == 302
    assert response["Location"] == reverse("integrations:connection", args=[store.pk])
    [placed] = new_orders(before)
    order = imported(store, placed)
    assert (order.channel.code, order.status) == ("bigcommerce-demo", OrderStatus.CONFIRMED)
    assert SalesOrder.objects.count() == 1
    skus = {p["sku"] for p in bigcommerce_fake().order_products(placed)}
    assert 1 <= len(skus) <= 2
    assert skus <= linked
    assert {line.product.sku for line in order.lines.all()} == skus
    [there] = shipstation_fake().orders_awaiting()  # routed to ShipStation by the demo's rule
    assert there["orderNumber"] == order.number
    assert said == [
        f"BigCommerce order {placed} ({said_lines(placed)}) placed in the fake store, imported as "
        f"{order.number} on bigcommerce-demo, confirmed; shipped by Demo ShipStation: Print labels on "
        "its page."
    ]

    _, said_again = simulate(admin, store)  # a second click, a second order

    first, second = new_orders(before)
    assert first == placed
    other = imported(store, second)
    assert other.pk != order.pk
    assert (other.channel.code, other.status) == ("bigcommerce-demo", OrderStatus.CONFIRMED)
    assert SalesOrder.objects.count() == 2
    assert {o["orderNumber"] for o in shipstation_fake().orders_awaiting()} == {order.number, other.number}
    assert said_again[-1].startswith(f"BigCommerce order {second} (")  # (the first one not yet shown)
    assert f"imported as {other.number} on bigcommerce-demo" in said_again[-1]


@pytest.mark.django_db(transaction=True)
def test_simulate_an_order_with_no_shipping_rule_says_to_ship_it_here(
    store: Connection, admin: Client
) -> None:
    FulfilmentRule.objects.filter(channel__code="bigcommerce-demo").delete()
    before = set(bigcommerce_fake().orders)

    _, said = simulate(admin, store)

    [placed] = new_orders(before)
    order = imported(store, placed)
    assert order.status == OrderStatus.CONFIRMED
    assert said == [
        f"BigCommerce order {placed} ({said_lines(placed)}) placed in the fake store, imported as "
        f"{order.number} on bigcommerce-demo, confirmed; ship it from the order page."
    ]
    assert not shipstation_fake().orders_awaiting()


@pytest.mark.django_db(transaction=True)
def test_the_served_store_gets_its_hooks_again_before_the_order(store: Connection, admin: Client) -> None:
    """A served app's fake starts without hooks (the seeder registered them in another process):
    the action registers them again (the health check) before the shopper orders."""
    fake = bigcommerce_fake()
    health.health_check(connection=store)
    for hook_id in list(fake.hooks):
        fake.deactivate_hook(hook_id)
    before = set(fake.orders)

    simulate(admin, store)

    assert {h["scope"] for h in fake.hooks.values() if h["is_active"]} >= {"store/order/created"}
    [placed] = new_orders(before)
    assert imported(store, placed).status == OrderStatus.CONFIRMED


def test_a_user_who_cannot_write_cannot_simulate_an_order(store: Connection, reader: Client) -> None:
    url = reverse("integrations:connection-demo", args=[store.pk, "simulate-order"])
    before = set(bigcommerce_fake().orders)

    assert reader.post(url).status_code == 403
    assert Client().post(url).status_code == 302  # to the login page
    assert not new_orders(before)
    assert not SalesOrder.objects.exists()


# --- the page and the view -------------------------------------------------------------------------


def test_the_card_shows_on_the_demo_connections_only(
    shipstation: Connection, shipbob: Connection, admin: Client
) -> None:
    page = admin.get(reverse("integrations:connection", args=[shipstation.pk])).content.decode()
    assert 'id="demo-actions"' in page
    assert "Print labels" in page
    assert reverse("integrations:connection-demo", args=[shipstation.pk, "print-labels"]) in page

    page = admin.get(reverse("integrations:connection", args=[shipbob.pk])).content.decode()
    assert "Ship waiting orders" in page
    assert "Cycle count" in page

    store = Connection.objects.get(name=bigcommerce_demo.DEMO_NAME)
    page = admin.get(reverse("integrations:connection", args=[store.pk])).content.decode()
    assert 'id="demo-actions"' in page
    assert "Simulate an order" in page
    assert reverse("integrations:connection-demo", args=[store.pk, "simulate-order"]) in page
    assert "Print labels" not in page

    shopify = Connection.objects.get(name=shopify_demo.DEMO_NAME)
    assert (
        'id="demo-actions"'
        not in admin.get(reverse("integrations:connection", args=[shopify.pk])).content.decode()
    )


def test_the_card_costs_the_page_no_query(shipstation: Connection, admin: Client, settings) -> None:
    url = reverse("integrations:connection", args=[shipstation.pk])
    admin.get(url)  # warm: sessions, content types
    with CaptureQueriesContext(db) as with_card:
        assert b'id="demo-actions"' in admin.get(url).content
    settings.ERP_DEMO_FAKES = False
    with CaptureQueriesContext(db) as without:
        assert b'id="demo-actions"' not in admin.get(url).content

    assert len(with_card) == len(without)


def test_the_view_refuses_what_is_not_a_demo_action(
    shipstation: Connection, admin: Client, settings, django_capture_on_commit_callbacks
) -> None:
    other = connection_create(
        connector="shipstation",
        name="Real ShipStation",
        settings={"store_id": STORE_ID},
        secrets={"api_key": API_KEY, "api_secret": API_SECRET},
    )
    store = Connection.objects.get(name=bigcommerce_demo.DEMO_NAME)

    def post(connection: Connection, name: str) -> int:
        url = reverse("integrations:connection-demo", args=[connection.pk, name])
        return int(admin.post(url).status_code)

    assert post(other, "print-labels") == 404  # not the demo's connection
    assert post(store, "print-labels") == 404  # not one of its connector's demo actions
    assert post(shipstation, "simulate-order") == 404  # nor BigCommerce's one of ShipStation's
    assert post(shipstation, "cycle-count") == 404  # not one of its actions
    assert (
        admin.get(reverse("integrations:connection-demo", args=[shipstation.pk, "print-labels"])).status_code
        == 405
    )
    settings.ERP_DEMO_FAKES = False
    assert post(shipstation, "print-labels") == 404
    assert not shipstation_fake().shipments


def test_a_user_who_cannot_write_cannot_act(shipstation: Connection, reader: Client) -> None:
    url = reverse("integrations:connection-demo", args=[shipstation.pk, "print-labels"])

    assert reader.post(url).status_code == 403
    assert Client().post(url).status_code == 302  # to the login page
    assert client_for("nobody").post(url).status_code == 403
