"""The sample webhook posted concurrently: PostgreSQL, real threads, real transactions."""

from __future__ import annotations

import httpx
import pytest
from django.test import Client

from integrations.http import mounted
from integrations.models import InboundEvent, InboundStatus
from integrations.shopify.fake import SHOP_DOMAIN, FakeShopify, sample_webhook
from sales.models import OrderStatus, SalesOrder
from sales.selectors import reserved_by_line
from tests.integrations.shopify.scenario import post_webhook, shopify_connection, stocked_store
from tests.inventory.test_concurrency import race

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def connection():
    fake = FakeShopify()
    with mounted(f"https://{SHOP_DOMAIN}", httpx.MockTransport(fake.handle)):
        yield shopify_connection(stocked_store())


def assert_one_confirmed_order_of_the_sample() -> None:
    [order] = SalesOrder.objects.all()
    assert order.status == OrderStatus.CONFIRMED
    assert str(order.total) == "705.9100"
    lines = list(order.lines.order_by("position"))
    reserved = reserved_by_line([ln.pk for ln in lines])
    assert [str(reserved.get(ln.pk)) for ln in lines] == ["1.0000", "2.0000", "1.0000"]


def test_the_same_delivery_posted_five_times_at_once_is_stored_and_applied_once(connection):
    headers, body = sample_webhook()

    answers = race(lambda i: post_webhook(Client(), connection, headers, body), 5)

    assert [getattr(a, "status_code", a) for a in answers] == [200] * 5
    assert sorted(a.json()["status"] for a in answers) == ["duplicate"] * 4 + ["received"]
    assert InboundEvent.objects.get().status == InboundStatus.PROCESSED
    assert_one_confirmed_order_of_the_sample()


def test_five_different_deliveries_of_one_order_at_once_give_one_order(connection):
    _, body = sample_webhook()
    fake = FakeShopify()
    deliveries = [fake.webhook("orders/create", body) for _ in range(5)]  # five webhook ids, one order

    answers = race(lambda i: post_webhook(Client(), connection, *deliveries[i]), 5)

    assert [getattr(a, "status_code", a) for a in answers] == [200] * 5
    statuses = sorted(InboundEvent.objects.values_list("status", flat=True))
    assert statuses == [InboundStatus.PROCESSED] + [InboundStatus.SKIPPED] * 4
    assert_one_confirmed_order_of_the_sample()
