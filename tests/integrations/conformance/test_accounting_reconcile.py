"""The conformance kit's accounting reconciliation part: every record the hub pushed to the books
exists there with our values (``Connector.read_back``), and what drifted is found, named and
healed by pushing our values again.

A record deleted in the tool is "missing_there" and is pushed again as new (the ref follows the
tool's new id); one changed there is "value_mismatch" and is pushed again over the tool's copy
(whose version moved on with the change); a run counts its drifts per kind.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from erp.exceptions import ValidationFailed
from integrations import reconcile
from integrations.contract import Capability
from integrations.models import Drift, DriftStatus, ExternalRef
from sales.services import customer_update, payment_record
from tests.sales.factories import CustomerFactory

PART = frozenset({Capability.CUSTOMERS_OUT, Capability.INVOICES_OUT})


def _ref(kit, object_type: str, obj) -> ExternalRef:
    return ExternalRef.objects.get(connection=kit.connection, object_type=object_type, object_id=obj.pk)


def _there(kit, kind: str, record_id: str) -> dict:
    [found] = [r for r in kit.harness.records(kind) if r["id"] == record_id]
    return found


def test_records_as_pushed_are_in_sync(books_kit):
    kit = books_kit
    kit.invoice(CustomerFactory(name="Ada Lovelace Ltd", email="ada@example.com"))

    for object_type in ("customer", "invoice"):
        run = reconcile.reconcile(connection=kit.connection, object_type=object_type)

        assert (run.status, run.created, run.skipped) == ("succeeded", 0, 1)
        assert run.errors == []
    assert not Drift.objects.exists()


def test_an_invoice_deleted_in_the_tool_is_missing_there_and_pushed_again(books_kit):
    kit = books_kit
    customer = CustomerFactory(name="Grace Hopper Inc")
    invoice = kit.invoice(customer)
    gone = _ref(kit, "invoice", invoice).external_id
    kit.harness.delete_in_tool("invoice", gone)

    run = reconcile.reconcile(connection=kit.connection, object_type="invoice")

    drift = Drift.objects.get()
    assert (drift.object_type, drift.kind, drift.external_id, drift.label, drift.healable) == (
        "invoice",
        "missing_there",
        gone,
        invoice.number,
        True,
    )
    assert f"total: {invoice.total.quantize(Decimal('0.01'))}" in drift.hub_value
    assert drift.tool_value == ""
    assert run.created == 1
    assert run.errors == [
        {"level": "info", "message": "1 drift: 1 missing_there.", "drifts": {"missing_there": 1}}
    ]

    # healed: pushed again as a new invoice, our ref following the tool's new id
    healed = reconcile.drift_heal(drift=drift)

    assert healed.status == DriftStatus.HEALED
    now = _ref(kit, "invoice", invoice).external_id
    assert now != gone
    there = _there(kit, "invoice", now)
    assert there["name"] == invoice.number
    assert Decimal(there["total"]) == invoice.total
    assert there["customer"] == _ref(kit, "customer", customer).external_id
    again = reconcile.reconcile(connection=kit.connection, object_type="invoice")
    assert (again.created, again.skipped) == (0, 1)


def test_an_invoice_changed_in_the_tool_is_a_value_mismatch_and_gets_our_values_again(books_kit):
    kit = books_kit
    invoice = kit.invoice(CustomerFactory(name="Katherine Johnson"))
    tool_id = _ref(kit, "invoice", invoice).external_id
    kit.harness.change_in_tool("invoice", tool_id, total="1.00")

    reconcile.reconcile(connection=kit.connection, object_type="invoice")

    drift = Drift.objects.get()
    assert (drift.kind, drift.healable) == ("value_mismatch", True)
    assert drift.hub_value == f"total: {invoice.total.quantize(Decimal('0.01'))}"
    assert drift.tool_value == "total: 1.00"

    reconcile.drift_heal(drift=drift)

    assert Decimal(_there(kit, "invoice", tool_id)["total"]) == invoice.total
    assert _ref(kit, "invoice", invoice).external_id == tool_id  # updated, not made again
    assert [r["name"] for r in kit.harness.records("invoice")] == [invoice.number]


def test_a_customer_changed_in_the_tool_is_healed_at_once_when_asked(books_kit):
    kit = books_kit
    customer = CustomerFactory(name="Mary Jackson", email="mary@example.com")
    kit.run(customer_update, customer=customer, phone="+1 555 0100")  # pushed: in the books
    tool_id = _ref(kit, "customer", customer).external_id
    kit.harness.change_in_tool("customer", tool_id, email="someone.else@example.com")

    run = reconcile.reconcile(connection=kit.connection, object_type="customer", heal=True)

    drift = Drift.objects.get()
    assert (drift.kind, drift.status) == ("value_mismatch", DriftStatus.HEALED)
    assert (drift.hub_value, drift.tool_value) == (
        "email: mary@example.com",
        "email: someone.else@example.com",
    )
    assert run.errors[-1] == {"level": "info", "message": "Healed 1 drift(s)."}
    assert _there(kit, "customer", tool_id)["email"] == "mary@example.com"


def test_a_run_counts_its_drifts_per_kind(books_kit):
    kit = books_kit
    customer = CustomerFactory(name="Dorothy Vaughan")
    invoices = [kit.invoice(customer, quantity=q) for q in (1, 2, 3)]
    ids = [_ref(kit, "invoice", i).external_id for i in invoices]
    kit.harness.delete_in_tool("invoice", ids[0])
    kit.harness.delete_in_tool("invoice", ids[1])
    kit.harness.change_in_tool("invoice", ids[2], total="0.01")

    run = reconcile.reconcile(connection=kit.connection, object_type="invoice")

    assert run.errors == [
        {
            "level": "info",
            "message": "3 drifts: 2 missing_there, 1 value_mismatch.",
            "drifts": {"missing_there": 2, "value_mismatch": 1},
        }
    ]
    assert (run.created, run.skipped) == (3, 0)


def test_a_payment_changed_in_the_tool_is_for_a_person(books_kit):
    kit = books_kit
    if Capability.PAYMENTS_OUT not in kit.harness.connector.capabilities:
        pytest.skip(f"{kit.harness.connector.name} takes no payments")
    invoice = kit.invoice(CustomerFactory(name="Annie Easley"))
    payment = kit.run(payment_record, invoice=invoice, amount=invoice.total, method="card")
    tool_id = _ref(kit, "payment", payment).external_id
    kit.harness.change_in_tool("payment", tool_id, total="2.00")

    reconcile.reconcile(connection=kit.connection, object_type="payment", heal=True)

    drift = Drift.objects.get()
    # pushed again, the money would be recorded twice: a person looks at it
    assert (drift.kind, drift.healable, drift.status) == ("value_mismatch", False, DriftStatus.OPEN)
    assert drift.tool_value == "amount: 2.00"
    with pytest.raises(ValidationFailed, match="cannot be healed"):
        reconcile.drift_heal(drift=drift)
    assert kit.harness.creates("payment") == 1
