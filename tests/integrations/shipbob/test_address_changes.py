# ruff: noqa: F401, F811  (the fixtures are test_connector's)
"""An address changed here reaches ShipBob: each shipment of the order not shipped yet is moved
(``PUT /shipment/{id}:updateAddress``), one that shipped keeps its address, an order with nothing
left to ship is refused, and so is a change of products (ShipBob's API has no line edit)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from integrations.errors import PermanentError
from integrations.http import mounted
from integrations.records import OrderOut
from integrations.shipbob import mapping
from integrations.shipbob.connector import BASE_URL
from tests.integrations.shipbob.test_connector import (  # fixtures too
    CONTEXT,
    connection,
    connector,
    fake,
    sample_order,
)
from tests.integrations.shipbob.test_end_to_end import connection as hub_connection
from tests.integrations.shipbob.test_end_to_end import (
    sell,
    shipbob,
    shop,
    shop_connection,
    store,
)

LEXINGTON = {
    "name": "Jane Buyer",
    "company": "",
    "line1": "200 Oak St",
    "line2": "",
    "city": "Lexington",
    "region": "KY",
    "postal_code": "40507",
    "country": "US",
    "phone": "859-555-0100",
}


def moved(external_id: str, **changes: Any) -> OrderOut:
    return sample_order(external_id=external_id, **{"ship_to": LEXINGTON, **changes})


# --- the connector against the fake --------------------------------------------------------------


def test_a_new_address_moves_the_open_shipment_and_then_nothing_differs(connector, fake):
    placed = connector.push(sample_order(), CONTEXT)
    [shipment] = fake.order(int(placed.external_id))["shipments"]

    result = connector.push(moved(placed.external_id), CONTEXT)

    assert result.detail == f"SHOP-1042: address changed on shipment {shipment['id']}"
    [put] = fake.requests_to(f"PUT shipment/{shipment['id']}:updateAddress")
    assert json.loads(put.body) == {
        "recipient_name": "Jane Buyer",
        "company_name": None,
        "street_address1": "200 Oak St",
        "street_address2": None,
        "city": "Lexington",
        "state": "KY",
        "zip_code": "40507",
        "country_code": "US",
        "email": "jane.buyer@example.com",
        "phone_number": "859-555-0100",
    }
    there = fake.order(int(placed.external_id))
    assert there["shipments"][0]["recipient"]["address"]["address1"] == "200 Oak St"
    body = mapping.order_body(moved(placed.external_id), shipping_method="Standard")
    assert mapping.differences(there, body) == []
    again = connector.push(moved(placed.external_id), CONTEXT)  # a repeat sends nothing more
    assert again.detail == "SHOP-1042: ShipBob has it as it is"
    assert len(fake.requests_to(f"PUT shipment/{shipment['id']}:updateAddress")) == 1


def test_a_held_order_is_moved_and_stays_held(connector, fake):
    placed = connector.push(sample_order(on_hold=True), CONTEXT)

    result = connector.push(moved(placed.external_id, on_hold=True), CONTEXT)

    assert "address changed on shipment" in result.detail
    [shipment] = fake.order(int(placed.external_id))["shipments"]
    assert (shipment["status"], shipment["recipient"]["address"]["city"]) == ("OnHold", "Lexington")


def test_a_shipment_that_left_keeps_its_address_and_the_rest_is_moved(connector, fake):
    placed = connector.push(sample_order(), CONTEXT)
    order_id = int(placed.external_id)
    fake.ship(order_id, partial={"TENT-2P-GRN": 1})  # the bags wait in a second shipment
    left, waiting = fake.order(order_id)["shipments"]

    result = connector.push(moved(placed.external_id), CONTEXT)

    assert result.detail == f"SHOP-1042: address changed on shipment {waiting['id']}"
    after = {s["id"]: s for s in fake.order(order_id)["shipments"]}
    assert after[left["id"]]["recipient"]["address"]["city"] == "Louisville"
    assert after[waiting["id"]]["recipient"]["address"]["city"] == "Lexington"
    assert fake.requests_to(f"PUT shipment/{left['id']}:updateAddress") == []


def test_an_order_whose_every_shipment_shipped_is_refused(connector, fake):
    placed = connector.push(sample_order(), CONTEXT)
    shipped = fake.ship(int(placed.external_id))

    with pytest.raises(PermanentError) as refused:
        connector.push(moved(placed.external_id), CONTEXT)

    assert str(refused.value) == (
        f"ShipBob's order {placed.external_id} of SHOP-1042 ships to another address, and it has no "
        f"shipment left to send it to (shipment {shipped['id']} Completed): the new address cannot "
        "reach ShipBob."
    )
    assert [r for r in fake.requests if (r.operation or "").startswith("PUT")] == []


def test_a_shipment_that_ships_meanwhile_is_refused_with_shipbobs_words(connection, fake):
    """The warehouse ships between the hub's read and its update: ShipBob's 422, in its words."""
    from integrations import registry

    def ships_first(request: httpx.Request) -> httpx.Response:
        if request.method == "PUT" and request.url.path.endswith(":updateAddress"):
            [order_id] = list(fake.orders)
            fake.ship(order_id)
        return fake.handle(request)

    with mounted(BASE_URL, httpx.MockTransport(ships_first)):
        made = registry.connector_for(connection)
        placed = made.push(sample_order(), CONTEXT)
        shipment_id = fake.order(int(placed.external_id))["shipments"][0]["id"]
        with pytest.raises(PermanentError) as refused:
            made.push(moved(placed.external_id), CONTEXT)

    assert refused.value.status == 422
    assert str(refused.value) == (
        f"ShipBob refused PUT shipment/{shipment_id}:updateAddress: Shipment {shipment_id} has "
        "already shipped: its address cannot be updated"
    )


def test_an_address_shipbob_finds_invalid_is_refused_with_its_words(connector, fake):
    placed = connector.push(sample_order(), CONTEXT)

    with pytest.raises(PermanentError) as refused:
        connector.push(moved(placed.external_id, ship_to={**LEXINGTON, "city": ""}), CONTEXT)

    assert refused.value.status == 400
    assert "missing required fields: city required" in str(refused.value)


def test_a_change_of_products_is_still_refused(connector, fake):
    placed = connector.push(sample_order(), CONTEXT)
    one_line = sample_order().lines[:1]

    with pytest.raises(PermanentError, match="differs in its products, which ShipBob's API cannot change"):
        connector.push(moved(placed.external_id, lines=one_line), CONTEXT)

    assert [r for r in fake.requests if (r.operation or "").startswith("PUT")] == []
