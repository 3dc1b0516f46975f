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


@pytest.mark.parametrize(
    ("value", "currency", "shown"),
    [
        (D("1234.5678"), "USD", "$1,234.57"),  # a stock value: to the cent, not "$1,234.5678"
        (D("12345678.5"), "JPY", "¥12,345,679"),
        (D("-0.001"), "USD", "$0.00"),
        (D("1.2345"), "KWD", "KWD 1.235"),
    ],
)
def test_a_total_is_rounded_to_the_minor_unit(value, currency, shown):
    assert formatting.money(value, currency, total=True) == shown


def test_money_without_a_currency_yet_is_the_number_alone():
    assert formatting.money(D("1234.5"), "") == "1,234.50"


@pytest.mark.parametrize(
    ("value", "places", "written"),
    [
        (D("5.15E+3"), None, "5150"),  # no exponent
        (D("12.5000"), None, "12.5"),  # no trailing noise
        (D("12.5000"), 2, "12.50"),  # an amount: at least its minor unit
        (D("0.1234"), 2, "0.1234"),  # ... and the digits it carries
        (D("1200"), 0, "1200"),  # JPY
        (D("12345678.9"), 2, "12345678.90"),  # no grouping
        (D("-0.0000"), 2, "0.00"),  # no "-0"
        (D("-5.5"), None, "-5.5"),
        (D("-1.7E-298"), None, "0"),
    ],
)
def test_plain_numbers_for_files_a_program_reads_back(value, places, written):
    assert formatting.plain(value, places) == written


def test_the_filters_for_base_currency_amounts_inputs_and_percentages(settings):
    settings.ERP_BASE_CURRENCY = "EUR"
    rendered = Template(
        "{{ c|base_money }} | {{ t|base_total }} | {{ q|plain }} | {{ p|percent }}"
        " | {{ pairs|quantities_by_unit }}"
    ).render(
        Context(
            {
                "c": D("0.1235"),
                "t": D("10016.3456"),
                "q": D("1.2E+4"),
                "p": D("7.50"),
                "pairs": [(D("12"), "pcs"), (D("2.5"), "kg"), (D("1E+1"), "pcs")],
            }
        )
    )
    assert rendered == "€0.1235 | €10,016.35 | 12000 | 7.5% | 22 pcs + 2.5 kg"
