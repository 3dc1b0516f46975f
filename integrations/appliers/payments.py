"""Payments in: money an accounting tool recorded against invoices the hub pushed there.

A ``PaymentRecord`` names the tool's invoices it settles (ExternalRef("invoice") -> ours). Each
application becomes a payment here (``sales.services.payment_record``): the invoice turns partly
paid or paid. Amounts are compared at the currency's minor unit; what is more than an invoice
still owes here is recorded up to its balance and the rest noted for a person.

ExternalRef("payment") links the tool's payment to ours, both ways: a payment the hub pushed
(outbound_accounting) comes back as the tool's record of it and is recognised, not recorded twice;
a payment recorded from the tool is claimed first, so a duplicate event arriving at the same time
waits and then finds it.
"""

from __future__ import annotations

from erp.money import ZERO, round_money
from integrations.appliers.refs import Applied, NotConfigured, claim, refs
from integrations.contract import InboundItem
from integrations.errors import MissingDependency
from integrations.models import Connection, SyncRun
from integrations.records import PaymentRecord
from sales.models import Invoice, InvoiceStatus, Payment
from sales.services.billing import payment_record

PAYMENT, INVOICE = "payment", "invoice"
PAYABLE = (InvoiceStatus.ISSUED, InvoiceStatus.PARTIALLY_PAID)


def apply_payment(connection: Connection, item: InboundItem, run: SyncRun) -> Applied:
    record = item.record
    if not isinstance(record, PaymentRecord):
        raise ValueError(f"A payment item of {connection} carries no PaymentRecord.")
    ref, claimed = claim(connection, PAYMENT, record.external_id, Payment)
    if not claimed:
        return Applied(PAYMENT, record.external_id, "skipped", "recorded here already", ref.object_id)
    # Amounts at the currency's minor unit: a tool may send more places ("12.3400").
    wanted = [a for a in record.applied_to if round_money(a.amount, record.currency) > ZERO]
    if not wanted:
        raise NotConfigured(
            f"Payment {record.external_id} of {connection} is applied to no invoice: record it by hand.",
            value=record.external_id,
        )
    invoice_ids = dict(
        refs(connection, INVOICE)
        .filter(external_id__in=[a.invoice_external_id for a in wanted])
        .values_list("external_id", "object_id")
    )
    missing = sorted({a.invoice_external_id for a in wanted} - set(invoice_ids))
    if missing:
        raise MissingDependency(
            f"Payment {record.external_id} settles invoice {missing[0]} of {connection}, which did not "
            "come from the hub.",
            kind="invoice",
            value=missing[0],
        )
    invoices = Invoice.objects.select_for_update().in_bulk(invoice_ids.values())
    recorded: list[Payment] = []
    notes: list[str] = []
    for application in wanted:
        invoice = invoices[invoice_ids[application.invoice_external_id]]
        if invoice.currency != record.currency:
            raise NotConfigured(
                f"Payment {record.external_id} is in {record.currency}, invoice {invoice.number} in "
                f"{invoice.currency}: record it by hand.",
                value=record.external_id,
            )
        asked = round_money(application.amount, record.currency)
        amount = min(asked, invoice.balance)
        if invoice.status not in PAYABLE or amount <= ZERO:
            notes.append(f"{invoice.number} owes nothing here: {application.amount} not recorded")
            continue
        if amount < asked:
            notes.append(f"{invoice.number} owed {invoice.balance}: {asked - amount} not recorded")
        recorded.append(
            payment_record(
                invoice=invoice,
                amount=amount,
                paid_at=record.paid_at,
                method=record.method,
                reference=(record.reference or f"{connection.name} {record.external_id}")[:100],
            )
        )
        invoice.refresh_from_db(fields=["amount_paid", "status"])
    if notes:
        run.errors = [*run.errors, *(f"payment {record.external_id}: {n}" for n in notes)]
    if not recorded:
        ref.delete()  # nothing of ours to point at: a later correction may still apply
        return Applied(PAYMENT, record.external_id, "skipped", "; ".join(notes))
    ref.object_id = recorded[0].pk
    ref.external_updated_at = record.updated_at
    ref.save(update_fields=["object_id", "external_updated_at"])
    label = ", ".join(invoices[invoice_ids[a.invoice_external_id]].number or "" for a in wanted)
    return Applied(PAYMENT, record.external_id, "created", "; ".join(notes), recorded[0].pk, label)
