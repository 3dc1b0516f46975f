"""Shopify through the whole hub: the webhook endpoint, the appliers, the outbox fan-out and pushes.

The issue's "Done when": the sample order posted with its real signature becomes one
confirmed sales order with Shopify's lines, totals (705.91) and reservations, however
often it is posted; a bad signature is a 401 that stores nothing; a stock change is
pushed once per connected channel, coalesced; a push that keeps failing is a dead
letter that can be retried; a shipment here becomes a fulfilment with tracking there.
"""

from __future__ import annotations

import datetime
import json
from decimal import Decimal as D

import httpx
import pytest
from django.test import override_settings
from django.utils import timezone

from integrations import outbound
from integrations.http import mounted
from integrations.models import Delivery, DeliveryStatus, ExternalRef, InboundEvent, InboundStatus
from integrations.shopify.fake import FakeShopify, sample_webhook
from integrations.shopify.fake_data import sample
from inventory.services import stock_receive
from sales.models import OrderStatus, SalesOrder
from sales.selectors import reserved_by_line
from sales.services import shipment_create
from sales.services.fulfilment import ShipLine
from tests.integrations.shopify.scenario import post_webhook, shopify_connection, stocked_store
from tests.inventory.factories import bin_of

OUTLET_DOMAIN = "acme-outlet.myshopify.com"


@pytest.fixture
def store(db):
    return stocked_store()


@pytest.fixture
def connection(store, shop):
    return shopify_connection(store)


def deliver(client, connection, headers, body, capture):
    with capture(execute=True):
        return post_webhook(client, connection, headers, body)


def only_order() -> SalesOrder:
    [order] = SalesOrder.objects.prefetch_related("lines__product", "lines__taxes")
    return order


# --- orders in ------------------------------------------------------------------------------------


def test_the_sample_webhook_creates_one_confirmed_order_with_shopifys_totals(
    client, connection, store, django_capture_on_commit_callbacks
):
    headers, body = sample_webhook()

    response = deliver(client, connection, headers, body, django_capture_on_commit_callbacks)

    assert response.status_code == 200
    assert response.json()["status"] == "received"
    event = InboundEvent.objects.get()
    assert (event.external_id, event.topic, event.status) == (
        "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043",
        "orders/create",
        InboundStatus.PROCESSED,
    )
    assert bytes(event.body) == body
    order = only_order()
    assert order.status == OrderStatus.CONFIRMED
    assert order.channel == store["channel"]
    assert order.external_reference == "#1042"
    assert (order.subtotal, order.discount_total, order.tax_total, order.total) == (
        D("656.00"),
        D("10.00"),
        D("39.96"),
        D("705.91"),
    )
    assert order.shipping_amount == D("9.95")
    lines = list(order.lines.order_by("position"))
    assert [(ln.product.sku, ln.quantity, ln.unit_price, ln.tax_amount) for ln in lines] == [
        ("TENT-2P-GRN", D(1), D("249.00"), D("14.94")),
        ("SLBAG-20F-REG", D(2), D("179.00"), D("21.48")),
        ("STOVE-TI-01", D(1), D("59.00"), D("3.54")),
    ]
    assert [ln.line_total for ln in lines] == [D("253.94"), D("379.48"), D("62.54")]
    reserved = reserved_by_line([ln.pk for ln in lines])
    assert [reserved.get(ln.pk) for ln in lines] == [D(1), D(2), D(1)]
    assert order.shipping_address["line1"] == "410 W Main St"
    assert order.shipping_address["country"] == "US"
    assert order.customer.email == "jane.buyer@example.com"
    assert "paid" in order.tags
    order_ref = ExternalRef.objects.get(connection=connection, object_type="order")
    assert (order_ref.external_id, order_ref.object_id) == ("5834021535987", order.pk)
    line_refs = ExternalRef.objects.filter(connection=connection, object_type="order_line")
    assert sorted(line_refs.values_list("external_id", flat=True)) == [
        "13950000000001",
        "13950000000002",
        "13950000000003",
    ]


def test_posting_the_sample_five_times_gives_one_order(
    client, connection, django_capture_on_commit_callbacks
):
    headers, body = sample_webhook()

    answers = [
        deliver(client, connection, headers, body, django_capture_on_commit_callbacks) for _ in range(5)
    ]

    assert [a.status_code for a in answers] == [200] * 5
    assert [a.json()["status"] for a in answers] == ["received"] + ["duplicate"] * 4
    assert InboundEvent.objects.count() == 1
    order = only_order()
    assert sum(reserved_by_line([ln.pk for ln in order.lines.all()]).values()) == 4


def test_redeliveries_with_new_ids_still_give_one_order(
    client, connection, shop, django_capture_on_commit_callbacks
):
    _, body = sample_webhook()

    for topic in ("orders/create", "orders/updated", "orders/create"):
        headers, raw = shop.webhook(topic, body)  # new webhook and event ids each time
        assert (
            deliver(client, connection, headers, raw, django_capture_on_commit_callbacks).status_code == 200
        )

    assert InboundEvent.objects.count() == 3
    assert sorted(InboundEvent.objects.values_list("status", flat=True)) == [
        InboundStatus.PROCESSED,
        InboundStatus.SKIPPED,
        InboundStatus.SKIPPED,
    ]
    assert SalesOrder.objects.count() == 1


@pytest.mark.parametrize(
    "tamper",
    [
        lambda h, b: (h, b.replace(b'"705.91"', b'"1.00"')),
        lambda h, b: ({**h, "X-Shopify-Hmac-Sha256": "AAAA" + h["X-Shopify-Hmac-Sha256"][4:]}, b),
        lambda h, b: ({k: v for k, v in h.items() if k != "X-Shopify-Hmac-Sha256"}, b),
        lambda h, b: FakeShopify().webhook("orders/create", b, secret="shpss_someone_else"),
    ],
)
def test_a_bad_signature_gets_401_and_stores_nothing(
    client, connection, tamper, django_capture_on_commit_callbacks
):
    headers, body = tamper(*sample_webhook())

    response = deliver(client, connection, headers, body, django_capture_on_commit_callbacks)

    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"
    assert InboundEvent.objects.count() == 0
    assert SalesOrder.objects.count() == 0


def test_an_older_update_is_dropped_and_a_cancel_cancels(
    client, connection, shop, django_capture_on_commit_callbacks
):
    order = json.loads(sample_webhook()[1])
    newer = order | {"updated_at": "2026-03-14T12:00:00-04:00", "note": "Ring twice", "tags": "vip"}
    older = order | {"updated_at": "2026-03-14T11:00:00-04:00", "note": "stale note"}
    cancelled = newer | {
        "updated_at": "2026-03-14T13:00:00-04:00",
        "cancelled_at": "2026-03-14T13:00:00-04:00",
        "cancel_reason": "customer",
    }

    for topic, payload in (
        ("orders/create", order),
        ("orders/updated", newer),
        ("orders/updated", older),
    ):
        deliver(client, connection, *shop.webhook(topic, payload), django_capture_on_commit_callbacks)
    kept = only_order()
    deliver(
        client, connection, *shop.webhook("orders/cancelled", cancelled), django_capture_on_commit_callbacks
    )

    assert kept.notes == "Ring twice"
    assert "vip" in kept.tags
    assert InboundEvent.objects.order_by("pk").last().status == InboundStatus.PROCESSED
    statuses = list(InboundEvent.objects.order_by("pk").values_list("status", flat=True))
    assert statuses[2] == InboundStatus.SKIPPED  # the older update
    cancelled_order = only_order()
    assert cancelled_order.status == OrderStatus.CANCELLED
    assert sum(reserved_by_line([ln.pk for ln in cancelled_order.lines.all()]).values(), D(0)) == 0


def test_an_unknown_sku_is_quarantined_until_mapped(
    client, connection, store, django_capture_on_commit_callbacks
):
    from integrations.inbound import quarantine_map_sku

    stove = store["products"]["STOVE-TI-01"]
    stove.sku = "STOVE-TITANIUM"
    stove.save(update_fields=["sku"])
    headers, body = sample_webhook()

    deliver(client, connection, headers, body, django_capture_on_commit_callbacks)
    event = InboundEvent.objects.get()
    assert (event.status, event.missing) == (
        InboundStatus.QUARANTINED,
        {"kind": "sku", "value": "STOVE-TI-01"},
    )
    with django_capture_on_commit_callbacks(execute=True):
        replayed = quarantine_map_sku(connection=connection, sku="STOVE-TI-01", product=stove)

    assert replayed == 1
    event.refresh_from_db()
    assert event.status == InboundStatus.PROCESSED
    assert only_order().total == D("705.91")


# --- stock out, coalesced, per connection ---------------------------------------------------------------


def import_catalogue(client, connection, fake, capture):
    """The shop's products arrive (products/update): variants linked by SKU, with their inventory items."""
    for product in sample("rest_products_list_response.json")["products"]:
        deliver(client, connection, *fake.webhook("products/update", product), capture)


def run_due_deliveries(capture) -> None:
    Delivery.objects.filter(status__in=[DeliveryStatus.PENDING, DeliveryStatus.FAILED]).update(
        next_attempt_at=timezone.now() - datetime.timedelta(seconds=1)
    )
    with capture(execute=True):
        outbound.deliveries_enqueue_due()


def test_a_stock_change_fans_out_one_coalesced_push_per_connected_shop(
    client, store, shop, django_capture_on_commit_callbacks
):
    outlet = FakeShopify(shop_domain=OUTLET_DOMAIN)
    with mounted(f"https://{OUTLET_DOMAIN}", httpx.MockTransport(outlet.handle)):
        outdoors_connection = shopify_connection(store, "Acme Outdoors")
        outlet_connection = shopify_connection(store, "Acme Outlet", OUTLET_DOMAIN)
        import_catalogue(client, outdoors_connection, shop, django_capture_on_commit_callbacks)
        import_catalogue(client, outlet_connection, outlet, django_capture_on_commit_callbacks)
        tent = store["products"]["TENT-2P-GRN"]

        with django_capture_on_commit_callbacks(execute=True):
            for quantity in (1, 2, 3):  # three level changes within the coalescing window
                stock_receive(
                    product=tent, location=bin_of(store["warehouse"]), quantity=quantity, unit_cost=100
                )
        waiting = Delivery.objects.filter(topic="inventory.level_changed", status=DeliveryStatus.PENDING)
        assert waiting.count() == 6  # three events x two connections, none pushed yet
        run_due_deliveries(django_capture_on_commit_callbacks)

    for fake in (shop, outlet):
        [push] = fake.requests_to("inventory_levels/set.json", "POST")
        assert push.json == {"location_id": 71234567890, "inventory_item_id": 46012345678901, "available": 16}
        assert fake.available("TENT-2P-GRN") == 16
    for connection in (outdoors_connection, outlet_connection):
        statuses = sorted(
            Delivery.objects.filter(connection=connection, topic="inventory.level_changed").values_list(
                "status", flat=True
            )
        )
        assert statuses == [DeliveryStatus.SUCCEEDED, DeliveryStatus.SUPERSEDED, DeliveryStatus.SUPERSEDED]


@override_settings(INTEGRATIONS_MAX_ATTEMPTS=3)
def test_a_push_that_keeps_failing_is_dead_and_a_retry_delivers_it(
    client, connection, store, shop, django_capture_on_commit_callbacks
):
    import_catalogue(client, connection, shop, django_capture_on_commit_callbacks)
    shop.fail_next(100, status=503, match="inventory_levels/set")
    with django_capture_on_commit_callbacks(execute=True):
        stock_receive(
            product=store["products"]["TENT-2P-GRN"],
            location=bin_of(store["warehouse"]),
            quantity=5,
            unit_cost=100,
        )

    for _ in range(3):
        run_due_deliveries(django_capture_on_commit_callbacks)
    delivery = Delivery.objects.get(topic="inventory.level_changed")
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == (DeliveryStatus.DEAD, 3, 503)
    assert len(shop.requests_to("inventory_levels/set.json")) == 3

    shop.clear_failures()
    with django_capture_on_commit_callbacks(execute=True):
        outbound.delivery_retry(delivery=delivery)

    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SUCCEEDED
    assert shop.available("TENT-2P-GRN") == 15


# --- fulfilment out -----------------------------------------------------------------------------------


def test_a_shipment_here_becomes_a_fulfilment_with_tracking_in_shopify(
    client, connection, shop, django_capture_on_commit_callbacks
):
    deliver(client, connection, *sample_webhook(), django_capture_on_commit_callbacks)
    order = only_order()
    tent_line = order.lines.get(product__sku="TENT-2P-GRN")

    with django_capture_on_commit_callbacks(execute=True):
        shipment_create(
            order=order,
            lines=[ShipLine(tent_line, 1)],
            carrier="UPS",
            tracking_number="1Z999AA10123456784",
        )
    run_due_deliveries(django_capture_on_commit_callbacks)

    delivery = Delivery.objects.get(topic="sales.shipment_shipped")
    assert delivery.status == DeliveryStatus.SUCCEEDED
    shopify_order = shop.order(5834021535987)
    [fulfilment] = shopify_order["fulfillments"]
    assert (fulfilment["tracking_number"], fulfilment["tracking_company"]) == ("1Z999AA10123456784", "UPS")
    assert [(li["id"], li["quantity"]) for li in fulfilment["line_items"]] == [(13950000000001, 1)]
    assert shopify_order["fulfillment_status"] == "partial"
    assert ExternalRef.objects.filter(connection=connection, object_type="fulfilment").count() == 1
