"""Amazon through the whole hub, against the fake SP-API: the issue's "Done when".

The fake answers at Amazon's three hosts (SP-API, Login with Amazon, S3's pre-signed documents) on
the hub's HTTP client. One simulated clock runs the fake and the hub's rate limits, so Amazon's
real per-operation limits hold and a wait passes without the test waiting for it. Orders come only
by polling: Pending ones are recorded and reserve stock, then priced when Amazon authorises the
payment; FBA orders leave our stock untouched; a backlog of 500 orders under getOrders' real limit
is imported whole across polls that each stop part-way; stock goes out as Listings PATCHes or as
one feed whose per-SKU errors are failed deliveries; what we ship is confirmed to Amazon.
"""

from __future__ import annotations

import contextlib
import datetime
from collections.abc import Iterator
from decimal import Decimal as D
from typing import Any

import httpx
import pytest
from django.test import override_settings
from django.utils import timezone

from integrations import outbound, polling, ratelimits, tokens
from integrations.amazon.connector import LWA_URL, REGIONS
from integrations.amazon.fake import (
    LWA_CLIENT_ID,
    LWA_CLIENT_SECRET,
    MARKETPLACE_ID,
    REFRESH_TOKEN,
    SELLER_ID,
    FakeAmazon,
)
from integrations.connections import connection_create
from integrations.fakes.clock import SimClock
from integrations.http import mounted
from integrations.models import Connection, Delivery, DeliveryStatus, ExternalRef, InboundEvent, InboundStatus
from inventory import availability
from inventory.services import stock_receive
from sales.models import FulfilledBy, OrderStatus, SalesOrder
from sales.services import ShipLine, shipment_create
from tests.inventory.factories import bin_of, warehouse
from tests.sales.factories import ChannelFactory, stocked_product

pytestmark = pytest.mark.django_db

DOCUMENTS = "https://tortuga-prod-na.s3-external-1.amazonaws.com"
ORIGINS = (REGIONS["na"], "https://api.amazon.com", DOCUMENTS)
SKUS = {"TENT-2P-GRN": "249.00", "TENT-2P-ORG": "249.00", "SLBAG-20F-REG": "129.00", "STOVE-TI-01": "59.95"}
assert LWA_URL.startswith(ORIGINS[1])


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> SimClock:
    """The fake's clock and the hub's rate-limit clock: one, an hour behind the wall clock (so the
    hub's own "two minutes before now" always lies ahead of the fake's)."""
    sim = SimClock(datetime.datetime.now(datetime.UTC).replace(microsecond=0) - datetime.timedelta(hours=1))
    monkeypatch.setattr(ratelimits, "now", sim)
    monkeypatch.setattr(ratelimits, "sleep", sim.sleep)
    monkeypatch.setattr(tokens, "sleep", sim.sleep)
    return sim


@pytest.fixture
def fake(clock: SimClock) -> Iterator[FakeAmazon]:
    amazon = FakeAmazon(clock=clock, documents_url=DOCUMENTS, feed_seconds=90)
    for sku in SKUS:
        amazon.set_quantity(sku, 10)  # as the hub last pushed it
    transport = httpx.MockTransport(amazon.handle)
    with contextlib.ExitStack() as stack:
        for origin in ORIGINS:
            stack.enter_context(mounted(origin, transport))
        yield amazon


@pytest.fixture
def store(db) -> dict[str, Any]:
    wh = warehouse("WH1")
    products = {sku: stocked_product(10, wh=wh, price=price, sku=sku) for sku, price in SKUS.items()}
    products["MUG-ENAMEL-FBA"] = stocked_product(0, wh=wh, price="14.50", sku="MUG-ENAMEL-FBA")
    return {"warehouse": wh, "products": products, "channel": ChannelFactory(warehouse=wh, currency="USD")}


def connect(store: dict[str, Any], **settings: Any) -> Connection:
    return connection_create(
        connector="amazon",
        name="Amazon US",
        settings={"marketplace_ids": [MARKETPLACE_ID], "seller_id": SELLER_ID, **settings},
        secrets={
            "lwa_client_id": LWA_CLIENT_ID,
            "lwa_client_secret": LWA_CLIENT_SECRET,
            "refresh_token": REFRESH_TOKEN,
        },
        warehouse=store["warehouse"],
        sales_channel=store["channel"],
    )


@pytest.fixture
def amazon(store, fake, django_capture_on_commit_callbacks) -> Connection:
    """The connection, its listings imported (each linked by SKU to our product)."""
    connection = connect(store)
    run = poll(connection, django_capture_on_commit_callbacks, "product")
    assert run.created + run.updated == 4, run.errors
    return connection


def poll(connection: Connection, capture, object_type: str = "order") -> Any:
    with capture(execute=True):
        return polling.poll(connection=Connection.objects.get(pk=connection.pk), object_type=object_type)


def available(store: dict[str, Any], sku: str) -> D:
    return availability.of(store["products"][sku].pk, store["warehouse"].pk).available


def deliver(connection: Connection, capture, clock: SimClock) -> list[Delivery]:
    """Let the coalescing window (or a backoff, or a job's wait) pass and attempt what is due."""
    clock.tick(datetime.timedelta(minutes=2))
    Delivery.objects.filter(
        connection=connection, status__in=[DeliveryStatus.PENDING, DeliveryStatus.FAILED]
    ).update(next_attempt_at=timezone.now() - datetime.timedelta(seconds=1))
    with capture(execute=True):
        outbound.deliveries_enqueue_due()
    return list(Delivery.objects.filter(connection=connection).order_by("pk"))


def test_a_pending_order_reserves_at_once_and_is_priced_when_the_payment_is_authorised(
    amazon, fake, store, clock, django_capture_on_commit_callbacks
):
    placed = fake.place_order(
        [("TENT-2P-GRN", 2), ("STOVE-TI-01", 1)], pending=True, promotion=True, shipping="standard"
    )
    clock.tick(datetime.timedelta(minutes=3))  # Amazon shows a change two minutes after it

    run = poll(amazon, django_capture_on_commit_callbacks)

    assert run.created == 1, run.errors
    order = SalesOrder.objects.get(external_reference=placed["AmazonOrderId"])
    # reserved, and on hold: nobody ships an order whose payment is not authorised
    assert (order.status, order.held_from, order.total) == (
        OrderStatus.ON_HOLD,
        OrderStatus.CONFIRMED,
        D("0.00"),
    )
    assert "prices-pending" in order.tags
    assert "buyer-data-restricted" in order.tags
    assert available(store, "TENT-2P-GRN") == 8  # reserved: no other channel sells those two

    fake.authorize_payment(placed["AmazonOrderId"])
    clock.tick(datetime.timedelta(minutes=3))
    poll(amazon, django_capture_on_commit_callbacks)

    order.refresh_from_db()
    amazon_total = D(fake.order(placed["AmazonOrderId"])["OrderTotal"]["Amount"])
    assert order.total == amazon_total > 0  # to the cent, as Amazon computed it
    assert "prices-pending" not in order.tags
    assert order.status == OrderStatus.CONFIRMED  # released: ready to ship
    tent = order.lines.get(product__sku="TENT-2P-GRN")
    assert tent.unit_price == D("249.00")
    assert tent.discount_amount > 0
    assert available(store, "TENT-2P-GRN") == 8


def test_an_fba_order_is_sold_here_and_leaves_our_stock_untouched(
    amazon, fake, store, clock, django_capture_on_commit_callbacks
):
    placed = fake.place_order([("MUG-ENAMEL-FBA", 3)], fulfillment_channel="AFN", pending=False)
    clock.tick(datetime.timedelta(minutes=3))
    poll(amazon, django_capture_on_commit_callbacks)

    order = SalesOrder.objects.get(external_reference=placed["AmazonOrderId"])
    line = order.lines.get()
    assert (line.fulfilled_by, order.status) == (FulfilledBy.MARKETPLACE, OrderStatus.CONFIRMED)
    assert "fba" in order.tags
    assert not line.reservations.exists() if hasattr(line, "reservations") else True
    assert available(store, "TENT-2P-GRN") == 10

    fake.ship_fba(placed["AmazonOrderId"])
    clock.tick(datetime.timedelta(minutes=3))
    poll(amazon, django_capture_on_commit_callbacks)

    order.refresh_from_db()
    assert order.status in (OrderStatus.SHIPPED, OrderStatus.CLOSED)
    shipment = order.shipments.get()
    assert shipment.carrier == "Amazon"
    # nothing of it goes back to Amazon: Amazon shipped it
    assert not Delivery.objects.filter(connection=amazon, topic="sales.shipment_shipped").exclude(
        status=DeliveryStatus.SKIPPED
    )


def test_buyer_data_comes_with_a_restricted_data_token_when_the_connection_may_read_it(
    store, fake, clock, django_capture_on_commit_callbacks
):
    connection = connect(store, read_buyer_data=True)
    placed = fake.place_order([("SLBAG-20F-REG", 1)], pending=False)
    clock.tick(datetime.timedelta(minutes=3))

    poll(connection, django_capture_on_commit_callbacks)

    order = SalesOrder.objects.get(external_reference=placed["AmazonOrderId"])
    assert order.shipping_address["line1"]
    assert order.customer.email.endswith("@marketplace.amazon.com")
    assert "buyer-data-restricted" not in order.tags
    assert [r.status for r in fake.requests_to("createRestrictedDataToken")] == [
        403,
        200,
    ]  # before the first token


def test_without_the_pii_role_orders_come_redacted_and_marked(
    store, clock, django_capture_on_commit_callbacks
):
    redacting = FakeAmazon(clock=clock, documents_url=DOCUMENTS, pii_allowed=False)
    with contextlib.ExitStack() as stack:
        for origin in ORIGINS:
            stack.enter_context(mounted(origin, httpx.MockTransport(redacting.handle)))
        connection = connect(store, read_buyer_data=True)
        redacting.set_quantity("SLBAG-20F-REG", 5)
        placed = redacting.place_order([("SLBAG-20F-REG", 1)], pending=False)
        clock.tick(datetime.timedelta(minutes=3))
        poll(connection, django_capture_on_commit_callbacks)

    order = SalesOrder.objects.get(external_reference=placed["AmazonOrderId"])
    assert "buyer-data-restricted" in order.tags
    assert order.shipping_address["line1"] == ""
    assert order.shipping_address["city"]


@override_settings(INTEGRATIONS_POLL_MAX_PAGES=3)
def test_a_backlog_of_500_orders_is_imported_whole_under_amazons_real_limits(
    amazon, fake, store, clock, django_capture_on_commit_callbacks
):
    for sku in SKUS:
        fake.set_quantity(sku, 1000)
    for n in range(500):
        fake.place_order([(list(SKUS)[n % 4], 1)], pending=False)
        clock.tick(datetime.timedelta(seconds=2))
    clock.tick(datetime.timedelta(minutes=3))

    polls = 0
    while SalesOrder.objects.count() < 500 and polls < 30:
        poll(
            amazon, django_capture_on_commit_callbacks
        )  # a fresh worker each time: only the cursor carries on
        polls += 1
        clock.tick(datetime.timedelta(minutes=5))

    assert SalesOrder.objects.count() == 500
    assert polls > 1  # no single poll could: getOrders allows a page a minute after its burst
    item_reads = [httpx.URL(r.url).path.split("/")[-2] for r in fake.requests_to("getOrderItems")]
    assert len(item_reads) == len(set(item_reads)) == 500  # every order's items read once
    assert not [r for r in fake.requests if r.status == 429]  # the hub kept to Amazon's limits
    assert InboundEvent.objects.exclude(status=InboundStatus.PROCESSED).count() == 0


def test_a_few_skus_go_as_listings_patches(amazon, fake, store, clock, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        stock_receive(
            product=store["products"]["TENT-2P-GRN"],
            location=bin_of(store["warehouse"]),
            quantity=5,
            unit_cost=1,
        )

    deliveries = deliver(amazon, django_capture_on_commit_callbacks, clock)

    assert [d.status for d in deliveries] == [DeliveryStatus.SUCCEEDED]
    assert fake.quantity("TENT-2P-GRN") == 15
    assert fake.patch_requests == 1
    assert not fake.feeds


def test_many_skus_go_as_one_feed_and_a_refused_sku_is_a_visible_failed_delivery(
    amazon, fake, store, clock, django_capture_on_commit_callbacks
):
    fake.refuse_listing("STOVE-TI-01", "The listing is suppressed: missing main image.")
    Connection.objects.filter(pk=amazon.pk).update(settings={**amazon.settings, "feed_threshold": 2})
    with django_capture_on_commit_callbacks(execute=True):
        for sku in SKUS:
            stock_receive(
                product=store["products"][sku], location=bin_of(store["warehouse"]), quantity=1, unit_cost=1
            )

    first = deliver(amazon, django_capture_on_commit_callbacks, clock)  # the feed is created: a job to poll
    assert [d.status for d in first] == [DeliveryStatus.PENDING] * 4
    assert len(fake.feeds) == 1
    waiting = Delivery.objects.filter(connection=amazon).exclude(job_id="")
    assert waiting.count() == 4
    deliveries = deliver(amazon, django_capture_on_commit_callbacks, clock)  # 2 minutes on: DONE

    statuses = sorted(d.status for d in deliveries)
    assert statuses == sorted([DeliveryStatus.SUCCEEDED] * 3 + [DeliveryStatus.DEAD]), [
        (d.status, d.last_error) for d in deliveries
    ]
    dead = next(d for d in deliveries if d.status == DeliveryStatus.DEAD)
    assert "STOVE-TI-01" in dead.last_error
    assert "suppressed" in dead.last_error
    assert fake.quantity("TENT-2P-GRN") == 11
    assert fake.quantity("STOVE-TI-01") == 10
    upload = next(r for r in fake.requests if r.operation == "uploadDocument")
    assert "authorization" not in upload.headers
    assert "x-amz-access-token" not in upload.headers


def test_what_we_ship_is_confirmed_to_amazon_once(
    amazon, fake, store, clock, django_capture_on_commit_callbacks
):
    placed = fake.place_order([("TENT-2P-ORG", 2)], pending=False)
    clock.tick(datetime.timedelta(minutes=3))
    poll(amazon, django_capture_on_commit_callbacks)
    order = SalesOrder.objects.get(external_reference=placed["AmazonOrderId"])

    with django_capture_on_commit_callbacks(execute=True):
        shipment_create(
            order=order, lines=[ShipLine(order.lines.get(), 2)], carrier="UPS", tracking_number="1Z999"
        )
    deliveries = deliver(amazon, django_capture_on_commit_callbacks, clock)

    shipped = [d for d in deliveries if d.topic == "sales.shipment_shipped"]
    assert [(d.status, d.last_error) for d in shipped] == [(DeliveryStatus.SUCCEEDED, "")]
    there = fake.order(placed["AmazonOrderId"])
    assert there["OrderStatus"] == "Shipped"
    assert len(fake.requests_to("confirmShipment")) == 1
    ref = ExternalRef.objects.get(connection=amazon, object_type="fulfilment")
    assert ref.external_id.startswith(placed["AmazonOrderId"])


def test_listings_are_imported_and_linked_by_sku_leaving_fba_only_ones_out(
    amazon, fake, store, django_capture_on_commit_callbacks
):
    poll(amazon, django_capture_on_commit_callbacks, "product")

    variants = dict(
        ExternalRef.objects.filter(connection=amazon, object_type="variant").values_list(
            "external_id", "extra"
        )
    )
    assert set(variants) == set(SKUS)
    assert variants["TENT-2P-GRN"]["product_type"] == "TENT"


def test_an_access_token_about_to_expire_is_refreshed_first_with_a_form(amazon, fake, clock):
    from integrations import registry

    Connection.objects.filter(pk=amazon.pk).update(
        token_expires_at=timezone.now() + datetime.timedelta(seconds=30)
    )
    connector = registry.connector_for(Connection.objects.get(pk=amazon.pk))

    assert connector.test().startswith(f"Seller {SELLER_ID}")

    refresh = fake.requests_to("lwaToken")[-1]
    assert refresh.headers["content-type"].startswith("application/x-www-form-urlencoded")
    connection = Connection.objects.get(pk=amazon.pk)
    assert connection.get_secrets()["access_token"].startswith("Atza|")
    assert connection.token_expires_at > timezone.now() + datetime.timedelta(minutes=50)


def test_a_window_start_amazon_refuses_as_too_recent_is_taken_two_minutes_before_our_now(
    amazon, fake, store, clock, django_capture_on_commit_callbacks
):
    """The cursor is Amazon's own time, so its window start is never too recent for Amazon; should
    the clocks disagree (a cursor ahead of Amazon's now), the start is capped by ours and asked again."""
    # Amazon's clock: the wall clock, a minute ahead (however long the test takes, ours is behind it)
    clock.tick(datetime.timedelta(hours=1, minutes=1))
    placed = fake.place_order(
        [("TENT-2P-GRN", 1)], pending=False, at=timezone.now() - datetime.timedelta(minutes=30)
    )
    cursors = {**(amazon.cursors or {}), "order": (timezone.now() + datetime.timedelta(hours=1)).isoformat()}
    Connection.objects.filter(pk=amazon.pk).update(cursors=cursors)

    run = poll(amazon, django_capture_on_commit_callbacks)

    statuses = [r.status for r in fake.requests_to("getOrders") if r.status != 403]  # 403: the hour's token
    assert statuses == [400, 200], run.errors
    assert run.status != "failed"
    assert not SalesOrder.objects.filter(
        external_reference=placed["AmazonOrderId"]
    ).exists()  # before the window


def test_a_count_amazon_moved_is_not_overwritten_before_its_orders_are_imported(
    amazon, fake, store, clock, django_capture_on_commit_callbacks
):
    """Compare, then set: Amazon sold 2 tents the hub has not imported yet (its orders show only
    after two minutes, and no webhook tells); a stock change here must not hand those units out
    again. The push finds Amazon's count moved, the hub imports the recent orders first, then
    sets what is really left."""
    with django_capture_on_commit_callbacks(execute=True):
        stock_receive(
            product=store["products"]["TENT-2P-GRN"],
            location=bin_of(store["warehouse"]),
            quantity=5,
            unit_cost=1,
        )
    deliver(amazon, django_capture_on_commit_callbacks, clock)
    assert fake.quantity("TENT-2P-GRN") == 15  # the hub set it: what it last pushed
    fake.place_order([("TENT-2P-GRN", 2)], pending=False)  # Amazon counts it down itself: 13
    clock.tick(datetime.timedelta(minutes=3))

    with django_capture_on_commit_callbacks(execute=True):  # a receipt here, before any poll
        stock_receive(
            product=store["products"]["TENT-2P-GRN"],
            location=bin_of(store["warehouse"]),
            quantity=1,
            unit_cost=1,
        )
    deliver(amazon, django_capture_on_commit_callbacks, clock)

    assert SalesOrder.objects.filter(channel=store["channel"]).count() == 1  # imported before the push
    assert available(store, "TENT-2P-GRN") == 14
    assert fake.quantity("TENT-2P-GRN") == 14  # not 16: Amazon's two sales stand


def test_a_pending_order_the_buyer_cancels_is_cancelled_here_though_on_hold(
    amazon, fake, store, clock, django_capture_on_commit_callbacks
):
    placed = fake.place_order([("TENT-2P-GRN", 2)], pending=True)
    clock.tick(datetime.timedelta(minutes=3))
    poll(amazon, django_capture_on_commit_callbacks)
    order = SalesOrder.objects.get(external_reference=placed["AmazonOrderId"])
    assert order.status == OrderStatus.ON_HOLD

    fake.cancel_order(placed["AmazonOrderId"])
    clock.tick(datetime.timedelta(minutes=3))
    poll(amazon, django_capture_on_commit_callbacks)

    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED
    assert available(store, "TENT-2P-GRN") == 10  # its reservation released
