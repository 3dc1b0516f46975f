"""Procurement's figures on the role homes, checked against the database, and the lists they link to."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from procurement import workspace
from procurement.models import Bill, BillStatus, PurchaseOrder
from procurement.services import POLineSpec, po_create, po_send
from tests.erp.home_data import role_user
from tests.inventory.factories import ProductFactory, warehouse
from tests.procurement.factories import SupplierFactory

pytestmark = pytest.mark.django_db


def listed(client: Client, url: str) -> int:
    response = client.get(url)
    assert response.status_code == 200, url
    return response.context["page"].paginator.count


@pytest.fixture
def buyer(client: Client) -> Client:
    client.force_login(role_user("buyer", "Purchasing"))
    return client


def sent_po(expected: datetime.date, quantity: int = 5, cost: str = "2.00") -> PurchaseOrder:
    po = po_create(
        supplier=SupplierFactory(),
        warehouse=warehouse("WH1"),
        lines=[POLineSpec(product=ProductFactory(), quantity=quantity, unit_cost=cost)],
        order_date=expected - datetime.timedelta(days=7),
        expected_date=expected,
    )
    return po_send(po=po)


def test_due_today_this_week_late_and_waiting_for_approval(buyer: Client) -> None:
    today = timezone.localdate()
    sunday = today + datetime.timedelta(days=6 - today.weekday())
    sent_po(today - datetime.timedelta(days=3))  # late
    sent_po(today)  # due today
    sent_po(sunday)  # due this week (today when today is Sunday)
    sent_po(sunday + datetime.timedelta(days=1))  # next week
    big = po_create(
        supplier=SupplierFactory(),
        warehouse=warehouse("WH1"),
        lines=[POLineSpec(product=ProductFactory(), quantity=1000, unit_cost="10.00")],
    )

    f = workspace.purchase_figures(today)

    assert f["late"] == 1
    open_orders = PurchaseOrder.objects.filter(status__in=["sent", "partially_received"])
    assert f["due_today"] == open_orders.filter(expected_date__lte=today).count() >= 2  # late and today's
    assert f["due_week"] == open_orders.filter(expected_date__range=(today, sunday)).count() >= 1
    assert f["needs_approval"] == 1
    assert workspace.lines_to_receive(today) == f["due_today"]  # one line each
    yesterday = (today - datetime.timedelta(days=1)).isoformat()
    assert listed(buyer, f"/procurement/orders/?status=open&expected_before={yesterday}") == f["late"]
    week = f"expected_after={today.isoformat()}&expected_before={sunday.isoformat()}"
    assert listed(buyer, f"/procurement/orders/?status=open&{week}") == f["due_week"]
    assert listed(buyer, "/procurement/orders/?needs_approval=true") == 1
    assert big.pk in [po.pk for po in buyer.get("/procurement/orders/?needs_approval=true").context["page"]]


def test_payables_ageing_by_days_overdue_and_its_links(buyer: Client) -> None:
    today = timezone.localdate()
    po = sent_po(today)
    for number, days_over, status in (
        ("B1", -5, BillStatus.OPEN),
        ("B2", 10, BillStatus.OPEN),
        ("B3", 100, BillStatus.PARTIALLY_PAID),
        ("B4", 40, BillStatus.PAID),
    ):
        Bill.objects.create(
            number=number,
            supplier=po.supplier,
            order=po,
            supplier_reference=number,
            status=status,
            currency="USD",
            bill_date=today - datetime.timedelta(days=30 + days_over),
            due_date=today - datetime.timedelta(days=days_over),
            total=Decimal("100.00"),
            amount_paid=Decimal("40.00") if status == BillStatus.PARTIALLY_PAID else Decimal(0),
        )

    [row] = workspace.payables_ageing(today)

    assert [row[f"n{i}"] for i in range(5)] == [1, 1, 0, 0, 1]
    assert row["a4"] == Decimal("60.00")
    assert listed(buyer, "/procurement/bills/?unpaid=true") == 3
    b = (today - datetime.timedelta(days=1)).isoformat()
    a = (today - datetime.timedelta(days=30)).isoformat()
    assert listed(buyer, f"/procurement/bills/?unpaid=true&due_before={b}&due_after={a}") == 1
