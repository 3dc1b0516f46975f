"""QuickBooks Online in the simulated business day: the books of the day's back office.

Shopify's orders ship here and are invoiced (paid at checkout), a wholesale customer on Net 30
buys and is invoiced, the supplier's bills are recorded and some paid, one invoice is voided here;
in QuickBooks the accountant records payments of the open invoices and edits memos. The day ends
with every document in QuickBooks once with our amounts and the receivables agreeing to the cent;
and the day's check sees it when the hub gets an amount wrong or loses a payment."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest

from integrations import outbound_accounting
from integrations.models import Connection
from integrations.quickbooks.day import Books
from integrations.quickbooks.fake import REALM_ID
from integrations.simulate import Faults, books, simulate_day
from sales.models import Invoice, InvoiceStatus, Payment

pytestmark = pytest.mark.django_db(transaction=True)  # tasks run as each request commits


def test_the_day_finds_quickbooks_part():
    assert books.available()["quickbooks"] is Books


def test_a_day_with_quickbooks_keeping_the_books_ends_without_drift():
    report = simulate_day(orders=25, seed=7, faults=Faults.named("default"), tools=("shopify", "quickbooks"))

    assert report.problems == [], report.to_json()
    summary = report.books["quickbooks"]
    for counted in ("invoices", "payments", "bills", "bill_payments"):
        assert summary[counted] > 0, counted
    assert summary["open_receivables_here"] == summary["open_receivables_there"] != "0.00"
    assert summary["open_payables_here"] == summary["open_payables_there"]
    actions = report.actions
    for done in ("invoiced_here", "paid_at_checkout", "wholesale_orders", "bills_recorded_here"):
        assert actions[done] > 0, done
    assert actions["voided_here"] == 1
    assert actions.get("paid_there", 0) + actions.get("paid_partly_there", 0) > 0
    assert actions.get("memo_edited_there", 0) > 0
    books_connection = Connection.objects.get(connector="quickbooks")
    assert books_connection.settings["realm_id"] == REALM_ID
    # the accountant's payments came back through the hub: our open invoices are paid here
    from_quickbooks = Payment.objects.filter(invoice__order__channel__code__startswith="sim-wholesale-")
    assert from_quickbooks.exists()
    assert Invoice.objects.filter(status=InvoiceStatus.VOID).count() == 1
    assert report.token_refreshes > 0
    webhooks = report.webhooks
    assert webhooks.get("delivered", 0) > 0


def test_an_invoice_pushed_with_another_amount_is_drift(monkeypatch):
    # the hub sends QuickBooks one cent more tax than the invoice charges
    real = outbound_accounting.invoice_out

    def off_by_a_cent(invoice, **kwargs):
        out = real(invoice, **kwargs)
        return dataclasses.replace(out, tax=out.tax + Decimal("0.01")) if out.kind == "invoice" else out

    monkeypatch.setattr(outbound_accounting, "invoice_out", off_by_a_cent)

    report = simulate_day(orders=10, seed=7, faults=Faults.named("none"), tools=("shopify", "quickbooks"))

    assert not report.ok
    assert report.drifts.get("quickbooks invoice total", 0) > 0
