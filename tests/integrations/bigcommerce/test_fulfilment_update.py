"""A voided label reprinted: the BigCommerce connector changes the tracking and carrier of the shipment
BigCommerce has (``PUT /v2/orders/{id}/shipments/{shipment_id}``) instead of making a second one, against
the fake store."""

from __future__ import annotations

import copy
import dataclasses
import datetime
import json

import httpx
import pytest

from integrations import http, registry
from integrations.bigcommerce.connector import BigCommerceConnector
from integrations.bigcommerce.fake import ACCESS_TOKEN, CLIENT_SECRET, STORE_HASH, FakeBigCommerce
from integrations.contract import PushContext
from integrations.errors import PermanentError
from integrations.fakes.clock import SimClock
from integrations.records import FulfilmentLineOut, FulfilmentOut
from tests.integrations.factories import ConnectionFactory
from tests.inventory.factories import warehouse
from tests.sales.factories import ChannelFactory

pytestmark = pytest.mark.django_db

CONTEXT = PushContext(idempotency_key="erp-delivery-9")
TRACKING = ("tracking_number", "shipping_provider", "tracking_carrier", "tracking_link")
FIRST_LABEL = FulfilmentOut(
    order_external_id="250",
    shipment_number="SH-9",
    lines=(FulfilmentLineOut("401", 1), FulfilmentLineOut("402", 2)),
    carrier="USPS",
    tracking_number="9400111899223197428490",
)


@pytest.fixture
def fake():
    store = FakeBigCommerce(clock=SimClock(datetime.datetime(2026, 3, 14, 15, 0, tzinfo=datetime.UTC)))
    with http.mounted("https://api.bigcommerce.com", httpx.MockTransport(store.handle)):
        yield store


@pytest.fixture
def connector(fake) -> BigCommerceConnector:
    wh = warehouse("WH1")
    connection = ConnectionFactory.create(
        connector="bigcommerce",
        name="Trail Supply Co",
        settings={"store_hash": STORE_HASH},
        secrets={"access_token": ACCESS_TOKEN, "webhook_secret": "secret", "client_secret": CLIENT_SECRET},
        warehouse=wh,
        sales_channel=ChannelFactory(warehouse=wh),
    )
    built = registry.connector_for(connection)
    assert isinstance(built, BigCommerceConnector)
    return built


def without(record: dict, *keys: str) -> dict:
    return {k: v for k, v in record.items() if k not in keys}


def test_a_new_label_changes_the_tracking_and_carrier_of_the_shipment(connector, fake):
    created = connector.push(FIRST_LABEL, CONTEXT)
    order_before = fake.order(250)
    products_before = fake.order_products(250)
    [shipment_before] = copy.deepcopy(fake.orders[250]["shipments"])
    new_label = dataclasses.replace(
        FIRST_LABEL,
        carrier="FedEx",
        tracking_number="794600000000001",
        tracking_url="https://www.fedex.com/fedextrack/?trknbr=794600000000001",
        external_id=created.external_id,
    )

    result = connector.push(new_label, CONTEXT)

    [put] = fake.requests_to(f"v2/orders/250/shipments/{created.external_id}", "PUT")
    assert json.loads(put.body) == {
        "tracking_number": "794600000000001",
        "shipping_provider": "fedex",
        "tracking_carrier": "fedex",
        "tracking_link": "https://www.fedex.com/fedextrack/?trknbr=794600000000001",
    }
    assert put.status == 200
    assert result.external_id == created.external_id
    [shipment] = fake.orders[250]["shipments"]  # no second shipment
    assert (shipment["tracking_number"], shipment["shipping_provider"], shipment["tracking_carrier"]) == (
        "794600000000001",
        "fedex",
        "fedex",
    )
    assert shipment["tracking_link"] == "https://www.fedex.com/fedextrack/?trknbr=794600000000001"
    assert without(shipment, *TRACKING) == without(shipment_before, *TRACKING)
    assert fake.order(250) == order_before
    assert fake.order_products(250) == products_before
    assert len(fake.requests_to("v2/orders/250/shipments", "POST")) == 1  # only the first label's


def test_a_carrier_outside_bigcommerces_providers_goes_as_the_tracking_carrier_only(connector, fake):
    created = connector.push(FIRST_LABEL, CONTEXT)

    connector.push(
        dataclasses.replace(
            FIRST_LABEL,
            carrier="DHL Express",
            tracking_number="JD014600000001",
            external_id=created.external_id,
        ),
        CONTEXT,
    )

    [shipment] = fake.orders[250]["shipments"]
    assert (shipment["tracking_number"], shipment["shipping_provider"], shipment["tracking_carrier"]) == (
        "JD014600000001",
        "",
        "dhlexpress",
    )


def test_an_unknown_shipment_is_a_clear_permanent_error(connector, fake):
    unknown = dataclasses.replace(FIRST_LABEL, external_id="99")

    with pytest.raises(PermanentError, match="BigCommerce has no shipment 99 on order 250") as caught:
        connector.push(unknown, CONTEXT)

    assert caught.value.status == 404
    assert fake.orders[250]["shipments"] == []
    assert fake.requests_to("v2/orders/250/shipments", "POST") == []
