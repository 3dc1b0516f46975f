"""Reconciling open balances with an accounting tool: what each customer owes us and what we owe
each supplier, here and in the books (``integrations.reconcile`` runs it).

* "customer_balance" (connectors that take INVOICES_OUT): per customer the hub pushed, our open
  receivables (the balances of its issued invoices, less what its credit notes still owe it back:
  their total less what was refunded) against the tool's balance of the customer
  (``Connector.read_back("customer_balance", ids)``: ``{"balance": ...}``).
* "vendor_balance" (BILLS_OUT): per supplier the hub pushed, our open payables (the balances of
  its accepted bills) against the tool's balance of the vendor.

Only documents the hub pushed to this connection count (ExternalRef "invoice", "bill"): one issued
before the connection existed never reached the tool, and is none of its balance. A difference is
Drift(kind "balance_mismatch") with both figures, for a person: the documents behind it are what
reconciling invoices, payments and bills heals; a balance is never pushed. Our side is read per
run in one aggregate query (plus the refs and the names), never per customer.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Case, F, Sum, When

from erp.money import round_money
from integrations.contract import Capability, Connector
from integrations.models import Connection, Drift, ExternalRef, SyncRun
from integrations.outbound_accounting import BILL, CUSTOMER, INVOICE, VENDOR
from integrations.reconcile_drifts import BALANCE_MISMATCH, Finding, record_all
from procurement.models import Bill, BillStatus, Supplier
from sales.models import Customer, Invoice, InvoiceKind, InvoiceStatus

CUSTOMER_BALANCE, VENDOR_BALANCE = "customer_balance", "vendor_balance"
BALANCES: Mapping[str, Capability] = {
    CUSTOMER_BALANCE: Capability.INVOICES_OUT,
    VENDOR_BALANCE: Capability.BILLS_OUT,
}
OPEN_INVOICES = (InvoiceStatus.ISSUED, InvoiceStatus.PARTIALLY_PAID)
OPEN_BILLS = (BillStatus.OPEN, BillStatus.PARTIALLY_PAID)

Parties = dict[str, tuple[str, str, Decimal]]  # the tool's id -> (label, currency, our open balance)


def balance_drifts(
    connection: Connection, connector: Connector, run: SyncRun, object_type: str
) -> list[Drift]:
    """Compare every pushed customer's (or vendor's) open balance with the tool's; record the
    differences and close the drifts no longer found."""
    ours = receivables(connection) if object_type == CUSTOMER_BALANCE else payables(connection)
    tool = connector.read_back(object_type, list(ours)) if ours else {}
    findings = []
    for external_id, (label, currency, balance) in ours.items():
        theirs = str((tool.get(external_id) or {}).get("balance", ""))
        hub = str(round_money(balance, currency))
        if _amount(theirs, currency) == hub:
            run.skipped += 1
            continue
        findings.append(Finding(external_id, BALANCE_MISMATCH, label, hub, theirs, healable=False))
    return record_all(run, object_type, findings)


def _amount(value: str, currency: str) -> str:
    """The tool's figure at the currency's minor unit ("" when it has none to give)."""
    try:
        return str(round_money(Decimal(value), currency))
    except (InvalidOperation, ValueError):
        return ""


def receivables(connection: Connection) -> Parties:
    """Per customer the hub pushed (the tool's id): its name, currency and open receivables."""
    owed = Sum(
        Case(
            When(kind=InvoiceKind.CREDIT_NOTE, then=F("amount_paid") - F("total")),
            default=F("total") - F("amount_paid"),
        )
    )
    open_documents = Invoice.objects.filter(
        pk__in=_pushed(connection, INVOICE, Invoice), status__in=OPEN_INVOICES
    )
    balances = dict(open_documents.order_by().values_list("customer_id").annotate(owed=owed))
    return _parties(connection, CUSTOMER, Customer, balances)


def payables(connection: Connection) -> Parties:
    """Per supplier the hub pushed (the tool's id): its name, currency and open payables."""
    open_bills = Bill.objects.filter(pk__in=_pushed(connection, BILL, Bill), status__in=OPEN_BILLS)
    owed = Sum(F("total") - F("amount_paid"))
    balances = dict(open_bills.order_by().values_list("supplier_id").annotate(owed=owed))
    return _parties(connection, VENDOR, Supplier, balances)


def _pushed(
    connection: Connection, object_type: str, model: type[models.Model]
) -> models.QuerySet[ExternalRef, Any]:
    """Our ids of the records of a type the connection's tool has (a subquery)."""
    return ExternalRef.objects.filter(
        connection=connection,
        object_type=object_type,
        content_type=ContentType.objects.get_for_model(model),
    ).values("object_id")


def _parties(
    connection: Connection,
    object_type: str,
    model: type[Customer] | type[Supplier],
    balances: dict[int, Decimal],
) -> Parties:
    """Every customer (or supplier) the tool has, by the tool's id, with what is open here (0 when
    nothing is)."""
    refs = dict(
        ExternalRef.objects.filter(
            connection=connection,
            object_type=object_type,
            content_type=ContentType.objects.get_for_model(model),
        )
        .exclude(pushed_hash="")
        .exclude(object_id=0)
        .order_by("pk")
        .values_list("object_id", "external_id")
    )
    names = model.objects.filter(pk__in=list(refs)).values_list("pk", "name", "currency")
    return {
        refs[pk]: (name, currency, balances.get(pk) or Decimal(0))
        for pk, name, currency in sorted(names, key=lambda row: (row[1], row[0]))
    }
