"""Reconciling what the hub pushed to accounting and CRM tools: each record there, with our values
(``integrations.reconcile`` has the whole story)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
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
    CUSTOMER,
    INVOICE,
    PAYMENT,
    customer_out,
    invoice_out,
    payment_out,
)
from integrations.reconcile_drifts import (
    MISSING_THERE,
    VALUE_MISMATCH,
    Finding,
    record_all,
)
from integrations.records import OutboundItem
from integrations.resolving import refs_of
from sales.models import Customer, Invoice, Payment

# Records the hub pushes to accounting and CRM tools: the capability that takes each, our model,
# the fields compared (the out-record's, by name: what ``Connector.read_back`` answers) and the
# outbox topic whose resolver makes the out-record.
PUSHED: Mapping[str, Capability] = {
    CUSTOMER: Capability.CUSTOMERS_OUT,
    INVOICE: Capability.INVOICES_OUT,
    PAYMENT: Capability.PAYMENTS_OUT,
}
MODELS: Mapping[str, type[models.Model]] = {CUSTOMER: Customer, INVOICE: Invoice, PAYMENT: Payment}
COMPARED: Mapping[str, tuple[str, ...]] = {
    CUSTOMER: ("name", "email"),
    INVOICE: ("total", "customer_external_id", "voided"),
    PAYMENT: ("amount", "document_external_id"),
}
AMOUNTS = frozenset({"total", "amount"})
TOPIC_OF: Mapping[str, str] = {
    CUSTOMER: "sales.customer_updated",
    INVOICE: "sales.invoice_issued",
    PAYMENT: "sales.payment_received",
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
    # Invoices and payments are the hub's documents; customers are whoever the ownership rule says.
    hub_owns = object_type != CUSTOMER or (
        ownership.owner_of(connection, ownership.CUSTOMER, None) == ownership.Owner.HUB
    )
    updatable = object_type != PAYMENT  # a payment pushed again is money recorded twice
    findings: list[Finding] = []
    for ref in refs:
        label, currency, item = ours[ref.pk]
        hub = _comparable(object_type, item, currency)
        theirs = tool.get(ref.external_id)
        if theirs is None:
            shown = "; ".join(f"{k}: {v}" for k, v in hub.items())
            findings.append(Finding(ref.external_id, MISSING_THERE, label, shown, "", healable=True))
            continue
        differ = [
            k for k in hub if _normal(k, hub[k], currency) != _normal(k, str(theirs.get(k, "")), currency)
        ]
        if not differ:
            run.skipped += 1
            continue
        findings.append(
            Finding(
                ref.external_id,
                VALUE_MISMATCH,
                label,
                "; ".join(f"{k}: {hub[k]}" for k in differ),
                "; ".join(f"{k}: {theirs.get(k, '')}" for k in differ),
                healable=hub_owns and updatable,
            )
        )
    return record_all(run, object_type, findings)


Ours = dict[int, tuple[str, str, OutboundItem]]  # ref pk -> (label, currency, out-record)


def _ours(connection: Connection, object_type: str, refs: list[ExternalRef]) -> Ours:
    """Per ref: (label, currency, the out-record the hub would push now), read per set. A record
    that no longer exists here is left out."""
    read = {CUSTOMER: _our_customers, INVOICE: _our_invoices, PAYMENT: _our_payments}[object_type]
    return read(connection, refs)


def _our_customers(connection: Connection, refs: list[ExternalRef]) -> Ours:
    customers = Customer.objects.prefetch_related("addresses").in_bulk({r.object_id for r in refs})
    found: Ours = {}
    for ref in refs:
        if (customer := customers.get(ref.object_id)) is not None:
            item = customer_out(customer, ref.external_id, ref.external_version)
            found[ref.pk] = (customer.name, customer.currency, item)
    return found


def _our_invoices(connection: Connection, refs: list[ExternalRef]) -> Ours:
    invoices = (
        Invoice.objects.select_related("customer", "order")
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
            found[ref.pk] = (invoice.number or "", invoice.currency, item)
    return found


def _our_payments(connection: Connection, refs: list[ExternalRef]) -> Ours:
    payments = Payment.objects.select_related("invoice__customer").in_bulk({r.object_id for r in refs})
    documents = refs_of(connection, INVOICE, Invoice, {p.invoice_id for p in payments.values()})
    customer_refs = refs_of(
        connection, CUSTOMER, Customer, {p.invoice.customer_id for p in payments.values()}
    )
    found: Ours = {}
    for ref in refs:
        if (payment := payments.get(ref.object_id)) is not None:
            document = documents.get(payment.invoice_id)
            customer_ref = customer_refs.get(payment.invoice.customer_id)
            item = payment_out(
                "payment",
                payment,
                payment.invoice,
                payment.paid_at,
                document_external_id=document.external_id if document else "",
                customer_external_id=customer_ref.external_id if customer_ref else "",
            )
            label = f"{item.reference} ({payment.invoice.number})"
            found[ref.pk] = (label, payment.invoice.currency, item)
    return found


def _comparable(object_type: str, item: OutboundItem, currency: str) -> dict[str, str]:
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
    has none, else as an update of the tool's record (after reading its version if it moved on)."""
    ref = ExternalRef.objects.filter(
        connection_id=drift.connection_id, object_type=drift.object_type, external_id=drift.external_id
    ).first()
    if ref is None:
        raise ValidationFailed(f"{drift.label} is no longer linked to {drift.external_id}: nothing to push.")
    topic = TOPIC_OF[drift.object_type]
    payload = {
        CUSTOMER: {"customer_id": ref.object_id},
        INVOICE: {"invoice": {"invoice_id": ref.object_id}},
        PAYMENT: {"payment": {"payment_id": ref.object_id}},
    }[drift.object_type]
    event = OutboxEvent(topic=topic, payload=payload)  # never saved: what the resolver reads
    resolver = outbound_items.resolver_for(topic, drift.connection)
    if resolver is None:
        raise ValidationFailed(f"{drift.connection} takes no {drift.object_type}: nothing to push.")
    resolved = resolver(drift.connection, event, True)
    if isinstance(resolved, str):
        raise ValidationFailed(f"Nothing to push for {drift.label}: {resolved}")
    if isinstance(resolved, outbound_items.Blocked):
        raise HubError(f"{drift.label} cannot be pushed yet: {resolved.reason}.")
    item: Any = resolved.item
    if drift.kind == MISSING_THERE and hasattr(item, "external_id"):
        item = dataclasses.replace(item, external_id="", version="")  # the tool has none: a new one
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
