"""The demo data, seeded once for this module: every state a user meets in each app, deterministic,
idempotent, and consistent with the stock ledger.

Seeding the whole demo is most of a minute, so it happens once (module-scoped, inside a transaction
that is rolled back at the end); each test reads it, and anything a test writes is rolled back to the
savepoint pytest-django opens around it. Tests that need an empty database (a seeder on its own)
live in the apps' own test_demo.py.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterator
from decimal import Decimal
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.db import transaction
from django.db.models import Count, F, Min
from django.utils import timezone

import inventory.demo  # noqa: F401  (each app registers its seeder on import)
import manufacturing.demo  # noqa: F401
import procurement.demo  # noqa: F401
import sales.demo  # noqa: F401
from erp.models import OutboxEvent
from inventory.integrity import find_drift, run_check
from inventory.models import (
    Barcode,
    CountSheet,
    LedgerDay,
    Location,
    LocationKind,
    Lot,
    Product,
    ProductUnit,
    ReorderRule,
    Reservation,
    StockLevel,
    StockMove,
    Transfer,
    Warehouse,
)
from manufacturing import selectors as manufacturing_selectors
from manufacturing.boms import low_level_codes
from manufacturing.models import (
    BillOfMaterials,
    BomComponent,
    BomOperation,
    ManufacturingOrder,
    MOComponent,
    MOStatus,
    MrpRun,
    MrpSuggestion,
    WorkCentre,
)
from procurement.models import (
    Bill,
    BillStatus,
    PurchaseOrder,
    PurchaseOrderStatus,
    Receipt,
    Supplier,
    SupplierItem,
    SupplierPayment,
)
from sales.models import (
    Customer,
    Invoice,
    InvoiceKind,
    InvoiceStatus,
    OrderLine,
    OrderStatus,
    Payment,
    Refund,
    ReturnStatus,
    SalesChannel,
    SalesOrder,
    SalesReturn,
    Shipment,
)
from sales.selectors import reserved_by_line

pytestmark = pytest.mark.django_db

APPS = ("inventory", "procurement", "sales", "manufacturing", "ledger-days")
SALES_CHANNELS = {"shopify", "amazon", "wholesale", "pos", "manual"}


def snapshot() -> dict[str, Any]:
    """Everything the demo makes, by natural keys and counts: seeding again must not change it."""
    return {
        "products": Product.objects.count(),
        "lots": Lot.objects.count(),
        "barcodes": Barcode.objects.count(),
        "units": ProductUnit.objects.count(),
        "rules": ReorderRule.objects.count(),
        "transfers": sorted(Transfer.objects.values_list("status", flat=True)),
        "count sheets": sorted(CountSheet.objects.values_list("status", flat=True)),
        "suppliers": Supplier.objects.count(),
        "purchase orders": sorted(PurchaseOrder.objects.values_list("number", "status", "total")),
        "channels": sorted(SalesChannel.objects.values_list("code", flat=True)),
        "customers": Customer.objects.count(),
        "orders": sorted(SalesOrder.objects.values_list("number", "status", "total")),
        "lines": OrderLine.objects.count(),
        "shipments": Shipment.objects.count(),
        "invoices": sorted(Invoice.objects.values_list("kind", "status", "total", "amount_paid")),
        "payments": Payment.objects.count(),
        "returns": sorted(SalesReturn.objects.values_list("number", "status")),
        "refunds": Refund.objects.count(),
        "work centres": WorkCentre.objects.count(),
        "boms": sorted(BillOfMaterials.objects.values_list("product__sku", "version", "is_active")),
        "components": BomComponent.objects.count(),
        "operations": BomOperation.objects.count(),
        "manufacturing orders": sorted(
            ManufacturingOrder.objects.values_list("product__sku", "status", "quantity_produced")
        ),
        "mo lines": MOComponent.objects.count(),
        "runs": MrpRun.objects.count(),
        "suggestions": MrpSuggestion.objects.count(),
        "supplier items": SupplierItem.objects.count(),
        "moves": StockMove.objects.count(),
        "reservations": sorted(Reservation.objects.values_list("status", flat=True)),
        "levels": sorted(
            StockLevel.objects.values_list(
                "product__sku", "location__path", "lot__code", "on_hand", "reserved"
            )
        ),
        "events": OutboxEvent.objects.count(),
        "ledger days": sorted(LedgerDay.objects.values_list("date", flat=True)),
    }


@pytest.fixture(scope="module")
def seeded(django_db_setup: None, django_db_blocker: Any) -> Iterator[dict[str, Any]]:
    """The demo of the four apps, seeded once through the command; rolled back after the module."""
    with django_db_blocker.unblock(), transaction.atomic():
        out = StringIO()
        call_command("seed_demo", *[arg for app in APPS for arg in ("--only", app)], stdout=out)
        yield {"output": out.getvalue(), "snapshot": snapshot()}
        transaction.set_rollback(True)


def test_seeding_again_changes_nothing_and_the_levels_match_the_ledger(seeded):
    # when
    again = StringIO()
    call_command("seed_demo", *[arg for app in APPS for arg in ("--only", app)], stdout=again)

    # then
    assert snapshot() == seeded["snapshot"]
    assert find_drift()[1] == []
    assert "manufacturing (created): 2 work centres" in seeded["output"]
    assert "manufacturing (kept)" in again.getvalue()


def test_the_command_prints_each_step_and_what_it_made(seeded):
    output = seeded["output"]

    assert "[1/6] users: seeding ..." in output
    assert "admin / admin" in output
    assert "inventory: warehouses MAIN, EAST" in output
    assert "sales: channels shopify, amazon, wholesale, pos, manual" in output


def test_inventory_looks_like_a_real_business_with_valid_barcodes(seeded):
    assert set(Warehouse.objects.values_list("code", flat=True)) == {"MAIN", "EAST"}
    assert 280 <= Product.objects.count() <= 320
    assert Product.objects.filter(template__isnull=False).count() > 90
    assert Product.objects.filter(tracking="serial").exists()
    assert Lot.objects.filter(expiry_date__isnull=False).exists()
    assert Product.objects.filter(stock_unit__code__in=["kg", "m"]).count() >= 20
    assert Product.objects.filter(kind="service").count() == 8
    assert ProductUnit.objects.filter(unit__code="box", factor=12).count() >= 20
    assert 55 <= ReorderRule.objects.count() <= 65
    assert sorted(Transfer.objects.values_list("status", flat=True)) == ["done"] * 5 + ["in_transit"]
    assert sorted(CountSheet.objects.values_list("status", flat=True)) == ["applied", "open"]
    held = Reservation.objects.filter(demand_type="demo.order", status="active")
    assert held.count() >= 20
    assert Reservation.objects.filter(demand_type="demo.order", status="consumed").exists()
    assert Reservation.objects.filter(demand_type="demo.order", status="released").exists()
    kinds = set(StockMove.objects.values_list("kind", flat=True))
    assert {"receipt", "issue", "transfer", "adjustment", "scrap", "count", "consumption"} <= kinds
    # several receipts of one product at different costs
    costs = StockMove.objects.filter(product__sku="TSH-CLASSIC-M-NAVY", kind="receipt")
    assert len(set(costs.values_list("unit_cost", flat=True))) >= 2

    # every barcode is a valid EAN-13
    codes = list(Barcode.objects.values_list("code", flat=True))
    assert len(codes) > 250
    for code in codes:
        digits = [int(d) for d in code]
        assert len(digits) == 13
        assert sum(d * (3 if i % 2 else 1) for i, d in enumerate(digits)) % 10 == 0, code


def test_purchasing_has_orders_in_every_state(seeded):
    assert Supplier.objects.exists()
    assert set(PurchaseOrder.objects.values_list("status", flat=True)) == set(PurchaseOrderStatus.values)
    assert {BillStatus.OPEN, BillStatus.PAID} <= set(Bill.objects.values_list("status", flat=True))
    assert PurchaseOrder.objects.filter(status="draft", total__gt=5000, approved_at__isnull=True).exists()


def test_sales_channels_and_customers_as_described(seeded):
    channels = {c.code: c for c in SalesChannel.objects.all()}
    assert set(channels) == SALES_CHANNELS
    assert channels["shopify"].currency == "USD"
    assert channels["wholesale"].invoice_policy == "ordered"
    assert channels["pos"].prices_include_tax
    # customers: companies and persons, with addresses and contacts, some tax exempt
    assert 75 <= Customer.objects.count() <= 90
    assert {"company", "person"} == set(Customer.objects.values_list("kind", flat=True))
    assert Customer.objects.filter(tax_exempt=True).exists()
    assert Customer.objects.filter(kind="company", payment_terms="net_30").count() >= 5
    assert Customer.objects.filter(contacts__isnull=False).distinct().count() >= 15
    assert Customer.objects.filter(addresses__kind="shipping").distinct().count() >= 70


def test_sales_orders_over_90_days_in_every_state_on_every_channel(seeded):
    orders = SalesOrder.objects.all()
    assert 280 <= orders.count() <= 320
    assert set(orders.values_list("status", flat=True)) == set(OrderStatus.values)
    assert set(orders.values_list("channel__code", flat=True)) == SALES_CHANNELS
    oldest = timezone.now() - orders.order_by("order_date").first().order_date
    assert 80 <= oldest.days <= 90
    assert orders.filter(status=OrderStatus.CLOSED).count() > orders.filter(status=OrderStatus.DRAFT).count()
    # some confirmed orders wait for stock: part of a line is neither held nor shipped
    confirmed = OrderLine.objects.filter(order__status=OrderStatus.CONFIRMED, product__kind="stocked")
    held = reserved_by_line(confirmed.values_list("pk", flat=True))
    assert any(held.get(line.pk, 0) < line.quantity for line in confirmed)
    # partially shipped orders have open quantities, shipped ones none
    assert OrderLine.objects.filter(
        order__status=OrderStatus.PARTIALLY_SHIPPED, quantity__gt=F("quantity_shipped")
    ).exists()
    assert not OrderLine.objects.filter(
        order__status__in=[OrderStatus.SHIPPED, OrderStatus.CLOSED], quantity__gt=F("quantity_shipped")
    ).exists()
    # shipments with carriers and tracking numbers
    assert Shipment.objects.exclude(tracking_number="").count() > 100
    assert Shipment.objects.values("carrier").distinct().count() >= 5


def test_sales_invoices_payments_and_returns_in_every_state(seeded):
    # invoices in every state, overdue ones, payments; closed orders are paid in full
    invoices = Invoice.objects.filter(kind=InvoiceKind.INVOICE)
    assert set(invoices.values_list("status", flat=True)) == set(InvoiceStatus.values)
    assert invoices.filter(
        status__in=[InvoiceStatus.ISSUED, InvoiceStatus.PARTIALLY_PAID], due_date__lt=timezone.localdate()
    ).exists()
    assert Payment.objects.count() > 100
    unpaid_closed = invoices.filter(order__status=OrderStatus.CLOSED).exclude(
        status__in=[InvoiceStatus.PAID, InvoiceStatus.VOID]
    )
    assert not unpaid_closed.exists()
    assert (
        not invoices.filter(order__status=OrderStatus.CANCELLED).exclude(status=InvoiceStatus.VOID).exists()
    )

    # returns: received with a credit note (most refunded) and open ones
    statuses = dict(SalesReturn.objects.values_list("status").annotate(n=Count("id")))
    assert statuses.get(ReturnStatus.RECEIVED, 0) >= 3
    assert statuses.get(ReturnStatus.OPEN, 0) >= 1
    assert Invoice.objects.filter(kind=InvoiceKind.CREDIT_NOTE, status=InvoiceStatus.PAID).count() >= 3
    assert Refund.objects.count() >= 3


def test_manufacturing_orders_in_every_state(seeded):
    assert set(ManufacturingOrder.objects.values_list("status", flat=True)) == set(MOStatus.values)
    in_progress = ManufacturingOrder.objects.get(status=MOStatus.IN_PROGRESS)
    assert 0 < in_progress.quantity_produced < in_progress.quantity
    # confirmed: one with every component reserved, one short
    fully = []
    for mo in ManufacturingOrder.objects.filter(status=MOStatus.CONFIRMED):
        lines = list(mo.components.all())
        held = manufacturing_selectors.reserved_by_component([line.pk for line in lines])
        fully.append(all(held.get(line.pk, 0) == line.quantity_required for line in lines))
    assert sorted(fully) == [False, True]


def test_manufacturing_boms_on_three_levels_and_an_mrp_run(seeded):
    # BOMs: three levels under the bike, with scrap and operations; two versions of the bike, one active
    levels = low_level_codes()
    bike = BillOfMaterials.objects.filter(product__sku="BK-CITY")
    assert sorted(bike.values_list("version", "is_active")) == [(1, False), (2, True)]
    wire = BomComponent.objects.get(bom__product__sku="BK-SPOKE").product
    assert levels[wire.pk] == 3
    assert BomComponent.objects.filter(scrap_percent__gt=0).count() >= 3
    assert not BillOfMaterials.objects.filter(operations__isnull=True).exists()
    assert ManufacturingOrder.objects.filter(bom__version=1, product__sku="BK-CITY", status="done").exists()

    # MRP: one run, buying parts of the demo from their preferred suppliers, making sub-assemblies
    run = MrpRun.objects.get()
    bought = run.suggestions.filter(kind="buy", supplier_item__isnull=False)
    assert bought.filter(product__sku__startswith="CMP-").exists()
    assert run.suggestions.filter(kind="make", product__sku__startswith="BK-").exists()


# --- the history: dated over the last 90 days, consistent in the dated order ----------------------


def _days(moments: Any) -> set[datetime.date]:
    return {timezone.localdate(moment) for moment in moments}


def test_the_history_is_spread_over_the_last_90_days_and_nothing_is_dated_later_than_now(seeded):
    today = timezone.localdate()
    moves = _days(StockMove.objects.values_list("created_at", flat=True))
    events = _days(OutboxEvent.objects.values_list("created_at", flat=True))
    shipments = _days(Shipment.objects.values_list("shipped_at", flat=True))
    payments = set(Payment.objects.values_list("paid_at", flat=True))
    receipts = _days(Receipt.objects.values_list("received_at", flat=True))
    receipts |= _days(StockMove.objects.filter(kind="receipt").values_list("created_at", flat=True))

    past = {day for day in moves | events if day < today}
    assert len({day for day in moves if day < today}) >= 60
    assert len({day for day in events if day < today}) >= 60
    assert len(shipments) >= 50
    assert len(payments) >= 40
    assert len(receipts) >= 12
    assert max(receipts) - min(receipts) >= datetime.timedelta(days=80)  # opening stock to last week
    assert min(past) <= today - datetime.timedelta(days=90)
    assert max(moves | events | shipments | payments | receipts) <= today
    assert StockMove.objects.filter(created_at__gt=timezone.now()).count() == 0
    # the charts' windows: sales every week of the last 30 days, stock moving in each of the 13 weeks
    recent = _days(
        SalesOrder.objects.filter(order_date__gte=timezone.now() - datetime.timedelta(days=30)).values_list(
            "order_date", flat=True
        )
    )
    assert len(recent) >= 20
    weeks = {(today - day).days // 7 for day in moves if day < today and (today - day).days < 91}
    assert weeks == set(range(13))


def test_no_bin_is_ever_short_in_the_dated_order_of_events(seeded):
    # given: every move, in the order of its date (moves of one moment in the order they were written)
    internal = set(Location.objects.filter(kind=LocationKind.INTERNAL).values_list("pk", flat=True))
    moves = StockMove.objects.order_by("created_at", "pk").values_list(
        "created_at", "product_id", "from_location_id", "to_location_id", "lot_id", "quantity"
    )

    # when: the levels are replayed
    levels: dict[tuple[int, int, int | None], Decimal] = defaultdict(Decimal)
    short = []
    for created_at, product, source, target, lot, quantity in moves:
        if source in internal:
            levels[(product, source, lot)] -= quantity
            if levels[(product, source, lot)] < 0:
                short.append((created_at, product, source, lot, levels[(product, source, lot)]))
        if target in internal:
            levels[(product, target, lot)] += quantity

    # then
    assert short == []
    assert moves.count() > 1000


def test_every_step_follows_the_one_before_it(seeded):
    # sales: shipped after confirmed; paid on or after the invoice's day; returned after shipped
    late = Shipment.objects.filter(shipped_at__lt=F("order__confirmed_at"))
    assert not late.exists()
    assert not Shipment.objects.filter(order__confirmed_at__isnull=True).exists()
    assert not Payment.objects.filter(paid_at__lt=F("invoice__issue_date")).exists()
    assert not Payment.objects.filter(invoice__issue_date__isnull=True).exists()
    assert not SalesOrder.objects.filter(confirmed_at__lt=F("order_date")).exists()
    first_shipped = dict(
        Shipment.objects.values("order_id").annotate(first=Min("shipped_at")).values_list("order_id", "first")
    )
    for order_id, received_at in SalesReturn.objects.exclude(received_at=None).values_list(
        "order_id", "received_at"
    ):
        assert received_at > first_shipped[order_id]
    # a few shipments leave more than three days after the confirmation (the on-time chart has misses)
    slow = [
        s
        for s in Shipment.objects.select_related("order")
        if s.shipped_at - s.order.confirmed_at > datetime.timedelta(days=4)
    ]
    assert 3 <= len(slow) <= Shipment.objects.count() // 4

    # purchasing: received after sent, billed on or after the order's date, paid on or after the bill
    assert not Receipt.objects.filter(received_at__lt=F("order__sent_at")).exists()
    assert not Bill.objects.filter(bill_date__lt=F("order__order_date")).exists()
    assert not SupplierPayment.objects.filter(paid_at__lt=F("bill__bill_date")).exists()
    assert SupplierPayment.objects.exists()
    # numbered in the order they were placed
    numbers = list(PurchaseOrder.objects.order_by("order_date", "number").values_list("number", flat=True))
    assert numbers == sorted(numbers)
    # some purchase orders sent and due, some late now
    sent = PurchaseOrder.objects.filter(status__in=["sent", "partially_received"])
    assert sent.filter(expected_date__lt=timezone.localdate()).exists()
    assert sent.filter(expected_date__gte=timezone.localdate()).exists()

    # manufacturing: the done orders were made in the past, before what is made of them
    done = ManufacturingOrder.objects.filter(status=MOStatus.DONE)
    made = _days(
        StockMove.objects.filter(kind="production", product__in=done.values("product")).values_list(
            "created_at", flat=True
        )
    )
    assert made
    assert max(made) < timezone.localdate()


def test_the_past_ledger_days_are_closed_and_the_ledger_check_finds_no_drift(seeded):
    first = timezone.localdate(StockMove.objects.order_by("created_at").first().created_at)
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    days = list(LedgerDay.objects.order_by("date").values_list("date", flat=True))
    assert days[0] == first
    assert days[-1] == yesterday
    assert len(days) == (yesterday - first).days + 1
    # the opening stock came in on the first day, and each day was closed just after it ended
    opening = LedgerDay.objects.get(date=first)
    assert any(flow["counterpart"] == "supplier" and Decimal(flow["value"]) > 0 for flow in opening.flows)
    assert timezone.localdate(opening.closed_at) == first + datetime.timedelta(days=1)
    closed = OutboxEvent.objects.filter(topic="inventory.day_closed")
    assert closed.count() == len(days)

    check = run_check()
    assert check.drift_count == 0
