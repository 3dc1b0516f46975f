from __future__ import annotations

from decimal import Decimal as D

import pytest

from sales.pricing import LineIn, TaxIn, compute

VAT20 = (TaxIn("VAT", D("0.2")),)


def test_lines_round_per_line_half_up_and_totals_sum_rounded_lines():
    out = compute(
        [LineIn(D(3), D("0.335")), LineIn(D(1), D("10.005"))],
        currency="USD",
    )
    assert [ln.gross for ln in out.lines] == [D("1.01"), D("10.01")]  # 1.005 -> 1.01, 10.005 -> 10.01
    assert out.subtotal == D("11.02")
    assert out.total == D("11.02")


def test_discount_percent_then_tax_on_the_discounted_amount():
    out = compute([LineIn(D(2), D("49.99"), discount_percent=D(10), taxes=VAT20)], currency="EUR")
    line = out.lines[0]
    assert line.gross == D("99.98")
    assert line.discount == D("10.00")  # 9.998 -> 10.00
    assert line.net == D("89.98")
    assert line.taxes == [D("18.00")]  # 17.996 -> 18.00
    assert out.total == D("107.98")


def test_order_discount_is_shared_by_amount_and_taxed_after():
    out = compute(
        [LineIn(D(1), D("30.00"), taxes=VAT20), LineIn(D(1), D("10.00"), taxes=VAT20)],
        currency="EUR",
        order_discount="10.00",
        shipping="5.00",
        shipping_tax_rate="0.2",
    )
    assert [ln.discount for ln in out.lines] == [D("7.50"), D("2.50")]
    assert [ln.net for ln in out.lines] == [D("22.50"), D("7.50")]
    assert out.subtotal == D("30.00")
    assert out.tax_total == D("7.00")  # 4.50 + 1.50 + shipping 1.00
    assert out.shipping_total == D("6.00")
    assert out.total == D("42.00")  # 30 + 6 line tax + 5 shipping + 1 shipping tax


def test_prices_including_tax_extract_it_and_keep_the_gross():
    out = compute([LineIn(D(1), D("19.99"), taxes=VAT20)], currency="EUR", prices_include_tax=True)
    line = out.lines[0]
    assert line.net == D("16.66")
    assert line.taxes == [D("3.33")]
    assert line.total == D("19.99")


def test_two_taxes_included_absorb_rounding_in_the_last():
    out = compute(
        [LineIn(D(1), D("10.00"), taxes=(TaxIn("GST", D("0.05")), TaxIn("PST", D("0.07"))))],
        currency="CAD",
        prices_include_tax=True,
    )
    line = out.lines[0]
    assert line.net == D("8.93")
    assert line.net + sum(line.taxes) == D("10.00")


def test_tax_exempt_customers_pay_no_tax_and_zero_decimal_currencies_round_to_units():
    assert compute([LineIn(D(1), D("100"), taxes=VAT20)], currency="EUR", tax_exempt=True).total == D(
        "100.00"
    )
    assert compute([LineIn(D(3), D("333.5"))], currency="JPY").total == D("1001")


def test_an_order_discount_larger_than_the_order_is_refused():
    with pytest.raises(ValueError, match="exceeds"):
        compute([LineIn(D(1), D("5"))], currency="USD", order_discount="6")
