"""QuickBooks' side back, through the hub and against the fake QuickBooks: what an accountant does
there to what the hub pushed. A void or a delete there never changes our books (its webhook, in
either format, or CDC with no webhook, is skipped); reconciliation finds it as a drift for a person
("voided_there", "missing_there"), who voids ours too or pushes ours again. A memo edited there is
no drift, an amount edited there is a value_mismatch. Bills, refund checks and bill payments read
back; open balances agree per customer after a payment recorded there, and a balance moved behind
our back is one balance_mismatch with both figures."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from integrations import polling, reconcile, registry
from integrations.models import (
    Drift,
    DriftStatus,
    InboundEvent,
    InboundStatus,
    ValueMapping,
)
from integrations.quickbooks.fake import FakeQuickBooks
from integrations.quickbooks.fake_data import AR_ACCOUNT_ID, BANK_ACCOUNT_ID
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
from sales.models import Invoice, InvoiceStatus
from sales.services import invoice_create, invoice_issue, invoice_void, order_confirm, payment_record
from tests.integrations.quickbooks.conftest import ref
from tests.inventory.factories import warehouse
from tests.procurement.factories import SupplierFactory
from tests.sales.factories import ChannelFactory, CustomerFactory, order_for, stocked_product

pytestmark = pytest.mark.django_db

HOOK = "https://erp.test/integrations/hooks/app/quickbooks/"


class Books:
    """Our side: a shop that invoices what it sells and buys what it stocks, every event pushed to
    QuickBooks as it commits."""

    def __init__(self, capture) -> None:
        self.capture = capture
        self.warehouse = warehouse("WH1")
        self.channel = ChannelFactory(warehouse=self.warehouse, invoice_policy="ordered")
        self.product = stocked_product(10, wh=self.warehouse, price="10.00", sku="MUG-1", name="Mug")

    def run(self, fn, **kwargs):
        with self.capture(execute=True):
            return fn(**kwargs)

    def invoice(self, customer, quantity: int = 2) -> Invoice:
        order = self.run(
            order_confirm, order=order_for((self.product, quantity), channel=self.channel, customer=customer)
        )
        return self.run(invoice_issue, invoice=invoice_create(order=order))

    def bill(self, supplier, quantity: int = 4, cost: str = "5.00"):
        po = po_send(
            po=po_create(
                supplier=supplier,
                warehouse=self.warehouse,
                lines=[POLineSpec(self.product, quantity, unit_cost=cost)],
            )
        )
        line = po.lines.get()
        receipt_create(po=po, lines=[ReceiveLine(line, quantity)])
        return self.run(
            bill_record,
            po=po,
            supplier_reference=f"SUP-{po.number}",
            lines=[BillLineSpec(line, quantity, cost)],
        )


@pytest.fixture
def books(django_capture_on_commit_callbacks) -> Books:
    return Books(django_capture_on_commit_callbacks)


def deliver(fake: FakeQuickBooks, client: Client, books: Books) -> list[bytes]:
    """Every webhook the fake has queued, posted to the hub's app address as QuickBooks would."""
    sent: list[bytes] = []

    def post(url: str, headers: dict[str, str], body: bytes) -> int:
        sent.append(body)
        with books.capture(execute=True):
            return client.post(
                reverse("integrations:hook-app", args=["quickbooks"]),
                data=body,
                content_type=headers["Content-Type"],
                headers={k: v for k, v in headers.items() if k.lower() != "content-type"},
            ).status_code

    fake.deliver_webhooks(post)
    return sent


def the_drift(**match: Any) -> Drift:
    [drift] = Drift.objects.filter(**match)
    return drift


# --- voided or deleted there -------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["legacy", "cloudevents"])
def test_an_invoice_voided_in_quickbooks_is_a_drift_for_a_person_and_ours_stands(
    connection, fake, books, client, fmt
) -> None:
    invoice = books.invoice(CustomerFactory(name="Annie Easley"))
    there = ref(connection, "invoice", invoice).external_id
    fake.set_webhook_endpoint(HOOK, webhook_format=fmt)

    fake.void_invoice_in_qbo(there)
    [body] = deliver(fake, client, books)

    assert isinstance(json.loads(body), list) == (fmt == "cloudevents")
    [event] = InboundEvent.objects.filter(connection=connection, topic="Invoice.Void")
    assert event.status == InboundStatus.SKIPPED
    invoice.refresh_from_db()
    assert (invoice.status, invoice.amount_paid) == (InvoiceStatus.ISSUED, 0)

    run = reconcile.reconcile(connection=connection, object_type="invoice", heal=True)

    drift = the_drift(connection=connection)
    assert (drift.object_type, drift.kind, drift.external_id, drift.label) == (
        "invoice",
        "voided_there",
        there,
        invoice.number,
    )
    assert (drift.status, drift.healable, drift.tool_value) == (DriftStatus.OPEN, True, "voided")
    assert f"total: {invoice.total:.2f}" in drift.hub_value
    assert run.errors == [
        {"level": "info", "message": "1 drift: 1 voided_there.", "drifts": {"voided_there": 1}}
    ]
    assert len(fake.requests_to("POST invoice")) == 1  # asked to heal, the run left it to a person
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.ISSUED


def test_with_no_webhook_cdc_leaves_ours_and_reconciliation_finds_the_void(connection, fake, books) -> None:
    invoice = books.invoice(CustomerFactory(name="Katherine Johnson"))
    there = ref(connection, "invoice", invoice).external_id
    fake.void_invoice_in_qbo(there)  # no webhook endpoint: nothing is sent

    with books.capture(execute=True):
        poll = polling.poll(connection=connection, object_type="payment")
    run = reconcile.reconcile(connection=connection, object_type="invoice")

    assert (poll.failed, run.created) == (0, 1)
    assert the_drift(connection=connection).kind == "voided_there"
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.ISSUED


def test_voiding_ours_too_resolves_the_drift(connection, fake, books) -> None:
    invoice = books.invoice(CustomerFactory(name="Dorothy Vaughan"))
    there = ref(connection, "invoice", invoice).external_id
    fake.void_invoice_in_qbo(there)
    reconcile.reconcile(connection=connection, object_type="invoice")

    books.run(invoice_void, invoice=invoice)  # the person's call: ours is void too (pushed there)
    again = reconcile.reconcile(connection=connection, object_type="invoice")

    assert (again.created, again.skipped) == (0, 1)  # voided on both sides: in sync
    assert the_drift(connection=connection).status == DriftStatus.RESOLVED
    assert [i["Id"] for i in fake.objects("Invoice")] == [there]


def test_pushing_ours_again_makes_a_new_invoice_there(connection, fake, books) -> None:
    fake.company().refuse_duplicate_doc_numbers = False  # the company lets a number be used again
    invoice = books.invoice(CustomerFactory(name="Mary Jackson"))
    voided = ref(connection, "invoice", invoice).external_id
    fake.void_invoice_in_qbo(voided)
    reconcile.reconcile(connection=connection, object_type="invoice")

    healed = reconcile.drift_heal(drift=the_drift(connection=connection))

    assert healed.status == DriftStatus.HEALED
    now = ref(connection, "invoice", invoice).external_id
    assert now != voided
    assert Decimal(str(fake.get("Invoice", now)["TotalAmt"])) == invoice.total
    assert reconcile.reconcile(connection=connection, object_type="invoice").skipped == 1


def test_an_invoice_deleted_there_is_missing_there_and_its_webhook_changes_nothing(
    connection, fake, books, client
) -> None:
    invoice = books.invoice(CustomerFactory(name="Grace Hopper Inc"))
    gone = ref(connection, "invoice", invoice).external_id
    fake.set_webhook_endpoint(HOOK, webhook_format="cloudevents")

    fake.delete_in_qbo("Invoice", gone)
    deliver(fake, client, books)
    reconcile.reconcile(connection=connection, object_type="invoice")

    assert (
        InboundEvent.objects.get(connection=connection, topic="Invoice.Delete").status
        == InboundStatus.SKIPPED
    )
    drift = the_drift(connection=connection)
    assert (drift.kind, drift.external_id, drift.status) == ("missing_there", gone, DriftStatus.OPEN)
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.ISSUED


def test_a_payment_voided_there_is_a_drift_and_our_invoice_stays_paid(
    connection, fake, books, client
) -> None:
    customer = CustomerFactory(name="Hedy Lamarr")
    invoice = books.invoice(customer)
    payment = books.run(payment_record, invoice=invoice, amount=invoice.total, method="card")
    there = ref(connection, "payment", payment).external_id
    fake.set_webhook_endpoint(HOOK, webhook_format="legacy")

    fake.void_in_qbo("Payment", there)
    deliver(fake, client, books)
    payments = reconcile.reconcile(connection=connection, object_type="payment", heal=True)
    balances = reconcile.reconcile(connection=connection, object_type="customer_balance")

    invoice.refresh_from_db()
    assert (invoice.status, invoice.amount_paid) == (InvoiceStatus.PAID, invoice.total)
    assert (payments.created, balances.created) == (1, 1)
    voided = the_drift(connection=connection, object_type="payment")
    assert (voided.kind, voided.external_id, voided.status) == ("voided_there", there, DriftStatus.OPEN)
    owed = the_drift(connection=connection, object_type="customer_balance")
    assert (owed.kind, owed.label, owed.hub_value, owed.tool_value) == (
        "balance_mismatch",
        "Hedy Lamarr",
        "0.00",
        f"{invoice.total:.2f}",
    )


# --- edited there ------------------------------------------------------------------------------


def test_a_memo_edited_there_is_no_drift_and_an_amount_edited_there_is_a_value_mismatch(
    connection, fake, books
) -> None:
    invoice = books.invoice(CustomerFactory(name="Ada Lovelace Ltd"), quantity=2)
    there = ref(connection, "invoice", invoice).external_id

    fake.edit_invoice_in_qbo(there, PrivateNote="Voided? No: customer asked for a copy")
    memo = reconcile.reconcile(connection=connection, object_type="invoice")

    assert (memo.created, memo.skipped) == (0, 1)
    lines = [
        dict(line)
        for line in fake.get("Invoice", there)["Line"]
        if line["DetailType"] != "SubTotalLineDetail"
    ]
    lines[0]["Amount"], lines[0]["SalesItemLineDetail"]["Qty"] = 30.0, 3
    fake.edit_invoice_in_qbo(there, Line=lines)

    reconcile.reconcile(connection=connection, object_type="invoice")

    drift = the_drift(connection=connection)
    assert (drift.kind, drift.healable) == ("value_mismatch", True)
    assert (drift.hub_value, drift.tool_value) == (f"total: {invoice.total:.2f}", "total: 30.00")
    reconcile.drift_heal(drift=drift)
    assert Decimal(str(fake.get("Invoice", there)["TotalAmt"])) == invoice.total


# --- bills, refund checks, bill payments -------------------------------------------------------


def test_a_bill_pushed_is_reconciled_and_one_deleted_there_is_missing_there(connection, fake, books) -> None:
    bill = books.bill(SupplierFactory(name="Acme Mugs"))
    there = ref(connection, "bill", bill).external_id

    in_sync = reconcile.reconcile(connection=connection, object_type="bill")
    payables = reconcile.reconcile(connection=connection, object_type="vendor_balance")
    fake.delete_in_qbo("Bill", there)
    gone = reconcile.reconcile(connection=connection, object_type="bill")

    assert (in_sync.created, in_sync.skipped, payables.created, payables.skipped) == (0, 1, 0, 1)
    drift = the_drift(connection=connection, object_type="bill")
    assert (drift.kind, drift.label, gone.created) == ("missing_there", bill.number, 1)
    assert f"total: {bill.total:.2f}" in drift.hub_value


def test_a_bill_payment_pushed_is_in_sync_until_voided_there(connection, fake, books) -> None:
    ValueMapping.objects.create(
        connection=connection, kind="account", our_value="bank", tool_value=BANK_ACCOUNT_ID
    )
    bill = books.bill(SupplierFactory(name="Acme Mugs"))
    payment = books.run(supplier_payment_record, bill=bill, amount="8.00", method="bank transfer")
    there = ref(connection, "bill_payment", payment).external_id

    in_sync = reconcile.reconcile(connection=connection, object_type="bill_payment")
    fake.void_in_qbo("BillPayment", there)
    voided = reconcile.reconcile(connection=connection, object_type="bill_payment", heal=True)

    assert (in_sync.created, in_sync.skipped, voided.created) == (0, 1, 1)
    drift = the_drift(connection=connection)
    assert (drift.kind, drift.status, drift.label) == (
        "voided_there",
        DriftStatus.OPEN,
        f"supplier-payment-{payment.pk} ({bill.number})",
    )
    assert drift.hub_value == f"amount: 8.00; bill_external_id: {ref(connection, 'bill', bill).external_id}"
    assert len(fake.objects("BillPayment")) == 1  # left to a person: never pushed again by the run


def test_bills_refund_checks_and_bill_payments_read_back_in_our_words(connection, fake) -> None:
    vendor = fake.create_in_qbo("Vendor", {"DisplayName": "Acme Mugs"})["Id"]
    account_line = {
        "DetailType": "AccountBasedExpenseLineDetail",
        "Amount": 20.0,
        "AccountBasedExpenseLineDetail": {"AccountRef": {"value": "80"}},
    }
    bill = fake.create_in_qbo("Bill", {"VendorRef": {"value": vendor}, "Line": [account_line]})["Id"]
    paid = fake.create_in_qbo(
        "BillPayment",
        {
            "VendorRef": {"value": vendor},
            "PayType": "Check",
            "CheckPayment": {"BankAccountRef": {"value": BANK_ACCOUNT_ID}},
            "TotalAmt": 12.5,
            "Line": [{"Amount": 12.5, "LinkedTxn": [{"TxnId": bill, "TxnType": "Bill"}]}],
        },
    )["Id"]
    customer = fake.create_in_qbo("Customer", {"DisplayName": "Jane Buyer"})["Id"]
    refund_line = {
        **account_line,
        "Amount": 7.25,
        "AccountBasedExpenseLineDetail": {"AccountRef": {"value": AR_ACCOUNT_ID}},
    }
    check = fake.create_in_qbo(
        "Purchase",
        {
            "PaymentType": "Check",
            "AccountRef": {"value": BANK_ACCOUNT_ID},
            "EntityRef": {"value": customer, "type": "Customer"},
            "Line": [refund_line],
        },
    )["Id"]
    connector = registry.connector_for(connection)

    assert connector.read_back("bill", [bill, "999"]) == {
        bill: {"total": "20.00", "vendor_external_id": vendor, "voided": "false"},
        "999": None,
    }
    assert connector.read_back("bill_payment", [paid]) == {
        paid: {"amount": "12.50", "bill_external_id": bill, "voided": "false"}
    }
    assert connector.read_back("refund", [check]) == {check: {"amount": "7.25", "voided": "false"}}
    assert connector.read_back("vendor_balance", [vendor]) == {vendor: {"balance": "7.50"}}
    fake.void_in_qbo("BillPayment", paid)
    assert connector.read_back("bill_payment", [paid])[paid]["voided"] == "true"
    assert len(fake.requests_to("POST query")) == 5  # a query per read-back, never one per record


# --- open balances -----------------------------------------------------------------------------


def test_open_balances_agree_after_a_payment_there_and_one_moved_behind_our_back_is_a_drift(
    connection, fake, books, client
) -> None:
    customer = CustomerFactory(name="Radia Perlman")
    paid, still_open = books.invoice(customer, quantity=1), books.invoice(customer, quantity=3)
    fake.set_webhook_endpoint(HOOK, entities={"Payment"}, webhook_format="cloudevents")
    fake.record_payment_in_qbo(ref(connection, "invoice", paid).external_id)
    deliver(fake, client, books)
    paid.refresh_from_db()
    assert paid.status == InvoiceStatus.PAID

    agree = reconcile.reconcile(connection=connection, object_type="customer_balance")

    assert (agree.created, agree.skipped, agree.errors) == (0, 1, [])
    their_customer = ref(connection, "customer", customer).external_id
    fake.create_in_qbo(  # an invoice someone made in QuickBooks: what the customer owes there moves
        "Invoice",
        {
            "CustomerRef": {"value": their_customer},
            "Line": [
                {
                    "DetailType": "SalesItemLineDetail",
                    "Amount": 4.0,
                    "SalesItemLineDetail": {
                        "ItemRef": {"value": "SHIPPING_ITEM_ID"},
                        "TaxCodeRef": {"value": "NON"},
                    },
                }
            ],
        },
    )

    differ = reconcile.reconcile(connection=connection, object_type="customer_balance", heal=True)

    drift = the_drift(connection=connection)
    ours = still_open.total
    assert (drift.object_type, drift.kind, drift.external_id, drift.healable) == (
        "customer_balance",
        "balance_mismatch",
        their_customer,
        False,
    )
    assert (drift.hub_value, drift.tool_value) == (f"{ours:.2f}", f"{ours + 4:.2f}")
    assert differ.errors == [
        {"level": "info", "message": "1 drift: 1 balance_mismatch.", "drifts": {"balance_mismatch": 1}}
    ]
    [query] = [r for r in fake.requests_to("POST query") if b"Balance" in r.body][-1:]
    assert query.body.decode().startswith("select Id, Balance from Customer where Active in (true, false)")


def test_reconciling_invoices_reads_ours_in_a_constant_number_of_queries(connection, fake, books) -> None:
    from tests.queries import assert_constant_queries

    customer = CustomerFactory(name="Grace Hopper Inc")
    books.invoice(customer)

    assert_constant_queries(
        lambda: reconcile.reconcile(connection=connection, object_type="invoice"),
        lambda: [books.invoice(customer) for _ in range(3)],
    )
    assert not Drift.objects.filter(connection=connection)
