"""The change history names who acted: through an API key, the key's owner and the key itself."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from erp.models import ApiKey
from sales.models import Customer, SalesOrder
from tests.erp.factories import UserFactory, api_key_for, bearer
from tests.sales.factories import CustomerFactory, order_for, stocked_product

pytestmark = pytest.mark.django_db


def patch(client: Client, path: str, body: dict, **headers: str):
    return client.patch(path, json.dumps(body), content_type="application/json", **headers)


def test_a_change_through_an_api_key_records_its_owner_and_the_key():
    # given
    sam = UserFactory(username="sam", roles=["Sales"])
    raw = api_key_for(sam, name="ShipStation")
    key = ApiKey.objects.get(name="ShipStation")
    order = order_for((stocked_product(5), 1))
    customer = CustomerFactory()

    # when
    changed_order = patch(Client(), f"/api/v1/sales/orders/{order.pk}", {"notes": "gift wrap"}, **bearer(raw))
    created = Client().post(
        "/api/v1/sales/customers", json.dumps({"name": "Ada"}), content_type="application/json", **bearer(raw)
    )
    changed_customer = patch(Client(), f"/api/v1/sales/customers/{customer.pk}", {"name": "B"}, **bearer(raw))

    # then
    assert changed_order.status_code == 200, changed_order.content
    assert created.status_code == 201, created.content
    assert changed_customer.status_code == 200, changed_customer.content
    latest_order = SalesOrder.history.filter(id=order.pk).latest("history_date")
    new_customer = Customer.history.get(id=created.json()["id"])
    latest_customer = Customer.history.filter(id=customer.pk).latest("history_date")
    for row in (latest_order, new_customer, latest_customer):
        assert (row.history_user, row.history_api_key) == (sam, key)


def test_a_change_in_the_browser_records_the_user_and_no_key():
    # given
    sam = UserFactory(username="sam", roles=["Sales"])
    customer = CustomerFactory()
    client = Client()
    client.force_login(sam)
    client.get("/")
    csrf = {"HTTP_X_CSRFTOKEN": client.cookies["csrftoken"].value}

    # when
    response = patch(client, f"/api/v1/sales/customers/{customer.pk}", {"name": "Babbage"}, **csrf)

    # then
    assert response.status_code == 200, response.content
    row = Customer.history.filter(id=customer.pk).latest("history_date")
    assert (row.history_user, row.history_api_key) == (sam, None)
