"""A confirmed order takes more: lines that grow and new lines, priced as orders are, reserved as at
confirmation (what is missing is backordered); from the service, the order page and the API."""

from __future__ import annotations

import json
from decimal import Decimal as D

import pytest
from django.test import Client

from erp.exceptions import InvalidTransition, ValidationFailed
from erp.models import OutboxEvent
from sales.models import FulfilledBy, OrderLine, OrderStatus, SalesOrder
from sales.pricing import LineIn, TaxIn, compute
from sales.selectors import order_detail, order_figures, reserved_by_line
from sales.services import (
    LineGrowth,
    LineSpec,
    ShipLine,
    TaxSpec,
    order_cancel,
    order_confirm,
    order_create,
    order_hold,
    order_lines_extend,
    shipment_create,
)
from tests.erp.factories import UserFactory, api_key_for
from tests.queries import count_queries
from tests.sales.api_support import Api, field_errors
from tests.sales.factories import ChannelFactory, CustomerFactory, order_for, stocked_product

pytestmark = pytest.mark.django_db

VAT = (TaxSpec("VAT", "0.2"),)
HTMX = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "order"}


@pytest.fixture
def order():
    """Confirmed: 3 tents at 100.00 and 2 mugs at 10.00, 20 % VAT, 5.00 shipping; all reserved
    (10 tents and 10 mugs in stock)."""
    tent, mug = stocked_product(10, price="100.00", sku="TENT"), stocked_product(10, price="10.00", sku="MUG")
    placed = order_create(
        channel=ChannelFactory(),
        customer=CustomerFactory(),
        lines=[LineSpec(tent, 3, taxes=list(VAT)), LineSpec(mug, 2, taxes=list(VAT))],
        shipping_amount="5.00",
    )
    return order_confirm(order=placed)


def line(order, position: int) -> OrderLine:
    return order.lines.get(position=position)


def amounts(ln: OrderLine) -> tuple[D, D, D, D]:
    ln.refresh_from_db()
    return ln.quantity, ln.line_subtotal, ln.tax_amount, ln.line_total


def assert_totals_are_the_sum_of_the_lines(order: SalesOrder) -> None:
    order.refresh_from_db()
    lines = list(order.lines.prefetch_related("taxes"))
    assert order.subtotal == sum(ln.line_subtotal for ln in lines)
    assert order.discount_total == sum(ln.discount_amount for ln in lines)
    assert order.tax_total == sum(ln.tax_amount for ln in lines) + (
        order.shipping_total - order.shipping_amount
    )
    assert order.total == order.subtotal + order.tax_total + order.shipping_amount
    for ln in lines:
        assert ln.tax_amount == sum(t.amount for t in ln.taxes.all())
        assert ln.line_total == ln.line_subtotal + ln.tax_amount


# --- the service -----------------------------------------------------------------------------


def test_a_line_grows_and_a_line_is_added_reserved_and_priced_as_orders_are(order):
    # given
    tents = line(order, 1)
    stove = stocked_product(5, price="45.50", sku="STOVE")

    # when: one more tent, and two stoves at a price of their own with VAT
    edited = order_lines_extend(
        order=order,
        grow={tents.pk: 4},
        add=[LineSpec(stove, 2, unit_price="40.00", taxes=list(VAT))],
        reason="phoned in",
    )

    # then: the tent's extra unit at its price and VAT, the stoves priced as a new order prices them
    assert amounts(tents) == (D(4), D("400.00"), D("80.00"), D("480.00"))
    assert list(tents.taxes.values_list("amount", flat=True)) == [D("80.00")]
    stoves = line(edited, 3)
    expected = compute([LineIn(D(2), D("40.00"), D(0), [TaxIn("VAT", D("0.2"))])], currency="USD").lines[0]
    assert (stoves.product, stoves.unit_price, stoves.line_subtotal, stoves.tax_amount) == (
        stove,
        D("40.00"),
        expected.net,
        expected.tax,
    )
    assert (edited.subtotal, edited.tax_total, edited.total) == (D("500.00"), D("100.00"), D("605.00"))
    assert_totals_are_the_sum_of_the_lines(edited)
    assert reserved_by_line([tents.pk, stoves.pk]) == {tents.pk: D(4), stoves.pk: D(2)}
    assert edited.status == OrderStatus.CONFIRMED


def test_what_the_warehouse_lacks_is_backordered_and_the_event_says_so(order):
    # given: 7 tents left in stock
    tents = line(order, 1)
    scarce = stocked_product(1, sku="LAMP")

    # when
    order_lines_extend(order=order, grow={tents.pk: 12}, add=[LineSpec(scarce, 3)], reason="more")

    # then
    lamps = line(order, 3)
    assert reserved_by_line([tents.pk, lamps.pk]) == {tents.pk: D(10), lamps.pk: D(1)}
    figures = order_figures(order_detail(order.pk))
    assert (figures.backordered[tents.pk], figures.backordered[lamps.pk]) == (D(2), D(2))
    event = OutboxEvent.objects.filter(topic="sales.order_updated").latest("pk")
    assert event.payload["reason"] == "more"
    assert event.payload["total"] == str(SalesOrder.objects.get(pk=order.pk).total)
    assert [
        (ln["sku"], ln["quantity"], ln["change"], ln["reserved"], ln["backordered"])
        for ln in event.payload["lines"]
    ] == [
        ("TENT", "12.0000", "grown", "7.0000", "2.0000"),
        ("LAMP", "3.0000", "added", "1.0000", "2.0000"),
    ]


def test_a_line_the_marketplace_fulfils_reserves_nothing(order):
    fba = stocked_product(10, sku="FBA-MUG")

    order_lines_extend(order=order, add=[LineSpec(fba, 2, fulfilled_by=FulfilledBy.MARKETPLACE)])

    added = line(order, 3)
    assert (added.fulfilled_by, reserved_by_line([added.pk])) == (FulfilledBy.MARKETPLACE, {})
    assert order_figures(order_detail(order.pk)).backordered[added.pk] == 0


def test_a_line_priced_as_a_channel_charged_it_is_repriced_whole(order):
    # given: a channel says the two mugs are now five, 3.00 off, 9.40 of VAT charged
    mugs = line(order, 2)

    # when
    edited = order_lines_extend(
        order=order,
        grow={mugs.pk: LineGrowth(5, "10.00", discount_amount="3.00", taxes=[TaxSpec("VAT", "0.2", "9.40")])},
    )

    # then
    mugs.refresh_from_db()
    assert (mugs.quantity, mugs.discount_amount, mugs.line_subtotal, mugs.tax_amount) == (
        D(5),
        D("3.00"),
        D("47.00"),
        D("9.40"),
    )
    assert (edited.discount_total, edited.total) == (D("3.00"), D("360.00") + D("56.40") + D("5.00"))
    assert_totals_are_the_sum_of_the_lines(edited)


def test_a_partly_shipped_order_and_one_on_hold_take_more(order):
    tents, mugs = line(order, 1), line(order, 2)
    shipment_create(order=order, lines=[ShipLine(mugs, 2)])
    order.refresh_from_db()
    assert order.status == OrderStatus.PARTIALLY_SHIPPED

    order_lines_extend(order=order, grow={mugs.pk: 3})  # a shipped line is open again

    assert reserved_by_line([mugs.pk]) == {mugs.pk: D(1)}
    held = order_hold(order=order, reason="address check")
    order_lines_extend(order=held, grow={tents.pk: 5})
    assert reserved_by_line([tents.pk]) == {tents.pk: D(5)}
    assert SalesOrder.objects.get(pk=order.pk).status == OrderStatus.ON_HOLD


def test_refusals_name_the_field_and_change_nothing(order):
    tents = line(order, 1)
    before = (order.total, list(order.lines.values_list("quantity", flat=True)))

    with pytest.raises(ValidationFailed) as foreign:
        order_lines_extend(order=order, grow={999999: 2})
    assert foreign.value.field_errors == {"grow.999999": [f"Line 999999 is not a line of {order.number}."]}

    with pytest.raises(ValidationFailed) as lower:
        order_lines_extend(order=order, grow={tents.pk: 2})
    assert "only a higher quantity" in lower.value.field_errors[f"grow.{tents.pk}"][0]

    with pytest.raises(ValidationFailed) as nothing:
        order_lines_extend(order=order, grow={tents.pk: 0}, add=[LineSpec(tents.product, -1)])
    assert nothing.value.field_errors == {
        f"grow.{tents.pk}": ["Must be positive."],
        "add.0.quantity": ["Must be positive."],
    }

    with pytest.raises(ValidationFailed, match="Nothing to change"):
        order_lines_extend(order=order)

    order.refresh_from_db()
    assert (order.total, list(order.lines.values_list("quantity", flat=True))) == before
    assert not OutboxEvent.objects.filter(topic="sales.order_updated").exists()


def test_the_same_quantity_changes_nothing(order):
    tents = line(order, 1)
    assert order_lines_extend(order=order, grow={tents.pk: 3}).total == order.total
    assert not OutboxEvent.objects.filter(topic="sales.order_updated").exists()


@pytest.mark.parametrize("state", ["draft", "shipped", "cancelled", "held draft"])
def test_an_order_that_is_not_confirmed_or_is_done_takes_nothing(state):
    product = stocked_product(10)
    order = order_for((product, 2))
    if state == "shipped":
        order = order_confirm(order=order)
        shipment_create(order=order)
    elif state == "cancelled":
        order = order_cancel(order=order)
    elif state == "held draft":
        order = order_hold(order=order)

    with pytest.raises(InvalidTransition, match="cannot go from"):
        order_lines_extend(order=order, add=[LineSpec(product, 1)])

    assert order.lines.count() == 1


# --- the order page ---------------------------------------------------------------------------


@pytest.fixture
def seller() -> Client:
    client = Client()
    client.force_login(UserFactory(username="sam", roles=["Sales"]))
    return client


def toast_of(response) -> dict:
    return json.loads(response["HX-Trigger"])["toast"]


def test_the_page_offers_add_line_when_the_api_does(seller, order):
    page = seller.get(f"/sales/orders/{order.pk}/").content.decode()
    assert 'data-action="add_line"' in page
    assert "add_line" in order_figures(order_detail(order.pk)).actions
    draft = order_for((stocked_product(5), 1))
    assert 'data-action="add_line"' not in seller.get(f"/sales/orders/{draft.pk}/").content.decode()
    assert "add_line" not in order_figures(order_detail(draft.pk)).actions


def test_adding_a_line_from_the_page_at_the_products_price(seller, order):
    # given
    stove = stocked_product(5, price="45.50", sku="STOVE")
    panel = seller.get(f"/sales/orders/{order.pk}/lines/", **HTMX)
    assert b"Add a line" in panel.content

    # when: no price typed
    response = seller.post(
        f"/sales/orders/{order.pk}/lines/", {"op": "add", "product": stove.pk, "quantity": "2"}, **HTMX
    )

    # then
    assert response.status_code == 200
    assert toast_of(response) == {"message": f"2 × STOVE added to {order.number}.", "level": "success"}
    stoves = line(order, 3)
    assert (stoves.product, stoves.quantity, stoves.unit_price) == (stove, D(2), D("45.50"))
    assert reserved_by_line([stoves.pk]) == {stoves.pk: D(2)}
    assert b"STOVE" in response.content


def test_a_typed_sku_and_price_without_javascript_and_a_backorder_said(seller, order):
    stocked_product(1, price="45.50", sku="STOVE")

    response = seller.post(
        f"/sales/orders/{order.pk}/lines/",
        {"op": "add", "product_query": "stove", "quantity": "3", "unit_price": "40"},
    )

    assert response.status_code == 302
    stoves = line(order, 3)
    assert (stoves.quantity, stoves.unit_price) == (D(3), D("40.00"))
    page = seller.get(f"/sales/orders/{order.pk}/").content.decode()
    assert f"3 × STOVE added to {order.number}; 2 backordered." in page


def test_raising_quantities_from_the_page(seller, order):
    tents, mugs = line(order, 1), line(order, 2)

    response = seller.post(
        f"/sales/orders/{order.pk}/lines/",
        {"op": "grow", f"qty_{tents.pk}": "5", f"qty_{mugs.pk}": "2"},
        **HTMX,
    )

    assert toast_of(response)["message"] == f"{order.number}: 1 line raised."
    assert amounts(tents)[0] == D(5)
    assert reserved_by_line([tents.pk]) == {tents.pk: D(5)}


def test_a_refusal_shows_next_to_the_field_and_changes_nothing(seller, order):
    tents = line(order, 1)

    lower = seller.post(f"/sales/orders/{order.pk}/lines/", {"op": "grow", f"qty_{tents.pk}": "1"}, **HTMX)
    unknown = seller.post(
        f"/sales/orders/{order.pk}/lines/", {"op": "add", "product_query": "NOPE", "quantity": "1"}, **HTMX
    )

    assert toast_of(lower)["level"] == "error"
    assert "only a higher quantity" in lower.content.decode()
    assert "No product with SKU or barcode" in unknown.content.decode()
    assert order.lines.count() == 2
    assert amounts(tents)[0] == D(3)


def test_the_panel_costs_the_same_for_2_or_20_lines(seller):
    def make(n: int) -> SalesOrder:
        return order_confirm(order=order_for(*[(stocked_product(10), 2) for _ in range(n)]))

    counts = []
    for placed in (make(2), make(20)):
        url = f"/sales/orders/{placed.pk}/lines/"
        seller.get(url, **HTMX)  # warm
        counts.append(count_queries(lambda u=url: seller.get(u, **HTMX)))
    assert counts[0] == counts[1], counts


def test_people_who_only_read_sales_cannot_add(order):
    picker = Client()
    picker.force_login(UserFactory(username="wendy", roles=["Warehouse"]))
    tents = line(order, 1)

    assert picker.get(f"/sales/orders/{order.pk}/lines/").status_code == 403  # refused at GET (issue #21)
    refused = picker.post(f"/sales/orders/{order.pk}/lines/", {"op": "grow", f"qty_{tents.pk}": "5"})

    assert refused.status_code == 403
    assert 'data-action="add_line"' not in picker.get(f"/sales/orders/{order.pk}/").content.decode()
    assert amounts(tents)[0] == D(3)


# --- the API ---------------------------------------------------------------------------------


@pytest.fixture
def api() -> Api:
    return Api(api_key_for(UserFactory(roles=["Sales"])))


def test_the_api_adds_a_line_and_raises_another(api: Api, order):
    tents = line(order, 1)
    stocked_product(5, price="45.50", sku="STOVE")

    response = api.post(
        f"/orders/{order.pk}/lines",
        {
            "add": [{"sku": "stove", "quantity": "2", "taxes": [{"name": "VAT", "rate": "0.2"}]}],
            "grow": [{"line_id": tents.pk, "quantity": "4"}],
            "reason": "phoned in",
        },
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert [(ln["sku"], ln["ordered"], ln["reserved"]) for ln in body["lines"]] == [
        ("TENT", "4.0000", "4.0000"),
        ("MUG", "2.0000", "2.0000"),
        ("STOVE", "2.0000", "2.0000"),
    ]
    assert body["lines"][2]["unit_price"] == "45.50"
    assert D(body["total"]) == (D("400.00") + D("20.00") + D("91.00")) * D("1.2") + D("5.00")
    assert "add_line" in body["allowed_actions"]


def test_the_api_refuses_with_the_platforms_error_shapes(api: Api, order):
    tents = line(order, 1)
    other = order_confirm(order=order_for((stocked_product(5), 1)))

    foreign = api.post(
        f"/orders/{order.pk}/lines", {"grow": [{"line_id": other.lines.get().pk, "quantity": "4"}]}
    )
    lower = api.post(f"/orders/{order.pk}/lines", {"grow": [{"line_id": tents.pk, "quantity": "1"}]})
    unknown = api.post(f"/orders/{order.pk}/lines", {"add": [{"sku": "NOPE", "quantity": "1"}]})
    shipped = order_confirm(order=order_for((stocked_product(5), 1)))
    shipment_create(order=shipped)
    late = api.post(f"/orders/{shipped.pk}/lines", {"add": [{"sku": "TENT", "quantity": "1"}]})
    missing = api.post("/orders/999999/lines", {"add": [{"sku": "TENT", "quantity": "1"}]})

    assert (foreign.status_code, list(field_errors(foreign))) == (422, ["grow.0.line_id"])
    assert lower.status_code == 422
    assert "only a higher quantity" in field_errors(lower)["grow.0.quantity"]
    assert (unknown.status_code, list(field_errors(unknown))) == (422, ["add.0.sku"])
    assert late.status_code == 409
    assert "cannot go from 'shipped'" in late.json()["detail"]
    assert missing.status_code == 404
    assert order.lines.count() == 2
