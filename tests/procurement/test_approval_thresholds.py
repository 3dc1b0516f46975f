"""Each currency has its own approval threshold (procurement/thresholds.py).

``PURCHASE_APPROVAL_THRESHOLD`` is in the base currency; ``PURCHASE_APPROVAL_THRESHOLDS`` gives
other currencies theirs. An order in a currency with no threshold always needs approval: there are
no exchange rates to compare it with. Before, every order's total was compared with the base
currency's number: a ¥600,000 order passed a $5,000 threshold as 600,000 > 5,000 (approval), and
an order of €4,900 went out unapproved when the company had meant €4,500.
"""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from erp.exceptions import ValidationFailed
from procurement.filters import PurchaseOrderFilter
from procurement.models import PurchaseOrder
from procurement.models import PurchaseOrderStatus as S
from procurement.selectors import po_figures
from procurement.services import POLineSpec, needs_approval, po_approve, po_create, po_send
from procurement.thresholds import described
from tests.erp.factories import UserFactory
from tests.inventory.factories import ProductFactory, warehouse
from tests.procurement.factories import SupplierFactory

pytestmark = pytest.mark.django_db

THRESHOLDS = override_settings(
    ERP_BASE_CURRENCY="USD",
    PURCHASE_APPROVAL_THRESHOLD=D("5000"),
    PURCHASE_APPROVAL_THRESHOLDS={"EUR": D("4500")},
)


def order(currency: str, total: str) -> PurchaseOrder:
    """A draft of one line whose total is ``total`` in ``currency`` (no tax)."""
    return po_create(
        supplier=SupplierFactory(currency=currency),
        warehouse=warehouse(),
        lines=[POLineSpec(ProductFactory(), 1, unit_cost=total)],
    )


@THRESHOLDS
@pytest.mark.parametrize(
    ("currency", "total", "needed"),
    [
        ("USD", "5000.00", False),
        ("USD", "5000.01", True),
        ("EUR", "4500.00", False),
        ("EUR", "4900.00", True),  # under the base threshold's number, above its own
        ("JPY", "600", True),  # no threshold of its own: always
        ("GBP", "1", True),
    ],
)
def test_an_order_is_compared_with_its_own_currencys_threshold(currency, total, needed):
    po = order(currency, total)

    assert po.total == D(total)
    assert needs_approval(po) is needed


@THRESHOLDS
def test_an_order_in_a_currency_without_a_threshold_is_not_sent_unapproved_and_says_why():
    po = order("JPY", "600")

    with pytest.raises(ValidationFailed) as refused:
        po_send(po=po)

    assert "is in JPY, which has no approval threshold" in str(refused.value)
    po.refresh_from_db()
    assert po.status == S.DRAFT
    po_approve(po=po, user=UserFactory(roles=["Purchasing manager"]))
    assert po_send(po=po).status == S.SENT


@THRESHOLDS
def test_the_list_filter_and_the_figures_count_what_needs_approval_orders_by_order():
    # given: orders on both sides of each currency's threshold, and one approved
    orders = [
        order("USD", "100"),
        order("USD", "6000"),
        order("EUR", "4000"),
        order("EUR", "4600"),
        order("JPY", "500"),
    ]
    approved = order("EUR", "9000")
    po_approve(po=approved, user=UserFactory(roles=["Purchasing manager"]))

    # when
    filtered = set(PurchaseOrderFilter({"needs_approval": "true"}, queryset=PurchaseOrder.objects.all()).qs)
    figures = po_figures(timezone.localdate())

    # then: the filter, the figure and needs_approval agree, order by order
    expected = {po for po in orders if needs_approval(po)}
    assert {po.number for po in expected} == {orders[1].number, orders[3].number, orders[4].number}
    assert filtered == expected
    assert figures["awaiting_approval"] == len(expected)


@THRESHOLDS
def test_the_pages_say_each_threshold_in_its_currency(client):
    client.force_login(UserFactory(is_superuser=True))
    eur = order("EUR", "4600")
    jpy = order("JPY", "500")

    overview = client.get(reverse("procurement:index")).content.decode()
    eur_page = client.get(reverse("procurement:order", args=[eur.pk])).content.decode()
    jpy_page = client.get(reverse("procurement:order", args=[jpy.pk])).content.decode()

    assert described() == "$5,000.00 · €4,500.00"
    assert "drafts over threshold</span>" in overview
    assert (
        'title="Approval thresholds: $5,000.00 · €4,500.00; a currency without one: every draft.' in overview
    )
    assert "above the approval threshold of €4,500.00" in eur_page
    assert (
        "it is in JPY, which has no approval threshold of its own (every order in it needs approval"
        in jpy_page
    )
