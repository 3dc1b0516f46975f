# ruff: noqa: F401, F811  (the fixtures are test_end_to_end's)
"""An address changed here through sales services (``sales.order_updated``) reaches ShipBob's
open shipment through the hub's delivery; one changed after ShipBob shipped, and a line change,
are refused with a reason the delivery keeps."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from integrations.models import Connection, Delivery, DeliveryStatus
from sales.services import order_lines_reduce, order_update
from tests.integrations.outbound_support import run_due_deliveries
from tests.integrations.shipbob.test_end_to_end import (
    connection,
    sell,
    shipbob,
    shop,
    shop_connection,
    store,
)

pytestmark = pytest.mark.django_db


def _delivery(connection: Connection) -> Delivery:
    return Delivery.objects.filter(connection=connection, topic="sales.order_updated").latest("pk")


def test_an_address_changed_here_reaches_the_open_shipment_at_shipbob(
    client, shipbob, shop_connection, connection, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    order = sell(client, shop_connection, capture)
    [there] = shipbob.orders.values()
    address = {**order.shipping_address, "line1": "200 Oak St", "city": "Lexington", "postal_code": "40507"}

    with capture(execute=True):
        order_update(order=order, shipping_address=address)
    run_due_deliveries(capture)

    delivery = _delivery(connection)
    assert delivery.status == DeliveryStatus.SUCCEEDED, delivery.last_error
    [shipment] = shipbob.order(there["id"])["shipments"]
    assert shipment["status"] == "Processing"
    assert (shipment["recipient"]["address"]["address1"], shipment["recipient"]["address"]["city"]) == (
        "200 Oak St",
        "Lexington",
    )
    assert len(shipbob.orders) == 1


def test_an_address_change_after_shipbob_shipped_is_refused_with_a_clear_reason(
    client, shipbob, shop_connection, connection, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    order = sell(client, shop_connection, capture)
    [there] = shipbob.orders.values()
    shipbob.ship(there["id"])  # the warehouse shipped it; the hub has not heard yet

    with capture(execute=True):
        order_update(order=order, shipping_address={**order.shipping_address, "city": "Lexington"})
    run_due_deliveries(capture)

    delivery = _delivery(connection)
    assert delivery.status != DeliveryStatus.SUCCEEDED
    assert "no shipment left to send it to" in delivery.last_error
    assert "the new address cannot reach ShipBob" in delivery.last_error
    assert shipbob.order(there["id"])["shipments"][0]["recipient"]["address"]["city"] != "Lexington"


def test_a_line_change_here_is_refused_there(
    client, shipbob, shop_connection, connection, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    order = sell(client, shop_connection, capture)
    line = order.lines.order_by("position").last()

    with capture(execute=True):
        order_lines_reduce(order=order, quantities={line.pk: D(0)}, reason="customer asked")
    run_due_deliveries(capture)

    delivery = _delivery(connection)
    assert delivery.status != DeliveryStatus.SUCCEEDED
    assert "differs in its products, which ShipBob's API cannot change" in delivery.last_error
