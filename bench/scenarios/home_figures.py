"""The role homes' figures and charts (erp.workspace) at 100,000 sales orders.

Setup, set-based (bulk_create, not the services: the figures only read): one warehouse with its
Stock bin, 200 products (100 with a reorder rule), 3 channels, 1,000 customers and ``ORDERS``
sales orders of 2 lines over the last 120 days (70 % shipped with a shipment, a stock move each
and an invoice, 10 % confirmed with half their lines reserved, the rest partly shipped, on hold,
draft or cancelled); 3,000 purchase orders, 1,000 manufacturing orders of 3 components, 4
connections with 30,000 inbound events and 30,000 deliveries. Then 8 users, one per role and a
superuser.

Each operation computes one role's home, as the dashboard does (``erp.workspace.role_homes``: every
figure group and chart's data, not the HTML), the roles taken in turn. The table's queries/op is
the mean over the roles; teardown prints p50/p95 and queries per role, then checks a few figures
against plain counts and removes what setup made (TRUNCATE ... CASCADE).
"""

from __future__ import annotations

import datetime
import os
import random
import statistics
import sys
import time
import uuid
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection
from django.test import RequestFactory
from django.utils import timezone

from bench.scenario import Scenario
from bench.scenarios import _fixtures
from erp import workspace
from erp.models import OutboxEvent
from erp.roles import sync_roles
from integrations.models import Connection, Delivery, InboundEvent
from inventory.models import (
    Location,
    LocationKind,
    MoveKind,
    Product,
    ReorderRule,
    Reservation,
    StockLevel,
    StockMove,
    UnitOfMeasure,
    Warehouse,
)
from inventory.services import warehouse_create, warehouse_default_location
from manufacturing.models import BillOfMaterials, ManufacturingOrder, MOComponent
from procurement.models import PurchaseOrder, PurchaseOrderLine, Supplier
from sales.models import Customer, Invoice, OrderLine, SalesChannel, SalesOrder, Shipment

ORDERS = 100_000
PRODUCTS = 200
CUSTOMERS = 1_000
DAYS = 120
BATCH = 5_000
ROLES = (
    "Operations manager",
    "Warehouse",
    "Sales",
    "Purchasing",
    "Production",
    "Accountant",
    "Integration admin",
)
TABLES = (
    "sales_invoice, sales_shipment, sales_orderline, sales_salesorder, sales_customer, sales_saleschannel, "
    "inventory_stockmove, inventory_stocklevel, inventory_reservation, inventory_reorderrule, "
    "procurement_purchaseorderline, procurement_purchaseorder, procurement_supplier, "
    "manufacturing_mocomponent, manufacturing_manufacturingorder, manufacturing_billofmaterials, "
    "integrations_delivery, integrations_inboundevent, integrations_connection, erp_outboxevent"
)

_users: dict[str, Any] = {}
_times: dict[str, list[float]] = {role: [] for role in ROLES}
_queries: dict[str, list[int]] = {role: [] for role in ROLES}
_rf = RequestFactory()


def _bulk(model: Any, rows: list[Any]) -> list[Any]:
    return model.objects.bulk_create(rows, batch_size=BATCH)


def setup(n: int) -> int:
    if SalesOrder.objects.exists() or StockMove.objects.exists():
        raise RuntimeError("home_figures needs an empty database (sales orders and the ledger)")
    started = time.perf_counter()
    rng = random.Random(7)
    now = timezone.now()
    today = timezone.localdate()
    wh = warehouse_create(code="BENCHHOME", name="Bench home")
    shelf = warehouse_default_location(wh)
    supplier_loc = Location.objects.get(kind=LocationKind.SUPPLIER, warehouse__isnull=True)
    customer_loc = Location.objects.get(kind=LocationKind.CUSTOMER, warehouse__isnull=True)
    pcs = UnitOfMeasure.objects.get(code="pcs")
    copies = _fixtures.level_copies()

    products = _bulk(
        Product,
        [
            Product(
                sku=f"BH-{i:04d}",
                name=f"Bench product {i}",
                stock_unit=pcs,
                sale_price=Decimal("20.00"),
                average_cost=Decimal("8.00"),
            )
            for i in range(PRODUCTS)
        ],
    )
    _bulk(
        StockLevel,
        [
            StockLevel(
                product=p,
                location=shelf,
                warehouse=wh,
                on_hand=Decimal(0 if i % 10 == 0 else 500),
                **({"product_sku": p.sku, "location_path": shelf.path} if copies else {}),
            )
            for i, p in enumerate(products)
        ],
    )
    _bulk(
        ReorderRule,
        [ReorderRule(product=p, warehouse=wh, min_quantity=50, max_quantity=800) for p in products[:100]],
    )
    receipts = [
        StockMove(
            product=p,
            quantity=Decimal(700),
            from_location=supplier_loc,
            to_location=shelf,
            unit_cost=Decimal("8.00"),
            kind=MoveKind.RECEIPT,
            operation=uuid.uuid4(),
            created_at=now - datetime.timedelta(days=rng.randint(1, DAYS)),
        )
        for p in products
    ]
    _bulk(StockMove, receipts)
    channels = _bulk(
        SalesChannel,
        [
            SalesChannel(code=f"bh{i}", name=name, warehouse=wh)
            for i, name in enumerate(("Web", "Marketplace", "Wholesale"))
        ],
    )
    customers = _bulk(
        Customer, [Customer(code=f"BH-C{i:05d}", name=f"Customer {i:05d}") for i in range(CUSTOMERS)]
    )

    statuses = ["shipped"] * 70 + ["confirmed"] * 10 + ["partially_shipped"] * 5 + ["on_hold"] * 5
    statuses += ["draft"] * 5 + ["cancelled"] * 5
    orders = []
    for i in range(ORDERS):
        status = statuses[i % 100]
        ordered = now - datetime.timedelta(minutes=rng.randint(0, DAYS * 24 * 60))
        total = Decimal(rng.randint(20, 400))
        orders.append(
            SalesOrder(
                number=f"BH-{i:06d}",
                channel=channels[i % 3],
                customer=customers[i % CUSTOMERS],
                status=status,
                order_date=ordered,
                currency="USD",
                subtotal=total,
                total=total,
                confirmed_at=None
                if status in ("draft", "cancelled")
                else ordered + datetime.timedelta(hours=2),
            )
        )
    orders = _bulk(SalesOrder, orders)
    lines = []
    for o in orders:
        for position in range(2):
            product = products[(o.pk * 2 + position) % PRODUCTS]
            shipped = Decimal(2) if o.status == "shipped" else Decimal(0)
            lines.append(
                OrderLine(
                    order=o,
                    position=position,
                    product=product,
                    quantity=Decimal(2),
                    unit_price=Decimal("20.00"),
                    line_subtotal=Decimal(40),
                    line_total=Decimal(40),
                    quantity_shipped=shipped,
                )
            )
    lines = _bulk(OrderLine, lines)
    confirmed = {o.pk for o in orders if o.status == "confirmed"}  # half their lines held
    _bulk(
        Reservation,
        [
            Reservation(
                product=ln.product,
                location=shelf,
                quantity=Decimal(2),
                demand_type="sales.orderline",
                demand_id=str(ln.pk),
                demand_pk=ln.pk,
            )
            for ln in lines
            if ln.position == 0 and ln.order_id in confirmed
        ],
    )
    shipped_orders = [o for o in orders if o.status == "shipped"]
    _bulk(
        Shipment,
        [
            Shipment(
                number=f"BH-S{o.pk}",
                order=o,
                shipped_at=o.order_date + datetime.timedelta(hours=2, days=rng.choice((0, 1, 1, 2, 3, 5))),
            )
            for o in shipped_orders
        ],
    )
    _bulk(
        StockMove,
        [
            StockMove(
                product=products[(o.pk * 2) % PRODUCTS],
                quantity=Decimal(2),
                from_location=shelf,
                to_location=customer_loc,
                unit_cost=Decimal("8.00"),
                kind=MoveKind.ISSUE,
                operation=uuid.uuid4(),
                created_at=o.order_date + datetime.timedelta(hours=2),
            )
            for o in shipped_orders
        ],
    )
    _bulk(
        Invoice,
        [
            Invoice(
                number=f"BH-I{o.pk}",
                order=o,
                customer_id=o.customer_id,
                status=rng.choice(("issued", "paid", "paid", "partially_paid")),
                currency="USD",
                issue_date=o.order_date.date(),
                due_date=o.order_date.date() + datetime.timedelta(days=30),
                total=o.total,
                amount_paid=Decimal(0),
            )
            for o in shipped_orders
        ],
    )

    suppliers = _bulk(Supplier, [Supplier(code=f"BH-SUP{i}", name=f"Supplier {i}") for i in range(50)])
    pos = _bulk(
        PurchaseOrder,
        [
            PurchaseOrder(
                number=f"BH-PO{i:05d}",
                supplier=suppliers[i % 50],
                warehouse=wh,
                status=rng.choice(("draft", "sent", "sent", "partially_received", "received", "closed")),
                order_date=today - datetime.timedelta(days=rng.randint(0, DAYS)),
                expected_date=today + datetime.timedelta(days=rng.randint(-20, 20)),
                currency="USD",
                total=Decimal(rng.randint(100, 9000)),
            )
            for i in range(3_000)
        ],
    )
    _bulk(
        PurchaseOrderLine,
        [
            PurchaseOrderLine(
                order=po,
                position=k,
                product=products[(po.pk + k) % PRODUCTS],
                purchase_unit=pcs,
                quantity=Decimal(100),
                unit_cost=Decimal("8.00"),
            )
            for po in pos
            for k in range(2)
        ],
    )
    boms = _bulk(BillOfMaterials, [BillOfMaterials(product=p, is_active=True) for p in products[150:170]])
    mos = _bulk(
        ManufacturingOrder,
        [
            ManufacturingOrder(
                number=f"BH-MO{i:05d}",
                product=boms[i % 20].product,
                bom=boms[i % 20],
                warehouse=wh,
                quantity=Decimal(5),
                status=rng.choice(("draft", "confirmed", "in_progress", "done")),
                planned_start=today,
                planned_finish=today + datetime.timedelta(days=2),
            )
            for i in range(1_000)
        ],
    )
    _bulk(
        MOComponent,
        [
            MOComponent(order=mo, product=products[k * 7 % 150], quantity_required=Decimal(10))
            for mo in mos
            for k in range(3)
        ],
    )

    conns = _bulk(
        Connection, [Connection(connector="shopify", name=f"Bench shop {i}", settings={}) for i in range(4)]
    )
    statuses_in = ["processed"] * 18 + ["failed", "quarantined"]
    _bulk(
        InboundEvent,
        [
            InboundEvent(
                connection=conns[i % 4],
                external_id=f"bh-{i}",
                topic="orders/create",
                body=b"{}",
                status=statuses_in[i % 20],
                received_at=now - datetime.timedelta(minutes=rng.randint(0, 30 * 24 * 60)),
            )
            for i in range(30_000)
        ],
    )
    events = _bulk(
        OutboxEvent,
        [
            OutboxEvent(
                topic="inventory.level_changed",
                aggregate_type="bench.home",
                aggregate_id=str(i),
                sequence=1,
                created_at=now - datetime.timedelta(minutes=rng.randint(0, 30 * 24 * 60)),
                dispatched_at=now,
            )
            for i in range(30_000)
        ],
    )
    statuses_out = ["succeeded"] * 18 + ["failed", "dead"]
    _bulk(
        Delivery,
        [
            Delivery(
                event=e,
                connection=conns[i % 4],
                topic=e.topic,
                status=statuses_out[i % 20],
                created_at=e.created_at,
            )
            for i, e in enumerate(events)
        ],
    )

    sync_roles()
    user_model = get_user_model()
    for role in ROLES:
        user = user_model.objects.create_user(username=f"bench-home-{role.lower().replace(' ', '-')}")
        user.groups.set([Group.objects.get(name=role)])
        _users[role] = user_model.objects.get(pk=user.pk)  # no permission cache carried over
    with connection.cursor() as cursor:
        # VACUUM as well: a live database is vacuumed by autovacuum (off on the bench server), and
        # without a visibility map every index-only scan would read the table for each row.
        cursor.execute("VACUUM ANALYZE")
    print(f"  home_figures: setup {time.perf_counter() - started:.0f} s, {ORDERS:,} orders", file=sys.stderr)
    for role in ROLES:  # warm: permissions, content types, prepared plans
        _home(role)
    return n


def _home(role: str) -> list[workspace.RoleHome]:
    request = _rf.get("/")
    request.user = _users[role]
    return workspace.role_homes(request)


def operation(i: int) -> None:
    role = ROLES[i % len(ROLES)]
    user = _users[role]
    user.__dict__.pop("_perm_cache", None)  # a new request: permissions read again, as a page does
    user.__dict__.pop("_group_perm_cache", None)
    user.__dict__.pop("_user_perm_cache", None)
    with _counting() as counted:
        started = time.perf_counter()
        homes = _home(role)
        _times[role].append(time.perf_counter() - started)
    _queries[role].append(counted[0])
    if not homes or not homes[0].groups:
        raise AssertionError(f"{role}: an empty home")


class _counting:
    def __enter__(self) -> list[int]:
        self.counted = [0]

        def wrapper(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
            self.counted[0] += 1
            return execute(sql, params, many, context)

        self._ctx = connection.execute_wrapper(wrapper)
        self._ctx.__enter__()
        return self.counted

    def __exit__(self, *exc: Any) -> None:
        self._ctx.__exit__(*exc)


def teardown() -> None:
    try:
        for role in ROLES:
            times = sorted(_times[role])
            if not times:
                continue
            p95 = times[min(len(times) - 1, int(len(times) * 0.95))]
            print(
                f"  home_figures {role:<20} p50 {statistics.median(times) * 1000:7.1f} ms  "
                f"p95 {p95 * 1000:7.1f} ms  queries {statistics.mean(_queries[role]):.0f}",
                file=sys.stderr,
            )
        ops = workspace.role_homes(_request(_users["Operations manager"]))[0]
        shipping = next(g for g in ops.groups if g.title == "Sales and shipping")
        to_ship = SalesOrder.objects.filter(status__in=["confirmed", "partially_shipped"]).count()
        if shipping.figures[0].value != f"{to_ship:,}":
            raise AssertionError(
                f"orders to ship: {shipping.figures[0].value} on the home, {to_ship} counted"
            )
    finally:
        if os.environ.get("HOME_FIGURES_KEEP_DATA") != "1":  # "1" with --keep-db: to EXPLAIN the queries
            _remove()


def _remove() -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {TABLES} CASCADE")
    get_user_model().objects.filter(username__startswith="bench-home-").delete()
    Location.objects.filter(warehouse__code="BENCHHOME").update(parent=None)
    Location.objects.filter(warehouse__code="BENCHHOME").delete()
    Product.objects.filter(sku__startswith="BH-").delete()
    Warehouse.objects.filter(code="BENCHHOME").delete()


def _request(user: Any) -> Any:
    request = _rf.get("/")
    request.user = user
    return request


SCENARIO = Scenario(
    name="home_figures",
    description=__doc__ or "",
    setup=setup,
    operation=operation,
    teardown=teardown,
    default_n=70,
)
