"""Amazon through the whole hub, against the fake SP-API: the issue's "Done when".

The fake answers at Amazon's three hosts (SP-API, Login with Amazon, S3's pre-signed documents) on
the hub's HTTP client. One simulated clock runs the fake and the hub's rate limits, so Amazon's
real per-operation limits hold and a wait passes without the test waiting for it. Orders come only
by polling: Pending ones are recorded and reserve stock, then priced when Amazon authorises the
payment; FBA orders leave our stock untouched; a backlog of 250 orders under getOrders' real limit
is imported whole across polls that each stop part-way; stock goes out as Listings PATCHes or as
one feed whose per-SKU errors are failed deliveries; what we ship is confirmed to Amazon.
"""

from __future__ import annotations

import contextlib
import datetime
from decimal import Decimal as D

import httpx
import pytest
from django.test import override_settings
from django.utils import timezone

from integrations.amazon.fake import SELLER_ID, FakeAmazon
from integrations.http import mounted
from integrations.models import Connection, Delivery, DeliveryStatus, ExternalRef, InboundEvent, InboundStatus
from inventory.models import StockMove
from inventory.services import stock_receive
from sales.models import FulfilledBy, OrderStatus, SalesOrder
from sales.services import ShipLine, shipment_create
from tests.integrations.amazon.hub_support import (
    DOCUMENTS,
    ORIGINS,
    SKUS,
    available,
    connect,
    deliver,
    on_hand,
    poll,
)
from tests.inventory.factories import bin_of

pytestmark = pytest.mark.django_db


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
    mug = store["products"]["MUG-ENAMEL-FBA"]
    with django_capture_on_commit_callbacks(execute=True):  # we hold a few mugs ourselves too
        stock_receive(product=mug, location=bin_of(store["warehouse"]), quantity=5, unit_cost=1)
    moves = StockMove.objects.filter(product=mug).count()
    placed = fake.place_order([("MUG-ENAMEL-FBA", 3)], fulfillment_channel="AFN", pending=False)
    clock.tick(datetime.timedelta(minutes=3))
    poll(amazon, django_capture_on_commit_callbacks)

    order = SalesOrder.objects.get(external_reference=placed["AmazonOrderId"])
    line = order.lines.get()
    assert (line.fulfilled_by, order.status) == (FulfilledBy.MARKETPLACE, OrderStatus.CONFIRMED)
    assert "fba" in order.tags
    assert (on_hand(store, "MUG-ENAMEL-FBA"), available(store, "MUG-ENAMEL-FBA")) == (
        5,
        5,
    )  # nothing reserved
    assert available(store, "TENT-2P-GRN") == 10

    fake.ship_fba(placed["AmazonOrderId"])
    clock.tick(datetime.timedelta(minutes=3))
    poll(amazon, django_capture_on_commit_callbacks)

    order.refresh_from_db()
    assert order.status in (OrderStatus.SHIPPED, OrderStatus.CLOSED)
    shipment = order.shipments.get()
    assert shipment.carrier == "Amazon"
    # shipped from Amazon's warehouse: none of ours left, and no move touched the mug here
    assert (on_hand(store, "MUG-ENAMEL-FBA"), available(store, "MUG-ENAMEL-FBA")) == (5, 5)
    assert StockMove.objects.filter(product=mug).count() == moves
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


@override_settings(INTEGRATIONS_POLL_MAX_PAGES=2)
def test_a_backlog_of_250_orders_is_imported_whole_under_amazons_real_limits(
    amazon, fake, store, clock, django_capture_on_commit_callbacks
):
    for sku in SKUS:
        fake.set_quantity(sku, 1000)
    for n in range(250):  # three pages of getOrders: more than a poll of two pages takes
        fake.place_order([(list(SKUS)[n % 4], 1)], pending=False)
        clock.tick(datetime.timedelta(seconds=2))
    clock.tick(datetime.timedelta(minutes=3))

    polls = 0
    while SalesOrder.objects.count() < 250 and polls < 30:
        poll(
            amazon, django_capture_on_commit_callbacks
        )  # a fresh worker each time: only the cursor carries on
        polls += 1
        clock.tick(datetime.timedelta(minutes=5))

    assert SalesOrder.objects.count() == 250
    assert polls > 1  # no single poll could: getOrders allows a page a minute after its burst
    item_reads = [httpx.URL(r.url).path.split("/")[-2] for r in fake.requests_to("getOrderItems")]
    assert len(item_reads) == len(set(item_reads)) == 250  # every order's items read once
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


def _holding(connection: Connection, token: str) -> Connection:
    """The connection holds ``token`` as a live access token (for another 50 minutes, as it thinks)."""
    held = Connection.objects.get(pk=connection.pk)
    held.set_secrets({**held.get_secrets(), "access_token": token})
    held.token_expires_at = timezone.now() + datetime.timedelta(minutes=50)
    held.save(update_fields=["secrets_encrypted", "token_expires_at"])
    return held


def test_an_access_token_amazon_does_not_know_is_refreshed_once_and_the_request_sent_again(
    amazon, fake, store, clock, django_capture_on_commit_callbacks
):
    """Amazon answers a token it never issued (or forgot: the demo's fake in another process) with
    403 "revoked, malformed or invalid": the hub refreshes it once and sends the same request again."""
    _holding(amazon, "Atza|IwEB-issued-elsewhere")
    refreshes, seen = fake.refreshes, len(fake.requests)
    with django_capture_on_commit_callbacks(execute=True):
        stock_receive(
            product=store["products"]["TENT-2P-GRN"],
            location=bin_of(store["warehouse"]),
            quantity=2,
            unit_cost=1,
        )

    deliveries = deliver(amazon, django_capture_on_commit_callbacks, clock)

    assert [(d.status, d.last_error) for d in deliveries] == [(DeliveryStatus.SUCCEEDED, "")]
    assert fake.refreshes == refreshes + 1
    assert [r.status for r in fake.requests[seen:] if r.status == 403] == [403]
    assert fake.quantity("TENT-2P-GRN") == 12
    connection = Connection.objects.get(pk=amazon.pk)
    assert connection.status == "active"
    assert connection.get_secrets()["access_token"] != "Atza|IwEB-issued-elsewhere"


def test_a_403_for_a_role_the_app_lacks_is_not_taken_for_a_token_to_refresh(amazon, fake, clock):
    """403 Unauthorized with no details is Amazon's answer to an app without the operation's role:
    no refresh cures it, so none is made and the error says what Amazon said."""
    from integrations import registry
    from integrations.errors import PermanentError

    refreshes = fake.refreshes
    connector = registry.connector_for(_holding(amazon, fake.access_token()))
    body = {
        "errors": [
            {"code": "Unauthorized", "message": "Access to requested resource is denied.", "details": ""}
        ]
    }
    fake.fail_next(1, status=403, match="searchListingsItems", body=body)

    with pytest.raises(PermanentError, match="403"):
        connector.test()

    assert fake.refreshes == refreshes


def test_a_token_still_refused_after_its_refresh_asks_the_seller_to_authorise_again(amazon, fake, clock):
    """One refresh, never a loop: a token Amazon still does not take after it needs a person."""
    from integrations import registry
    from integrations.errors import AuthFailed

    connector = registry.connector_for(_holding(amazon, "Atza|IwEB-issued-elsewhere"))
    refreshes = fake.refreshes
    refused = {
        "errors": [
            {
                "code": "Unauthorized",
                "message": "Access to requested resource is denied.",
                "details": "The access token you provided is revoked, malformed or invalid.",
            }
        ]
    }
    fake.fail_next(2, status=403, match="searchListingsItems", body=refused)

    with pytest.raises(AuthFailed, match="again after a token refresh"):
        connector.test()

    assert fake.refreshes == refreshes + 1
    assert Connection.objects.get(pk=amazon.pk).status == "needs_reauth"
