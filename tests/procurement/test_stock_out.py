"""Purchasing is told when a product with a reorder rule runs out in a warehouse: once per product
while unread, from the ``inventory.level_changed`` event, at a constant number of queries."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from django.db import transaction

from erp import events
from erp.models import Notification, OutboxEvent
from inventory import services as stock
from procurement.stockouts import on_level_changed, ran_out
from tests.erp.factories import UserFactory
from tests.inventory.factories import ProductFactory, bin_of, warehouse
from tests.queries import count_queries

pytestmark = pytest.mark.django_db


@pytest.fixture
def buyers() -> list:
    return [
        UserFactory(username="bea", roles=["Purchasing"]),
        UserFactory(username="max", roles=["Purchasing manager"]),
        UserFactory(username="sam", roles=["Sales"]),  # not purchasing
    ]


def level_event(product, wh, available: str, change: str) -> OutboxEvent:
    with transaction.atomic():
        return events.emit(
            "inventory.level_changed",
            aggregate=product,
            payload={
                "product_id": product.pk,
                "sku": product.sku,
                "warehouse_id": wh.pk,
                "on_hand": available,
                "reserved": "0",
                "available": available,
                "available_change": change,
            },
        )


def test_running_out_is_falling_to_zero_or_below_from_above():
    assert ran_out({"available": "0", "available_change": "-3"})
    assert ran_out({"available": "-1", "available_change": "-2"})
    assert not ran_out({"available": "-1", "available_change": "-1"})  # was 0 already
    assert not ran_out({"available": "2", "available_change": "-3"})
    assert not ran_out({"available": "0", "available_change": "2"})


def test_a_stock_out_of_a_product_with_a_reorder_rule_tells_purchasing_once(buyers):
    # given: TEE has a rule in WH1, MUG has none; 3 TEE in stock
    wh = warehouse("WH1")
    tee, mug = ProductFactory(sku="TEE"), ProductFactory(sku="MUG")
    stock.reorder_rule_set(product=tee, warehouse=wh, min_quantity=D("5"), max_quantity=D("20"))
    location = bin_of(wh)
    stock.stock_receive(product=tee, location=location, quantity=D("3"))
    stock.stock_receive(product=mug, location=location, quantity=D("3"))

    # when: both issued to zero (the subscriber runs at dispatch), then TEE again after a refill
    for product in (tee, mug):
        stock.stock_adjust(product=product, location=location, quantity=D("0"), reason="damaged")
    for event in OutboxEvent.objects.filter(topic="inventory.level_changed", dispatched_at__isnull=True):
        events.dispatch_event(event.pk)
    on_level_changed(level_event(tee, wh, "0", "-2"))

    # then: the purchasing users, about TEE only, once while unread
    told = Notification.objects.order_by("recipient__username")
    assert [(n.recipient.username, n.kind, n.key) for n in told] == [
        ("bea", "stock_out", f"stock-out:{tee.pk}"),
        ("max", "stock_out", f"stock-out:{tee.pk}"),
    ]
    assert told[0].title == "TEE is out of stock in WH1"
    assert told[0].url == "/procurement/replenishment/"


def test_the_subscriber_costs_the_same_for_few_or_many_purchasing_users(buyers):
    # given
    wh = warehouse("WH1")
    tee = ProductFactory(sku="TEE")
    stock.reorder_rule_set(product=tee, warehouse=wh, min_quantity=D("5"), max_quantity=D("20"))
    first = level_event(tee, wh, "0", "-1")
    Notification.objects.all().delete()

    # when
    few = count_queries(lambda: on_level_changed(first))
    Notification.objects.all().delete()
    for i in range(10):
        UserFactory(username=f"buyer{i}", roles=["Purchasing"])
    many = count_queries(lambda: on_level_changed(first))
    stocked = level_event(tee, wh, "4", "-1")
    still_stocked = count_queries(lambda: on_level_changed(stocked))

    # then
    assert few == many
    assert Notification.objects.count() == 12
    assert still_stocked == 0
