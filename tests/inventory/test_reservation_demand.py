"""A reservation names its demand by type and id; an id that is a number is also stored as one, so
selectors join demand lines to their reservations without casting text to integers."""

from __future__ import annotations

import importlib
from decimal import Decimal

import pytest
from django.apps import apps
from django.db import IntegrityError, transaction
from django.db.models import F

from inventory.models import Reservation
from inventory.selectors import active_reservations_by_demand, reserved_by_demand
from inventory.services import Demand, reservations_release_for_demand, stock_receive, stock_reserve
from inventory.services.reservations import demand_pk
from tests.inventory.factories import ProductFactory, bin_of, warehouse

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("demand_id", "expected"),
    [
        (17, 17),
        ("17", 17),
        ("0", 0),
        ("017", None),  # "017" and "17" are different names: only the canonical form is a number
        ("-3", None),
        ("A-1001", None),
        ("١٢", None),  # Arabic-Indic digits: not an id we store as a number
        (str(2**63 - 1), 2**63 - 1),
        (str(2**63), None),
    ],
)
def test_which_ids_are_numbers(demand_id, expected):
    assert demand_pk(demand_id) == expected


@pytest.fixture
def stocked():
    wh = warehouse()
    product = ProductFactory()
    stock_receive(product=product, location=bin_of(wh), quantity="10", unit_cost="2")
    return product, wh


def test_a_numeric_demand_is_stored_typed_and_read_by_the_selectors(stocked):
    product, warehouse = stocked

    stock_reserve(product=product, warehouse=warehouse, quantity="3", demand=Demand("sales.orderline", 41))
    stock_reserve(product=product, warehouse=warehouse, quantity="2", demand=Demand("sales.orderline", "41"))
    stock_reserve(product=product, warehouse=warehouse, quantity="1", demand=Demand("shop.order", "A-1001"))

    numbered = Reservation.objects.filter(demand_type="sales.orderline")
    assert set(numbered.values_list("demand_id", "demand_pk")) == {("41", 41)}
    assert Reservation.objects.get(demand_type="shop.order").demand_pk is None
    assert reserved_by_demand("sales.orderline", [41, 42]) == {41: Decimal("5")}
    assert [r.quantity for r in active_reservations_by_demand("sales.orderline", [41])[41]] == [
        Decimal("3"),
        Decimal("2"),
    ]


def test_release_finds_a_demand_by_number_or_by_text(stocked):
    product, warehouse = stocked
    stock_reserve(product=product, warehouse=warehouse, quantity="3", demand=Demand("sales.orderline", 7))
    stock_reserve(product=product, warehouse=warehouse, quantity="1", demand=Demand("shop.order", "A-7"))

    assert reservations_release_for_demand(demand_type="sales.orderline", demand_id="7") == 1
    assert reservations_release_for_demand(demand_type="shop.order", demand_id="A-7") == 1
    assert reserved_by_demand("sales.orderline", [7]) == {}


def test_the_database_refuses_a_number_that_is_not_the_id(stocked):
    product, warehouse = stocked
    stock_reserve(product=product, warehouse=warehouse, quantity="1", demand=Demand("sales.orderline", 5))

    with pytest.raises(IntegrityError), transaction.atomic():
        Reservation.objects.update(demand_pk=F("demand_pk") + 1)


def test_the_migration_fills_the_number_of_existing_reservations(stocked):
    product, warehouse = stocked
    stock_reserve(product=product, warehouse=warehouse, quantity="1", demand=Demand("sales.orderline", 12))
    stock_reserve(product=product, warehouse=warehouse, quantity="1", demand=Demand("shop.order", "012"))
    Reservation.objects.update(demand_pk=None)  # as they were before the migration

    migration = importlib.import_module("inventory.migrations.0006_reservation_demand_pk")
    migration.fill_demand_pk(apps, None)

    assert dict(Reservation.objects.values_list("demand_id", "demand_pk")) == {"12": 12, "012": None}
