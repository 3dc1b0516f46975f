"""Document numbers: gapless counters where the law wants them, PostgreSQL sequences (gaps
allowed, nothing serialised) for operational documents such as orders."""

from __future__ import annotations

import importlib
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection, transaction

from erp import numbering
from erp.models import NumberSequence

migration = importlib.import_module("erp.migrations.0010_number_sequences")


def _take_then_fail(key: str) -> None:
    """A document that takes its number, then is refused (its transaction rolls back)."""
    with transaction.atomic():
        numbering.next_value(key)
        raise RuntimeError


def test_invoices_and_bills_stay_gapless_and_orders_may_have_gaps():
    assert {"sales.invoice", "sales.credit_note", "procurement.bill"}.isdisjoint(numbering.SEQUENCED)
    assert "sales.order" in numbering.SEQUENCED
    assert set(migration.KEYS) == numbering.SEQUENCED  # each sequenced key has its sequence
    assert numbering.sequence_name("sales.order") == "erp_number_sales_order"


@pytest.mark.django_db
def test_a_gapless_number_is_given_back_when_its_document_rolls_back():
    with transaction.atomic():
        assert numbering.next_number("test.gapless", prefix="G-") == "G-00001"
    with pytest.raises(RuntimeError):
        _take_then_fail("test.gapless")
    with transaction.atomic():
        assert numbering.next_number("test.gapless", prefix="G-", width=3) == "G-002"


@pytest.mark.django_db
def test_on_sqlite_orders_are_numbered_by_the_counter():
    if connection.vendor == "postgresql":
        pytest.skip("SQLite's numbering")
    with transaction.atomic():
        first = numbering.next_value("sales.order")
        second = numbering.next_value("sales.order")
    assert second == first + 1
    assert NumberSequence.objects.get(key="sales.order").last_value == second


@pytest.mark.postgres
@pytest.mark.django_db
def test_on_postgresql_orders_come_from_a_sequence_and_a_rollback_leaves_a_gap():
    with transaction.atomic():
        first = numbering.next_value("sales.order")
    with pytest.raises(RuntimeError):
        _take_then_fail("sales.order")
    with transaction.atomic():
        third = numbering.next_value("sales.order")
    assert third == first + 2  # the rolled-back number is not handed out again
    assert not NumberSequence.objects.filter(key="sales.order").exists()  # the counter is not used


@pytest.mark.postgres
@pytest.mark.django_db
def test_the_migration_starts_each_sequence_after_its_counter():
    # given: a database that numbered orders with the counter up to 41
    NumberSequence.objects.update_or_create(key="sales.order", defaults={"last_value": 41})

    # when: the migration runs (again) on it
    with connection.schema_editor() as editor:
        migration.create_sequences(None, editor)

    # then: the next order is 42, never a number handed out before
    assert numbering.next_number("sales.order", prefix="SO-") == "SO-00042"
    # and going back gives the counter the highest number handed out
    with connection.schema_editor() as editor:
        migration.drop_sequences(None, editor)
    assert NumberSequence.objects.get(key="sales.order").last_value == 42
    with connection.schema_editor() as editor:
        migration.create_sequences(None, editor)
    assert numbering.next_number("sales.order", prefix="SO-") == "SO-00043"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_order_numbers_do_not_wait_for_another_open_transaction():
    # given: a transaction that took an order number and has not committed
    took, release = threading.Event(), threading.Event()

    def holder() -> int:
        try:
            with transaction.atomic():
                value = numbering.next_value("sales.order")
                took.set()
                release.wait(30)
                return value
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=1) as pool:
        held = pool.submit(holder)
        assert took.wait(30)
        try:
            # when: another one takes a number, refusing to wait on any lock
            with transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute("SET LOCAL lock_timeout = '100ms'")
                mine = numbering.next_value("sales.order")
        finally:
            release.set()
        # then: it got the next one at once
        assert mine == held.result() + 1
