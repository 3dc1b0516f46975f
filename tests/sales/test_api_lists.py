"""The lists of the sales API: constant queries for a few rows as for many, and the shared filters."""

from __future__ import annotations

import datetime
import itertools
from collections.abc import Callable
from decimal import Decimal as D

import pytest
from django.utils import timezone

from inventory.models import Product
from sales.models import Customer, SalesChannel, SalesOrder
from sales.services import (
    ReturnLineSpec,
    ShipLine,
    address_set,
    contact_add,
    invoice_create,
    invoice_issue,
    order_cancel,
    order_confirm,
    order_hold,
    order_release,
    payment_record,
    return_create,
    return_receive,
    shipment_create,
)
from tests.erp.factories import UserFactory, api_key_for
from tests.inventory.factories import warehouse
from tests.queries import FEW, MANY, assert_constant_queries, count_queries
from tests.sales.api_support import Api
from tests.sales.factories import ChannelFactory, CustomerFactory, order_for, stocked_product

pytestmark = pytest.mark.django_db

_seq = itertools.count(1)


def _product() -> Product:
    """One product with plenty of stock, shared by every seeded order."""
    return Product.objects.filter(sku="LISTED").first() or stocked_product(100_000, sku="LISTED")


def _channel(i: int) -> SalesChannel:
    return ChannelFactory(code=f"ch{i % 3}", warehouse=warehouse("WH1"))


def _customer(i: int) -> Customer:
    code = f"LC{i % 4}"
    return Customer.objects.filter(code=code).first() or CustomerFactory(code=code)


def _confirmed_order(i: int) -> SalesOrder:
    return order_confirm(order=order_for((_product(), 2), channel=_channel(i), customer=_customer(i)))


def _shipped_order(i: int) -> SalesOrder:
    order = _confirmed_order(i)
    shipment_create(order=order, carrier="UPS", tracking_number=f"1Z{i}")
    return order


# Each seeder adds n rows of what its endpoint lists, each with every relation it shows,
# and returns the path to list them.


def seed_customers(n: int) -> str:
    for _ in range(n):
        customer = CustomerFactory()
        address_set(
            customer=customer,
            kind="billing",
            values={"name": "A", "line1": "1", "city": "B", "country": "DE"},
        )
        contact_add(customer=customer, name="Someone")
    return "/customers"


def seed_channels(n: int) -> str:
    for i in range(n):
        ChannelFactory(code=f"seed{next(_seq)}", warehouse=warehouse(f"SW{i % 3}"))
    return "/channels"


def seed_orders(n: int) -> str:
    for i in range(n):
        _confirmed_order(i)
    return "/orders"


def seed_shipments(n: int) -> str:
    for i in range(n):
        _shipped_order(i)
    return "/shipments"


def seed_invoices(n: int) -> str:
    for i in range(n):
        invoice_issue(invoice=invoice_create(order=_shipped_order(i)))
    return "/invoices"


def seed_payments(n: int) -> str:
    for i in range(n):
        invoice = invoice_issue(invoice=invoice_create(order=_shipped_order(i)))
        payment_record(invoice=invoice, amount="1.00", method="card")
    return "/payments"


def seed_returns(n: int) -> str:
    for i in range(n):
        order = _shipped_order(i)
        sales_return = return_create(order=order, lines=[ReturnLineSpec(order.lines.get(), 1)], reason="r")
        if i % 2:
            return_receive(sales_return=sales_return)
    return "/returns"


def seed_timeline(n: int) -> str:
    """n more events of one order: created (the first time), then holds and releases."""
    order = SalesOrder.objects.filter(external_reference="TIMELINE").first()
    if order is None:
        order = order_for((_product(), 1), channel=_channel(0), external_reference="TIMELINE")
        n -= 1
    for _ in range((n + 1) // 2):
        order_release(order=order_hold(order=order))
    return f"/orders/{order.pk}/timeline"


SEEDERS: dict[str, Callable[[int], str]] = {
    "customers": seed_customers,
    "channels": seed_channels,
    "orders": seed_orders,
    "shipments": seed_shipments,
    "invoices": seed_invoices,
    "payments": seed_payments,
    "returns": seed_returns,
    "timeline": seed_timeline,
}


@pytest.mark.parametrize("endpoint", list(SEEDERS))
def test_every_list_costs_constant_queries(endpoint: str):
    # given: a few rows, a Sales user's key
    api = Api(api_key_for(UserFactory(roles=["Sales"])))
    seed = SEEDERS[endpoint]
    path = seed(FEW)
    totals: list[tuple[int, int]] = []

    def list_them() -> None:
        response = api.get(path)
        assert response.status_code == 200, response.content
        body = response.json()
        totals.append((body["count"], len(body["items"])))

    # when: listed with a few rows, then with many
    queries = assert_constant_queries(list_them, lambda: seed(MANY - FEW))

    # then: the same number of queries, and the rows are there
    (before, _), (after, shown) = totals[0], totals[-1]
    assert after - before >= MANY - FEW
    assert shown == min(after, 50)
    assert queries < 15


# --- filters --------------------------------------------------------------------------------------


def _at(day: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(f"{day}T12:00:00").replace(tzinfo=datetime.UTC)


@pytest.fixture
def orders() -> dict[str, SalesOrder]:
    """One order in each status, over two channels, two customers and two products, a month apart."""
    mug, cup = stocked_product(100, sku="MUG"), stocked_product(100, sku="CUP")
    web, b2b = ChannelFactory(code="web"), ChannelFactory(code="b2b", kind="wholesale")
    ada, grace = CustomerFactory(name="Ada Lovelace"), CustomerFactory(name="Grace Hopper")
    draft = order_for((mug, 1), channel=web, customer=ada, order_date=_at("2030-01-10"), tags=["vip"])
    confirmed = order_confirm(
        order=order_for(
            (cup, 1), channel=b2b, customer=grace, order_date=_at("2030-02-10"), external_reference="#77"
        )
    )
    partial = order_confirm(
        order=order_for((mug, 2), (cup, 1), channel=web, customer=ada, order_date=_at("2030-03-10"))
    )
    shipment_create(order=partial, lines=[ShipLine(partial.lines.get(product=mug), 1)])
    held = order_hold(
        order=order_confirm(
            order=order_for((mug, 1), channel=b2b, customer=ada, order_date=_at("2030-04-10"))
        )
    )
    shipped = order_confirm(
        order=order_for((cup, 3), channel=web, customer=grace, order_date=_at("2030-05-10"))
    )
    shipment_create(order=shipped)
    cancelled = order_for(
        (mug, 5), channel=web, customer=grace, order_date=_at("2030-06-10"), tags=["vip", "x"]
    )
    order_cancel(order=cancelled)
    return {
        "draft": draft,
        "confirmed": confirmed,
        "partial": partial,
        "held": held,
        "shipped": shipped,
        "cancelled": cancelled,
    }


@pytest.fixture
def api() -> Api:
    return Api(api_key_for(UserFactory(roles=["Warehouse"])))


def _numbers(api: Api, **params) -> set[str]:
    response = api.get("/orders", **params)
    assert response.status_code == 200, response.content
    return {o["number"] for o in response.json()["items"]}


def _of(orders: dict[str, SalesOrder], *names: str) -> set[str]:
    return {orders[name].number for name in names}


def test_order_status_tabs_including_open(api: Api, orders):
    assert _numbers(api) == _of(orders, *orders)
    assert _numbers(api, status="open") == _of(orders, "confirmed", "partial", "held")
    assert _numbers(api, status="draft") == _of(orders, "draft")
    assert _numbers(api, status="partially_shipped") == _of(orders, "partial")
    assert _numbers(api, status="shipped") == _of(orders, "shipped")
    assert _numbers(api, status="cancelled") == _of(orders, "cancelled")


def test_orders_by_channel_customer_dates_and_product(api: Api, orders):
    b2b = SalesChannel.objects.get(code="b2b")
    ada = Customer.objects.get(name="Ada Lovelace")
    cup = Product.objects.get(sku="CUP")

    assert _numbers(api, channel=b2b.pk) == _of(orders, "confirmed", "held")
    assert _numbers(api, customer=ada.pk) == _of(orders, "draft", "partial", "held")
    assert _numbers(api, since="2030-02-01T00:00:00Z", until="2030-04-30T00:00:00Z") == _of(
        orders, "confirmed", "partial", "held"
    )
    assert _numbers(api, product=cup.pk) == _of(orders, "confirmed", "partial", "shipped")
    assert _numbers(api, product=cup.pk, customer=ada.pk, status="open") == _of(orders, "partial")


def test_orders_by_search_tag_and_ordering(api: Api, orders):
    assert _numbers(api, q="grace") == _of(orders, "confirmed", "shipped", "cancelled")
    assert _numbers(api, q="#77") == _of(orders, "confirmed")
    assert _numbers(api, q="77") == _of(orders, "confirmed")  # a tool's number, typed without its "#"
    assert _numbers(api, q=orders["held"].number) == _of(orders, "held")
    assert _numbers(api, tag="vip") == _of(orders, "draft", "cancelled")
    assert _numbers(api, tag="vi") == set()
    by_total = [o["number"] for o in api.get("/orders", ordering="-total").json()["items"]]
    totals = [SalesOrder.objects.get(number=n).total for n in by_total]
    assert totals == sorted(totals, reverse=True)
    oldest_first = [o["number"] for o in api.get("/orders", ordering="date").json()["items"]]
    assert oldest_first[0] == orders["draft"].number


def test_an_invalid_filter_is_a_422(api: Api, orders):
    for params in ({"status": "lost"}, {"channel": 999999}, {"since": "yesterday"}, {"ordering": "colour"}):
        response = api.get("/orders", **params)
        assert response.status_code == 422, params


def test_invoice_shipment_return_and_customer_filters(api: Api, orders):
    # given: an invoice of the shipped order, overdue, and a return of it
    shipped = orders["shipped"]
    invoice = invoice_issue(
        invoice=invoice_create(order=shipped), issue_date=timezone.localdate() - datetime.timedelta(days=60)
    )
    draft_invoice = invoice_create(order=orders["partial"])
    sales_return = return_receive(
        sales_return=return_create(order=shipped, lines=[ReturnLineSpec(shipped.lines.get(), 1)])
    )

    # then
    def ids(path: str, **params) -> set[int]:
        response = api.get(path, **params)
        assert response.status_code == 200, response.content
        return {row["id"] for row in response.json()["items"]}

    assert ids("/invoices", overdue=True) == {invoice.pk}
    assert invoice.pk not in ids("/invoices", overdue=False)
    assert ids("/invoices", status="draft") == {draft_invoice.pk}
    assert ids("/invoices", kind="credit_note", order=shipped.pk) == {sales_return.credit_note_id}
    assert ids("/invoices", customer=shipped.customer_id, kind="invoice") == {invoice.pk}
    assert ids("/invoices", due_before=timezone.localdate().isoformat(), kind="invoice") == {invoice.pk}
    assert ids("/shipments", order=shipped.pk) == set(shipped.shipments.values_list("pk", flat=True))
    assert len(ids("/shipments")) == 2
    assert ids("/returns", status="received") == {sales_return.pk}
    assert ids("/returns", status="open") == set()
    assert ids("/customers", q="ada") == {orders["draft"].customer_id}
    assert ids("/channels", kind="wholesale") == {orders["confirmed"].channel_id}
    assert D(api.get(f"/customers/{shipped.customer_id}").json()["open_balance"]) == invoice.total


def test_an_order_costs_the_same_queries_with_one_line_as_with_many():
    # given: an order of one line and one of five, each with shipments, invoices with payments, a return
    api = Api(api_key_for(UserFactory(roles=["Sales"])))
    small = _shipped_order(0)
    payment_record(invoice=invoice_issue(invoice=invoice_create(order=small)), amount="1.00")
    return_create(order=small, lines=[ReturnLineSpec(small.lines.get(), 1)])
    products = [stocked_product(10) for _ in range(5)]
    big = order_confirm(
        order=order_for(*[(p, 4) for p in products], channel=_channel(1), customer=_customer(1))
    )
    for product in products:
        shipment_create(order=big, lines=[ShipLine(big.lines.get(product=product), 2)], carrier="DHL")
        invoice = invoice_issue(invoice=invoice_create(order=big))
        payment_record(invoice=invoice, amount="1.00")
    return_create(order=big, lines=[ReturnLineSpec(line, 1) for line in big.lines.all()])
    api.get(f"/orders/{small.pk}")  # warm per-process caches

    # when
    small_queries = count_queries(lambda: api.get(f"/orders/{small.pk}"))
    big_queries = count_queries(lambda: api.get(f"/orders/{big.pk}"))

    # then
    assert small_queries == big_queries
    assert len(api.get(f"/orders/{big.pk}").json()["invoices"]) == 5
