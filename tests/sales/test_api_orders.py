"""Sales orders through the API: create and confirm in one request, refusals, edits, hold and cancel."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from erp.models import OutboxEvent
from sales.models import SalesOrder
from sales.services import order_confirm
from tests.erp.factories import UserFactory, api_key_for
from tests.sales.api_support import ADDRESS, Api, field_errors
from tests.sales.factories import ChannelFactory, CustomerFactory, order_for, stocked_product

pytestmark = pytest.mark.django_db


@pytest.fixture
def api() -> Api:
    return Api(api_key_for(UserFactory(roles=["Sales"])))


def test_create_an_order_with_lines_by_sku_and_by_id_and_confirm_it_in_one_request(api: Api):
    # given
    stocked_product(10, price="10.00", sku="MUG-RED")
    by_id = stocked_product(1, price="5.00")
    channel, customer = ChannelFactory(), CustomerFactory()

    # when: the SKU in another case, 3 of a product with only 1 in stock
    response = api.post(
        "/orders",
        {
            "channel": channel.pk,
            "customer": customer.pk,
            "lines": [
                {
                    "sku": "mug-red",
                    "quantity": "4",
                    "discount_percent": "10",
                    "taxes": [{"name": "VAT", "rate": "0.2"}],
                },
                {"product": by_id.pk, "quantity": 3, "unit_price": "6.00"},
            ],
            "shipping_address": ADDRESS,
            "shipping_amount": "5.00",
            "tags": ["vip", " vip ", "gift"],
            "external_reference": "#1001",
            "confirm": True,
        },
    )

    # then: confirmed, stock reserved, the rest backordered, totals computed
    assert response.status_code == 201, response.content
    order = response.json()
    assert order["status"] == "confirmed"
    assert order["number"].startswith("SO-")
    assert (order["channel_code"], order["customer_name"]) == ("web", customer.name)
    assert (order["tags"], order["external_reference"]) == (["gift", "vip"], "#1001")
    first, second = order["lines"]
    assert (first["sku"], first["ordered"], first["reserved"]) == ("MUG-RED", "4.0000", "4.0000")
    assert (D(first["line_subtotal"]), D(first["tax_amount"]), D(first["line_total"])) == (
        D("36"),
        D("7.20"),
        D("43.20"),
    )
    assert [(t["name"], D(t["rate"]), D(t["amount"])) for t in first["taxes"]] == [
        ("VAT", D("0.2"), D("7.20"))
    ]
    assert (second["product"], second["ordered"], second["reserved"]) == (by_id.pk, "3.0000", "1.0000")
    assert D(order["total"]) == D("43.20") + D("18.00") + D("5.00")
    assert order["shipping_address"]["city"] == "London"
    # nothing shipped yet, and the channel bills shipped quantities: "invoice" is not offered (as on the page)
    assert set(order["allowed_actions"]) == {"ship", "add_line", "hold", "cancel"}
    assert SalesOrder.objects.get().status == "confirmed"


def test_an_order_without_confirm_stays_a_draft_and_reserves_nothing(api: Api):
    # given
    product = stocked_product(5)

    # when
    response = api.post(
        "/orders",
        {
            "channel": ChannelFactory().pk,
            "customer": CustomerFactory().pk,
            "lines": [{"product": product.pk, "quantity": 2}],
        },
    )

    # then: the product's sale price, nothing held
    assert response.status_code == 201, response.content
    order = response.json()
    assert order["status"] == "draft"
    # money with the currency's minor-unit digits, quantities with 4 places
    assert (order["lines"][0]["unit_price"], order["lines"][0]["reserved"]) == ("10.00", "0.0000")
    assert set(order["allowed_actions"]) == {"confirm", "hold", "cancel"}


@pytest.mark.parametrize(
    ("lines", "field"),
    [
        ([{"sku": "GOOD", "quantity": 0}], "lines.0.quantity"),
        ([{"sku": "GOOD", "quantity": 1}, {"sku": "NO-SUCH-SKU", "quantity": 1}], "lines.1.sku"),
        ([{"product": 999999, "quantity": 1}], "lines.0.product"),
        ([{"quantity": 1}], "lines.0.product"),
        ([{"sku": "GOOD", "product": 1, "quantity": 1}], "lines.0.product"),
        ([{"sku": "GOOD", "quantity": 1, "discount_percent": 150}], "lines.0.discount_percent"),
        ([{"sku": "GOOD"}], "lines.0.quantity"),
        ([], "lines"),
    ],
)
def test_bad_lines_are_a_422_naming_the_line_and_nothing_is_created(api: Api, lines, field):
    # given
    stocked_product(5, sku="GOOD")
    channel, customer = ChannelFactory(), CustomerFactory()
    events_before = OutboxEvent.objects.count()

    # when
    response = api.post(
        "/orders", {"channel": channel.pk, "customer": customer.pk, "lines": lines, "confirm": True}
    )

    # then
    assert response.status_code == 422, response.content
    assert response["Content-Type"].startswith("application/problem+json")
    assert field in field_errors(response)
    assert not SalesOrder.objects.exists()
    assert OutboxEvent.objects.count() == events_before


def test_unknown_ids_are_404(api: Api):
    # given
    product = stocked_product(1)

    # when
    unknown_customer = api.post(
        "/orders",
        {
            "channel": ChannelFactory().pk,
            "customer": 999999,
            "lines": [{"product": product.pk, "quantity": 1}],
        },
    )

    # then
    assert unknown_customer.status_code == 404
    assert "customer" in field_errors(unknown_customer)
    for path in (
        "/orders/999999",
        "/customers/999999",
        "/channels/999999",
        "/invoices/999999",
        "/shipments/999999",
        "/returns/999999",
        "/orders/999999/timeline",
    ):
        response = api.get(path)
        assert response.status_code == 404, path
        assert "999999" in response.json()["detail"]
    assert api.post_empty("/orders/999999/confirm").status_code == 404


def test_edit_a_draft_then_only_notes_and_tags_once_confirmed(api: Api):
    # given
    product, other = stocked_product(10, price="10.00"), stocked_product(10, price="3.00")
    order = order_for((product, 1))

    # when: the draft's lines replaced
    edited = api.patch(
        f"/orders/{order.pk}",
        {"lines": [{"product": other.pk, "quantity": 2}], "order_discount": "1.00", "notes": "gift wrap"},
    )

    # then
    assert edited.status_code == 200, edited.content
    assert [(ln["product"], ln["ordered"]) for ln in edited.json()["lines"]] == [(other.pk, "2.0000")]
    assert D(edited.json()["total"]) == D("5.00")

    # when: confirmed, a change of lines is refused, tags are fine
    api.post_empty(f"/orders/{order.pk}/confirm")
    refused = api.patch(f"/orders/{order.pk}", {"lines": [{"product": product.pk, "quantity": 1}]})
    tagged = api.patch(f"/orders/{order.pk}", {"tags": ["rush"]})

    # then
    assert refused.status_code == 422
    assert tagged.status_code == 200
    assert tagged.json()["tags"] == ["rush"]


def test_hold_release_cancel_and_an_illegal_transition_is_a_409_naming_both_states(api: Api):
    # given
    product = stocked_product(5)
    order = order_confirm(order=order_for((product, 2)))

    # when / then: hold, release back to confirmed
    held = api.post(f"/orders/{order.pk}/hold", {"reason": "fraud check"})
    assert (held.status_code, held.json()["status"], held.json()["allowed_actions"]) == (
        200,
        "on_hold",
        ["release", "add_line"],
    )
    assert "fraud check" in held.json()["notes"]
    released = api.post_empty(f"/orders/{order.pk}/release")
    assert released.json()["status"] == "confirmed"

    # when: closing an order that has not shipped
    refused = api.post_empty(f"/orders/{order.pk}/close")

    # then: 409, naming both states, nothing changed
    assert refused.status_code == 409
    assert refused["Content-Type"].startswith("application/problem+json")
    assert "'confirmed'" in refused.json()["detail"]
    assert "'closed'" in refused.json()["detail"]
    assert api.get(f"/orders/{order.pk}").json()["status"] == "confirmed"

    # when: cancelled, the stock is released, and it cannot be confirmed again
    cancelled = api.post(f"/orders/{order.pk}/cancel", {"reason": "changed mind"})
    again = api.post_empty(f"/orders/{order.pk}/confirm")

    # then
    assert cancelled.json()["status"] == "cancelled"
    assert cancelled.json()["lines"][0]["reserved"] == "0.0000"
    assert again.status_code == 409
    assert "'cancelled'" in again.json()["detail"]
    assert "'confirmed'" in again.json()["detail"]
