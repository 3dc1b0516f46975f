"""The shared SP-API samples (../shared/payloads/amazon_sp_api, copied into integrations/amazon/samples)
played through the fake and the whole hub: the recorded order is served by the fake's getOrders and
getOrderItems (its window, its paging, its token checks) and the hub polls it like any other."""

from __future__ import annotations

import copy
import json
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import pytest

from integrations.amazon import mapping
from integrations.amazon.fake import FakeAmazon
from integrations.models import Connection, InboundEvent, InboundStatus
from sales.models import OrderStatus, SalesOrder
from tests.integrations.amazon.hub_support import available, poll

pytestmark = pytest.mark.django_db

SAMPLES = Path(__file__).resolve().parents[3] / "integrations" / "amazon" / "samples"
SHARED = Path(__file__).resolve().parents[4] / "shared" / "payloads" / "amazon_sp_api"


def sample(name: str) -> Any:
    return json.loads((SAMPLES / name).read_text())


def recorded(fake: FakeAmazon, amazon: Connection, total: str | None = None) -> str:
    order = copy.deepcopy(sample("get_order_response.json")["payload"])
    if total is not None:
        order["OrderTotal"]["Amount"] = total
    items = sample("get_order_items_response.json")["payload"]["OrderItems"]
    fake.load_order(order, items)
    # the hub's window starts before the recorded order's last change
    Connection.objects.filter(pk=amazon.pk).update(cursors={"order": "2026-03-14T14:00:00+00:00"})
    return str(order["AmazonOrderId"])


@pytest.mark.skipif(not SHARED.is_dir(), reason="the shared payloads are not beside the project")
def test_the_samples_here_are_the_shared_ones():
    for path in sorted(SHARED.glob("*.json")):
        assert json.loads(path.read_text()) == json.loads((SAMPLES / path.name).read_text()), path.name


def test_the_getorders_sample_is_the_getorder_sample_in_a_page():
    listed = sample("get_orders_response.json")["payload"]["Orders"]

    assert listed == [sample("get_order_response.json")["payload"]]


def test_the_sample_order_through_the_fake_is_held_for_its_cent_amazon_totals_differently(
    amazon, fake, store, django_capture_on_commit_callbacks
):
    """The recorded OrderTotal (263.93) is a cent under its items (249.00 + 14.94 tax): the hub does
    not book an order whose total it cannot make; the event waits, saying so."""
    order_id = recorded(fake, amazon)

    run = poll(amazon, django_capture_on_commit_callbacks)

    assert [r.status for r in fake.requests_to("getOrders")][-1] == 200
    assert not SalesOrder.objects.filter(external_reference=order_id).exists()
    event = InboundEvent.objects.get(connection=amazon, external_id__contains=order_id)
    assert event.status != InboundStatus.PROCESSED
    said = f"{event.last_error} {run.errors}"
    assert "263.93" in said
    assert "263.94" in said


def test_the_sample_order_through_the_fake_is_the_right_order(
    amazon, fake, store, django_capture_on_commit_callbacks
):
    """The same recording with its total made whole: lines, tax, totals, buyer data and ship-by date
    as Amazon recorded them, and stock reserved for both lines."""
    order_id = recorded(fake, amazon, total="263.94")

    run = poll(amazon, django_capture_on_commit_callbacks)

    assert run.created == 1, run.errors
    order = SalesOrder.objects.get(external_reference=order_id)
    assert (order.status, order.currency, order.total, order.tax_total) == (
        OrderStatus.CONFIRMED,
        "USD",
        D("263.94"),
        D("14.94"),
    )
    lines = {ln.product.sku: ln for ln in order.lines.select_related("product")}
    assert {sku: (ln.quantity, ln.unit_price) for sku, ln in lines.items()} == {
        "TENT-2P-GRN": (D(1), D("249.00")),
        "STOVE-TI-01": (D(1), D("0.00")),
    }
    assert lines["TENT-2P-GRN"].tax_amount == D("14.94")
    assert mapping.RESTRICTED_TAG in order.tags  # read without a restricted-data token
    assert order.shipping_address["city"] == "LOUISVILLE"
    assert order.shipping_address["line1"] == ""
    assert order.notes.startswith("Ship by 2026-03-17 06:59 UTC (Std US D2D Dom)")
    assert (available(store, "TENT-2P-GRN"), available(store, "STOVE-TI-01")) == (9, 9)
    assert order.shipments.count() == 0  # Unshipped: nothing shipped yet
