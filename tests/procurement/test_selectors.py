"""Rules the procurement selectors hold that no page or endpoint test pins down on its own."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from procurement import selectors, services
from procurement.models import Bill, BillStatus
from tests.inventory.factories import ProductFactory
from tests.procurement.test_views import bill_for, make_world, received_order

pytestmark = pytest.mark.django_db


def test_a_product_has_a_preferred_supplier_once_one_of_its_items_is_preferred():
    world = make_world()  # Acme's item of the T-shirt is the preferred one
    other = ProductFactory(sku="MUG")
    services.supplier_item_set(supplier=world["supplier"], product=other, unit_price="2.00")

    assert selectors.has_preferred_supplier(world["product"])
    assert not selectors.has_preferred_supplier(other)


def test_a_purchase_order_is_found_by_its_number_in_any_case():
    draft = make_world()["draft"]

    assert selectors.po_by_number(draft.number.lower()) == draft
    assert selectors.po_by_number(f" {draft.number} ") == draft
    assert selectors.po_by_number("PO-99999") is None


def test_bills_due_within_a_week_include_the_overdue_ones_and_never_paid_or_void_ones():
    # given: open bills due yesterday, in 3 days and in 20 days; one in review; one paid; one void
    world = make_world()
    today = timezone.localdate()
    bills = [bill_for(received_order(world), reference=f"INV-{n}") for n in range(6)]
    review = bill_for(received_order(world), cost="99.00", reference="INV-HIGH")
    due = [
        today - datetime.timedelta(days=1),
        today + datetime.timedelta(days=3),
        today + datetime.timedelta(days=20),
    ]
    for bill, date in zip(bills, due, strict=False):
        Bill.objects.filter(pk=bill.pk).update(due_date=date)
    Bill.objects.filter(pk=bills[3].pk).update(status=BillStatus.PAID, due_date=due[0])
    Bill.objects.filter(pk=bills[4].pk).update(status=BillStatus.VOID, due_date=due[0])
    Bill.objects.filter(pk=bills[5].pk).update(status=BillStatus.PARTIALLY_PAID, due_date=due[1])
    Bill.objects.filter(pk=review.pk).update(due_date=due[0])

    # when
    figures = selectors.bill_figures(today)

    # then: the review one is counted as such, not as due
    assert {bill.status for bill in bills[:3]} == {BillStatus.OPEN}
    assert figures == {"review": 1, "due_week": 3, "overdue": 1}
