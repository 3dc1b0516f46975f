"""BigCommerce through the whole hub, against the fake store: the issue's "Done when".

The hub subscribes to the fake's hooks itself (its health check); the fake's sender delivers what
BigCommerce would (thin, signed per Standard Webhooks, with the header secret) through the Django
test client to the hub's webhook endpoint; the connector reads the store through the hub's HTTP
client, on which the fake is mounted at https://api.bigcommerce.com. The sample order arrives with
its lines, totals to the cent, customer, addresses and status; a burst of created + statusUpdated +
updated for one order is one order and one read of the V2 order; an order shipped, refunded or
cancelled in BigCommerce's admin arrives as such; what we ship goes out as a V2 shipment; stock
here reaches the fake's inventory at the connection's location.
"""

from __future__ import annotations

import contextlib
import datetime
import json
from collections.abc import Callable, Iterator
from decimal import Decimal as D
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from django.urls import reverse
from django.utils import timezone

from integrations import health, outbound, polling
from integrations.bigcommerce.connector import BigCommerceConnector
from integrations.bigcommerce.fake import ACCESS_TOKEN, CLIENT_SECRET, STORE_HASH, FakeBigCommerce
from integrations.bigcommerce.fake_data import sample_bytes
from integrations.bigcommerce.mapping import order_item
from integrations.bigcommerce.webhooks import SECRET_HEADER
from integrations.connections import connection_create
from integrations.http import mounted
from integrations.models import Connection, Delivery, DeliveryStatus, ExternalRef, InboundEvent, InboundStatus
from inventory.models import Reservation, ReservationStatus
from inventory.services import stock_receive
from sales.models import OrderStatus, SalesOrder, Shipment
from sales.selectors import reserved_by_line
from sales.services import shipment_create
from sales.services.fulfilment import ShipLine
from tests.inventory.factories import bin_of, warehouse
from tests.sales.factories import ChannelFactory, stocked_product

pytestmark = pytest.mark.django_db

ORIGIN = "https://api.bigcommerce.com"
WEBHOOK_SECRET = "bc-e2e-header-secret"
LOCATION_ID = 1
STOCK = {"TENT-2P-GRN": ("249.00", 10), "SLBAG-20F-REG": ("179.00", 10), "STOVE-TI-01": ("59.00", 10)}


class Clock:
    """The store's clock, a test moves by a minute or so (the hub refuses a signature five minutes old)."""

    def __init__(self) -> None:
        self.now = datetime.datetime.now(datetime.UTC).replace(microsecond=0)

    def __call__(self) -> datetime.datetime:
        return self.now

    def tick(self, **delta: float) -> None:
        self.now += datetime.timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def fake(clock: Clock):
    store = FakeBigCommerce(clock=clock)
    with mounted(ORIGIN, httpx.MockTransport(store.handle)):
        yield store


@pytest.fixture
def store(db) -> dict[str, Any]:
    wh = warehouse("WH1")
    channel = ChannelFactory(warehouse=wh)
    products = {
        sku: stocked_product(quantity, wh=wh, price=price, sku=sku, name=sku.title())
        for sku, (price, quantity) in STOCK.items()
    }
    return {"warehouse": wh, "channel": channel, "products": products}


@pytest.fixture
def connection(store, fake) -> Connection:
    connection = connection_create(
        connector="bigcommerce",
        name="Trail Supply Co",
        settings={"store_hash": STORE_HASH, "location_id": LOCATION_ID},
        secrets={
            "access_token": ACCESS_TOKEN,
            "webhook_secret": WEBHOOK_SECRET,
            "client_secret": CLIENT_SECRET,
        },
        warehouse=store["warehouse"],
        sales_channel=store["channel"],
    )
    health.health_check(connection=connection)  # registers the hooks at the fake
    return connection


@pytest.fixture
def hub(client, django_capture_on_commit_callbacks):
    """The hub's webhook endpoint as the fake's sender calls it; ``answers`` keeps (scope, status)."""

    class Endpoint:
        def __init__(self) -> None:
            self.answers: list[tuple[str, str]] = []
            self.held: list[Callable[[], Any]] | None = None

        def __call__(self, url: str, headers: dict[str, str], body: bytes) -> int:
            with django_capture_on_commit_callbacks(execute=self.held is None) as callbacks:
                response = client.post(
                    urlsplit(url).path,
                    data=body,
                    content_type=headers["Content-Type"],
                    headers={k: v for k, v in headers.items() if k != "Content-Type"},
                )
            if self.held is not None:
                self.held.extend(callbacks)
            self.answers.append((json.loads(body)["scope"], response.json()["status"]))
            return response.status_code

        @contextlib.contextmanager
        def within_settle_window(self) -> Iterator[None]:
            """What arrives meanwhile is processed after, as the connector's settle window has it."""
            self.held = []
            try:
                yield
            finally:
                held, self.held = self.held, None
                with django_capture_on_commit_callbacks(execute=True):
                    for callback in held:
                        callback()

    return Endpoint()


def the_order(external_id: Any) -> SalesOrder:
    ref = ExternalRef.objects.get(object_type="order", external_id=str(external_id))
    return SalesOrder.objects.prefetch_related("lines__product").get(pk=ref.object_id)


def order_reads(fake: FakeBigCommerce, order_id: Any) -> int:
    return len(fake.requests_to(f"v2/orders/{order_id}", "GET"))


def run_due_deliveries(capture) -> None:
    Delivery.objects.filter(status__in=[DeliveryStatus.PENDING, DeliveryStatus.FAILED]).update(
        next_attempt_at=timezone.now() - datetime.timedelta(seconds=1)
    )
    with capture(execute=True):
        outbound.deliveries_enqueue_due()


# --- the hooks ---------------------------------------------------------------------------------------


def test_the_health_check_subscribes_the_hub_to_the_stores_hooks(connection, fake):
    hooks = list(fake.hooks.values())
    assert sorted(h["scope"] for h in hooks) == sorted(BigCommerceConnector.webhook_topics)
    assert {h["destination"] for h in hooks} == {health.hook_url(connection)}
    assert all(h["is_active"] and h["headers"] == {SECRET_HEADER: WEBHOOK_SECRET} for h in hooks)


# --- orders in ---------------------------------------------------------------------------------------


def test_the_sample_order_played_through_the_fake_is_the_right_order(
    client, connection, store, fake, django_capture_on_commit_callbacks
):
    # given: the store's order 250 (the samples) and its store/order/created delivery, signed anew
    body = sample_bytes("webhook_store_order_created.json")
    headers = fake.webhook(body, headers={SECRET_HEADER: WEBHOOK_SECRET})

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("integrations:hook", args=[connection.pk]),
            data=body,
            content_type="application/json",
            headers={k: v for k, v in headers.items() if k != "Content-Type"},
        )

    assert response.status_code == 200
    event = InboundEvent.objects.get()
    assert (event.external_id, event.topic, event.status) == (
        "dd70c0976e06b67aaf671e73f49dcb79230ebf9d",
        "store/order/created",
        InboundStatus.PROCESSED,
    )
    order = the_order(250)
    assert (order.status, order.channel, order.external_reference) == (
        OrderStatus.CONFIRMED,
        store["channel"],
        "250",
    )
    lines = list(order.lines.order_by("position"))
    assert [(ln.product.sku, ln.quantity, ln.unit_price, ln.tax_amount) for ln in lines] == [
        ("TENT-2P-GRN", D(1), D("249.00"), D("14.94")),
        ("SLBAG-20F-REG", D(2), D("179.00"), D("21.48")),
    ]
    # BigCommerce's totals to the cent: 607.00 - 10.00 coupon + 9.95 shipping + 36.42 tax
    assert (order.discount_total, order.shipping_amount, order.tax_total, order.total) == (
        D("10.00"),
        D("9.95"),
        D("36.42"),
        D("643.37"),
    )
    assert order.subtotal == D("597.00")
    assert sum(reserved_by_line([ln.pk for ln in lines]).values()) == 3
    assert order.customer.email == "jane.buyer@example.com"
    assert order.customer.name == "Jane Buyer"
    for address in (order.shipping_address, order.billing_address):
        assert (address["line1"], address["line2"], address["city"], address["postal_code"]) == (
            "410 W Main St",
            "Apt 3",
            "Louisville",
            "40202",
        )
        assert (address["region"], address["country"]) == ("Kentucky", "US")
    assert order_reads(fake, 250) == 1
    assert len(fake.requests_to("v2/orders/250/products", "GET")) == 1
    assert len(fake.requests_to("v2/orders/250/shipping_addresses", "GET")) == 1


def test_a_burst_of_created_status_and_updated_is_one_order_and_one_read(connection, fake, hub):
    # when: a shopper checks out; BigCommerce sends created, statusUpdated (0 -> 11) and updated
    placed = fake.create_order([("TENT-2P-GRN", 2), ("STOVE-TI-01", 1)])
    with hub.within_settle_window():
        fake.deliver_webhooks(hub)

    # then: one order here, read once; that read covers the rest of the burst
    assert [scope for scope, _ in hub.answers] == [
        "store/order/created",
        "store/order/statusUpdated",
        "store/order/updated",
    ]
    assert SalesOrder.objects.count() == 1
    order = the_order(placed["id"])
    assert order.status == OrderStatus.CONFIRMED
    assert order.total == D(placed["total_inc_tax"]).quantize(D("0.01"))
    assert order_reads(fake, placed["id"]) == 1
    assert sorted(InboundEvent.objects.values_list("status", flat=True)) == [
        InboundStatus.PROCESSED,
        InboundStatus.SKIPPED,
        InboundStatus.SKIPPED,
    ]


def test_an_order_awaiting_payment_arrives_once_it_is_payable(connection, fake, hub, clock):
    placed = fake.create_order([("TENT-2P-GRN", 1)], status_id=7)  # Awaiting Payment
    fake.deliver_webhooks(hub)
    assert not SalesOrder.objects.exists()

    clock.tick(minutes=1)
    fake.update_status(placed["id"], 11)  # paid: Awaiting Fulfillment
    fake.deliver_webhooks(hub)

    assert the_order(placed["id"]).status == OrderStatus.CONFIRMED


def test_an_order_shipped_in_bigcommerces_admin_arrives_as_a_shipment_with_its_tracking(
    connection, fake, hub, clock
):
    placed = fake.create_order([("TENT-2P-GRN", 1), ("SLBAG-20F-REG", 2)])
    fake.deliver_webhooks(hub)

    clock.tick(minutes=1)
    fake.ship_order(placed["id"], tracking_number="9400111899223817460001", carrier="usps")
    fake.deliver_webhooks(hub)

    order = the_order(placed["id"])
    assert order.status == OrderStatus.SHIPPED
    shipment = Shipment.objects.get(order=order)
    assert (shipment.tracking_number, shipment.carrier) == ("9400111899223817460001", "usps")
    assert sorted(shipment.lines.values_list("order_line__product__sku", "quantity")) == [
        ("SLBAG-20F-REG", D(2)),
        ("TENT-2P-GRN", D(1)),
    ]
    assert not Reservation.objects.filter(status=ReservationStatus.ACTIVE).exists()
    assert fake.requests_to(f"v2/orders/{placed['id']}/shipments", "POST") == []  # not echoed back


def test_a_refund_and_a_cancellation_in_bigcommerce_arrive(connection, fake, hub, clock):
    refunded = fake.create_order([("SLBAG-20F-REG", 2)])
    cancelled = fake.create_order([("TENT-2P-GRN", 1)])
    fake.deliver_webhooks(hub)

    # when: one bag is refunded before it shipped (back in stock), the other order is cancelled
    clock.tick(minutes=1)
    refund = fake.refund_order(refunded["id"], {"SLBAG-20F-REG": 1}, restock=True, reason="changed mind")
    fake.cancel_order(cancelled["id"])
    fake.deliver_webhooks(hub)

    # then: the refund is recorded here and the customer keeps one bag; the cancelled order is cancelled
    assert ExternalRef.objects.filter(
        connection=connection, object_type="refund", external_id=str(refund["id"])
    ).exists()
    kept = the_order(refunded["id"])
    assert kept.status == OrderStatus.CONFIRMED
    [line] = kept.lines.all()
    assert line.quantity - line.quantity_returned == 1
    assert sum(reserved_by_line([line.pk]).values()) == 1
    gone = the_order(cancelled["id"])
    assert gone.status == OrderStatus.CANCELLED
    assert not sum(reserved_by_line([ln.pk for ln in gone.lines.all()]).values())


def test_a_line_refunded_in_bigcommerce_says_what_the_customer_still_has(fake):
    placed = fake.create_order([("SLBAG-20F-REG", 2)])
    fake.refund_order(placed["id"], {"SLBAG-20F-REG": 2}, restock=True)
    order = fake.order(placed["id"])

    record = order_item(order, fake.order_products(placed["id"]), refunds=fake.refunds(placed["id"])).record

    assert record is not None
    assert [line.current_quantity for line in record.lines] == [D(0)]


# --- what we do here goes out --------------------------------------------------------------------------


def test_a_shipment_here_is_a_v2_shipment_with_tracking_carrier_and_lines(
    connection, fake, hub, django_capture_on_commit_callbacks
):
    placed = fake.create_order([("TENT-2P-GRN", 1), ("SLBAG-20F-REG", 2)])
    fake.deliver_webhooks(hub)
    order = the_order(placed["id"])
    tent = order.lines.get(product__sku="TENT-2P-GRN")

    with django_capture_on_commit_callbacks(execute=True):
        shipment_create(order=order, lines=[ShipLine(tent, 1)], carrier="UPS", tracking_number="1Z999AA1")
    run_due_deliveries(django_capture_on_commit_callbacks)

    assert Delivery.objects.get(topic="sales.shipment_shipped").status == DeliveryStatus.SUCCEEDED
    [request] = fake.requests_to(f"v2/orders/{placed['id']}/shipments", "POST")
    assert request.status == 201
    [shipment] = fake._entry(placed["id"])["shipments"]
    products = {p["sku"]: p for p in fake.order_products(placed["id"])}
    assert (shipment["tracking_number"], shipment["tracking_carrier"], shipment["shipping_provider"]) == (
        "1Z999AA1",
        "ups",
        "ups",
    )
    assert shipment["items"] == [
        {"order_product_id": products["TENT-2P-GRN"]["id"], "product_id": 112, "quantity": 1}
    ]
    assert fake.order(placed["id"])["status_id"] == 3  # Partially Shipped


def test_stock_here_reaches_the_stores_inventory_at_the_connections_location(
    connection, store, fake, django_capture_on_commit_callbacks
):
    # given: the store's products imported and linked by SKU (V3 catalog with variants)
    with django_capture_on_commit_callbacks(execute=True):
        polling.import_products(connection=connection)
    linked = dict(
        ExternalRef.objects.filter(connection=connection, object_type="variant").values_list(
            "external_id", "object_id"
        )
    )
    assert linked["77"] == store["products"]["TENT-2P-GRN"].pk
    before_east = fake.stock("TENT-2P-GRN", 2)

    # when: five tents are received here
    with django_capture_on_commit_callbacks(execute=True):
        stock_receive(
            product=store["products"]["TENT-2P-GRN"],
            location=bin_of(store["warehouse"]),
            quantity=5,
            unit_cost=1,
        )
    run_due_deliveries(django_capture_on_commit_callbacks)

    # then: an absolute adjustment sets 15 at location 1; location 2 is not ours
    pushes = fake.requests_to("v3/inventory/adjustments/absolute", "PUT")
    assert pushes
    assert {"location_id": 1, "variant_id": 77, "quantity": 15} in json.loads(pushes[-1].body)["items"]
    assert fake.stock("TENT-2P-GRN", LOCATION_ID) == 15
    assert fake.stock("TENT-2P-GRN", 2) == before_east
