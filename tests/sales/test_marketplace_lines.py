"""Lines the marketplace fulfils itself (Amazon FBA): sold and invoiced here, but they reserve,
backorder, count as demand on and ship none of our stock."""

from __future__ import annotations

import datetime
from decimal import Decimal as D

import pytest
from django.test import Client
from django.utils import timezone

from erp.exceptions import ValidationFailed
from erp.models import OutboxEvent
from inventory import availability
from inventory.models import Product, StockMove
from inventory.services import stock_receive
from manufacturing.mrp import Plan
from sales import selectors
from sales.models import FulfilledBy, OrderLine, OrderStatus, SalesOrder
from sales.registrations import unreserved_demand
from sales.selectors import reserved_by_line
from sales.services import (
    LineSpec,
    ShipLine,
    backorders_allocate,
    order_confirm,
    order_create,
    order_update,
    shipment_create,
)
from tests.erp.factories import UserFactory, api_key_for
from tests.inventory.factories import bin_of, warehouse
from tests.queries import count_queries
from tests.sales.api_support import Api, field_errors
from tests.sales.factories import ChannelFactory, CustomerFactory, stocked_product

pytestmark = pytest.mark.django_db

FBA = FulfilledBy.MARKETPLACE


def mixed_order(*lines: tuple[Product, int, str], **kw) -> SalesOrder:
    """A draft order of (product, quantity, fulfilled_by) lines."""
    return order_create(
        channel=kw.pop("channel", None) or ChannelFactory(),
        customer=kw.pop("customer", None) or CustomerFactory(),
        lines=[LineSpec(product=p, quantity=q, fulfilled_by=by) for p, q, by in lines],
        **kw,
    )


def line_of(order: SalesOrder, by: str) -> OrderLine:
    return order.lines.get(fulfilled_by=by)


# --- the line ---------------------------------------------------------------------------------


def test_a_line_is_merchant_fulfilled_unless_told_and_only_such_a_line_of_a_stocked_product_uses_stock():
    # given
    product = stocked_product(5)
    order = mixed_order((product, 1, FulfilledBy.MERCHANT), (product, 1, FBA))
    plain = order_create(channel=ChannelFactory(), customer=CustomerFactory(), lines=[LineSpec(product, 1)])

    # then
    assert plain.lines.get().fulfilled_by == FulfilledBy.MERCHANT
    ours, theirs = line_of(order, FulfilledBy.MERCHANT), line_of(order, FBA)
    assert (ours.uses_our_stock, ours.fulfilled_by_marketplace) == (True, False)
    assert (theirs.uses_our_stock, theirs.fulfilled_by_marketplace) == (False, True)
    assert set(OrderLine.objects.filter(OrderLine.USES_OUR_STOCK, order=order)) == {ours}


def test_an_unknown_fulfilment_is_refused_and_a_draft_repriced_keeps_it():
    product = stocked_product(5)
    with pytest.raises(ValidationFailed) as refusal:
        mixed_order((product, 1, "drop-shipper"))
    assert "lines.0.fulfilled_by" in refusal.value.field_errors

    # a draft re-priced from its own lines (a new shipping amount) keeps who fulfils each one
    order = mixed_order((product, 1, FBA))
    order_update(order=order, shipping_amount="5.00")
    assert order.lines.get().fulfilled_by == FBA


# --- confirm, backorders, demand ------------------------------------------------------------


def test_confirm_reserves_nothing_for_a_marketplace_line_and_reserves_the_merchant_line():
    # given: 3 in stock; an order of 2 from our stock and 5 the marketplace ships
    product = stocked_product(3)
    order = mixed_order((product, 2, FulfilledBy.MERCHANT), (product, 5, FBA))

    # when
    order = order_confirm(order=order)

    # then: only our line holds stock, and nothing is backordered
    ours, theirs = line_of(order, FulfilledBy.MERCHANT), line_of(order, FBA)
    assert reserved_by_line([ours.pk, theirs.pk]) == {ours.pk: D(2)}
    figures = selectors.order_figures(selectors.order_detail(order.pk))
    assert figures.backordered == {ours.pk: D(0), theirs.pk: D(0)}
    assert not {"reserve", "backorder"} & set(figures.actions)
    assert selectors.backordered_line_count() == 0
    confirmed = OutboxEvent.objects.get(topic="sales.order_confirmed", aggregate_id=str(order.pk))
    announced = {ln["line_id"]: (ln["reserved"], ln["backordered"]) for ln in confirmed.payload["lines"]}
    assert announced == {ours.pk: ("2.0000", "0.0000"), theirs.pk: ("0", "0")}


def test_an_order_of_marketplace_lines_only_is_confirmed_with_no_stock_and_none_backordered():
    # given: none of it in our stock at all
    product = stocked_product(0)
    order = mixed_order((product, 4, FBA))

    # when
    order = order_confirm(order=order)

    # then
    assert order.status == OrderStatus.CONFIRMED
    assert reserved_by_line([ln.pk for ln in order.lines.all()]) == {}
    assert selectors.order_figures(selectors.order_detail(order.pk)).backordered_lines() == 0
    assert selectors.backordered_line_count() == 0


def test_availability_and_mrp_count_the_merchant_lines_only_as_demand():
    # given: nothing in stock, so the merchant line is wholly backordered
    product = stocked_product(0)
    wh = warehouse("WH1")
    order_confirm(order=mixed_order((product, 2, FulfilledBy.MERCHANT), (product, 7, FBA)))

    # then: availability's outgoing is the merchant line only
    assert [tuple(row.values()) for row in unreserved_demand([product.pk], wh.pk)] == [
        (product.pk, wh.pk, D(2))
    ]
    assert availability.of(product.pk, wh.pk).outgoing == D(2)
    # and so is MRP's demand
    today = timezone.localdate()
    plan = Plan(today + datetime.timedelta(days=30), today)
    plan.load()
    assert [flow.quantity for flow in plan.demand[(product.pk, wh.pk)]] == [D(2)]


def test_backorder_allocation_skips_marketplace_lines_and_reaches_the_merchant_line_after_them():
    # given: an older order the marketplace fulfils, then a backordered merchant order
    product = stocked_product(0)
    wh = warehouse("WH1")
    older = order_confirm(order=mixed_order((product, 3, FBA)))
    newer = order_confirm(order=mixed_order((product, 2, FulfilledBy.MERCHANT)))

    # when: stock arrives and is allocated
    stock_receive(product=product, location=bin_of(wh), quantity=5, unit_cost="4.00")
    got = backorders_allocate(product_id=product.pk, warehouse_id=wh.pk)

    # then: the merchant line gets it (the marketplace line does not stop the allocation)
    merchant_line = newer.lines.get()
    assert got == {merchant_line.pk: D(2)}
    assert reserved_by_line([older.lines.get().pk, merchant_line.pk]) == {merchant_line.pk: D(2)}


# --- shipping ---------------------------------------------------------------------------------


def test_shipping_a_marketplace_line_issues_no_stock():
    # given
    product = stocked_product(4)
    wh = warehouse("WH1")
    order = order_confirm(order=mixed_order((product, 3, FBA)))
    moves, on_hand = StockMove.objects.count(), availability.of(product.pk, wh.pk).on_hand

    # when: the marketplace's shipment is recorded by naming the line (as the hub records it)
    line = order.lines.get()
    shipment_create(order=order, lines=[ShipLine(line, 3)], shipped_elsewhere=True)

    # then: shipped here, no stock left ours
    line.refresh_from_db()
    order.refresh_from_db()
    assert (line.quantity_shipped, order.status) == (D(3), OrderStatus.SHIPPED)
    assert StockMove.objects.count() == moves
    assert availability.of(product.pk, wh.pk).on_hand == on_hand == D(4)


def test_shipping_everything_ships_the_merchant_lines_and_leaves_the_marketplaces_to_it():
    # given
    product = stocked_product(5)
    order = order_confirm(order=mixed_order((product, 2, FulfilledBy.MERCHANT), (product, 1, FBA)))

    # when: "ship what is reserved" (the fulfilment queue's button)
    shipment = shipment_create(order=order)

    # then: our parcel holds our line only; the marketplace's line waits for its own shipment
    ours, theirs = line_of(order, FulfilledBy.MERCHANT), line_of(order, FBA)
    assert {(sl.order_line_id, sl.quantity) for sl in shipment.lines.all()} == {(ours.pk, D(2))}
    assert (theirs.quantity_shipped, SalesOrder.objects.get(pk=order.pk).status) == (
        D(0),
        OrderStatus.PARTIALLY_SHIPPED,
    )
    assert availability.of(product.pk, warehouse("WH1").pk).on_hand == D(3)
    with pytest.raises(ValidationFailed):  # nothing of ours is left to ship
        shipment_create(order=order)


# --- page and API -----------------------------------------------------------------------------


@pytest.fixture
def seller() -> Client:
    client = Client()
    client.force_login(UserFactory(username="sam", roles=["Sales"]))
    return client


@pytest.fixture
def api() -> Api:
    return Api(api_key_for(UserFactory(roles=["Sales"])))


def test_the_order_page_badges_a_marketplace_line_and_shows_no_reservation_for_it(seller):
    # given
    product = stocked_product(5, sku="MUG-FBA")
    order = order_confirm(order=mixed_order((product, 1, FulfilledBy.MERCHANT), (product, 2, FBA)))

    # when
    page = seller.get(f"/sales/orders/{order.pk}/").content.decode()
    panel = seller.get(f"/sales/orders/{order.pk}/ship/").content.decode()

    # then: one badge, on the marketplace's line; the ship panel says who ships it and defaults to 0
    assert page.count("Fulfilled by marketplace") == 1
    assert "backordered" not in page
    theirs = line_of(order, FBA)
    assert "by marketplace" in panel
    assert f'name="qty_{theirs.pk}" value="0"' in panel


def test_the_order_page_costs_the_same_with_few_or_many_marketplace_lines(seller):
    def make(n: int) -> SalesOrder:
        lines = [(stocked_product(2), 1, FBA if i % 2 else FulfilledBy.MERCHANT) for i in range(n)]
        return order_confirm(order=mixed_order(*lines))

    small, big = make(2), make(12)
    counts = []
    for order in (small, big):
        seller.get(f"/sales/orders/{order.pk}/")  # warm
        counts.append(count_queries(lambda o=order: seller.get(f"/sales/orders/{o.pk}/")))
    assert counts[0] == counts[1], counts


def test_the_api_takes_and_shows_who_fulfils_a_line(api: Api):
    # given
    stocked_product(1, sku="MUG-RED")
    channel, customer = ChannelFactory(), CustomerFactory()

    # when: 3 from the marketplace, 1 from our stock (all we have), confirmed at once
    response = api.post(
        "/orders",
        {
            "channel": channel.pk,
            "customer": customer.pk,
            "lines": [
                {"sku": "MUG-RED", "quantity": "3", "fulfilled_by": "marketplace"},
                {"sku": "MUG-RED", "quantity": "1"},
            ],
            "confirm": True,
        },
    )

    # then
    assert response.status_code == 201, response.content
    theirs, ours = response.json()["lines"]
    assert (theirs["fulfilled_by"], theirs["reserved"], theirs["backordered"]) == (
        "marketplace",
        "0.0000",
        "0.0000",
    )
    assert (ours["fulfilled_by"], ours["reserved"], ours["backordered"]) == ("merchant", "1.0000", "0.0000")
    listed = api.get("/orders", expand="lines").json()["items"][0]["lines"]
    assert [ln["fulfilled_by"] for ln in listed] == ["marketplace", "merchant"]

    # an unknown fulfilment is a 422 on the line
    refused = api.post(
        "/orders",
        {
            "channel": channel.pk,
            "customer": customer.pk,
            "lines": [{"sku": "MUG-RED", "quantity": "1", "fulfilled_by": "drop-shipper"}],
        },
    )
    assert refused.status_code == 422
    assert any("fulfilled_by" in name for name in field_errors(refused))


def test_editing_a_draft_on_the_order_form_keeps_who_fulfils_each_line(seller):
    # given: a draft (taken through the API, say) with a line the marketplace ships
    product = stocked_product(5, sku="MUG-FBA")
    order = mixed_order((product, 1, FBA))
    page = seller.get(f"/sales/orders/{order.pk}/edit/").content.decode()
    assert 'name="lines-0-fulfilled_by" value="marketplace"' in page

    # when: the quantity changes, the hidden input posted back as the page has it
    posted = {
        "order": str(order.pk),
        "op": "save",
        "lines-0-product": str(product.pk),
        "lines-0-quantity": "3",
        "lines-0-fulfilled_by": "marketplace",
    }
    response = seller.post(f"/sales/orders/{order.pk}/edit/", posted)

    # then
    assert response.status_code == 302
    line = order.lines.get()
    assert (line.quantity, line.fulfilled_by) == (D(3), FBA)
