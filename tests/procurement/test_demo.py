from __future__ import annotations

import pytest

from erp import demo
from inventory.integrity import find_drift
from procurement.models import BillStatus, PurchaseOrder, PurchaseOrderStatus, Supplier


@pytest.mark.django_db
def test_demo_has_orders_in_every_state_is_idempotent_and_keeps_the_ledger_whole():
    import inventory.demo  # noqa: F401
    import procurement.demo  # noqa: F401

    demo.seed(only=("inventory", "procurement"))
    counts = (Supplier.objects.count(), PurchaseOrder.objects.count())
    demo.seed(only=("inventory", "procurement"))

    assert (Supplier.objects.count(), PurchaseOrder.objects.count()) == counts
    assert set(PurchaseOrder.objects.values_list("status", flat=True)) == set(PurchaseOrderStatus.values)
    from procurement.models import Bill

    assert {BillStatus.OPEN, BillStatus.PAID} <= set(Bill.objects.values_list("status", flat=True))
    assert PurchaseOrder.objects.filter(status="draft", total__gt=5000, approved_at__isnull=True).exists()
    assert find_drift()[1] == []
