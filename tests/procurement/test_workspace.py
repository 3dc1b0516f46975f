"""Procurement's figures on the role homes, checked against the database, and the lists they link to."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from inventory import replenishment
from inventory.services import reorder_rule_set, stock_receive
from procurement import workspace
from procurement.models import Bill, BillStatus, PurchaseOrder
from procurement.services import POLineSpec, po_create, po_send
from tests.erp.home_data import role_user
from tests.inventory.factories import ProductFactory, bin_of, warehouse
from tests.procurement.factories import SupplierFactory

pytestmark = pytest.mark.django_db

# What availability.by_warehouse costs for a few products (the levels and every flow provider).
AVAILABILITY_QUERIES = 1


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


def test_the_suggestions_figure_counts_the_rules_listed_drafts_covered_or_not_without_reading_them(
    django_assert_num_queries,
) -> None:
    # given: three rules below their minimum (one covered by a draft, one part covered) and one above
    wh = warehouse("WH1")
    covered, part, bare, stocked = (ProductFactory() for _ in range(4))
    for product in (covered, part, bare, stocked):
        reorder_rule_set(product=product, warehouse=wh, min_quantity=5, max_quantity=20)
    stock_receive(product=stocked, location=bin_of(wh), quantity=30, unit_cost="1.00")
    po_create(
        supplier=SupplierFactory(),
        warehouse=wh,
        lines=[POLineSpec(covered, 25, unit_cost="1.00"), POLineSpec(part, 2, unit_cost="1.00")],
    )
    listed_rules = replenishment.suggestions()
    assert {s.rule.product_id: s.covered for s in listed_rules} == {
        covered.pk: True,
        part.pk: False,
        bare.pk: False,
    }

    # when: the figure reads the rules and their availability, never the drafts
    with django_assert_num_queries(1 + AVAILABILITY_QUERIES):
        count = replenishment.below_minimum_count()

    # then
    assert count == len(listed_rules) == 3
