"""A transactional test's flush on PostgreSQL deletes the rows that were written (tests/flush.py): every
table ends empty, the stock ledger's append-only guard and the foreign keys included, and what
``post_migrate`` writes is there again, as after Django's own flush."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.core.management.color import no_style
from django.db import connection
from django.db.backends.postgresql.operations import DatabaseOperations

from inventory.models import Product, StockLevel, StockMove
from inventory.services import stock_receive
from sales.models import SalesOrder
from tests import flush
from tests.inventory.factories import ProductFactory, bin_of, warehouse
from tests.sales.factories import order_for, stocked_product

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _tables() -> list[str]:
    return connection.introspection.django_table_names(only_existing=True, include_views=False)


def test_the_suite_flushes_by_deleting_what_was_written() -> None:
    assert DatabaseOperations.sql_flush is flush.sql_flush


def test_only_the_written_tables_are_named_and_the_flush_empties_them() -> None:
    # given: a stock move (append-only, refused a DELETE by its trigger) and an order, committed
    product = ProductFactory()
    stock_receive(product=product, location=bin_of(warehouse()), quantity=3, unit_cost=2)
    order_for((stocked_product(), 1))
    written = set(flush.written_tables(connection, _tables()))
    assert {StockMove._meta.db_table, StockLevel._meta.db_table, SalesOrder._meta.db_table} <= written
    assert len(written) < len(_tables()) / 2  # the rest are empty and are left alone

    # when: the flush a transactional test ends with
    call_command("flush", verbosity=0, interactive=False, reset_sequences=False)

    # then: nothing of the test is left, and post_migrate has written its rows again
    assert not StockMove.objects.exists()
    assert not StockLevel.objects.exists()
    assert not SalesOrder.objects.exists()
    left = set(flush.written_tables(connection, _tables()))
    assert ContentType._meta.db_table in left
    assert Permission._meta.db_table in left
    assert StockMove._meta.db_table not in left
    with connection.cursor() as cursor:  # and the guard is on again outside the flush
        cursor.execute("SHOW session_replication_role")
        assert cursor.fetchone() == ("origin",)


def test_a_flush_that_resets_sequences_is_left_to_django() -> None:
    # given
    ProductFactory()

    # when
    statements = connection.ops.sql_flush(
        no_style(), [StockMove._meta.db_table, Product._meta.db_table], reset_sequences=True
    )

    # then: Django's TRUNCATE ... RESTART IDENTITY, of every table given
    assert len(statements) == 1
    assert statements[0].startswith("TRUNCATE")
    assert "RESTART IDENTITY" in statements[0]
    assert StockMove._meta.db_table in statements[0]
