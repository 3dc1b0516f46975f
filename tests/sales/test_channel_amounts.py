"""Orders priced by a sales channel: absolute line discounts and tax amounts as the channel charged them."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from erp.exceptions import ValidationFailed
from sales.pricing import LineIn, TaxIn, compute
from sales.services import LineSpec, TaxSpec, order_confirm, order_create, order_update
from tests.sales.factories import ChannelFactory, CustomerFactory, stocked_product

KY = D("0.06")


def _shopify_sample_lines() -> list[LineIn]:
    # The Shopify sample order: a 10.00 discount on the 249.00 tent, tax charged on 249.00 all the same.
    return [
        LineIn(D(1), D("249.00"), taxes=(TaxIn("KY State Tax", KY, D("14.94")),), discount_amount=D("10.00")),
        LineIn(D(2), D("179.00"), taxes=(TaxIn("KY State Tax", KY, D("21.48")),)),
        LineIn(D(1), D("59.00"), taxes=(TaxIn("KY State Tax", KY, D("3.54")),)),
    ]


def test_channel_tax_amounts_and_absolute_discounts_reproduce_the_channel_totals():
    out = compute(_shopify_sample_lines(), currency="USD", shipping="9.95")
    assert [ln.discount for ln in out.lines] == [D("10.00"), D("0.00"), D("0.00")]
    assert [ln.taxes for ln in out.lines] == [[D("14.94")], [D("21.48")], [D("3.54")]]
    assert (out.subtotal, out.discount_total, out.tax_total, out.shipping_total, out.total) == (
        D("656.00"),
        D("10.00"),
        D("39.96"),
        D("9.95"),
        D("705.91"),
    )


def test_without_the_amounts_tax_is_computed_on_the_discounted_line_as_before():
    lines = [LineIn(D(1), D("249.00"), taxes=(TaxIn("KY", KY),), discount_amount=D("10.00"))]
    out = compute(lines, currency="USD")
    assert out.lines[0].taxes == [D("14.34")]  # 239.00 x 6 %
    assert out.total == D("253.34")


def test_tax_amounts_included_in_prices_come_out_of_the_amount():
    line = LineIn(D(1), D("120.00"), taxes=(TaxIn("VAT", D("0.2"), D("19.99")),), discount_amount=D("0.05"))
    out = compute([line], currency="EUR", prices_include_tax=True)
    assert (out.lines[0].net, out.lines[0].taxes, out.total) == (D("99.96"), [D("19.99")], D("119.95"))


def test_charged_tax_survives_tax_exemption_and_shipping_tax_can_be_given():
    line = LineIn(D(1), D("10.00"), taxes=(TaxIn("VAT", D("0.2"), D("2.00")),))
    out = compute(
        [line],
        currency="EUR",
        tax_exempt=True,
        shipping="5.00",
        shipping_tax_rate="0.2",
        shipping_tax_amount="0.99",
    )
    assert (out.tax_total, out.shipping_net, out.shipping_tax, out.total) == (
        D("2.99"),
        D("5.00"),
        D("0.99"),
        D("17.99"),
    )


def test_partial_tax_amounts_and_oversized_discounts_are_refused():
    mixed = LineIn(D(1), D("10"), taxes=(TaxIn("A", D("0.1"), D("1")), TaxIn("B", D("0.1"))))
    with pytest.raises(ValueError, match="every tax"):
        compute([mixed], currency="USD")
    with pytest.raises(ValueError, match="does not fit"):
        compute([LineIn(D(1), D("10"), discount_amount=D("10.01"))], currency="USD")


@pytest.mark.django_db
def test_order_create_stores_the_channel_amounts_and_a_notes_edit_keeps_them():
    # given
    tent, bag = stocked_product(5, price="249.00"), stocked_product(5, price="179.00")
    channel = ChannelFactory(prices_include_tax=True)

    # when: created in the channel's excluded-tax mode with its amounts
    order = order_create(
        channel=channel,
        customer=CustomerFactory(),
        lines=[
            LineSpec(tent, 1, "249.00", taxes=[TaxSpec("KY", "0.06", "14.94")], discount_amount="10.00"),
            LineSpec(bag, 2, "179.00", taxes=[TaxSpec("KY", "0.06", "21.48")]),
        ],
        prices_include_tax=False,
        shipping_amount="9.95",
        shipping_tax_rate="0.06",
        shipping_tax_amount="0.60",
    )

    # then
    assert order.prices_include_tax is False
    assert (order.subtotal, order.tax_total, order.shipping_total, order.total) == (
        D("597.00"),
        D("37.02"),
        D("10.55"),
        D("643.97"),
    )
    tent_line = order.lines.get(product=tent)
    assert (tent_line.discount_amount, tent_line.line_subtotal, tent_line.tax_amount) == (
        D("10.00"),
        D("239.00"),
        D("14.94"),
    )
    assert [t.amount for t in tent_line.taxes.all()] == [D("14.94")]

    # when: a draft edit that changes no amount does not re-price it
    order = order_update(order=order, notes="gift wrap")
    assert order.total == D("643.97")
    assert order.lines.get(product=tent).pk == tent_line.pk
    assert order_confirm(order=order).total == D("643.97")


@pytest.mark.django_db
def test_channel_amounts_are_validated():
    product = stocked_product(1, price="10.00")
    with pytest.raises(ValidationFailed) as refusal:
        order_create(
            channel=ChannelFactory(),
            customer=CustomerFactory(),
            lines=[LineSpec(product, 1, discount_amount="-1", taxes=[TaxSpec("T", "0.1", "-0.5")])],
        )
    assert set(refusal.value.field_errors) == {"lines.0.discount_amount", "lines.0.taxes"}
    with pytest.raises(ValidationFailed, match="does not fit"):
        order_create(
            channel=ChannelFactory(),
            customer=CustomerFactory(),
            lines=[LineSpec(product, 1, discount_amount="11")],
        )
