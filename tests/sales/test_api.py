"""The sales API: customers with their addresses and contacts, channels, and who may do what."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from django.test import Client

from sales.models import Customer, SalesChannel, SalesOrder
from sales.services import order_confirm
from tests.erp.factories import UserFactory, api_key_for
from tests.inventory.factories import ProductFactory, warehouse

# Api stays importable from here: test_api_lists.py takes it from this module.
from tests.sales.api_support import ADDRESS, BASE, Api, field_errors
from tests.sales.factories import ChannelFactory, CustomerFactory, order_for, stocked_product

pytestmark = pytest.mark.django_db


@pytest.fixture
def api() -> Api:
    return Api(api_key_for(UserFactory(roles=["Sales"])))


# --- customers ------------------------------------------------------------------------------------


def test_create_a_customer_with_addresses_and_contacts_then_read_and_update_it(api: Api):
    # when
    created = api.post(
        "/customers",
        {
            "name": "Engines Ltd",
            "email": "ap@engines.example",
            "payment_terms": "net_15",
            "billing_address": ADDRESS,
            "contacts": [{"name": "Charles", "role": "buyer"}, {"name": "Ada", "email": "ada@x.example"}],
        },
    )

    # then: the shipping address defaults to the billing one
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["code"].startswith("C-")
    assert D(body["open_balance"]) == 0
    assert sorted((a["kind"], a["country"], a["is_default"]) for a in body["addresses"]) == [
        ("billing", "GB", True),
        ("shipping", "GB", True),
    ]
    assert sorted(c["name"] for c in body["contacts"]) == ["Ada", "Charles"]
    assert body["recent_orders"] == []

    # when: a new default shipping address, a contact, a change
    customer_id = body["id"]
    address = api.post(
        f"/customers/{customer_id}/addresses", {**ADDRESS, "kind": "shipping", "line1": "2 Dock Rd"}
    )
    contact = api.post(f"/customers/{customer_id}/contacts", {"name": "Babbage", "phone": "123"})
    updated = api.patch(f"/customers/{customer_id}", {"name": "Engines plc", "is_active": False})

    # then
    assert address.status_code == 201, address.content
    assert contact.status_code == 201, contact.content
    assert updated.status_code == 200, updated.content
    detail = api.get(f"/customers/{customer_id}").json()
    assert (detail["name"], detail["is_active"], detail["payment_terms"]) == ("Engines plc", False, "net_15")
    shipping_defaults = [
        a["line1"] for a in detail["addresses"] if a["kind"] == "shipping" and a["is_default"]
    ]
    assert shipping_defaults == ["2 Dock Rd"]
    assert len(detail["contacts"]) == 3


def test_a_customer_shows_its_open_balance_and_latest_orders(api: Api):
    # given: an order invoiced for 20.00 of which 5.00 is paid
    customer = CustomerFactory()
    order = order_confirm(order=order_for((stocked_product(5, price="10.00"), 2), customer=customer))
    api.post(f"/orders/{order.pk}/ship")
    invoice = api.post(f"/orders/{order.pk}/invoice").json()
    api.post(f"/invoices/{invoice['id']}/pay", {"amount": "5.00"})

    # when
    detail = api.get(f"/customers/{customer.pk}").json()
    listed = api.get("/customers", q=customer.name).json()["items"]

    # then
    assert D(detail["open_balance"]) == D("15.00")
    assert [o["number"] for o in detail["recent_orders"]] == [order.number]
    assert [(c["id"], D(c["open_balance"])) for c in listed] == [(customer.pk, D("15.00"))]


def test_invalid_customer_input_is_a_422_naming_the_field_and_creates_nothing(api: Api):
    # when
    bad_terms = api.post("/customers", {"name": "X", "payment_terms": "net_1000"})
    bad_currency = api.post("/customers", {"name": "X", "currency": "XXY"})
    bad_address = api.post("/customers", {"name": "X", "billing_address": {"name": "Only a name"}})

    # then
    assert bad_terms.status_code == 422
    assert "payment_terms" in field_errors(bad_terms)
    assert bad_currency.status_code == 422
    assert "currency" in field_errors(bad_currency)
    assert bad_address.status_code == 422
    assert {"line1", "city", "country"} <= set(field_errors(bad_address))
    assert not Customer.objects.exists()


# --- channels -------------------------------------------------------------------------------------


def test_create_read_and_update_a_channel(api: Api):
    # given
    wh1, wh2 = warehouse("WH1"), warehouse("WH2")

    # when
    created = api.post(
        "/channels",
        {
            "code": "B2B",
            "name": "Wholesale",
            "warehouse": wh1.pk,
            "kind": "wholesale",
            "currency": "EUR",
            "prices_include_tax": True,
            "invoice_policy": "ordered",
        },
    )
    channel_id = created.json()["id"]
    updated = api.patch(f"/channels/{channel_id}", {"warehouse": wh2.pk, "is_active": False})

    # then
    assert created.status_code == 201, created.content
    assert created.json() | {"id": 0} == {
        "id": 0,
        "code": "b2b",
        "name": "Wholesale",
        "kind": "wholesale",
        "warehouse": wh1.pk,
        "warehouse_code": "WH1",
        "currency": "EUR",
        "prices_include_tax": True,
        "invoice_policy": "ordered",
        "is_active": True,
    }
    assert updated.status_code == 200, updated.content
    assert (updated.json()["warehouse_code"], updated.json()["is_active"]) == ("WH2", False)
    assert api.get(f"/channels/{channel_id}").json()["warehouse"] == wh2.pk


def test_invalid_channel_input_is_refused(api: Api):
    # given
    channel = ChannelFactory()

    # when
    bad_kind = api.post("/channels", {"code": "x", "warehouse": channel.warehouse_id, "kind": "telepathy"})
    unknown_warehouse = api.post("/channels", {"code": "x", "warehouse": 999999})
    duplicate = api.post("/channels", {"code": "WEB", "warehouse": channel.warehouse_id})
    bad_currency = api.patch(f"/channels/{channel.pk}", {"currency": "EURO"})

    # then
    assert bad_kind.status_code == 422
    assert "kind" in field_errors(bad_kind)
    assert unknown_warehouse.status_code == 404
    assert "warehouse" in field_errors(unknown_warehouse)
    assert duplicate.status_code == 422
    assert "code" in field_errors(duplicate)
    assert bad_currency.status_code == 422
    assert SalesChannel.objects.count() == 1
    channel.refresh_from_db()
    assert channel.currency == "USD"


# --- who may do what ------------------------------------------------------------------------------


def test_a_warehouse_key_may_read_sales_but_not_write():
    # given
    product = stocked_product(5)
    channel, customer = ChannelFactory(), CustomerFactory()
    order = order_confirm(order=order_for((product, 1), channel=channel, customer=customer))
    warehouse_api = Api(api_key_for(UserFactory(roles=["Warehouse"])))

    # when
    reads = [
        warehouse_api.get(path) for path in ("/orders", f"/orders/{order.pk}", "/customers", "/invoices")
    ]
    create = warehouse_api.post(
        "/orders",
        {"channel": channel.pk, "customer": customer.pk, "lines": [{"product": product.pk, "quantity": 1}]},
    )
    ship = warehouse_api.post_empty(f"/orders/{order.pk}/ship")
    patch = warehouse_api.patch(f"/customers/{customer.pk}", {"name": "Renamed"})

    # then
    assert [r.status_code for r in reads] == [200, 200, 200, 200]
    assert (create.status_code, ship.status_code, patch.status_code) == (403, 403, 403)
    assert "sales:write" in create.json()["detail"]
    assert SalesOrder.objects.count() == 1
    order.refresh_from_db()
    assert order.status == "confirmed"


def test_an_inventory_only_key_may_not_read_sales():
    # given: a Sales user's key limited to inventory
    inventory_api = Api(api_key_for(UserFactory(roles=["Sales"]), scopes=["inventory:read"]))
    order = order_for((ProductFactory(), 1))

    # when
    listed = inventory_api.get("/orders")
    detail = inventory_api.get(f"/orders/{order.pk}")

    # then
    assert (listed.status_code, detail.status_code) == (403, 403)
    assert "sales:read" in listed.json()["detail"]


def test_an_anonymous_caller_is_a_401():
    response = Client().get(f"{BASE}/orders")

    assert response.status_code == 401
