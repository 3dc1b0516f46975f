"""Editing a confirmed order: fewer units of what has not shipped, the reservations and amounts follow."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from erp.exceptions import InvalidTransition, ValidationFailed
from erp.models import OutboxEvent
from sales.models import OrderLine, OrderStatus
from sales.selectors import reserved_by_line
from sales.services import ShipLine, TaxSpec, order_confirm, order_lines_reduce, shipment_create
from sales.services.orders import LineSpec, order_create
from tests.sales.factories import ChannelFactory, CustomerFactory, order_for, stocked_product

pytestmark = pytest.mark.django_db

VAT = (TaxSpec("VAT", "0.2"),)


@pytest.fixture
def order():
    """Confirmed: 3 tents at 100.00 and 2 mugs at 10.00, 20 % VAT, 5.00 shipping; all reserved."""
    tent, mug = stocked_product(10, price="100.00"), stocked_product(10, price="10.00")
    placed = order_create(
        channel=ChannelFactory(),
        customer=CustomerFactory(),
        lines=[LineSpec(tent, 3, taxes=list(VAT)), LineSpec(mug, 2, taxes=list(VAT))],
        shipping_amount="5.00",
    )
    return order_confirm(order=placed)


def line(order, position: int) -> OrderLine:
    return order.lines.get(position=position)


def test_fewer_units_release_their_reservation_and_the_amounts_follow(order):
    tents = line(order, 1)

    edited = order_lines_reduce(order=order, quantities={tents.pk: 1}, reason="edited in the shop")

    tents.refresh_from_db()
    assert (tents.quantity, tents.line_subtotal, tents.tax_amount, tents.line_total) == (
        D(1),
        D("100.00"),
        D("20.00"),
        D("120.00"),
    )
    assert list(tents.taxes.values_list("amount", flat=True)) == [D("20.00")]
    assert reserved_by_line([tents.pk]) == {tents.pk: D(1)}
    assert (edited.subtotal, edited.tax_total, edited.total) == (D("120.00"), D("24.00"), D("149.00"))
    assert edited.total == edited.subtotal + edited.tax_total + edited.shipping_total
    event = OutboxEvent.objects.filter(topic="sales.order_updated").latest("pk")
    assert event.payload["reason"] == "edited in the shop"


def test_a_line_edited_to_nothing_is_removed_with_its_reservation(order):
    mugs = line(order, 2)

    edited = order_lines_reduce(order=order, quantities={mugs.pk: 0})

    assert list(edited.lines.values_list("position", flat=True)) == [1]
    assert reserved_by_line([mugs.pk]) == {}
    assert edited.total == D("365.00")  # 3 x 100 + 20 % + 5.00 shipping


def test_what_is_left_to_ship_edited_away_leaves_the_order_shipped(order):
    tents, mugs = line(order, 1), line(order, 2)
    shipment_create(order=order, lines=[ShipLine(tents, 3), ShipLine(mugs, 1)])
    order.refresh_from_db()
    assert order.status == OrderStatus.PARTIALLY_SHIPPED

    edited = order_lines_reduce(order=order, quantities={mugs.pk: 1})

    assert edited.status == OrderStatus.SHIPPED
    assert reserved_by_line([tents.pk, mugs.pk]) == {}


def test_an_edit_never_goes_below_what_was_shipped_and_changes_nothing_when_refused(order):
    tents = line(order, 1)
    shipment_create(order=order, lines=[ShipLine(tents, 2)])
    before = order.lines.values_list("quantity", flat=True)

    with pytest.raises(
        ValidationFailed, match=r"2 pcs is shipped or invoiced already; it cannot go down to 1 pcs"
    ):
        order_lines_reduce(order=order, quantities={tents.pk: 1})

    assert list(order.lines.values_list("quantity", flat=True)) == list(before)


def test_an_order_keeps_at_least_one_line(order):
    everything = {ln.pk: 0 for ln in order.lines.all()}

    with pytest.raises(ValidationFailed, match="would have no line left: cancel it instead"):
        order_lines_reduce(order=order, quantities=everything)

    assert order.lines.count() == 2


def test_a_draft_is_edited_with_order_update_not_here():
    draft = order_for((stocked_product(5), 2))

    with pytest.raises(InvalidTransition):
        order_lines_reduce(order=draft, quantities={draft.lines.get().pk: 1})
