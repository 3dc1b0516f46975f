"""erp.pipeline: inside ``pipelined()`` a write is sent without waiting for its answer (an error
comes at the block's end, and nothing is written), a read still sees every write sent before it,
keys read back arrive when the block ends; outside a transaction and on SQLite it changes nothing.
erp.statements.assign_keys gives new rows their keys, and a document number, in one statement."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from erp import clock, events, pipeline, statements
from erp.models import OutboxEvent
from erp.numbering import next_number_and_keys
from sales.models import Customer, OrderLine, SalesOrder
from tests.sales.factories import ChannelFactory, CustomerFactory, stocked_product

pytestmark = pytest.mark.django_db

POSTGRES = connection.vendor == "postgresql"


@pytest.mark.postgres
def test_a_write_inside_is_sent_without_waiting_its_error_comes_at_the_end_and_nothing_is_written():
    # given: a customer, and a new one that takes its key
    taken = CustomerFactory()
    reached_the_end = False

    # when: the second INSERT breaks the primary key, inside a pipeline
    def write() -> None:
        nonlocal reached_the_end
        with transaction.atomic(), pipeline.pipelined():
            statements.insert([CustomerFactory.build(code="P-1")])
            statements.insert([CustomerFactory.build(pk=taken.pk, code="P-2")])
            reached_the_end = True  # insert() did not wait for PostgreSQL's answer

    with pytest.raises(IntegrityError, match="sales_customer_pkey"):
        write()

    # then: the error came when the block ended, as Django's error; the transaction rolled back
    assert reached_the_end
    assert not Customer.objects.filter(code__in=["P-1", "P-2"]).exists()
    assert Customer.objects.count() == 1  # the connection is usable again


def test_keys_read_back_arrive_when_the_block_ends_and_a_read_inside_sees_the_writes_before_it():
    # given
    new = [CustomerFactory.build(code=f"K-{i}") for i in range(3)]

    # when
    with transaction.atomic(), pipeline.pipelined():
        statements.insert(new)
        inside = [c.pk for c in new]
        seen = Customer.objects.filter(code__startswith="K-").count()
        active = pipeline.active()

    # then: on PostgreSQL the keys came at the end; elsewhere insert() read them at once
    assert active is POSTGRES
    assert (inside == [None] * 3) is POSTGRES
    assert seen == 3
    stored = dict(Customer.objects.filter(code__startswith="K-").values_list("code", "pk"))
    assert [c.pk for c in new] == [stored[c.code] for c in new]


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_it_changes_nothing():
    # given
    customer = CustomerFactory.build()

    # when
    with pipeline.pipelined():
        active = pipeline.active()
        statements.insert([customer])
        inside = customer.pk

    # then
    assert not active
    assert inside is not None
    assert Customer.objects.get(pk=inside).code == customer.code


def test_events_written_inside_get_their_keys_and_their_dispatch_when_the_block_ends(
    django_capture_on_commit_callbacks: Any,
):
    # given
    customer = CustomerFactory()

    # when
    with django_capture_on_commit_callbacks() as callbacks, transaction.atomic(), pipeline.pipelined():
        with events.batched():
            first = events.emit("test.pipelined", aggregate=customer, payload={"n": 1})
            second = events.emit("test.pipelined", aggregate=customer, payload={"n": 2})
        inside = (first.pk, second.pk)

    # then: numbered per aggregate, and their one dispatch registered after commit
    assert (inside == (None, None)) is POSTGRES
    stored = OutboxEvent.objects.filter(topic="test.pipelined").order_by("sequence")
    assert [(e.pk, e.sequence) for e in stored] == [(first.pk, 1), (second.pk, 2)]
    dispatches = [c for c in callbacks if isinstance(c, events._Dispatch)]
    assert len(dispatches) == 1
    assert set(dispatches[0].pks) == {first.pk, second.pk}


@pytest.mark.postgres
def test_an_exception_inside_leaves_the_connection_clean():
    # given
    customer = CustomerFactory.build()

    # when: the code inside fails after a write was sent
    def refuse() -> None:
        with transaction.atomic(), pipeline.pipelined():
            statements.insert([customer])
            raise RuntimeError("refused")

    with pytest.raises(RuntimeError):
        refuse()

    # then: rolled back, out of the pipeline, the next statements run as usual
    assert not pipeline.active()
    assert not Customer.objects.filter(code=customer.code).exists()
    with transaction.atomic():
        (again,) = statements.insert([CustomerFactory.build(code=customer.code)])
    assert Customer.objects.filter(pk=again.pk).exists()


def test_assign_keys_gives_new_rows_their_keys_and_a_number_in_one_statement():
    # given: an order and two lines, not written
    channel, customer = ChannelFactory(), CustomerFactory()
    product = stocked_product(10)
    order = SalesOrder(channel=channel, customer=customer, currency="EUR", order_date=clock.now())
    lines = [OrderLine(order=order, position=n, product=product, quantity=1, unit_price=1) for n in (1, 2)]

    statements.assign_keys([SalesOrder()], [OrderLine()])  # the sequences' names, read once

    # when
    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        order.number = next_number_and_keys("sales.order", prefix="SO-", keys_for=[[order], lines])
        statements.insert([order])
        statements.insert(lines)

    # then: on PostgreSQL one statement gave the number and every key, and the INSERTs read nothing
    # back; elsewhere the number came first and the INSERTs read the keys
    sql = [q["sql"] for q in queries.captured_queries if not q["sql"].startswith(("BEGIN", "COMMIT"))]
    if POSTGRES:
        assert len(sql) == 3, sql
        assert "nextval('erp_number_sales_order'::regclass)" in sql[0]
        assert not any("RETURNING" in s for s in sql[1:])
        assert lines[1].pk == lines[0].pk + 1
    else:
        assert all("RETURNING" in s for s in sql[-2:])
    stored = SalesOrder.objects.get(number=order.number)
    assert stored.pk == order.pk
    assert sorted(stored.lines.values_list("pk", flat=True)) == sorted(line.pk for line in lines)


@pytest.mark.postgres
def test_assign_keys_refuses_a_row_that_has_a_key_and_takes_no_key_twice():
    # given
    saved = CustomerFactory()
    new = [CustomerFactory.build() for _ in range(2)]
    again = [CustomerFactory.build() for _ in range(2)]

    # when
    with pytest.raises(ValueError, match="has a key already"):
        statements.assign_keys([saved])
    statements.assign_keys(new, again)

    # then
    keys = [c.pk for c in new + again]
    assert None not in keys
    assert len(set(keys)) == 4
    assert saved.pk not in keys


def test_insert_refuses_a_mix_of_rows_with_keys_and_without():
    # given
    rows = [CustomerFactory.build(pk=10_000), CustomerFactory.build()]

    # when, then
    with pytest.raises(ValueError, match="some of these Customer instances have a key, others not"):
        statements.insert(rows)
