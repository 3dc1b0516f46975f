"""A BigCommerce burst (created, updated, statusUpdated for one new order) through the hub's hook
endpoint against the fake store: the order is read once (integrations.bursts); a later change is
read again."""

from __future__ import annotations

import httpx
import pytest
from django.test import Client
from django.urls import reverse

from integrations import http
from integrations.bigcommerce.connector import BigCommerceConnector
from integrations.bigcommerce.fake import ACCESS_TOKEN, CLIENT_SECRET, STORE_HASH, FakeBigCommerce
from integrations.models import InboundEvent, InboundStatus
from sales.models import SalesOrder
from tests.integrations.factories import ConnectionFactory
from tests.inventory.factories import warehouse
from tests.sales.factories import ChannelFactory, stocked_product

pytestmark = pytest.mark.django_db

SKU = "TENT-2P-GRN"  # sold by the fake store, stocked here
WEBHOOK_SECRET = "bc-bursts-header-secret"


@pytest.fixture
def fake():
    store = FakeBigCommerce(quota=10_000)
    with http.mounted("https://api.bigcommerce.com/", httpx.MockTransport(store.handle)):
        yield store


@pytest.fixture
def connection(fake):
    stocked_product(5, sku=SKU, price="100.00")
    wh = warehouse("WH1")
    row = ConnectionFactory.create(
        connector=BigCommerceConnector.key,
        name="BigCommerce store",
        settings={"store_hash": STORE_HASH, "location_id": 1},
        secrets={
            "access_token": ACCESS_TOKEN,
            "webhook_secret": WEBHOOK_SECRET,
            "client_secret": CLIENT_SECRET,
        },
        warehouse=wh,
        sales_channel=ChannelFactory(warehouse=wh),
    )
    fake.create_hook("store/order/*", reverse("integrations:hook", args=[row.pk]))
    return row


def to_the_hub(url: str, headers: dict[str, str], body: bytes) -> int:
    response = Client().post(url, data=body, content_type="application/json", headers=headers)
    return int(response.status_code)


def deliver(fake: FakeBigCommerce, capture) -> list[str]:
    """The store's queued webhooks to the hook endpoint; each processed once all have arrived (as
    the connector's settle window has it). The scopes delivered."""
    with capture(execute=True):
        sent = fake.deliver_webhooks(to_the_hub)
    return [d.topic for d in sent]


def test_a_burst_for_a_new_order_is_fetched_once_and_a_later_change_again(
    fake, connection, django_capture_on_commit_callbacks
):
    # given: a shopper orders; the store sends its burst
    order = fake.create_order([(SKU, 1)])
    reads = f"v2/orders/{order['id']}"

    # when
    scopes = deliver(fake, django_capture_on_commit_callbacks)

    # then: three hooks, one read of the order, one order here
    assert len(scopes) == 3
    assert len(fake.requests_to(reads, "GET")) == 1
    assert SalesOrder.objects.get().external_reference == str(order["id"])
    statuses = sorted(InboundEvent.objects.values_list("status", flat=True))
    assert statuses == [InboundStatus.PROCESSED, InboundStatus.SKIPPED, InboundStatus.SKIPPED]
    assert InboundEvent.objects.filter(result__has_key="covered_by").count() == 2

    # when: the merchant edits the order later
    assert fake.edit_order(order["id"], staff_notes="Gift wrap")
    deliver(fake, django_capture_on_commit_callbacks)

    # then: read again
    assert len(fake.requests_to(reads, "GET")) == 2
    assert InboundEvent.objects.count() == 4


def test_the_connector_waits_for_its_burst_before_processing():
    assert BigCommerceConnector.settle_seconds >= 1.0
