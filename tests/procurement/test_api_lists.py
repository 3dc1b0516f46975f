"""Every list of the procurement API (and a purchase order's detail) costs the same number of queries
with a few rows as with many: the selectors fetch what the schemas read."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from inventory.services import reorder_rule_set
from procurement.models import PurchaseOrder
from procurement.services import (
    BillLineSpec,
    POLineSpec,
    ReceiveLine,
    bill_record,
    po_create,
    po_send,
    receipt_create,
    supplier_contact_add,
    supplier_create,
    supplier_item_set,
    supplier_payment_record,
)
from tests.erp.factories import UserFactory, api_key_for, bearer
from tests.inventory.factories import ProductFactory, unit, warehouse
from tests.queries import FEW, MANY, assert_constant_queries, count_queries

pytestmark = pytest.mark.django_db

BASE = "/api/v1/procurement"


def procure_to_pay(n: int) -> PurchaseOrder:
    """One supplier through every document: an item in boxes with price breaks, a reorder rule, an
    order of two lines sent, partly received, billed and partly paid."""
    wh = warehouse()
    supplier = supplier_create(name=f"Supplier {n:03d}", code=f"S-L{n:03d}", email=f"s{n}@example.com")
    supplier_contact_add(supplier=supplier, name=f"Contact {n}")
    boxed, loose = ProductFactory(), ProductFactory()
    supplier_item_set(
        supplier=supplier,
        product=boxed,
        unit_price="24.00",
        purchase_unit=unit("box"),
        factor=12,
        is_preferred=True,
        price_breaks=[(5, "22.00"), (10, "20.00")],
    )
    reorder_rule_set(product=boxed, warehouse=wh, min_quantity=100, max_quantity=200)
    po = po_send(
        po=po_create(
            supplier=supplier,
            warehouse=wh,
            lines=[POLineSpec(boxed, 2), POLineSpec(loose, 3, unit_cost="1.50")],
        )
    )
    first, second = po.lines.order_by("position")
    receipt_create(po=po, lines=[ReceiveLine(first, 2), ReceiveLine(second, 1)])
    bill = bill_record(
        po=po,
        supplier_reference=f"INV-{n}",
        lines=[BillLineSpec(first, 2, "24.00"), BillLineSpec(second, 1, "1.50")],
    )
    supplier_payment_record(bill=bill, amount="10.00")
    return po


def grow_from(start: int, count: int) -> Callable[[], None]:
    def grow() -> None:
        for n in range(start, start + count):
            procure_to_pay(n)

    return grow


@pytest.fixture
def client() -> Client:
    c = Client()
    c.defaults.update(bearer(api_key_for(UserFactory(roles=["Purchasing"]))))
    return c


def listed(client: Client, path: str, **params: Any) -> Callable[[], Any]:
    def action() -> Any:
        response = client.get(BASE + path, params)
        assert response.status_code == 200, response.content
        return response.json()

    return action


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/suppliers", {}),
        ("/supplier-items", {}),
        ("/purchase-orders", {}),
        ("/purchase-orders", {"status": "open"}),
        ("/receipts", {}),
        ("/bills", {}),
        ("/payments", {}),
        ("/replenishment", {}),
    ],
)
def test_each_list_costs_the_same_queries_for_few_rows_as_for_many(client: Client, path: str, params: dict):
    # given
    grow_from(0, FEW)()
    action = listed(client, path, **params)
    assert action()["count"] == FEW

    # when / then
    assert_constant_queries(action, grow_from(FEW, MANY - FEW))
    body = action()
    assert (body["count"], len(body["items"])) == (MANY, MANY)


def test_a_purchase_order_detail_costs_the_same_queries_whatever_its_lines_receipts_and_bills():
    # given: an order with 2 lines, 1 receipt, 1 bill, 1 payment
    client = Client()
    client.defaults.update(bearer(api_key_for(UserFactory(roles=["Purchasing"]))))
    small = procure_to_pay(0)
    # and one with 20 lines, received in 20 receipts and billed in 20 bills
    wh = warehouse()
    supplier = supplier_create(name="Big", code="S-BIG")
    products = [ProductFactory() for _ in range(20)]
    big = po_send(
        po=po_create(
            supplier=supplier,
            warehouse=wh,
            lines=[POLineSpec(p, 4, unit_cost="2.00") for p in products],
        )
    )
    for n, line in enumerate(big.lines.order_by("position")):
        receipt_create(po=big, lines=[ReceiveLine(line, 2)])
        bill = bill_record(po=big, supplier_reference=f"B-{n}", lines=[BillLineSpec(line, 2, "2.00")])
        supplier_payment_record(bill=bill, amount="1.00")

    # when
    def detail_of(po: PurchaseOrder) -> Callable[[], Any]:
        def action() -> Any:
            response = client.get(f"{BASE}/purchase-orders/{po.pk}")
            assert response.status_code == 200, response.content
            return response.json()

        return action

    detail_of(small)()  # warm-up
    small_cost = count_queries(detail_of(small))
    big_cost = count_queries(detail_of(big))

    # then
    assert small_cost == big_cost
    body = detail_of(big)()
    assert (len(body["lines"]), len(body["receipts"]), len(body["bills"])) == (20, 20, 20)


@pytest.mark.django_db
def test_awaiting_approval_and_due_by_filters():
    from datetime import timedelta

    from django.test import override_settings
    from django.utils import timezone

    from procurement.filters import BillFilter, PurchaseOrderFilter
    from procurement.models import Bill, PurchaseOrder
    from procurement.services import POLineSpec, po_create
    from tests.inventory.factories import ProductFactory, warehouse
    from tests.procurement.factories import SupplierFactory

    with override_settings(PURCHASE_APPROVAL_THRESHOLD=100):
        big = po_create(
            supplier=SupplierFactory(),
            warehouse=warehouse(),
            lines=[POLineSpec(ProductFactory(), 50, unit_cost="5")],
        )
        po_create(
            supplier=SupplierFactory(),
            warehouse=warehouse(),
            lines=[POLineSpec(ProductFactory(), 1, unit_cost="5")],
        )
        found = PurchaseOrderFilter({"needs_approval": "true"}, queryset=PurchaseOrder.objects.all()).qs
        assert list(found) == [big]
    week = (timezone.localdate() + timedelta(days=7)).isoformat()
    assert BillFilter({"due_before": week}, queryset=Bill.objects.all()).is_valid()
