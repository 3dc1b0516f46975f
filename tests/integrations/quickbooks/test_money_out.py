"""Money out to QuickBooks through the hub, against the fake QuickBooks: a refund of a returned
order as Intuit's guide makes one (a check on A/R and a payment that uses the credit memo up), once
whatever answer is lost; a supplier payment as a BillPayment after its bill; an invoice's terms and
its class or location; the account roles undeposited funds, discount and credit card."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest
from django.utils import timezone

from integrations import mappings, outbound, reconcile, registry
from integrations.connections import connection_create
from integrations.contract import PushContext
from integrations.models import Connection, Delivery, DeliveryStatus, Drift, ValueMapping
from integrations.quickbooks.fake import FakeQuickBooks
from integrations.quickbooks.fake_data import (
    AR_ACCOUNT_ID,
    BANK_ACCOUNT_ID,
    CREDIT_CARD_ACCOUNT_ID,
    UNDEPOSITED_FUNDS_ID,
)
from integrations.records import DocumentLineOut, InvoiceOut
from procurement.models import Bill
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
from sales.models import Customer, Invoice, Refund, SalesOrder
from sales.services import (
    ReturnLineSpec,
    invoice_create,
    invoice_issue,
    order_confirm,
    payment_record,
    refund_record,
    return_create,
    return_receive,
    shipment_create,
)
from tests.integrations.quickbooks.conftest import SECRETS, SETTINGS, ref
from tests.inventory.factories import warehouse
from tests.procurement.factories import SupplierFactory
from tests.sales.factories import ChannelFactory, CustomerFactory, order_for, stocked_product

pytestmark = pytest.mark.django_db
DISCOUNTS_ACCOUNT_ID = "85"  # the seeded "Discounts given"


def books(**settings: Any) -> Connection:
    return connection_create(
        connector="quickbooks", name="Books", settings={**SETTINGS, **settings}, secrets=SECRETS
    )


class Shop:
    """A channel invoicing what is ordered, a product in stock, and the hub's deliveries run."""

    def __init__(self, capture) -> None:
        self.capture = capture
        self.warehouse = warehouse("WH1")
        self.channel = ChannelFactory(code="web", warehouse=self.warehouse, invoice_policy="ordered")
        self.product = stocked_product(10, wh=self.warehouse, price="10.00", sku="MUG-1", name="Mug")

    def run(self, fn, **kwargs):
        with self.capture(execute=True):
            return fn(**kwargs)

    def sale(self, customer: Customer, quantity: int = 2) -> tuple[SalesOrder, Invoice]:
        """An order confirmed, invoiced, paid by card and shipped."""
        order = self.run(
            order_confirm, order=order_for((self.product, quantity), channel=self.channel, customer=customer)
        )
        invoice = self.run(invoice_issue, invoice=invoice_create(order=order))
        self.run(payment_record, invoice=invoice, amount=invoice.total, method="card")
        self.run(shipment_create, order=order)
        return order, invoice

    def refund(self, order: SalesOrder, method: str = "bank transfer") -> Refund:
        """The whole order comes back; its credit note is refunded."""
        rma = self.run(return_create, order=order, lines=[ReturnLineSpec(order.lines.get(), 2)])
        rma = self.run(return_receive, sales_return=rma)
        return self.run(refund_record, sales_return=rma, method=method)

    def bill(self, quantity: int = 4, cost: str = "5.00", tax_rate: str = "0") -> Bill:
        supplier = SupplierFactory(name="Acme Mugs")
        po = po_send(
            po=po_create(
                supplier=supplier,
                warehouse=self.warehouse,
                lines=[POLineSpec(self.product, quantity, cost, tax_rate=tax_rate)],
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
def shop(django_capture_on_commit_callbacks) -> Shop:
    return Shop(django_capture_on_commit_callbacks)


def account_role(connection: Connection, role: str, account: str) -> None:
    """A role mapped as the Mappings tab would (roles the hub's fixed list does not offer yet too)."""
    ValueMapping.objects.create(connection=connection, kind="account", our_value=role, tool_value=account)


def requestid(request) -> str:
    return str(httpx.URL(request.url).params["requestid"])


def retry(shop: Shop, delivery: Delivery) -> Delivery:
    Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
    with shop.capture(execute=True):
        outbound.delivery_attempt(delivery.pk)
    delivery.refresh_from_db()
    return delivery


def applying(fake: FakeQuickBooks) -> list[dict[str, Any]]:
    """The payments of nothing that use a credit memo up against a check."""
    return [p for p in fake.objects("Payment") if p["TotalAmt"] == 0]


# --- refunds -------------------------------------------------------------------------------------


def test_a_refund_of_a_returned_order_is_a_check_and_a_payment_that_uses_the_credit_up(
    connection, fake, shop
) -> None:
    account_role(connection, "bank", BANK_ACCOUNT_ID)
    customer = CustomerFactory(name="Ada Lovelace Ltd")
    order, _ = shop.sale(customer)
    tool_customer = ref(connection, "customer", customer).external_id
    before = fake.get("Customer", tool_customer)["Balance"]

    refund = shop.refund(order)

    credit_memo = ref(connection, "invoice", refund.credit_note).external_id
    [check] = fake.objects("Purchase")
    assert (check["PaymentType"], check["AccountRef"]["value"]) == ("Check", BANK_ACCOUNT_ID)
    assert check["EntityRef"] == {"value": tool_customer, "name": "Ada Lovelace Ltd", "type": "Customer"}
    [line] = check["Line"]
    assert line["AccountBasedExpenseLineDetail"]["AccountRef"]["value"] == AR_ACCOUNT_ID  # the company's A/R
    assert Decimal(str(check["TotalAmt"])) == refund.amount == Decimal("20.00")
    [payment] = applying(fake)
    assert [link for ln in payment["Line"] for link in ln["LinkedTxn"]] == [
        {"TxnId": credit_memo, "TxnType": "CreditMemo"},
        {"TxnId": check["Id"], "TxnType": "Expense"},
    ]
    assert [ln["Amount"] for ln in payment["Line"]] == [20, 20]
    assert (
        fake.get("CreditMemo", credit_memo)["Balance"],
        fake.get("CreditMemo", credit_memo)["RemainingCredit"],
    ) == (0, 0)
    assert fake.get("Customer", tool_customer)["Balance"] == before == 0
    assert ref(connection, "refund", refund).external_id == check["Id"]
    [check_call], [apply_call] = fake.requests_to("POST purchase"), fake.requests_to("POST payment")[1:]
    assert requestid(check_call).endswith(":check")
    assert requestid(apply_call) == requestid(check_call).replace(":check", ":apply")


@pytest.mark.parametrize("lost", ["POST purchase", "POST payment"])
def test_a_refund_retried_after_a_lost_answer_makes_one_check_and_one_payment(
    connection, fake, shop, lost
) -> None:
    account_role(connection, "bank", BANK_ACCOUNT_ID)
    order, _ = shop.sale(CustomerFactory(name="Grace Hopper Inc"))
    fake.timeout_next(1, match=lost, processed=True)  # QuickBooks made it; the answer is lost

    refund = shop.refund(order)

    [delivery] = Delivery.objects.filter(connection=connection, topic="sales.refund_recorded")
    assert delivery.status == DeliveryStatus.FAILED
    assert retry(shop, delivery).status == DeliveryStatus.SUCCEEDED
    assert len(fake.objects("Purchase")) == 1
    assert len(applying(fake)) == 1
    credit_memo = ref(connection, "invoice", refund.credit_note).external_id
    assert fake.get("CreditMemo", credit_memo)["Balance"] == 0
    assert ref(connection, "refund", refund).external_id == fake.objects("Purchase")[0]["Id"]


def test_a_refund_waits_for_a_bank_and_a_card_refund_goes_on_the_card_account(connection, fake, shop) -> None:
    order, _ = shop.sale(CustomerFactory(name="Katherine Johnson"))

    shop.refund(order, method="card")

    [waiting] = Delivery.objects.filter(connection=connection, topic="sales.refund_recorded")
    assert (waiting.status, waiting.missing) == (
        DeliveryStatus.DEAD,
        {"kind": "map account", "value": "bank"},
    )
    assert fake.objects("Purchase") == []
    account_role(connection, "credit_card", CREDIT_CARD_ACCOUNT_ID)

    shop.run(
        mappings.mapping_set,
        connection=connection,
        kind="account",
        our_value="bank",
        tool_value=BANK_ACCOUNT_ID,
    )

    [check] = fake.objects("Purchase")
    assert (check["PaymentType"], check["AccountRef"]["value"]) == ("CreditCard", CREDIT_CARD_ACCOUNT_ID)
    assert len(applying(fake)) == 1


# --- bill payments ---------------------------------------------------------------------------------


def test_a_supplier_payment_waits_for_its_bill_then_goes_as_a_bill_payment(connection, fake, shop) -> None:
    account_role(connection, "bank", BANK_ACCOUNT_ID)
    fake.fail_next(1, match="POST bill")  # the bill does not get there at first
    bill = shop.bill()
    [bill_delivery] = Delivery.objects.filter(connection=connection, topic="procurement.bill_recorded")
    assert bill_delivery.status == DeliveryStatus.FAILED

    payment = shop.run(supplier_payment_record, bill=bill, amount="12.00", method="bank transfer")

    [waiting] = Delivery.objects.filter(connection=connection, topic="procurement.supplier_payment_recorded")
    assert (waiting.status, waiting.blocked_on_id) == (DeliveryStatus.PENDING, bill_delivery.pk)
    assert fake.objects("BillPayment") == []

    assert retry(shop, bill_delivery).status == DeliveryStatus.SUCCEEDED

    waiting.refresh_from_db()
    assert waiting.status == DeliveryStatus.SUCCEEDED
    [there] = fake.objects("BillPayment")
    tool_bill = ref(connection, "bill", bill).external_id
    assert (there["PayType"], there["CheckPayment"]["BankAccountRef"]["value"]) == ("Check", BANK_ACCOUNT_ID)
    assert there["VendorRef"]["value"] == ref(connection, "vendor", bill.supplier).external_id
    assert there["Line"] == [{"Amount": 12.0, "LinkedTxn": [{"TxnId": tool_bill, "TxnType": "Bill"}]}]
    assert fake.get("Bill", tool_bill)["Balance"] == 8
    assert ref(connection, "bill_payment", payment).external_id == there["Id"]


def test_a_supplier_payment_by_card_is_on_the_credit_card_account(connection, fake, shop) -> None:
    account_role(connection, "bank", BANK_ACCOUNT_ID)
    account_role(connection, "credit_card", CREDIT_CARD_ACCOUNT_ID)
    bill = shop.bill()

    shop.run(supplier_payment_record, bill=bill, amount=bill.total, method="Visa")

    [there] = fake.objects("BillPayment")
    assert (there["PayType"], there["CreditCardPayment"]["CCAccountRef"]["value"]) == (
        "CreditCard",
        CREDIT_CARD_ACCOUNT_ID,
    )
    assert fake.get("Bill", ref(connection, "bill", bill).external_id)["Balance"] == 0


def test_a_taxed_bill_is_there_for_our_total(connection, fake, shop) -> None:
    bill = shop.bill(quantity=4, cost="5.00", tax_rate="0.10")

    [there] = fake.objects("Bill")
    assert bill.tax_total == Decimal("2.00")
    assert Decimal(str(there["TotalAmt"])) == bill.total == Decimal("22.00")
    reconcile.reconcile(connection=connection, object_type="bill")
    assert not Drift.objects.filter(connection=connection)


def test_with_the_inventory_journal_bills_clear_goods_received_not_billed(fake, shop) -> None:
    connection = books(inventory_accounting="journal")
    clearing = fake.create_in_qbo(
        "Account", {"Name": "Goods received not billed", "AccountType": "Other Current Liability"}
    )["Id"]

    bill = shop.bill()

    [waiting] = Delivery.objects.filter(connection=connection, topic="procurement.bill_recorded")
    assert waiting.missing == {"kind": "map account", "value": "goods_received"}
    shop.run(
        mappings.mapping_set,
        connection=connection,
        kind="account",
        our_value="goods_received",
        tool_value=clearing,
    )
    [there] = fake.objects("Bill")
    accounts = {line["AccountBasedExpenseLineDetail"]["AccountRef"]["value"] for line in there["Line"]}
    assert accounts == {clearing}  # the receipt put the goods in inventory: the bill clears them
    assert ref(connection, "bill", bill).external_id == there["Id"]


# --- invoices: terms, classes and locations, account roles --------------------------------------


def test_mapped_terms_go_with_the_invoice_and_unmapped_ones_leave_our_due_date(
    connection, fake, shop
) -> None:
    net_30 = CustomerFactory(name="Dorothy Vaughan", payment_terms="net_30")
    net_15 = CustomerFactory(name="Mary Jackson", payment_terms="net_15")
    shop.run(mappings.mapping_set, connection=connection, kind="term", our_value="net_30", tool_value="3")

    _, mapped = shop.sale(net_30)
    _, unmapped = shop.sale(net_15)

    first = fake.get("Invoice", ref(connection, "invoice", mapped).external_id)
    second = fake.get("Invoice", ref(connection, "invoice", unmapped).external_id)
    assert first["SalesTermRef"] == {"value": "3", "name": "Net 30"}
    assert first["DueDate"] == mapped.due_date.isoformat()
    assert "SalesTermRef" not in second
    assert second["DueDate"] == unmapped.due_date.isoformat()


def test_sales_tracked_by_class_wait_for_the_channels_class(fake, shop) -> None:
    connection = books(track_sales_by="class")

    _, invoice = shop.sale(CustomerFactory(name="Annie Easley"))

    waiting = [d.missing for d in Delivery.objects.filter(connection=connection) if d.missing]
    assert waiting
    assert all(m == {"kind": "map class", "value": "web"} for m in waiting)
    assert fake.objects("Invoice") == []
    assert dict(mappings.tool_choices(connection, mappings.kind_of(connection, "class")).choices) == {
        "1": "Retail",
        "2": "Wholesale",
    }

    shop.run(mappings.mapping_set, connection=connection, kind="class", our_value="web", tool_value="1")

    [there] = fake.objects("Invoice")
    assert there["Id"] == ref(connection, "invoice", invoice).external_id
    lines = [ln for ln in there["Line"] if ln["DetailType"] == "SalesItemLineDetail"]
    assert [ln["SalesItemLineDetail"]["ClassRef"] for ln in lines] == [{"value": "1", "name": "Retail"}]
    assert "DepartmentRef" not in there


def test_sales_tracked_by_location_name_the_channels_location(fake, shop) -> None:
    connection = books(track_sales_by="location")
    shop.run(mappings.mapping_set, connection=connection, kind="location", our_value="web", tool_value="2")

    _, invoice = shop.sale(CustomerFactory(name="Hedy Lamarr"))

    there = fake.get("Invoice", ref(connection, "invoice", invoice).external_id)
    assert there["DepartmentRef"] == {"value": "2", "name": "Online"}
    assert all("ClassRef" not in ln.get("SalesItemLineDetail", {}) for ln in there["Line"])


def test_payments_go_to_the_chosen_undeposited_funds_until_a_bank_is_mapped(connection, fake, shop) -> None:
    account_role(connection, "undeposited_funds", UNDEPOSITED_FUNDS_ID)

    shop.sale(CustomerFactory(name="Radia Perlman"))
    account_role(connection, "bank", BANK_ACCOUNT_ID)
    shop.sale(CustomerFactory(name="Frances Allen"))

    first, second = fake.objects("Payment")
    assert first["DepositToAccountRef"] == {"value": UNDEPOSITED_FUNDS_ID, "name": "Undeposited Funds"}
    assert second["DepositToAccountRef"] == {"value": BANK_ACCOUNT_ID, "name": "Checking"}


def test_a_discount_line_is_on_the_mapped_discount_account(connection, fake) -> None:
    account_role(connection, "discount", DISCOUNTS_ACCOUNT_ID)
    customer = fake.create_in_qbo("Customer", {"DisplayName": "Jean Bartik"})["Id"]
    item = fake.create_in_qbo("Item", {"Name": "TENT", "IncomeAccountRef": {"value": "79"}})["Id"]
    line = DocumentLineOut("Tent", Decimal(2), Decimal("10.00"), Decimal("18.00"), item_external_id=item)
    invoice = InvoiceOut(
        number="INV-7",
        kind="invoice",
        external_id="",
        version="",
        customer_external_id=customer,
        currency="USD",
        issue_date=datetime.date(2026, 3, 14),
        due_date=None,
        lines=(line,),
        subtotal=Decimal("18.00"),
        tax=Decimal(0),
        total=Decimal("18.00"),
    )

    pushed = registry.connector_for(connection).push(invoice, PushContext("k-discount"))

    there = fake.get("Invoice", pushed.external_id)
    [discount] = [ln for ln in there["Line"] if ln["DetailType"] == "DiscountLineDetail"]
    assert discount["Amount"] == 2
    assert discount["DiscountLineDetail"]["DiscountAccountRef"] == {"value": "85", "name": "Discounts given"}
    assert there["TotalAmt"] == 18
