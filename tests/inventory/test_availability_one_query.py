"""Availability in one statement: StockLevel's sums and every app's flows, whatever their number."""

from __future__ import annotations

from decimal import Decimal

import pytest

from inventory import availability
from inventory.services import Line, stock_receive, transfer_ship
from procurement.services import POLineSpec, po_create, po_send
from sales.services import order_confirm
from tests.inventory.factories import ProductFactory, bin_of, warehouse
from tests.procurement.factories import SupplierFactory
from tests.sales.factories import order_for

pytestmark = pytest.mark.django_db
D = Decimal


def test_one_product_in_one_warehouse_is_one_query_with_every_flow(django_assert_num_queries):
    # given: 10 on hand at WH1, 4 sent from EAST to WH1, a purchase order of 3, and an order of 13
    # of which 10 is reserved and 3 is backordered
    wh, east = warehouse("WH1"), warehouse("EAST")
    product = ProductFactory()
    stock_receive(product=product, location=bin_of(wh), quantity=10, unit_cost=1)
    stock_receive(product=product, location=bin_of(east), quantity=6, unit_cost=1)
    transfer_ship(from_location=bin_of(east), to_location=bin_of(wh), lines=[Line(product, D(4))])
    po_send(
        po=po_create(supplier=SupplierFactory(), warehouse=wh, lines=[POLineSpec(product, 3, unit_cost="1")])
    )
    order_confirm(order=order_for((product, 13)))

    # when / then: one statement for the lookup, the same figures as each flow on its own
    with django_assert_num_queries(1):
        found = availability.of(product.pk, wh.pk)
    assert (found.on_hand, found.reserved, found.incoming, found.outgoing) == (D(10), D(10), D(7), D(3))
    assert (found.available, found.projected) == (D(0), D(4))

    with django_assert_num_queries(1):
        per_warehouse = availability.by_warehouse([product.pk])
    assert per_warehouse[(product.pk, east.pk)].on_hand == 2
    assert per_warehouse[(product.pk, wh.pk)] == found


def test_reserved_demand_is_not_outgoing_and_a_fully_reserved_order_leaves_none():
    # given: the whole order is reserved
    wh = warehouse("WH1")
    product = ProductFactory()
    stock_receive(product=product, location=bin_of(wh), quantity=10, unit_cost=1)
    order_confirm(order=order_for((product, 4)))

    # then: no outgoing row at all (reserved demand is in ``reserved``), and it is not negative
    found = availability.of(product.pk, wh.pk)
    assert (found.reserved, found.outgoing, found.projected) == (D(4), D(0), D(6))


def test_many_products_over_every_warehouse_is_one_query(django_assert_num_queries):
    # given: 30 products with stock in two warehouses, a purchase order for some of them
    wh1, wh2 = warehouse("WH1"), warehouse("WH2")
    products = [ProductFactory() for _ in range(30)]
    for n, product in enumerate(products, start=1):
        stock_receive(product=product, location=bin_of(wh1), quantity=n, unit_cost=1)
        stock_receive(product=product, location=bin_of(wh2), quantity=1, unit_cost=1)
    po_send(
        po=po_create(
            supplier=SupplierFactory(),
            warehouse=wh2,
            lines=[POLineSpec(p, 2, unit_cost="1") for p in products[:5]],
        )
    )
    ids = [p.pk for p in products]

    # when
    with django_assert_num_queries(1):
        found = availability.by_warehouse(ids)
    with django_assert_num_queries(1):
        totals = availability.totals(ids)

    # then
    assert len(found) == 60
    assert found[(products[9].pk, wh1.pk)].on_hand == 10
    assert found[(products[0].pk, wh2.pk)].incoming == 2
    assert found[(products[5].pk, wh2.pk)].incoming == 0
    assert totals[products[0].pk].on_hand == 2
    assert totals[products[0].pk].projected == 4


def test_nothing_asked_is_no_query_and_nothing_known_is_zero(django_assert_num_queries):
    with django_assert_num_queries(0):
        assert availability.by_warehouse([]) == {}
    product = ProductFactory()
    with django_assert_num_queries(1):
        assert availability.of(product.pk) == availability.Availability()


def test_a_long_list_of_ids_is_split_only_where_the_database_counts_parameters(django_assert_max_num_queries):
    # given: more ids than one SQLite statement may carry, one of them with stock
    wh = warehouse("WH1")
    product = ProductFactory()
    stock_receive(product=product, location=bin_of(wh), quantity=5, unit_cost=1)
    ids = [product.pk, *range(10_000_000, 10_000_000 + 2_000)]

    # then: found all the same, in as few statements as the database allows
    per_statement = availability._ids_per_statement()
    statements = 1 if per_statement is None else -(-len(ids) // per_statement)
    with django_assert_max_num_queries(statements):
        found = availability.by_warehouse(ids, wh.pk)
    assert found == {(product.pk, wh.pk): availability.Availability(on_hand=D(5))}


@pytest.mark.postgres
def test_on_postgresql_the_lookup_is_planned_once_per_connection(django_assert_num_queries):
    """Server-side binding (erp.prepared): from its fifth run on a connection, PostgreSQL runs the
    lookup as a prepared statement instead of parsing and planning it each time."""
    from django.db import connection

    wh = warehouse("WH1")
    product = ProductFactory()
    stock_receive(product=product, location=bin_of(wh), quantity=10, unit_cost=1)
    for _ in range(6):
        with django_assert_num_queries(1):  # still one query, seen by Django's query log
            found = availability.of(product.pk, wh.pk)
    assert found.on_hand == D(10)

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT statement FROM pg_prepared_statements WHERE statement LIKE %s", ["%UNION ALL%"]
        )
        prepared = [row[0] for row in cursor.fetchall()]
    assert prepared
    assert "inventory_stocklevel" in prepared[0]
