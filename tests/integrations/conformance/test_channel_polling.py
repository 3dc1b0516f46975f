"""The conformance kit's channel part, polling variant: a sales channel that sends no order webhooks
(Amazon: its notifications go to SQS, not to an HTTP endpoint), whose orders come only by polling.

What the webhook cases of test_channel.py prove for a delivery, these prove for a poll: an order is
imported once however often it is seen, a change in the tool reaches the order at the next poll, a
backlog larger than a page goes on from the page after the last one stored when a poll is cut short
(by the tool's limits or the hub's page cap), a failed page is pulled again, and an unknown SKU
waits in the quarantine. The stock cases of test_channel.py (429, 5xx, expired token, drift) run
for these connectors too.

The harness offers, besides the channel part's ``Harness``: ``new_order`` (placed in the tool at
``updated_at``, which the cases keep a few minutes in the past: a tool may show an order to a poll
only after a delay, Amazon after two minutes) and ``cancel_in_tool(order, at=)``. Rate-limit waits
of the hub are virtual here (``clock``): a backlog's requests are spaced as the tool's limits say
without the test waiting for them.
"""

from __future__ import annotations

import datetime

import pytest
from django.test import override_settings
from django.utils import timezone

from integrations import inbound
from integrations.contract import Capability
from integrations.models import Connection, InboundEvent, InboundStatus, SyncRunStatus
from inventory import availability
from sales.models import OrderStatus, SalesOrder
from tests.integrations.conformance.conftest import HUB_STOCK
from tests.integrations.ratelimit_support import clock_fixture  # noqa: F401  (the clock fixture)
from tests.sales.factories import stocked_product

PART = frozenset({Capability.ORDERS_IN})
POLLED = True


@pytest.fixture(autouse=True)
def hub_clock(clock) -> None:
    """The hub's waits for the tool's limits pass at once, on a virtual clock (``clock``)."""


def ago(minutes: float) -> datetime.datetime:
    return timezone.now() - datetime.timedelta(minutes=minutes)


def available_here(kit) -> int:
    return int(availability.of(kit.product.pk, kit.warehouse.pk).available)


def test_orders_placed_in_the_tool_are_imported_by_a_poll_once(kit):
    first = kit.harness.new_order(sku=kit.harness.sku, quantity=2, updated_at=ago(12))
    kit.harness.new_order(sku=kit.harness.sku, quantity=1, updated_at=ago(10))

    run = kit.poll()
    again = kit.poll()  # the same window (the overlap): nothing new

    assert run.status == SyncRunStatus.SUCCEEDED, run.errors
    assert SalesOrder.objects.filter(status=OrderStatus.CONFIRMED).count() == 2
    assert available_here(kit) == HUB_STOCK - 3
    assert again.created == again.updated == 0
    assert InboundEvent.objects.filter(status=InboundStatus.PROCESSED).count() == 2
    order = SalesOrder.objects.get(external_reference=kit.harness.reference(first))
    assert order.lines.get().quantity == 2


def test_a_cancellation_in_the_tool_reaches_the_order_at_the_next_poll(kit):
    order = kit.harness.new_order(sku=kit.harness.sku, quantity=2, updated_at=ago(12))
    kit.poll()
    assert available_here(kit) == HUB_STOCK - 2

    kit.harness.cancel_in_tool(order, at=ago(5))
    kit.poll()

    ours = SalesOrder.objects.get(external_reference=kit.harness.reference(order))
    assert ours.status == OrderStatus.CANCELLED
    assert available_here(kit) == HUB_STOCK  # the reservation is released


@override_settings(INTEGRATIONS_POLL_MAX_PAGES=1)
def test_a_backlog_larger_than_a_page_goes_on_from_the_next_page(kit):
    count = kit.harness.page_size + 5
    kit.harness.set_available(kit.harness.sku, 1000)  # the tool has them to sell (more than the hub)
    for n in range(count):
        kit.harness.new_order(sku=kit.harness.sku, quantity=1, updated_at=ago(60 - n * 0.1))

    first = kit.poll()  # stops after one page (the hub's page cap): the position is kept
    assert SalesOrder.objects.count() == kit.harness.page_size
    assert any("Stopped after 1 pages" in e["message"] for e in first.errors)
    kit.harness.throttle_next(retry_after=30)
    throttled = kit.poll()  # the tool says wait: nothing lost, not a failure
    assert throttled.status != SyncRunStatus.FAILED
    assert SalesOrder.objects.count() == kit.harness.page_size
    Connection.objects.filter(pk=kit.connection.pk).update(throttled_until=None)
    kit.connection.rate_buckets.all().delete()  # the 30 s have passed

    kit.poll()

    assert SalesOrder.objects.count() == count
    assert kit.harness.order_list_requests() == 3  # page 1, page 2 refused, page 2: never page 1 again


def test_a_failed_page_is_pulled_again_by_the_next_poll(kit):
    kit.harness.new_order(sku=kit.harness.sku, quantity=1, updated_at=ago(10))
    kit.harness.fail_next(1, status=503)

    failed = kit.poll()
    assert failed.status == SyncRunStatus.FAILED
    assert SalesOrder.objects.count() == 0

    kit.poll()

    assert SalesOrder.objects.get().status == OrderStatus.CONFIRMED


def test_an_unknown_sku_is_quarantined_until_mapped(kit):
    kit.harness.new_order(sku=kit.harness.unknown_sku, quantity=1, updated_at=ago(10))

    kit.poll()

    event = InboundEvent.objects.get()
    assert event.status == InboundStatus.QUARANTINED
    assert event.missing == {"kind": "sku", "value": kit.harness.unknown_sku}
    ours = stocked_product(3, wh=kit.warehouse, sku="OUR-OWN-NAME")
    with kit.capture(execute=True):
        replayed = inbound.quarantine_map_sku(
            connection=kit.connection, sku=kit.harness.unknown_sku, product=ours
        )
    assert replayed == 1
    assert SalesOrder.objects.get().lines.get().product == ours
