"""Sales' demo data: every state a user meets, deterministic, idempotent, and consistent with the ledger."""

from __future__ import annotations

import pytest
from django.db.models import Count, F
from django.utils import timezone

import inventory.demo  # noqa: F401  (registers inventory's seeder, order 10)
import sales.demo  # registers this seeder, order 20
from erp import demo
from erp.models import OutboxEvent
from inventory.integrity import find_drift
from inventory.models import Reservation, StockLevel, StockMove, Warehouse
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

SALES_CHANNELS = {"shopify", "amazon", "wholesale", "pos", "manual"}


def counts() -> dict[str, object]:
    return {
        "channels": sorted(SalesChannel.objects.values_list("code", flat=True)),
        "customers": Customer.objects.count(),
        "orders": sorted(SalesOrder.objects.values_list("number", "status", "total")),
        "lines": OrderLine.objects.count(),
        "shipments": Shipment.objects.count(),
        "invoices": sorted(Invoice.objects.values_list("kind", "status", "total", "amount_paid")),
        "payments": Payment.objects.count(),
        "returns": sorted(SalesReturn.objects.values_list("number", "status")),
        "refunds": Refund.objects.count(),
        "moves": StockMove.objects.count(),
        "reservations": Reservation.objects.count(),
        "levels": sorted(
            StockLevel.objects.values_list("product__sku", "location__path", "on_hand", "reserved")
        ),
        "events": OutboxEvent.objects.count(),
    }


def test_seeding_twice_gives_the_same_data_and_levels_match_the_ledger(monkeypatch):
    # given: inventory's demo (order 10) runs before this one (order 20), with a shorter history
    # (the full one is looked at below; twice over it is two minutes of CI)
    monkeypatch.setattr(sales.demo, "ORDERS", 60)
    report = demo.seed(only=("inventory", "sales"))
    first = counts()

    # when
    demo.seed(only=("inventory", "sales"))

    # then
    assert counts() == first
    assert find_drift()[1] == []
    assert any(line.startswith("sales: channels shopify, amazon, wholesale, pos, manual") for line in report)


def test_without_inventory_demo_it_makes_a_warehouse_and_products_and_stays_consistent(monkeypatch):
    # given: an empty database and a shorter history
    monkeypatch.setattr(sales.demo, "ORDERS", 40)
    assert not Warehouse.objects.exists()

    # when
    sales.demo.seed_sales()

    # then
    assert Warehouse.objects.count() == 1
    assert SalesChannel.objects.filter(warehouse__code="MAIN").count() == 5
    assert SalesOrder.objects.count() == 40
    assert SalesOrder.objects.filter(status=OrderStatus.CLOSED).exists()
    assert find_drift()[1] == []


def test_the_demo_has_every_state_a_user_meets():
    demo.seed(only=("inventory", "sales"))

    # channels as described
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

    # orders over the last 90 days, in every state, on every channel
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
