from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import ValidationError
from hypothesis import given, settings
from hypothesis import strategies as st

from erp.access import ROLES, scopes_allowed, user_can
from erp.api_helpers import money_str
from erp.money import (
    currency_places,
    quantize_money,
    quantize_quantity,
    round_money,
    to_decimal,
    validate_currency,
)
from erp.roles import sync_roles
from tests.erp.factories import UserFactory


@pytest.mark.django_db
def test_every_role_exists_with_its_area_permissions():
    sync_roles()
    assert set(Group.objects.values_list("name", flat=True)) >= {r.name for r in ROLES}
    warehouse = Group.objects.get(name="Warehouse")
    codenames = set(warehouse.permissions.values_list("codename", flat=True))
    assert {"inventory_read", "inventory_write", "sales_read"} <= codenames
    assert "sales_write" not in codenames
    assert "integrations_read" not in codenames


@pytest.mark.django_db
def test_sync_is_idempotent_and_keeps_other_permissions():
    sync_roles()
    group = Group.objects.get(name="Sales")
    extra = Permission.objects.get(codename="view_user")
    group.permissions.add(extra)

    sync_roles()
    sync_roles()

    assert Group.objects.filter(name="Sales").count() == 1
    assert group.permissions.filter(pk=extra.pk).exists()
    assert group.permissions.filter(codename="sales_write").exists()


@pytest.mark.django_db
def test_write_implies_read_and_inactive_users_have_nothing():
    user = UserFactory(roles=["Production"])
    assert user_can(user, "manufacturing", "read")
    assert user_can(user, "manufacturing", "write")
    assert not user_can(user, "sales", "read")
    assert "manufacturing:write" in scopes_allowed(user)
    user.is_active = False
    assert not user_can(user, "manufacturing", "read")


def test_quantities_round_half_up_to_four_places():
    assert quantize_quantity("1.00005") == Decimal("1.0001")
    assert quantize_quantity("2.00004") == Decimal("2.0000")
    assert quantize_quantity(3) == Decimal("3.0000")


def test_money_rounds_half_up_to_the_minor_unit_of_the_currency():
    assert round_money("2.345", "EUR") == Decimal("2.35")
    assert round_money("2.344", "USD") == Decimal("2.34")
    assert round_money("1234.5", "JPY") == Decimal("1235")
    assert round_money("1.2345", "KWD") == Decimal("1.235")
    assert quantize_money("0.123456") == Decimal("0.1235")


def test_an_answer_shows_an_amount_with_its_currency_digits_and_more_only_where_it_has_them():
    assert money_str(Decimal("12.5"), "EUR") == "12.50"
    assert money_str(Decimal("12.1250"), "EUR") == "12.125"
    assert money_str(Decimal("12.123456"), "EUR") == "12.1235"  # stored with 4 places, half up
    assert money_str(Decimal("1200.0000"), "JPY") == "1200"
    assert money_str(Decimal("1200.5"), "JPY") == "1200.5"
    assert money_str(Decimal("1.2"), "KWD") == "1.200"
    assert money_str(Decimal("-0.0000"), "EUR") == "-0.00"
    assert money_str(Decimal("999999999999999.9999"), "USD") == "999999999999999.9999"
    assert money_str(Decimal("7")) == "7.00"  # the base currency's places (USD: 2)


def _money_str_by_quantizing(value: Decimal, currency: str) -> str:
    """What money_str gave before it was written as text: the shortest of the amount quantized to
    the currency's places, then one more, up to the 4 stored."""
    amount = quantize_money(value)
    for digits in range(min(currency_places(currency), 4), 4):
        shorter = amount.quantize(Decimal(1).scaleb(-digits))
        if shorter == amount:
            return format(shorter, "f")
    return format(amount, "f")


@given(
    value=st.decimals(
        min_value=Decimal("-999999999999999.9999"),
        max_value=Decimal("999999999999999.9999"),
        allow_nan=False,
        allow_infinity=False,
    ),
    currency=st.sampled_from(["EUR", "JPY", "KWD", "CLF", "USD"]),  # 2, 0, 3, 4 and 2 places
)
@settings(max_examples=500, deadline=None)
def test_money_str_writes_what_quantizing_gives(value: Decimal, currency: str) -> None:
    assert money_str(value, currency) == _money_str_by_quantizing(value, currency)


def test_floats_are_refused_and_garbage_named():
    with pytest.raises(TypeError, match="float"):
        to_decimal(0.1)
    with pytest.raises(ValueError, match="Not a number"):
        to_decimal("ten")


def test_currency_codes_are_iso_4217():
    validate_currency("EUR")
    validate_currency("JPY")
    with pytest.raises(ValidationError):
        validate_currency("EURO")
    with pytest.raises(ValidationError):
        validate_currency("eur")
