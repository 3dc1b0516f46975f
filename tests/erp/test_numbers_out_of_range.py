"""A number too large to be stored is the client's mistake: 422 naming the field, nothing changed.

Before, ``decimal.InvalidOperation`` escaped ``quantize_*`` and every one of these was a 500
(schemathesis found the BOM and payment cases).
"""

from __future__ import annotations

from decimal import Decimal as D
from typing import Any

import pytest
from django.test import Client

from erp.models import OutboxEvent
from erp.money import NumberOutOfRange, quantize_money, quantize_quantity, round_money
from inventory.models import StockMove
from manufacturing.models import BillOfMaterials
from procurement.models import Receipt
from sales.models import Payment, SalesOrder
from sales.services import invoice_create, order_confirm, shipment_create
from tests.erp.factories import UserFactory, api_key_for, bearer
from tests.inventory.factories import ProductFactory, bin_of, warehouse
from tests.procurement.factories import SupplierFactory
from tests.sales.factories import ChannelFactory, CustomerFactory, order_for, stocked_product

pytestmark = pytest.mark.django_db

HUGE = ["1e30", "1" * 40, -1.7e298, 1.93e245, "NaN", "Infinity", "1" * 31 + ".5"]


class Api:
    def __init__(self) -> None:
        self.client = Client()
        self.headers = bearer(api_key_for(UserFactory(is_superuser=True, is_staff=True)))

    def post(self, path: str, body: dict[str, Any]):
        return self.client.post(f"/api/v1{path}", body, content_type="application/json", **self.headers)


@pytest.fixture
def api() -> Api:
    return Api()


def assert_422_naming(response, field: str) -> None:
    assert response.status_code == 422, response.content
    assert response["Content-Type"] == "application/problem+json"
    fields = {e["field"]: e["message"] for e in response.json()["errors"]}
    assert field in fields, fields
    assert "digits before the point" in fields[field] or "finite" in fields[field]


@pytest.mark.parametrize("value", HUGE)
def test_an_order_line_quantity_or_price_too_large_is_422_and_creates_nothing(api: Api, value):
    # given
    stocked_product(10, sku="MUG")
    channel, customer = ChannelFactory(), CustomerFactory()
    events = OutboxEvent.objects.count()

    # when
    quantity = api.post(
        "/sales/orders",
        {"channel": channel.pk, "customer": customer.pk, "lines": [{"sku": "MUG", "quantity": value}]},
    )
    price = api.post(
        "/sales/orders",
        {
            "channel": channel.pk,
            "customer": customer.pk,
            "lines": [{"sku": "MUG", "quantity": 1, "unit_price": value}],
        },
    )

    # then
    assert_422_naming(quantity, "lines.0.quantity")
    assert_422_naming(price, "lines.0.unit_price")
    assert not SalesOrder.objects.exists()
    assert OutboxEvent.objects.count() == events


def test_a_40_digit_receipt_quantity_is_422_and_moves_nothing(api: Api):
    # given
    product = ProductFactory()
    location = bin_of(warehouse())

    # when
    stock = api.post(
        "/inventory/receipts", {"product": product.pk, "location": location.pk, "quantity": "9" * 40}
    )
    supplier = SupplierFactory()
    po = api.post(
        "/procurement/purchase-orders",
        {
            "supplier": supplier.pk,
            "warehouse": location.warehouse_id,
            "lines": [{"product": product.pk, "quantity": 10, "unit_cost": "2.00"}],
        },
    ).json()
    assert api.post(f"/procurement/purchase-orders/{po['id']}/send", {}).status_code == 200
    received = api.post(
        f"/procurement/purchase-orders/{po['id']}/receive",
        {"lines": [{"line_id": po["lines"][0]["id"], "quantity": "9" * 40}]},
    )

    # then
    assert_422_naming(stock, "quantity")
    assert_422_naming(received, "lines.0.quantity")
    assert not StockMove.objects.exists()
    assert not Receipt.objects.exists()


def test_a_bom_output_quantity_of_minus_1_7e298_is_422(api: Api):
    # given
    ProductFactory(sku="BIKE")
    ProductFactory(sku="WHEEL")

    # when
    response = api.post(
        "/manufacturing/boms",
        {"sku": "BIKE", "output_quantity": -1.7e298, "components": [{"sku": "WHEEL", "quantity": 2}]},
    )

    # then
    assert_422_naming(response, "output_quantity")
    assert not BillOfMaterials.objects.exists()


def test_an_invoice_payment_of_1_93e245_is_422_and_records_nothing(api: Api):
    # given: an issued invoice
    order = order_for((stocked_product(5, price="10.00"), 2))
    order_confirm(order=order)
    shipment_create(order=order)
    invoice = invoice_create(order=order)

    # when
    response = api.post(f"/sales/invoices/{invoice.pk}/pay", {"amount": 1.93e245})

    # then
    assert_422_naming(response, "amount")
    assert not Payment.objects.exists()


def test_numbers_in_range_whose_product_cannot_be_stored_are_422_not_500(api: Api):
    # given: a quantity and a price each storable, whose line total (10^27) is not
    stocked_product(10, sku="MUG")
    channel, customer = ChannelFactory(), CustomerFactory()

    # when
    response = api.post(
        "/sales/orders",
        {
            "channel": channel.pk,
            "customer": customer.pk,
            "lines": [{"sku": "MUG", "quantity": "9" * 13, "unit_price": "9" * 14}],
        },
    )

    # then
    assert response.status_code == 422, response.content
    assert "digits before the point" in response.json()["detail"]
    assert not SalesOrder.objects.exists()


@pytest.mark.parametrize(
    ("function", "args", "limit"),
    [
        (quantize_quantity, (), "14"),
        (quantize_money, (), "15"),
        (round_money, ("EUR",), "15"),
    ],
)
def test_quantize_refuses_what_cannot_be_stored_with_a_domain_error(function, args, limit):
    for value in ("1e30", D("-1.7e298"), D("NaN"), D("Infinity"), "1" * 40):
        with pytest.raises(NumberOutOfRange) as caught:
            function(value, *args)
        assert f"at most {limit} digits" in caught.value.message
        assert "E+" not in caught.value.message
    assert function("12.345", *args) in (D("12.3450"), D("12.35"))
