"""A shipment's tracking changed after it shipped (a label voided and printed again, a number typed
wrong): from the order page, through the API, and by the service, which tells the channel the
order came from (``sales.shipment_updated``) and changes nothing else."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from erp.exceptions import ValidationFailed
from erp.models import OutboxEvent
from inventory.models import StockMove
from sales.models import Shipment
from sales.services import order_confirm, shipment_create, shipment_tracking_set
from tests.erp.factories import UserFactory, api_key_for
from tests.sales.api_support import Api, field_errors
from tests.sales.factories import order_for, stocked_product

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "order"}


@pytest.fixture
def shipment() -> Shipment:
    order = order_confirm(order=order_for((stocked_product(5, sku="MUG"), 2)))
    return shipment_create(order=order, carrier="USPS", tracking_number="9400OLD")


def updates() -> list[dict]:
    return [e.payload for e in OutboxEvent.objects.filter(topic="sales.shipment_updated").order_by("pk")]


def test_new_tracking_is_kept_and_announced_and_nothing_else_moves(shipment: Shipment):
    moves = StockMove.objects.count()

    shipment_tracking_set(shipment=shipment, carrier="UPS", tracking_number=" 1ZNEW ")

    shipment.refresh_from_db()
    assert (shipment.carrier, shipment.tracking_number) == ("UPS", "1ZNEW")
    [payload] = updates()
    assert (payload["shipment_id"], payload["tracking_number"], payload["carrier"]) == (
        shipment.pk,
        "1ZNEW",
        "UPS",
    )
    assert payload["previous"]["tracking_number"] == "9400OLD"
    assert StockMove.objects.count() == moves
    assert shipment.lines.get().quantity == 2


def test_the_same_tracking_again_announces_nothing(shipment: Shipment):
    shipment_tracking_set(shipment=shipment, carrier="USPS", tracking_number="9400OLD")
    assert updates() == []


def test_no_tracking_number_is_refused_and_nothing_changes(shipment: Shipment):
    with pytest.raises(ValidationFailed) as refused:
        shipment_tracking_set(shipment=shipment, carrier="UPS", tracking_number="  ")

    assert "tracking_number" in refused.value.field_errors
    shipment.refresh_from_db()
    assert (shipment.carrier, shipment.tracking_number) == ("USPS", "9400OLD")
    assert updates() == []


def test_the_api_changes_the_tracking_with_sales_write_only(shipment: Shipment):
    sales = Api(api_key_for(UserFactory(roles=["Sales"])))
    warehouse = Api(api_key_for(UserFactory(roles=["Warehouse"])))

    changed = sales.patch(f"/shipments/{shipment.pk}", {"carrier": "UPS", "tracking_number": "1Z9"})
    empty = sales.patch(f"/shipments/{shipment.pk}", {"carrier": "UPS", "tracking_number": ""})
    unknown = sales.patch("/shipments/999999", {"carrier": "UPS", "tracking_number": "1Z9"})
    refused = warehouse.patch(f"/shipments/{shipment.pk}", {"carrier": "DHL", "tracking_number": "JD1"})

    assert changed.status_code == 200, changed.content
    assert (changed.json()["carrier"], changed.json()["tracking_number"]) == ("UPS", "1Z9")
    assert empty.status_code == 422
    assert "tracking_number" in field_errors(empty)
    assert unknown.status_code == 404
    assert refused.status_code == 403
    shipment.refresh_from_db()
    assert shipment.tracking_number == "1Z9"


def test_warehouse_staff_change_it_on_the_order_page(shipment: Shipment):
    picker = Client()
    picker.force_login(UserFactory(username="wendy", roles=["Warehouse"]))  # may ship: may correct

    page = picker.get(f"/sales/orders/{shipment.order_id}/")
    response = picker.post(
        f"/sales/shipments/{shipment.pk}/tracking/",
        {"carrier": "UPS", "tracking_number": "1ZPAGE"},
        **HTMX,
    )

    assert f'action="/sales/shipments/{shipment.pk}/tracking/"' in page.content.decode()
    assert response.status_code == 200
    assert json.loads(response["HX-Trigger"])["toast"]["message"] == (
        f"{shipment.number} travels under UPS 1ZPAGE now."
    )
    assert "1ZPAGE" in response.content.decode()
    shipment.refresh_from_db()
    assert shipment.tracking_number == "1ZPAGE"


def test_a_reader_cannot_change_it_and_a_bad_number_changes_nothing(shipment: Shipment):
    reader = Client()
    reader.force_login(UserFactory(username="rita", roles=["Purchasing"]))
    seller = Client()
    seller.force_login(UserFactory(username="sam", roles=["Sales"]))

    denied = reader.post(
        f"/sales/shipments/{shipment.pk}/tracking/", {"carrier": "X", "tracking_number": "1"}
    )
    bad = seller.post(
        f"/sales/shipments/{shipment.pk}/tracking/", {"carrier": "UPS", "tracking_number": ""}, **HTMX
    )

    assert denied.status_code == 403
    assert bad.status_code == 200
    assert json.loads(bad["HX-Trigger"])["toast"]["level"] == "error"
    shipment.refresh_from_db()
    assert shipment.tracking_number == "9400OLD"
