"""The conformance kit's accounting part: every connector that keeps the books (customers and
invoices out), against its own fake.

An invoice reaches the books after its customer and items, once, whatever answer is lost; a record
changed in the tool since we read it is read again and our update retried; a customer the tool has
already is linked, not duplicated; payments follow their invoices, and a payment recorded in the
tool (where the connector takes payments in) marks the invoice paid here, once.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.utils import timezone

from integrations import outbound
from integrations.contract import Capability
from integrations.models import Delivery, DeliveryStatus, ExternalRef, InboundEvent
from sales.models import InvoiceStatus, Payment
from sales.services import customer_update, payment_record
from tests.sales.factories import CustomerFactory

PART = frozenset({Capability.CUSTOMERS_OUT, Capability.INVOICES_OUT})


def _ref(kit, object_type: str, obj) -> ExternalRef:
    return ExternalRef.objects.get(connection=kit.connection, object_type=object_type, object_id=obj.pk)


def test_an_invoice_reaches_the_books_after_its_customer_and_items(books_kit):
    kit = books_kit
    customer = CustomerFactory(name="Ada Lovelace Ltd", email="ada@example.com")

    invoice = kit.invoice(customer)

    [there_customer] = kit.harness.records("customer")
    [there_invoice] = kit.harness.records("invoice")
    assert there_customer["name"] == "Ada Lovelace Ltd"
    assert there_invoice["name"] == invoice.number
    assert there_invoice["customer"] == there_customer["id"]
    assert Decimal(there_invoice["total"]) == invoice.total
    assert _ref(kit, "invoice", invoice).external_id == there_invoice["id"]
    if Capability.ITEMS_OUT in kit.harness.connector.capabilities:
        assert [i["name"] for i in kit.harness.records("item")] == [kit.product.sku]
    invoice_delivery = kit.deliveries("sales.invoice_issued")[0]
    assert (invoice_delivery.status, invoice_delivery.blocked_on_id) == (DeliveryStatus.SUCCEEDED, None)


def test_a_lost_answer_makes_no_second_invoice(books_kit):
    kit = books_kit
    customer = CustomerFactory(name="Grace Hopper Inc")
    kit.invoice(customer, quantity=1)  # the customer and the item are in the books now
    kit.harness.lose_next_answer()

    invoice = kit.invoice(customer, quantity=3)

    [delivery] = [d for d in kit.deliveries("sales.invoice_issued") if d.status != DeliveryStatus.SUCCEEDED]
    assert delivery.status == DeliveryStatus.FAILED
    Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
    with kit.capture(execute=True):
        outbound.delivery_attempt(delivery.pk)

    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SUCCEEDED
    numbers = [r["name"] for r in kit.harness.records("invoice")]
    assert numbers.count(invoice.number) == 1
    assert kit.harness.creates("invoice") == 3  # the first invoice, and the second one twice


def test_a_record_changed_in_the_tool_is_read_again_and_our_update_retried(books_kit):
    kit = books_kit
    customer = CustomerFactory(name="Katherine Johnson", email="kj@example.com")
    kit.run(customer_update, customer=customer, phone="+1 555 0100")  # pushed: created in the books
    ref = _ref(kit, "customer", customer)
    kit.harness.edit_in_tool("customer", ref.external_id)  # the version we hold goes stale

    kit.run(customer_update, customer=customer, email="katherine@example.com")

    latest = kit.deliveries()[-1]
    assert latest.last_error == ""
    assert (latest.status, latest.attempts) == (DeliveryStatus.SUCCEEDED, 1)
    [there] = kit.harness.records("customer")
    assert there["email"] == "katherine@example.com"
    ref.refresh_from_db()
    assert ref.external_version not in ("", "0")  # the version the tool gave the retried update


def test_a_customer_the_tool_already_has_is_linked_not_duplicated(books_kit):
    kit = books_kit
    existing = kit.harness.existing_customer("Mary Jackson")
    customer = CustomerFactory(name="Mary Jackson")

    kit.invoice(customer)

    assert [c["id"] for c in kit.harness.records("customer")] == [existing]
    assert _ref(kit, "customer", customer).external_id == existing
    [invoice] = kit.harness.records("invoice")
    assert invoice["customer"] == existing


def test_a_payment_here_reaches_the_books_after_its_invoice(books_kit):
    kit = books_kit
    customer = CustomerFactory(name="Dorothy Vaughan")
    invoice = kit.invoice(customer)

    kit.run(payment_record, invoice=invoice, amount=invoice.total, method="card")

    [there] = kit.harness.records("payment")
    assert there["document"] == _ref(kit, "invoice", invoice).external_id
    assert Decimal(there["total"]) == invoice.total


def test_a_payment_recorded_in_the_tool_marks_the_invoice_paid_here_once(books_kit):
    kit = books_kit
    if Capability.PAYMENTS_IN not in kit.harness.connector.capabilities:
        pytest.skip(f"{kit.harness.connector.name} does not take payments in")
    customer = CustomerFactory(name="Annie Easley")
    invoice = kit.invoice(customer)
    tool_invoice = _ref(kit, "invoice", invoice).external_id
    notice = kit.harness.payment_webhook(tool_invoice, str(invoice.total))

    forged = kit.post(*kit.harness.forged(tool_invoice, "1.00"))
    first, again = kit.post(*notice), kit.post(*notice)

    assert (forged.status_code, first.status_code, again.status_code) == (401, 200, 200)
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PAID
    assert Payment.objects.filter(invoice=invoice).count() == 1
    assert InboundEvent.objects.filter(connection=kit.connection).count() == 1
    # the payment the tool recorded is not pushed back to it
    assert kit.harness.creates("payment") == 0
