"""Sales orders of 3 lines, created and confirmed through the services.

Setup: through the services, one warehouse, one channel and 50 customers (each with a default
billing and shipping address); in SQL (bench/scenarios/_fixtures.py), 300 products with 100,000
units each received into the warehouse's Stock bin. Each operation: ``order_create`` of 3
lines (3 different products, 1 to 3 units,
20 % VAT) then ``order_confirm``, which reserves the 3 lines. Two transactions (each service
is atomic and runs in autocommit), timed together as one operation; their commits dispatch
the events in process (``sales.order_created``, ``sales.order_confirmed`` and one
``inventory.level_changed`` per line, whose subscriber looks for backorders to allocate).
Products are taken round-robin, so consecutive orders touch different stock rows.

Teardown checks that every order is confirmed with its 3 lines fully reserved and that the
levels match the ledger, then removes what the scenario made (TRUNCATE for the append-only
ledger: setup refuses to start unless the ledger and the sales orders are empty).

This module also holds the fixture that ``sales_orders_api`` shares.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection

from bench.scenario import Scenario
from bench.scenarios import _fixtures
from erp.models import AggregateSequence, ApiKey, OutboxEvent
from inventory.integrity import find_drift
from inventory.models import Product, Reservation, ReservationStatus, StockMove, Warehouse
from inventory.services import warehouse_create, warehouse_default_location
from sales.models import Customer, OrderLine, OrderStatus, SalesChannel, SalesOrder
from sales.services import LineSpec, TaxSpec, channel_create, customer_create, order_confirm, order_create

PRODUCTS = 300
STOCK_EACH = 100_000
CUSTOMERS = 50
LINES = 3
WARMUP = 20
VAT = (TaxSpec("VAT", "0.2"),)


class SalesFixture:
    """A warehouse, a channel, customers and stocked products, made through the services; and removed."""

    def __init__(self, code: str) -> None:
        self.code = code  # warehouse code, channel code, SKU and customer prefixes
        self.warehouse: Warehouse | None = None
        self.channel: SalesChannel | None = None
        self.customers: list[Customer] = []
        self.products: list[Product] = []
        self.expected = 0
        self.seconds: list[float] = []  # of each timed operation, to see whether they slow down

    @property
    def sku_prefix(self) -> str:
        return f"{self.code}-"

    def make(self) -> None:
        if StockMove.objects.exists() or Reservation.objects.exists() or SalesOrder.objects.exists():
            raise RuntimeError(
                f"{self.code}: needs an empty ledger and no sales orders (a fresh bench database)"
            )
        started = time.perf_counter()
        self.warehouse = warehouse_create(code=self.code, name=f"Bench {self.code}")
        self.channel = channel_create(
            code=self.code.lower(), name=f"Bench {self.code}", warehouse=self.warehouse
        )
        stock = warehouse_default_location(self.warehouse)
        address = {"name": "Receiving", "line1": "1 Bench Street", "city": "Rotterdam", "country": "NL"}
        self.customers = [
            customer_create(name=f"Bench customer {i}", code=f"{self.code}-C{i:03d}", billing_address=address)
            for i in range(CUSTOMERS)
        ]
        # Products and their opening stock in SQL (through the services: a minute for 300 products).
        _fixtures.stocked_products(self.sku_prefix, PRODUCTS, location_id=stock.pk, quantity=STOCK_EACH)
        self.products = list(
            Product.objects.select_related("stock_unit")
            .filter(sku__startswith=self.sku_prefix)
            .order_by("sku")
        )
        print(
            f"  setup: {PRODUCTS} products with stock, {CUSTOMERS} customers in "
            f"{time.perf_counter() - started:.1f} s",
            file=sys.stderr,
        )

    def lines(self, i: int) -> list[tuple[Product, int]]:
        """3 different products, round-robin, 1 to 3 units each."""
        return [(self.products[(LINES * i + k) % PRODUCTS], 1 + (i + k) % 3) for k in range(LINES)]

    def customer(self, i: int) -> Customer:
        return self.customers[i % CUSTOMERS]

    def timed(self, operation: Callable[[], object]) -> None:
        started = time.perf_counter()
        operation()
        self.seconds.append(time.perf_counter() - started)

    def report_trend(self) -> None:
        """Median of the first and the last tenth of the operations: does the work grow with the orders?"""
        tenth = len(self.seconds) // 10
        if tenth:
            first = statistics.median(self.seconds[:tenth]) * 1000
            last = statistics.median(self.seconds[-tenth:]) * 1000
            print(
                f"  p50 of the first tenth {first:.1f} ms, of the last tenth {last:.1f} ms", file=sys.stderr
            )
        self.seconds.clear()

    def check(self) -> None:
        orders = SalesOrder.objects.filter(channel=self.channel)
        confirmed = orders.filter(status=OrderStatus.CONFIRMED).count()
        lines = OrderLine.objects.filter(order__channel=self.channel)
        wanted = sum(lines.values_list("quantity", flat=True), Decimal(0))
        held = Reservation.objects.filter(demand_type="sales.orderline", status=ReservationStatus.ACTIVE)
        reserved = sum(held.values_list("quantity", flat=True), Decimal(0))
        if (
            orders.count() != self.expected
            or confirmed != self.expected
            or lines.count() != LINES * self.expected
        ):
            raise AssertionError(
                f"expected {self.expected} confirmed orders of {LINES} lines; found {orders.count()} "
                f"orders ({confirmed} confirmed) and {lines.count()} lines"
            )
        if reserved != wanted:
            raise AssertionError(f"{wanted} units ordered but {reserved} reserved")
        _, drifts = find_drift()
        if drifts:
            raise AssertionError(f"levels drifted from the ledger: {drifts[:5]}")

    def remove(self, user: Any = None) -> None:
        orders = SalesOrder.objects.filter(channel=self.channel)
        order_ids = list(orders.values_list("pk", flat=True))
        customer_ids = [c.pk for c in self.customers]
        with connection.cursor() as cursor:
            # Append-only moves cannot be deleted; TRUNCATE skips row triggers. Setup checked they were empty.
            cursor.execute("TRUNCATE inventory_stockmove, inventory_stocklevel, inventory_reservation")
        OrderLine.objects.filter(order_id__in=order_ids).delete()  # with their taxes
        orders.delete()
        SalesOrder.history.filter(id__in=order_ids).delete()
        Customer.objects.filter(pk__in=customer_ids).delete()  # with their addresses
        Customer.history.filter(id__in=customer_ids).delete()
        if self.channel is not None:
            SalesChannel.history.filter(id=self.channel.pk).delete()
            SalesChannel.objects.filter(pk=self.channel.pk).delete()
        with connection.cursor() as cursor:
            cursor.execute(
                "DELETE FROM inventory_barcode WHERE product_id IN "
                "(SELECT id FROM inventory_product WHERE sku LIKE %s)",
                [f"{self.sku_prefix}%"],
            )
            cursor.execute("DELETE FROM inventory_product WHERE sku LIKE %s", [f"{self.sku_prefix}%"])
            cursor.execute(
                "DELETE FROM inventory_historicalproduct WHERE sku LIKE %s", [f"{self.sku_prefix}%"]
            )
            cursor.execute(
                "DELETE FROM inventory_location WHERE warehouse_id IN "
                "(SELECT id FROM inventory_warehouse WHERE code = %s)",
                [self.code],
            )
            cursor.execute("DELETE FROM inventory_warehouse WHERE code = %s", [self.code])
            cursor.execute("DELETE FROM inventory_historicalwarehouse WHERE code = %s", [self.code])
        OutboxEvent.objects.filter(topic__startswith="sales.").delete()
        OutboxEvent.objects.filter(topic__startswith="inventory.").delete()
        AggregateSequence.objects.filter(aggregate_type__startswith="sales.").delete()
        AggregateSequence.objects.filter(aggregate_type__startswith="inventory.").delete()
        if user is not None:
            ApiKey.objects.filter(user=user).delete()
            get_user_model().objects.filter(pk=user.pk).delete()
        self.customers.clear()
        self.products.clear()


_fixture = SalesFixture("BENCHSOS")


def _create_and_confirm(i: int) -> None:
    assert _fixture.channel is not None
    order = order_create(
        channel=_fixture.channel,
        customer=_fixture.customer(i),
        lines=[LineSpec(product=p, quantity=q, taxes=VAT) for p, q in _fixture.lines(i)],
        external_reference=f"bench-{i}",
    )
    order_confirm(order=order)


def setup(n: int) -> int:
    _fixture.make()
    for i in range(WARMUP):  # first connection, imports, prepared plans: not timed
        _create_and_confirm(n + i)
    _fixture.expected = WARMUP + n
    return n


def operation(i: int) -> None:
    _fixture.timed(lambda: _create_and_confirm(i))


def teardown() -> None:
    _fixture.report_trend()
    try:
        _fixture.check()
    finally:
        _fixture.remove()


SCENARIO = Scenario(
    name="sales_orders_service",
    description=__doc__ or "",
    setup=setup,
    operation=operation,
    teardown=teardown,
    default_n=300,
    shown=("ops/s", "p95 ms", "queries/op"),
)
