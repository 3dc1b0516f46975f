"""The conformance kit's bills part: every connector that keeps the books of what is bought (vendors
and supplier bills out), against its own fake.

A bill reaches the books once it is accepted (matched by the three-way match, or approved after a
person reviewed it), after its vendor (and its items, where the tool takes them), once; a supplier
changed here updates its vendor there; a vendor the tool has already (by name) is linked, not
duplicated.

Besides ``AccountingHarness`` the part uses the harness's ``records("vendor")`` and
``records("bill")`` (a bill's ``vendor``, ``number`` and ``total``) and ``existing_vendor(name)``.
"""

from __future__ import annotations

from decimal import Decimal

from erp import events
from integrations.contract import Capability
from integrations.models import DeliveryStatus, ExternalRef
from procurement.models import BillStatus
from procurement.services import bill_approve, supplier_update
from procurement.services.bills import bill_payload
from procurement.services.orders import po_payload
from tests.procurement.factories import SupplierFactory

PART = frozenset({Capability.VENDORS_OUT, Capability.BILLS_OUT})


def _ref(kit, object_type: str, obj) -> ExternalRef:
    return ExternalRef.objects.get(connection=kit.connection, object_type=object_type, object_id=obj.pk)


def test_an_accepted_bill_reaches_the_books_after_its_vendor_once(bills_kit):
    kit = bills_kit
    supplier = SupplierFactory(name="Acme Fasteners")  # not in the books yet

    bill = kit.bill(supplier, quantity=4, cost="5.00")

    assert bill.status == BillStatus.OPEN
    [vendor] = kit.harness.records("vendor")
    [there] = kit.harness.records("bill")
    assert vendor["name"] == "Acme Fasteners"
    assert (there["vendor"], there["number"]) == (vendor["id"], bill.number)
    assert Decimal(there["total"]) == bill.total == Decimal("20.00")
    assert _ref(kit, "vendor", supplier).external_id == vendor["id"]
    assert _ref(kit, "bill", bill).external_id == there["id"]
    if Capability.ITEMS_OUT in kit.harness.connector.capabilities:
        assert [i["name"] for i in kit.harness.records("item")] == [kit.product.sku]
    [delivery] = kit.deliveries("procurement.bill_recorded")
    assert (delivery.status, delivery.blocked_on_id) == (DeliveryStatus.SUCCEEDED, None)

    # announced again (a replayed event): the books have it as it is, nothing is sent
    order = bill.order
    kit.run(
        events.emit,
        topic="procurement.bill_recorded",
        aggregate=order,
        payload=po_payload(order, bill=bill_payload(bill)),
    )

    again = kit.deliveries("procurement.bill_recorded")[-1]
    assert again.status == DeliveryStatus.SKIPPED
    assert "as it is already" in again.last_error
    assert kit.harness.creates("bill") == 1
    assert len(kit.harness.records("bill")) == 1


def test_a_bill_needing_review_goes_to_the_books_only_once_approved(bills_kit):
    kit = bills_kit
    supplier = SupplierFactory(name="Bolt Brothers")

    bill = kit.bill(supplier, quantity=2, cost="5.00", billed_at="6.50")  # not the ordered price

    assert bill.status == BillStatus.NEEDS_REVIEW
    [recorded] = kit.deliveries("procurement.bill_recorded")
    assert recorded.status == DeliveryStatus.SKIPPED
    assert "needs review" in recorded.last_error
    assert kit.harness.records("bill") == []
    assert kit.harness.records("vendor") == []  # nothing asked for it yet

    kit.run(bill_approve, bill=bill, note="new price agreed")

    [approved] = kit.deliveries("procurement.bill_approved")
    assert approved.status == DeliveryStatus.SUCCEEDED
    [vendor] = kit.harness.records("vendor")
    [there] = kit.harness.records("bill")
    assert (there["vendor"], there["number"]) == (vendor["id"], bill.number)
    assert Decimal(there["total"]) == Decimal("13.00")


def test_a_supplier_changed_here_updates_its_vendor_in_the_books(bills_kit):
    kit = bills_kit
    supplier = SupplierFactory(name="Cog & Co", email="orders@cog.example")
    kit.bill(supplier)  # the vendor is in the books now
    vendor_id = _ref(kit, "vendor", supplier).external_id

    kit.run(supplier_update, supplier=supplier, email="sales@cog.example")

    [vendor] = kit.harness.records("vendor")
    assert (vendor["id"], vendor["email"]) == (vendor_id, "sales@cog.example")
    assert kit.harness.creates("vendor") == 1
    [update] = kit.deliveries("procurement.supplier_updated")[-1:]
    assert update.status == DeliveryStatus.SUCCEEDED


def test_a_vendor_the_tool_already_has_is_linked_not_duplicated(bills_kit):
    kit = bills_kit
    existing = kit.harness.existing_vendor("Dowel Depot")
    supplier = SupplierFactory(name="Dowel Depot")

    kit.bill(supplier)

    assert [v["id"] for v in kit.harness.records("vendor")] == [existing]
    assert _ref(kit, "vendor", supplier).external_id == existing
    [there] = kit.harness.records("bill")
    assert there["vendor"] == existing
