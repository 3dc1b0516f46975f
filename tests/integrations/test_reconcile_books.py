"""The reconciliation report of a connection to the books: each drift links to our record's page
here and to the record in the tool's own web app (QuickBooks': production or sandbox), at a
constant number of queries however many drifts of however many kinds the page shows."""

from __future__ import annotations

import datetime
import itertools
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from integrations import registry
from integrations.connections import connection_create
from integrations.models import Connection, Drift
from integrations.quickbooks.fake import ACCESS_TOKEN, REALM_ID
from procurement.models import Bill
from procurement.services import (
    BillLineSpec,
    POLineSpec,
    ReceiveLine,
    bill_record,
    po_create,
    po_send,
    receipt_create,
)
from sales.models import Customer, Invoice, InvoiceKind, InvoiceStatus, Payment
from tests.integrations.factories import DriftFactory, ExternalRefFactory
from tests.integrations.ui_support import reader_fixture  # noqa: F401  (a fixture)
from tests.inventory.factories import warehouse
from tests.procurement.factories import SupplierFactory
from tests.queries import assert_constant_queries
from tests.sales.factories import ChannelFactory, CustomerFactory, order_for, stocked_product

pytestmark = pytest.mark.django_db
APP = "https://app.qbo.intuit.com/app"
tool_ids = itertools.count(130)


def books(environment: str = "production") -> Connection:
    return connection_create(
        connector="quickbooks",
        name="Books",
        settings={"realm_id": REALM_ID, "environment": environment},
        secrets={"access_token": ACCESS_TOKEN},
    )


class Ours:
    """Records of ours the books have (each with its ref), and drifts about them."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.warehouse = warehouse("WH1")
        self.channel = ChannelFactory(warehouse=self.warehouse)
        self.product = stocked_product(100, wh=self.warehouse, price="10.00", sku="MUG-1")

    def linked(self, object_type: str, obj, kind: str = "value_mismatch") -> Drift:
        """``obj`` is in the books under a new id, and drifted (``object_type``: the drift's)."""
        external_id = str(next(tool_ids))
        ref_type = {"customer_balance": "customer", "vendor_balance": "vendor"}.get(object_type, object_type)
        ExternalRefFactory(
            connection=self.connection, object_type=ref_type, external_id=external_id, internal=obj
        )
        return DriftFactory(
            connection=self.connection,
            object_type=object_type,
            external_id=external_id,
            label=str(obj),
            kind=kind,
        )

    def invoice(self, customer: Customer, kind: str = InvoiceKind.INVOICE) -> Invoice:
        order = order_for((self.product, 1), channel=self.channel, customer=customer)
        return Invoice.objects.create(
            kind=kind,
            order=order,
            customer=customer,
            currency="USD",
            number=f"{kind[:2].upper()}-{next(tool_ids)}",
            status=InvoiceStatus.ISSUED,
            total=Decimal("10.00"),
        )

    def bill(self) -> Bill:
        supplier = SupplierFactory()
        po = po_send(
            po=po_create(
                supplier=supplier,
                warehouse=self.warehouse,
                lines=[POLineSpec(self.product, 2, unit_cost="4.00")],
            )
        )
        line = po.lines.get()
        receipt_create(po=po, lines=[ReceiveLine(line, 2)])
        return bill_record(
            po=po, supplier_reference=f"SUP-{po.number}", lines=[BillLineSpec(line, 2, "4.00")]
        )

    def one_of_each(self) -> dict[str, tuple[Drift, str]]:
        """A drift of every kind of record the books hold, with our page of it."""
        customer = CustomerFactory()
        invoice, note = self.invoice(customer), self.invoice(customer, InvoiceKind.CREDIT_NOTE)
        payment = Payment.objects.create(
            invoice=invoice, amount=Decimal("4.00"), paid_at=datetime.date(2026, 3, 14)
        )
        bill = self.bill()
        return {
            "invoice": (self.linked("invoice", invoice), reverse("sales:invoice-print", args=[invoice.pk])),
            "credit_note": (self.linked("invoice", note), reverse("sales:invoice-print", args=[note.pk])),
            "payment": (self.linked("payment", payment), reverse("sales:invoice-print", args=[invoice.pk])),
            "customer_balance": (
                self.linked("customer_balance", customer, "balance_mismatch"),
                reverse("sales:customer", args=[customer.pk]),
            ),
            "bill": (self.linked("bill", bill), reverse("procurement:bill", args=[bill.pk])),
            "vendor_balance": (
                self.linked("vendor_balance", bill.supplier, "balance_mismatch"),
                reverse("procurement:supplier", args=[bill.supplier_id]),
            ),
        }


def test_each_drift_links_to_our_record_and_to_quickbooks(reader: Client) -> None:
    connection = books()
    found = Ours(connection).one_of_each()
    gone = DriftFactory(connection=connection, object_type="invoice", external_id="999", kind="missing_there")

    content = reader.get(reverse("integrations:connection-drifts", args=[connection.pk])).content.decode()

    pages = {
        "invoice": "invoice?txnId=",
        "credit_note": "creditmemo?txnId=",
        "payment": "recvpayment?txnId=",
        "customer_balance": "customerdetail?nameId=",
        "bill": "bill?txnId=",
        "vendor_balance": "vendordetail?nameId=",
    }
    for name, (drift, ours) in found.items():
        row = content.split(f'id="drift-{drift.pk}"')[1].split("</tr>")[0]
        assert f'href="{ours}"' in row, name
        assert f'href="{APP}/{pages[name]}{drift.external_id}"' in row, name
    row = content.split(f'id="drift-{gone.pk}"')[1].split("</tr>")[0]
    assert "here</a>" not in row  # nothing of ours under that id
    assert f'href="{APP}/invoice?txnId=999"' in row


def test_a_sandbox_company_links_to_the_sandbox_app(db) -> None:
    connector = registry.connector_for(books("sandbox"))

    assert (
        connector.record_url("bill_payment", "42")
        == "https://app.sandbox.qbo.intuit.com/app/billpayment?txnId=42"
    )
    assert connector.record_url("refund", "7") == "https://app.sandbox.qbo.intuit.com/app/check?txnId=7"
    assert connector.record_url("item", "7") == ""


def test_the_report_costs_the_same_for_many_drifts_of_many_kinds(reader: Client) -> None:
    connection = books()
    ours = Ours(connection)
    ours.one_of_each()
    url = reverse("integrations:connection-drifts", args=[connection.pk])

    assert_constant_queries(lambda: reader.get(url), lambda: [ours.one_of_each() for _ in range(3)])
