"""Every number a person reads goes through erp.formatting: currency, unit, grouping, no exponent."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from django.template import Context, Template

from erp import formatting

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("value", "currency", "shown"),
    [
        (D("10016.3400"), "EUR", "€10,016.34"),  # a PO total: not "10016.3400 EUR"
        (D("5000"), "EUR", "€5,000.00"),
        (D("1200"), "JPY", "¥1,200"),  # zero-decimal currency
        (D("1200.4"), "JPY", "¥1,200.4"),  # a unit price keeps what it carries
        (D("1.25"), "KWD", "KWD 1.250"),  # three decimals, and a code where no symbol is unique
        (D("0.1234"), "USD", "$0.1234"),
        (D("-5.5"), "USD", "-$5.50"),
        (D("-1234567.891"), "KWD", "-KWD 1,234,567.891"),
        (D("-0.00001"), "USD", "$0.00"),  # rounds to zero: no "-0"
        (D("1E+14"), "USD", "$100,000,000,000,000.00"),  # large: grouped, no exponent
        (D("5.15E+3"), "CHF", "CHF 5,150.00"),
    ],
)
def test_money_has_its_currency_its_minor_unit_grouping_and_no_exponent(value, currency, shown):
    assert formatting.money(value, currency) == shown
    assert "E" not in shown.replace("EUR", "")


@pytest.mark.parametrize(
    ("value", "unit", "shown"),
    [
        (D("5.15E+3"), "pcs", "5,150 pcs"),  # not "5.15E+3 would be received"
        (D("12.0000"), "pcs", "12 pcs"),
        (D("49539.5956"), "kg", "49,539.5956 kg"),
        (D("2.50"), "m", "2.5 m"),
        (D("-0.0001"), "kg", "-0.0001 kg"),
        (D("0"), "pcs", "0 pcs"),
        (D("1E+13"), "", "10,000,000,000,000"),
        (D("-1.7E-298"), "", "0"),
    ],
)
def test_quantities_carry_their_unit_and_no_exponent(value, unit, shown):
    assert formatting.quantity(value, unit) == shown


def test_quantities_of_different_units_are_never_added_up():
    mixed = [(D("12"), "pcs"), (D("2.5"), "kg"), (D("49527.0956"), "pcs")]
    assert formatting.quantities_by_unit(mixed) == "49,539.0956 pcs + 2.5 kg"
    assert formatting.quantities_by_unit([]) == "0"


def test_percentages():
    assert (formatting.percent(D("5")), formatting.percent(D("12.50"))) == ("5%", "12.5%")


def test_the_template_filters_are_on_every_page_without_a_load():
    rendered = Template("{{ a|money:c }} | {{ q|quantity:u }} | {{ n|number }} | {{ none|money:c }}").render(
        Context({"a": D("10016.34"), "c": "EUR", "q": D("5.15E+3"), "u": "kg", "n": D("1E+6"), "none": None})
    )
    assert rendered == "€10,016.34 | 5,150 kg | 1,000,000 | "
