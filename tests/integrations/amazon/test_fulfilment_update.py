"""A voided label reprinted: the Orders API cannot change a confirmed shipment, so the Amazon connector
refuses the new tracking with a clear PermanentError (the merchant corrects it in Seller Central)
rather than confirming again, which Amazon would refuse and the hub would take for "already confirmed"."""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from integrations import ratelimits, registry, tokens
from integrations.amazon.connector import REGIONS, AmazonConnector
from integrations.amazon.fake import (
    LWA_CLIENT_ID,
    LWA_CLIENT_SECRET,
    MARKETPLACE_ID,
    REFRESH_TOKEN,
    SELLER_ID,
    FakeAmazon,
)
from integrations.connections import connection_create
from integrations.contract import PushContext
from integrations.errors import PermanentError
from integrations.fakes.clock import SimClock
from integrations.http import mounted
from integrations.records import FulfilmentLineOut, FulfilmentOut

pytestmark = pytest.mark.django_db

CONTEXT = PushContext(idempotency_key="erp-delivery-11")


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> SimClock:
    sim = SimClock(datetime.datetime.now(datetime.UTC).replace(microsecond=0) - datetime.timedelta(hours=1))
    monkeypatch.setattr(ratelimits, "now", sim)
    monkeypatch.setattr(ratelimits, "sleep", sim.sleep)
    monkeypatch.setattr(tokens, "sleep", sim.sleep)
    return sim


@pytest.fixture
def fake(clock: SimClock) -> Iterator[FakeAmazon]:
    amazon = FakeAmazon(clock=clock)
    amazon.set_quantity("TENT-2P-ORG", 10)
    transport = httpx.MockTransport(amazon.handle)
    with contextlib.ExitStack() as stack:
        for origin in (REGIONS["na"], "https://api.amazon.com"):
            stack.enter_context(mounted(origin, transport))
        yield amazon


@pytest.fixture
def connector(fake) -> AmazonConnector:
    connection = connection_create(
        connector="amazon",
        name="Amazon US",
        settings={"marketplace_ids": [MARKETPLACE_ID], "seller_id": SELLER_ID},
        secrets={
            "lwa_client_id": LWA_CLIENT_ID,
            "lwa_client_secret": LWA_CLIENT_SECRET,
            "refresh_token": REFRESH_TOKEN,
        },
    )
    built = registry.connector_for(connection)
    assert isinstance(built, AmazonConnector)
    return built


def shipped_order(fake: FakeAmazon, connector: AmazonConnector) -> tuple[FulfilmentOut, Any]:
    placed = fake.place_order([("TENT-2P-ORG", 2)], pending=False)
    [item] = fake.order_items(placed["AmazonOrderId"])
    label = FulfilmentOut(
        order_external_id=placed["AmazonOrderId"],
        shipment_number="SH-11",
        lines=(FulfilmentLineOut(external_line_id=item["OrderItemId"], quantity=2),),
        carrier="UPS",
        tracking_number="1ZVOIDED0000000011",
    )
    return label, connector.push(label, CONTEXT)


def test_a_new_label_for_a_confirmed_shipment_is_refused_clearly_and_changes_nothing(connector, fake):
    label, confirmed = shipped_order(fake, connector)
    order_id = label.order_external_id
    before = fake.snapshot([order_id])
    requests_before = len(fake.requests)
    new_label = dataclasses.replace(
        label, carrier="FedEx", tracking_number="794600000000011", external_id=confirmed.external_id
    )

    with pytest.raises(PermanentError) as caught:
        connector.push(new_label, CONTEXT)

    message = str(caught.value)
    assert message.startswith("Amazon takes no change of a confirmed shipment: correct the tracking")
    assert "Seller Central" in message
    assert f"SH-11 (order {order_id})" in message
    assert "FedEx 794600000000011" in message
    assert len(fake.requests) == requests_before  # nothing sent to Amazon
    assert fake.snapshot([order_id]) == before
    assert before["orders"][order_id]["tracking_numbers"] == ["1ZVOIDED0000000011"]


def test_a_new_shipment_is_still_confirmed(connector, fake):
    label, confirmed = shipped_order(fake, connector)

    # linked under an id of its own, never one of Amazon's running counts (mapping.mfn_shipment),
    # and sent without reading the order first
    assert confirmed.external_id == f"{label.order_external_id}/SH-11"
    assert fake.requests_to("getOrderItems") == []
    assert fake.order(label.order_external_id)["OrderStatus"] == "Shipped"
    assert [r.status for r in fake.requests_to("confirmShipment")][-1:] == [204]
