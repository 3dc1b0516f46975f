"""A confirmed order priced later, as its channel charged it (Amazon's Pending orders): every line
re-priced whole, shipping with its tax, the totals recomputed; reservations untouched; nothing
invoiced re-priced."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from erp.exceptions import InvalidTransition, ValidationFailed
from erp.models import OutboxEvent
from sales.models import OrderStatus
from sales.selectors import reserved_by_line
from sales.services import (
    LinePrice,
    LineSpec,
    ShippingPrice,
    TaxSpec,
    invoice_create,
    order_cancel,
    order_confirm,
    order_create,
    order_prices_set,
)
from tests.sales.factories import ChannelFactory, CustomerFactory, stocked_product

pytestmark = pytest.mark.django_db


@pytest.fixture
def unpriced():
    """A confirmed order of 2 tents and 1 stove at no price, as a channel recorded it before
    payment was authorised."""
    tent, stove = stocked_product(5, sku="TENT", price="249.00"), stocked_product(5, sku="STOVE")
    order = order_create(
        channel=ChannelFactory(),
        customer=CustomerFactory(),
        lines=[LineSpec(tent, 2, unit_price=0), LineSpec(stove, 1, unit_price=0)],
    )
    return order_confirm(order=order)


def test_every_line_and_the_shipping_are_priced_as_charged_and_the_totals_follow(unpriced):
    tent, stove = unpriced.lines.order_by("position")
    held = reserved_by_line([tent.pk, stove.pk])

    order = order_prices_set(
        order=unpriced,
        prices={
            tent.pk: LinePrice("249.00", discount_amount="49.80", taxes=[TaxSpec("Tax", "0.06", "26.89")]),
            stove.pk: LinePrice("59.95", taxes=[TaxSpec("Tax", "0.06", "3.60")]),
        },
        shipping=ShippingPrice("5.99", "0.06", "0.36"),
    )

    tent.refresh_from_db()
    assert (tent.unit_price, tent.discount_amount, tent.line_subtotal, tent.tax_amount) == (
        D("249.00"),
        D("49.80"),
        D("448.20"),
        D("26.89"),
    )
    assert [(t.name, t.amount) for t in tent.taxes.all()] == [("Tax", D("26.89"))]
    assert (order.subtotal, order.tax_total, order.shipping_total) == (D("508.15"), D("30.85"), D("6.35"))
    assert order.total == D("508.15") + D("30.85") + D("5.99")
    assert order.status == OrderStatus.CONFIRMED
    assert reserved_by_line([tent.pk, stove.pk]) == held  # quantities and reservations untouched
    event = OutboxEvent.objects.filter(topic="sales.order_updated").latest("pk")
    assert event.payload["total"] == str(order.total)


def test_a_line_left_unpriced_is_refused_and_nothing_changes(unpriced):
    tent, _ = unpriced.lines.order_by("position")

    with pytest.raises(ValidationFailed) as refused:
        order_prices_set(order=unpriced, prices={tent.pk: LinePrice("249.00")})

    assert "price every line" in str(refused.value)
    tent.refresh_from_db()
    assert tent.unit_price == 0


def test_an_invoiced_line_keeps_its_price(unpriced):
    unpriced.channel.invoice_policy = "ordered"
    unpriced.channel.save()
    invoice_create(order=unpriced)
    prices = {line.pk: LinePrice("1.00") for line in unpriced.lines.all()}

    with pytest.raises(ValidationFailed, match="invoiced"):
        order_prices_set(order=unpriced, prices=prices)


def test_a_cancelled_order_is_not_priced(unpriced):
    order = order_cancel(order=unpriced)

    with pytest.raises(InvalidTransition):
        order_prices_set(order=order, prices={line.pk: LinePrice("1.00") for line in order.lines.all()})


def test_a_discount_above_the_line_is_refused(unpriced):
    prices = {line.pk: LinePrice("1.00", discount_amount="5.00") for line in unpriced.lines.all()}

    with pytest.raises(ValidationFailed, match="does not fit"):
        order_prices_set(order=unpriced, prices=prices)
