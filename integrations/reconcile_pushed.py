"""Reconciling what the hub pushed to accounting and CRM tools: each record there, with our values
(``integrations.reconcile`` has the whole story).

A document the tool voided while ours stands (``voided`` "true" in its read-back) is
"voided_there": never voided here by itself (the books are ours to decide), it waits for a person
who voids ours too or pushes ours again as a new record (heal, on demand only). Voided on both
sides, it is in sync whatever its amounts there (QuickBooks zeroes them)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction

from erp.exceptions import ValidationFailed
from erp.models import OutboxEvent
from erp.money import round_money
from integrations import outbound_items, ownership, pushing
from integrations.contract import Capability, Connector, PushContext
from integrations.errors import HubError
from integrations.models import (
    Connection,
    Drift,
    ExternalRef,
    SyncRun,
)
from integrations.outbound_accounting import (
    BILL,
    BILL_PAYMENT,
    CUSTOMER,
    INVOICE,
    PAYMENT,
    REFUND,
    VENDOR,
    bill_out,
    bill_payment_out,
    customer_out,
    invoice_out,
    payment_out,
)
from integrations.reconcile_drifts import (
    MISSING_THERE,
    VALUE_MISMATCH,
    VOIDED_THERE,
    Finding,
    record_all,
)
from integrations.resolving import refs_of
from procurement.models import Bill, Supplier, SupplierPayment
from sales.models import Customer, Invoice, Payment, Refund

# Records the hub pushes to accounting and CRM tools: the capability that takes each, our model,
# the fields compared (the out-record's, by name: what ``Connector.read_back`` answers) and the
# outbox topic whose resolver makes the out-record, with the payload it reads.
PUSHED: Mapping[str, Capability] = {
    CUSTOMER: Capability.CUSTOMERS_OUT,
    INVOICE: Capability.INVOICES_OUT,
    PAYMENT: Capability.PAYMENTS_OUT,
    REFUND: Capability.PAYMENTS_OUT,
    BILL: Capability.BILLS_OUT,
    BILL_PAYMENT: Capability.BILL_PAYMENTS_OUT,
}
MODELS: Mapping[str, type[models.Model]] = {
    CUSTOMER: Customer,
    INVOICE: Invoice,
    PAYMENT: Payment,
    REFUND: Refund,
    BILL: Bill,
    BILL_PAYMENT: SupplierPayment,
}
COMPARED: Mapping[str, tuple[str, ...]] = {
    CUSTOMER: ("name", "email"),
    INVOICE: ("total", "customer_external_id", "voided"),
    PAYMENT: ("amount", "document_external_id"),
    REFUND: ("amount",),
    BILL: ("total", "vendor_external_id"),
    BILL_PAYMENT: ("amount", "bill_external_id"),
}
AMOUNTS = frozenset({"total", "amount"})
# Money moved: pushed again over the tool's copy, it would be recorded twice.
MONEY = frozenset({PAYMENT, REFUND, BILL_PAYMENT})
TOPIC_OF: Mapping[str, tuple[str, Callable[[int], dict[str, Any]]]] = {
    CUSTOMER: ("sales.customer_updated", lambda pk: {"customer_id": pk}),
    INVOICE: ("sales.invoice_issued", lambda pk: {"invoice": {"invoice_id": pk}}),
    PAYMENT: ("sales.payment_received", lambda pk: {"payment": {"payment_id": pk}}),
    REFUND: ("sales.refund_recorded", lambda pk: {"refund": {"refund_id": pk}}),
    BILL: ("procurement.bill_approved", lambda pk: {"bill": {"bill_id": pk}}),
    BILL_PAYMENT: (
        "procurement.supplier_payment_recorded",
        lambda pk: {"payment": {"supplier_payment_id": pk}},
    ),
}


# --- records pushed to accounting and CRM tools -------------------------------------------------


def pushed_drifts(
    connection: Connection, connector: Connector, run: SyncRun, object_type: str
) -> list[Drift]:
    refs = list(
        ExternalRef.objects.filter(
            connection=connection,
            object_type=object_type,
            content_type=ContentType.objects.get_for_model(MODELS[object_type]),
        )
        .exclude(pushed_hash="")
        .exclude(object_id=0)
        .order_by("pk")
    )
    ours = _ours(connection, object_type, refs)
    refs = [r for r in refs if r.pk in ours]
    tool = connector.read_back(object_type, [r.external_id for r in refs]) if refs else {}
    # Documents and money are the hub's; customers are whoever the ownership rule says.
    hub_owns = object_type != CUSTOMER or (
        ownership.owner_of(connection, ownership.CUSTOMER, None) == ownership.Owner.HUB
    )
    updatable = hub_owns and object_type not in MONEY
    findings: list[Finding] = []
    for ref in refs:
        label, currency, hub = ours[ref.pk]
        found = _compare(ref.external_id, label, currency, hub, tool.get(ref.external_id), updatable)
        if found is None:
            run.skipped += 1
            continue
        findings.append(found)
    return record_all(run, object_type, findings)


def _compare(
    external_id: str,
    label: str,
    currency: str,
    hub: dict[str, str],
    theirs: Mapping[str, str] | None,
    updatable: bool,
) -> Finding | None:
    """What one record's values here and there say: nothing (in sync), missing there, voided there
    while ours stands, or the fields that differ (healable when the tool's copy may be updated)."""
    if theirs is None:
        shown = "; ".join(f"{k}: {v}" for k, v in hub.items())
        return Finding(external_id, MISSING_THERE, label, shown, "", healable=True)
    if theirs.get("voided") == "true":
        if hub.get("voided") == "true":
            return None  # voided on both sides: its zeroed amounts there are what a void is
        shown = "; ".join(f"{k}: {v}" for k, v in hub.items() if k != "voided")
        return Finding(external_id, VOIDED_THERE, label, shown, "voided", healable=True)
    differ = [k for k in hub if _normal(k, hub[k], currency) != _normal(k, str(theirs.get(k, "")), currency)]
    if not differ:
        return None
    return Finding(
        external_id,
        VALUE_MISMATCH,
        label,
        "; ".join(f"{k}: {hub[k]}" for k in differ),
        "; ".join(f"{k}: {theirs.get(k, '')}" for k in differ),
        healable=updatable,
    )


Ours = dict[int, tuple[str, str, dict[str, str]]]  # ref pk -> (label, currency, compared values)


def _ours(connection: Connection, object_type: str, refs: list[ExternalRef]) -> Ours:
    """Per ref: (label, currency, the compared values of the out-record the hub would push now),
    read per set. A record that no longer exists here is left out."""
    read: Callable[[Connection, list[ExternalRef]], Ours] = {
        CUSTOMER: _our_customers,
        INVOICE: _our_invoices,
        PAYMENT: _our_payments,
        REFUND: _our_refunds,
        BILL: _our_bills,
        BILL_PAYMENT: _our_bill_payments,
    }[object_type]
    return read(connection, refs)


def _our_customers(connection: Connection, refs: list[ExternalRef]) -> Ours:
    customers = Customer.objects.prefetch_related("addresses").in_bulk({r.object_id for r in refs})
    found: Ours = {}
    for ref in refs:
        if (customer := customers.get(ref.object_id)) is not None:
            item = customer_out(customer, ref.external_id, ref.external_version)
            found[ref.pk] = (customer.name, customer.currency, _comparable(CUSTOMER, item, customer.currency))
    return found


def _our_invoices(connection: Connection, refs: list[ExternalRef]) -> Ours:
    invoices = (
        Invoice.objects.select_related("customer", "order__channel")
        .prefetch_related("lines__order_line__product", "lines__order_line__taxes")
        .in_bulk({r.object_id for r in refs})
    )
    customer_refs = refs_of(connection, CUSTOMER, Customer, {i.customer_id for i in invoices.values()})
    found: Ours = {}
    for ref in refs:
        if (invoice := invoices.get(ref.object_id)) is not None:
            customer_ref = customer_refs.get(invoice.customer_id)
            item = invoice_out(
                invoice,
                external_id=ref.external_id,
                version=ref.external_version,
                customer_external_id=customer_ref.external_id if customer_ref else "",
                item_refs={},  # the lines are not compared
            )
            found[ref.pk] = (
                invoice.number or "",
                invoice.currency,
                _comparable(INVOICE, item, invoice.currency),
            )
    return found


def _our_payments(connection: Connection, refs: list[ExternalRef]) -> Ours:
    payments = Payment.objects.select_related("invoice").in_bulk({r.object_id for r in refs})
    documents = refs_of(connection, INVOICE, Invoice, {p.invoice_id for p in payments.values()})
    found: Ours = {}
    for ref in refs:
        if (payment := payments.get(ref.object_id)) is not None:
            document = documents.get(payment.invoice_id)
            item = payment_out(
                "payment",
                payment,
                payment.invoice,
                payment.paid_at,
                document_external_id=document.external_id if document else "",
                customer_external_id="",  # not compared
            )
            label = f"{item.reference} ({payment.invoice.number})"
            currency = payment.invoice.currency
            found[ref.pk] = (label, currency, _comparable(PAYMENT, item, currency))
    return found


def _our_refunds(connection: Connection, refs: list[ExternalRef]) -> Ours:
    refunds = Refund.objects.select_related("credit_note").in_bulk({r.object_id for r in refs})
    found: Ours = {}
    for ref in refs:
        if (refund := refunds.get(ref.object_id)) is not None:
            note = refund.credit_note
            item = payment_out(
                "refund",
                refund,
                note,
                refund.refunded_at,
                document_external_id="",  # a refund there is a check: it names no credit memo
                customer_external_id="",
            )
            label = f"{item.reference} ({note.number})"
            found[ref.pk] = (label, note.currency, _comparable(REFUND, item, note.currency))
    return found


def _our_bills(connection: Connection, refs: list[ExternalRef]) -> Ours:
    bills = (
        Bill.objects.select_related("supplier")
        .prefetch_related("lines__order_line__product")
        .in_bulk({r.object_id for r in refs})
    )
    vendor_refs = refs_of(connection, VENDOR, Supplier, {b.supplier_id for b in bills.values()})
    found: Ours = {}
    for ref in refs:
        if (bill := bills.get(ref.object_id)) is not None:
            vendor_ref = vendor_refs.get(bill.supplier_id)
            item = bill_out(
                bill,
                external_id=ref.external_id,
                version=ref.external_version,
                vendor_external_id=vendor_ref.external_id if vendor_ref else "",
                item_refs={},  # the lines are not compared
            )
            found[ref.pk] = (bill.number, bill.currency, _comparable(BILL, item, bill.currency))
    return found


def _our_bill_payments(connection: Connection, refs: list[ExternalRef]) -> Ours:
    payments = SupplierPayment.objects.select_related("bill").in_bulk({r.object_id for r in refs})
    bill_refs = refs_of(connection, BILL, Bill, {p.bill_id for p in payments.values()})
    found: Ours = {}
    for ref in refs:
        if (payment := payments.get(ref.object_id)) is not None:
            bill_ref = bill_refs.get(payment.bill_id)
            item = bill_payment_out(
                payment,
                bill_external_id=bill_ref.external_id if bill_ref else "",
                vendor_external_id="",  # not compared
            )
            label = f"{item.reference} ({payment.bill.number})"
            found[ref.pk] = (label, item.currency, _comparable(BILL_PAYMENT, item, item.currency))
    return found


def _comparable(object_type: str, item: Any, currency: str) -> dict[str, str]:
    """The compared fields of an out-record, as strings: booleans "true"/"false", amounts at the
    currency's minor unit."""
    values = {name: getattr(item, name) for name in COMPARED[object_type]}
    return {
        k: str(v).lower() if isinstance(v, bool) else _normal(k, str(v), currency) if k in AMOUNTS else str(v)
        for k, v in values.items()
    }


def _normal(field: str, value: str, currency: str) -> str:
    """A value as compared: an amount at the currency's minor unit, an email in any case, the rest
    as it is (outer blanks aside)."""
    value = value.strip()
    if field in AMOUNTS:
        try:
            return str(round_money(Decimal(value), currency))
        except (InvalidOperation, ValueError):
            return value
    return value.casefold() if field in ("email", "voided") else value


def heal_pushed(drift: Drift, connector: Connector) -> None:
    """Push the record again, as its topic's resolver answers it now (forced): as new when the tool
    has none or voided it, else as an update of the tool's record (after reading its version if it
    moved on)."""
    ref = ExternalRef.objects.filter(
        connection_id=drift.connection_id, object_type=drift.object_type, external_id=drift.external_id
    ).first()
    if ref is None:
        raise ValidationFailed(f"{drift.label} is no longer linked to {drift.external_id}: nothing to push.")
    topic, payload = TOPIC_OF[drift.object_type]
    event = OutboxEvent(topic=topic, payload=payload(ref.object_id))  # never saved: what the resolver reads
    resolver = outbound_items.resolver_for(topic, drift.connection)
    if resolver is None:
        raise ValidationFailed(f"{drift.connection} takes no {drift.object_type}: nothing to push.")
    resolved = resolver(drift.connection, event, True)
    if isinstance(resolved, str):
        raise ValidationFailed(f"Nothing to push for {drift.label}: {resolved}")
    if isinstance(resolved, outbound_items.Blocked):
        raise HubError(f"{drift.label} cannot be pushed yet: {resolved.reason}.")
    item: Any = resolved.item
    if drift.kind in (MISSING_THERE, VOIDED_THERE) and hasattr(item, "external_id"):
        item = dataclasses.replace(item, external_id="", version="")  # none there to update: a new one
    pushed = pushing.push_resolved(
        drift.connection,
        connector,
        dataclasses.replace(resolved, item=item),
        PushContext(f"erp-drift-{drift.pk}"),
        lambda: resolver(drift.connection, event, True),
    )
    if isinstance(pushed, str):
        raise ValidationFailed(f"Nothing to push for {drift.label}: {pushed}")
    landed, result = pushed
    with transaction.atomic():
        landed.remember(result)
