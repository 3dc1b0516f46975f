"""The hub's inbound path end to end with the Shopify connector and the shared sample webhook."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from django.test import Client
from django.urls import reverse

from integrations.connections import connection_create
from integrations.models import InboundEvent, InboundStatus
from integrations.shopify.fake import CLIENT_SECRET, LOCATION_ID, SHOP_DOMAIN, sample_webhook
from sales.models import OrderStatus, SalesOrder
from sales.selectors import reserved_by_line
from tests.inventory.factories import warehouse
from tests.inventory.test_concurrency import race
from tests.sales.factories import ChannelFactory, stocked_product


def shopify_connection():
    wh = warehouse("WH1")
    return connection_create(
        connector="shopify",
        name="Acme Outdoors",
        settings={"shop_domain": SHOP_DOMAIN, "api_version": "2025-07", "location_id": LOCATION_ID},
        secrets={"access_token": "shpat_x", "client_secret": CLIENT_SECRET},
        warehouse=wh,
        sales_channel=ChannelFactory(warehouse=wh),
    )


def stock_the_sample():
    for sku, quantity in (("TENT-2P-GRN", 3), ("SLBAG-20F-REG", 1), ("STOVE-TI-01", 3)):
        stocked_product(quantity, sku=sku)


def post_sample(client, connection, **header_changes):
    headers, body = sample_webhook()
    headers = {k: v for k, v in headers.items() if not k.startswith("_comment")}
    headers.update(header_changes)
    url = reverse("integrations:hook", args=[connection.pk])
    return client.post(url, data=body, content_type="application/json", headers=headers)


@pytest.mark.django_db
def test_the_signed_sample_creates_one_confirmed_order_with_shopifys_totals(
    client, django_capture_on_commit_callbacks
):
    # given
    connection = shopify_connection()
    stock_the_sample()

    # when: delivered five times (Shopify retries with the same webhook id)
    for _ in range(5):
        with django_capture_on_commit_callbacks(execute=True):
            assert post_sample(client, connection).status_code == 200

    # then
    assert InboundEvent.objects.get().status == InboundStatus.PROCESSED
    order = SalesOrder.objects.get()
    assert (order.status, order.external_reference, order.total, order.tax_total) == (
        OrderStatus.CONFIRMED,
        "#1042",
        D("705.91"),
        D("39.96"),
    )
    lines = {ln.product.sku: ln for ln in order.lines.select_related("product")}
    assert {sku: ln.quantity for sku, ln in lines.items()} == {
        "TENT-2P-GRN": 1,
        "SLBAG-20F-REG": 2,
        "STOVE-TI-01": 1,
    }
    held = reserved_by_line([ln.pk for ln in lines.values()])
    assert sum(held.values()) == 3  # the second sleeping bag is backordered
    assert held[lines["SLBAG-20F-REG"].pk] == 1


@pytest.mark.django_db
def test_the_sample_with_a_bad_signature_gets_401_and_stores_nothing(client):
    connection = shopify_connection()
    response = post_sample(client, connection, **{"X-Shopify-Hmac-Sha256": "AAAA" + "=" * 40})
    assert response.status_code == 401
    assert InboundEvent.objects.count() == 0
    assert SalesOrder.objects.count() == 0


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_sample_posted_five_times_at_once_gives_one_order():
    connection = shopify_connection()
    stock_the_sample()

    def send(i: int) -> int:
        # half the deliveries are Shopify retries (same webhook id), half new deliveries of the same order
        return post_sample(
            Client(), connection, **({"X-Shopify-Webhook-Id": f"retry-{i}"} if i % 2 else {})
        ).status_code

    assert race(send, 5) == [200] * 5
    assert SalesOrder.objects.count() == 1
    assert SalesOrder.objects.get().total == D("705.91")
    assert InboundEvent.objects.filter(status=InboundStatus.PROCESSED).count() == 1
    assert InboundEvent.objects.count() == 3  # the sample's id and two new ones


@pytest.mark.django_db
@pytest.mark.parametrize("shop", ["evil-shop.myshopify.com", "", "ACME-OUTDOORS.myshopify.com.evil.com"])
def test_a_webhook_signed_with_the_apps_secret_for_another_shop_is_401_and_stores_nothing(client, shop):
    # given: Shopify signs the webhooks of every shop that installed the app with one secret
    connection = shopify_connection()
    stock_the_sample()

    # when: a validly signed webhook that says it comes from another shop (or from none)
    response = post_sample(client, connection, **{"X-Shopify-Shop-Domain": shop})

    # then
    assert response.status_code == 401, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert connection.name in response.json()["detail"]
    assert not InboundEvent.objects.exists()
    assert not SalesOrder.objects.exists()


@pytest.mark.django_db
def test_the_shop_domain_is_compared_without_regard_to_case(client, django_capture_on_commit_callbacks):
    connection = shopify_connection()
    stock_the_sample()

    with django_capture_on_commit_callbacks(execute=True):
        response = post_sample(client, connection, **{"X-Shopify-Shop-Domain": SHOP_DOMAIN.upper()})

    assert response.status_code == 200, response.content
    assert SalesOrder.objects.count() == 1
