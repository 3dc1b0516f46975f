"""A supplier payment is announced as ``procurement.supplier_payment_recorded``: the purchase
order's payload with the bill as it stands after the payment and the payment itself; a payment
refused announces nothing."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from erp.exceptions import ValidationFailed
from erp.models import OutboxEvent
from procurement.services import (
    BillLineSpec,
    POLineSpec,
    ReceiveLine,
    bill_record,
    po_create,
    po_send,
    receipt_create,
    supplier_payment_record,
)
from tests.inventory.factories import ProductFactory, warehouse
from tests.procurement.factories import SupplierFactory

pytestmark = pytest.mark.django_db
TOPIC = "procurement.supplier_payment_recorded"


def test_a_supplier_payment_is_announced_with_its_bill_and_purchase_order():
    po = po_send(
        po=po_create(
            supplier=SupplierFactory(),
            warehouse=warehouse(),
            lines=[POLineSpec(ProductFactory(), 4, unit_cost="5.00")],
        )
    )
    line = po.lines.get()
    receipt_create(po=po, lines=[ReceiveLine(line, 4)])
    bill = bill_record(po=po, supplier_reference="SUP-1", lines=[BillLineSpec(line, 4, "5.00")])

    with pytest.raises(ValidationFailed):
        supplier_payment_record(bill=bill, amount="25.00")  # more than is due
    assert not OutboxEvent.objects.filter(topic=TOPIC).exists()
    payment = supplier_payment_record(
        bill=bill,
        amount="12.50",
        method="bank transfer",
        reference="TRF-9",
        paid_at=datetime.date(2026, 3, 14),
    )

    [event] = OutboxEvent.objects.filter(topic=TOPIC)
    assert (event.aggregate_type, event.aggregate_id) == ("procurement.purchaseorder", str(po.pk))
    assert event.payload["purchase_order_id"] == po.pk
    assert event.payload["number"] == po.number
    assert (event.payload["bill"]["bill_id"], event.payload["bill"]["status"]) == (bill.pk, "partially_paid")
    announced = event.payload["payment"]
    assert (announced["supplier_payment_id"], Decimal(announced["amount"])) == (payment.pk, Decimal("12.50"))
    assert (announced["method"], announced["reference"]) == ("bank transfer", "TRF-9")
