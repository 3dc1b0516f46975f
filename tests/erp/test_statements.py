"""erp.statements: a lookup built once per shape gives what its QuerySet gives (the same rows, related
rows, annotations and converted values) in one query, and refuses what it cannot do; ``insert``
writes what ``bulk_create`` writes."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

import pytest
from django.apps import apps
from django.db import connection, transaction
from django.db.models import Model
from django.db.models.functions import Lower
from django.db.transaction import TransactionManagementError
from django.test.utils import CaptureQueriesContext

from erp import statements
from erp.api_helpers import get_or_404
from erp.exceptions import NotFound
from erp.statements import Lookup, insert
from inventory.models import Product, StockLevel
from sales.models import Address, Customer, OrderLine, OrderStatus, SalesChannel, SalesOrder
from sales.services.orders import with_default_addresses
from tests.inventory.factories import ProductFactory, bin_of, warehouse
from tests.sales.factories import ChannelFactory, CustomerFactory, order_for, stocked_product

pytestmark = pytest.mark.django_db


def values(row: Model) -> dict[str, Any]:
    return {f.attname: getattr(row, f.attname) for f in row._meta.concrete_fields}


def test_a_lookup_gives_its_querysets_rows_with_their_related_rows_in_one_query():
    # given
    channels = [ChannelFactory(code="web"), ChannelFactory(code="shop", warehouse=warehouse("WH2"))]
    lookup = Lookup(lambda pk: SalesChannel.objects.select_related("warehouse").filter(pk=pk))

    for channel in channels:
        # when
        with CaptureQueriesContext(connection) as queries:
            found = lookup.first(pk=channel.pk)
            warehouse_code = found.warehouse.code if found else None  # read with it: no query

        # then
        expected = SalesChannel.objects.select_related("warehouse").get(pk=channel.pk)
        assert found is not None
        assert values(found) == values(expected)
        assert warehouse_code == expected.warehouse.code
        assert (found._state.adding, found._state.db) == (False, "default")
        assert len(queries) == 1
    assert len(lookup._shapes) == 1  # one shape, built once
    assert lookup.first(pk=-1) is None


def test_a_lookup_reads_annotations_and_json_as_the_queryset_does():
    # given
    customer = CustomerFactory()
    Address.objects.create(
        customer=customer,
        kind=Address.Kind.SHIPPING,
        is_default=True,
        name="Ada",
        line1="1 Main",
        city="X",
        country="US",
    )
    lookup = Lookup(lambda pk: with_default_addresses(Customer.objects.filter(pk=pk)))

    # when
    found = lookup.first(pk=customer.pk)

    # then
    expected = with_default_addresses(Customer.objects.filter(pk=customer.pk)).get()
    assert found is not None
    for name in ("default_billing_snapshot", "default_shipping_snapshot"):
        assert getattr(found, name) == getattr(expected, name)
    assert found.default_shipping_snapshot["name"] == "Ada"  # type: ignore[attr-defined]


def test_a_lookup_of_a_list_keeps_the_querysets_order_and_falls_back_beyond_its_limit():
    # given
    products = [ProductFactory(sku=f"St-{i}") for i in range(5)]
    lookup = Lookup(
        lambda skus: (
            Product.objects.select_related("stock_unit")
            .annotate(lc=Lower("sku"))
            .filter(lc__in=skus)
            .order_by("-pk")
        )
    )
    lookup.max_items = 3

    # when
    two = lookup.rows(skus=["st-1", "st-3"])
    other_two = lookup.rows(skus=["st-0", "st-4"])
    five = lookup.rows(skus=[p.sku.lower() for p in products])  # beyond max_items: the QuerySet

    # then
    assert [p.pk for p in two] == [products[3].pk, products[1].pk]
    assert [p.pk for p in other_two] == [products[4].pk, products[0].pk]
    assert [p.pk for p in five] == [p.pk for p in reversed(products)]
    assert [p.lc for p in two] == ["st-3", "st-1"]  # type: ignore[attr-defined]
    assert two[0].stock_unit.code == products[3].stock_unit.code
    assert len(lookup._shapes) == 1


def test_decimals_come_back_as_the_queryset_gives_them():
    # given
    product = stocked_product(7)
    wh = warehouse("WH1")
    lookup = Lookup(
        lambda ids, wh: StockLevel.objects.select_related("location", "lot").filter(
            product_id__in=ids, warehouse_id=wh
        )
    )

    # when
    found = lookup.rows(ids=[product.pk], wh=wh.pk)

    # then
    expected = list(StockLevel.objects.filter(product=product, warehouse=wh))
    assert [values(f) for f in found] == [values(e) for e in expected]
    assert found[0].on_hand == Decimal("7")
    assert found[0].location == bin_of(wh)
    assert found[0].lot is None


@pytest.mark.parametrize(
    ("build", "arguments", "error"),
    [
        (lambda name: Customer.objects.filter(name__icontains=name), {"name": "Ada"}, ValueError),
        (lambda ids: Customer.objects.filter(pk__in=ids), {"ids": []}, ValueError),
        (lambda pk: Customer.objects.filter(pk=pk), {"pk": None}, TypeError),
        (lambda pk: Customer.objects.filter(pk=pk).values("pk"), {"pk": 1}, ValueError),
        (lambda pk: Customer.objects.filter(pk=pk).prefetch_related("addresses"), {"pk": 1}, ValueError),
    ],
    ids=["transformed value", "empty list", "None", "values()", "prefetch_related"],
)
def test_what_a_lookup_cannot_do_is_refused_with_a_reason(build: Any, arguments: dict[str, Any], error: type):
    with pytest.raises(error):
        Lookup(build).rows(**arguments)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)  # autocommit outside the test's own atomic block
def test_a_locking_lookup_is_refused_outside_a_transaction_as_the_queryset_is():
    # given
    product = stocked_product(3)
    lookup = Lookup(lambda ids: StockLevel.objects.select_for_update().filter(product_id__in=ids))
    with transaction.atomic():
        assert len(lookup.rows(ids=[product.pk])) >= 1  # the shape is built, in a transaction

    # when / then
    with pytest.raises(TransactionManagementError):
        lookup.rows(ids=[product.pk])
    with pytest.raises(TransactionManagementError):
        Lookup(lambda ids: StockLevel.objects.select_for_update().filter(product_id__in=ids)).rows(ids=[1])


def test_get_or_404_with_a_lookup_answers_as_with_a_queryset():
    # given
    channel = ChannelFactory()
    lookup = Lookup(lambda pk: SalesChannel.objects.select_related("warehouse").filter(pk=pk))

    # when
    found = get_or_404(lookup, channel.pk, "sales channel", field="channel")
    with pytest.raises(NotFound) as by_lookup:
        get_or_404(lookup, 999_999, "sales channel", field="channel")
    with pytest.raises(NotFound) as by_queryset:
        get_or_404(SalesChannel.objects.all(), 999_999, "sales channel", field="channel")

    # then
    assert found == channel
    assert str(by_lookup.value) == str(by_queryset.value) == "No sales channel with id 999999."
    assert (
        by_lookup.value.field_errors
        == by_queryset.value.field_errors
        == {  # type: ignore[attr-defined]
            "channel": ["No sales channel with id 999999."]
        }
    )


def test_insert_writes_what_bulk_create_writes():
    # given
    order = order_for((stocked_product(5), 1))
    product = order.lines.get().product

    def line(position: int) -> OrderLine:
        return OrderLine(
            order=order,
            position=position,
            product=product,
            description="d",
            quantity=Decimal("2"),
            unit_price=Decimal("3.5"),
            line_subtotal=Decimal("7"),
            line_total=Decimal("7"),
        )

    rows = [line(2), line(3)]

    # when
    with CaptureQueriesContext(connection) as queries:
        inserted = insert(rows)
    created = OrderLine.objects.bulk_create([line(4), line(5)])

    # then
    assert len(queries) == 1
    assert all(row.pk is not None and not row._state.adding for row in inserted)
    read = {
        row.pk: values(row) for row in OrderLine.objects.filter(pk__in=[r.pk for r in inserted + created])
    }
    ignored = {"id", "position"}

    def written(row: OrderLine) -> dict[str, Any]:
        return {k: v for k, v in read[row.pk].items() if k not in ignored}

    assert written(inserted[0]) == written(inserted[1]) == written(created[0]) == written(created[1])
    assert [read[r.pk]["position"] for r in inserted] == [2, 3]


def test_insert_sets_auto_now_and_refuses_rows_already_saved():
    # given
    customer = CustomerFactory.build()
    customer.updated_at = None

    # when
    insert([customer])

    # then
    stored = Customer.objects.get(pk=customer.pk)
    assert stored.updated_at is not None
    assert stored.updated_at == customer.updated_at
    assert stored.name == customer.name
    with pytest.raises(ValueError, match="has a primary key already"):
        insert([customer])
    with pytest.raises(ValueError, match="unsaved related object"):
        insert([SalesOrder(channel=SalesChannel(code="x"), customer=customer)])


def test_insert_leaves_many_rows_to_bulk_create(monkeypatch: pytest.MonkeyPatch):
    # given
    monkeypatch.setattr("erp.statements.INSERT_MAX_ROWS", 2)
    monkeypatch.setattr("erp.statements._INSERTS", {})  # whatever shapes earlier tests built
    customers = [CustomerFactory.build() for _ in range(3)]

    # when
    with CaptureQueriesContext(connection) as queries:
        inserted = insert(customers)

    # then
    assert [c.pk for c in inserted] == [c.pk for c in customers]
    assert Customer.objects.filter(pk__in=[c.pk for c in customers]).count() == 3
    assert len(queries) == 1
    assert not any(key[0] is Customer and key[1] == 3 for key in statements._INSERTS)


def _backend(engine: str) -> Any:
    """A backend of this engine, never connected: its field preparation (``connection.ops``) is
    what ``insert``'s binders must match, whatever database this suite runs on."""
    from importlib import import_module

    wrapper = import_module(f"django.db.backends.{engine}.base").DatabaseWrapper
    return wrapper({**connection.settings_dict, "ENGINE": f"django.db.backends.{engine}"})


_SAMPLES: list[Any] = [
    None,
    "",
    "text",
    OrderStatus.CONFIRMED,  # a TextChoices member: a str
    0,
    7,
    -3,
    2**40,
    True,
    False,
    Decimal("1.2500"),
    Decimal("-0"),
    Decimal("NaN"),
    Decimal("Infinity"),
    1.5,
    dt.date(2026, 12, 7),
    dt.datetime(2026, 12, 7, 12, 30, tzinfo=dt.UTC),
    dt.datetime(2026, 12, 7, 12, 30),  # noqa: DTZ001  (naive: Django makes it aware, and warns)
    uuid.UUID("12345678-1234-5678-1234-567812345678"),
    ["a"],
    {"a": 1},
]


@pytest.mark.filterwarnings("ignore:DateTimeField .* received a naive datetime")
def test_insert_binds_a_value_as_its_field_prepares_it_on_postgresql():
    # given: every concrete field of every model, and values of every kind
    postgres = _backend("postgresql")
    checked, kinds = 0, set()

    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            bind = statements.binder(field, postgres)
            if bind is None:
                continue
            for value in _SAMPLES:
                bound = bind(value)
                if bound is statements.PREPARE:
                    continue
                # when Django prepares it for PostgreSQL
                prepared = field.get_db_prep_save(value, postgres)

                # then insert binds the same value, of the same type (psycopg's Int4 for an int)
                where = (model.__name__, field.name, value)
                assert type(bound) is type(prepared), where
                assert bound == prepared, where
                checked += 1
                kinds.add(type(value))

    assert checked > 1000
    assert {str, int, bool, Decimal, dt.date, dt.datetime, uuid.UUID, type(None)} <= kinds


def test_what_insert_leaves_to_the_field():
    # given
    postgres = _backend("postgresql")
    order = SalesOrder._meta

    def binder(field_name: str, meta: Any = order, backend: Any = postgres) -> Any:
        return statements.binder(meta.get_field(field_name), backend)

    # then: a JSON value always goes through its field, and nothing is bound as it is elsewhere
    assert binder("billing_address") is None
    assert binder("total", backend=_backend("sqlite3")) is None
    # a value of another kind, or one the field refuses or converts, goes through the field
    for value in (Decimal("NaN"), Decimal("Infinity"), 1.5, "1.5"):
        assert binder("total")(value) is statements.PREPARE
    assert binder("total")(Decimal("1.5")) == Decimal("1.5")
    naive = dt.datetime(2026, 12, 7)  # noqa: DTZ001  (what Django makes aware)
    for value in (naive, dt.date(2026, 12, 7), "2026-12-07"):
        assert binder("created_at")(value) is statements.PREPARE
    assert binder("position", OrderLine._meta)(True) is statements.PREPARE
    # auto_now is set by pre_save; a plain default is read as an attribute
    assert not statements._pre_save_reads_attribute(Customer._meta.get_field("updated_at"))
    assert statements._pre_save_reads_attribute(order.get_field("created_at"))
    assert statements._pre_save_reads_attribute(order.get_field("number"))
