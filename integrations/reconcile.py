"""Reconciliation: compare the tool's state with the hub's, record each drift, heal toward the owner.

The comparisons live by what they compare: ``reconcile_stock``, ``reconcile_orders``,
``reconcile_pushed`` and ``reconcile_balances``; recording drifts and their kinds in
``reconcile_drifts``. This module runs them and heals.

``reconcile(connection=, object_type=)`` runs one comparison in a SyncRun (job
reconcile) whose counts mean: created = new drifts, updated = drifts still open
from an earlier run (refreshed), skipped = records in sync. Open drifts of that
object type that are no longer found are closed as resolved (nobody needed to act).

* "inventory": for every variant ExternalRef, the tool's available quantity
  (``connector.inventory_snapshot``) against the hub's at the connection's
  warehouse (the connection's, else its sales channel's; whole units, never below
  0, as the outbound push computes it). A difference is Drift(kind
  "quantity_mismatch"), a variant the tool has no level for while the hub has stock
  is Drift(kind "missing_there"). Drifts heal toward the owner of the stock at that
  warehouse (``integrations.ownership``, one lookup per run), at once unless
  INTEGRATIONS_RECONCILE_AUTO_HEAL is False (or ``heal=False``):
  - the hub owns it: the quantity available now is pushed with
    ``connector.push(InventoryOut)`` and recorded as the outbound side records a push;
  - the tool owns it (a 3PL's warehouse): the on-hand here is set through the ledger so
    that what is available here is what the tool says (``appliers.levels.level_set_from_tool``,
    a count naming the tool); the drift's hub value says what changed ("5 → 7"). A
    "missing_there" drift of stock the tool owns is not healable: the tool keeping no level
    is a person's call, not a reason to zero the stock here.
  The run's message counts the drifts healed each way.
* "order": every order the tool changed within INTEGRATIONS_RECONCILE_ORDER_WINDOW_SECONDS
  (default 7 days, through ``connector.pull``) must exist here exactly once. One
  without an ExternalRef is Drift(kind "missing_here"); two or more orders of the
  connection's channel with the same external reference are Drift(kind "duplicate_here",
  a person decides which to cancel). Each order that exists here once is compared with the
  tool's ``OrderRecord``, one drift per order and kind:
  - "status_mismatch": cancelled in the tool and not here, or here and not in the tool;
  - "total_mismatch": the tool's ``totals.total`` is not ours at the currency's minor unit
    (compared only while the tool's order is unedited and unrefunded, as the applier does: the
    tool's total stays what was ordered, ours follows edits);
  - "fulfilment_missing_here": a shipment of the tool that is no shipment here
    (ExternalRef("fulfilment")); "tracking_mismatch": one that is, with another tracking number;
  - "refund_missing_here": a refund of the tool the hub recorded no credit note for
    (ExternalRef("refund"); a refund of goods that never left is not expected on an order
    cancelled here).
  Missing here, a shipment or a refund missing here and a cancellation the hub can follow are
  healable: healing re-reads the order with ``connector.fetch`` and stores and processes it as a
  poll event through the inbound path, then compares again (still there: the drift stays open,
  with what the event said). The rest is for a person.
* "customer", "invoice", "payment", "refund", "bill", "bill_payment" (connectors that take
  CUSTOMERS_OUT, INVOICES_OUT, PAYMENTS_OUT, BILLS_OUT, BILL_PAYMENTS_OUT): each record the hub
  pushed there (ExternalRef with a pushed hash) must exist in the tool with our values. The
  tool's values come from ``connector.read_back``; ours from the out-record the resolver would
  push now (``outbound_accounting.customer_out``, ``invoice_out``, ``payment_out``, ``bill_out``),
  read per set. Compared (``COMPARED``, as strings, amounts at the currency's minor unit): a
  customer's name and email; an invoice's (or credit note's) total, customer and voided; a
  payment's amount and document; a refund's amount; a bill's total and vendor; a bill payment's
  amount and bill. A record the tool does not have (deleted there) is Drift(kind
  "missing_there", healable: pushed again as new); one the tool voided while ours stands is
  Drift(kind "voided_there": never voided here by itself; healed on demand only, by pushing ours
  again as new, or resolved once a person voided ours too); one that differs (an amount edited
  there; a memo is not compared) is Drift(kind "value_mismatch"), healable when the hub owns the
  data (``integrations.ownership``) and the tool's record can be updated (money cannot: a
  payment, refund or bill payment pushed again would be recorded twice). A heal pushes what the
  topic's resolver answers now (forced), under a key of the drift (``erp-drift-<id>``), and
  records it as a delivery would (``resolving.remembering``).
* "customer_balance", "vendor_balance" (INVOICES_OUT, BILLS_OUT): per customer (vendor) the hub
  pushed, our open receivables (payables) of the documents it pushed against the tool's balance:
  Drift(kind "balance_mismatch") with both figures, for a person (``reconcile_balances``).

Every run that found drifts keeps their count per kind in its messages
(``{"level": "info", "message": "3 drifts: 2 total_mismatch, 1 …", "drifts": {kind: n}}``).
``heal`` (default INTEGRATIONS_RECONCILE_AUTO_HEAL for stock, off otherwise) heals what a run of
stock or of pushed records found (never "voided_there": ``HEALED_ON_DEMAND``); orders heal on
demand only, each in a run of its own, since a heal imports through the inbound path and counts
there. ``drift_heal`` heals one healable drift on demand; ``drift_resolve`` closes any drift by
hand. HTTP is done outside transactions so the
request log commits.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from erp.exceptions import ValidationFailed
from integrations import (
    alerts,
    inbound,
    ownership,
    reconcile_balances,
    reconcile_orders,
    reconcile_pushed,
    reconcile_stock,
    registry,
)
from integrations.appliers import ORDER
from integrations.contract import Connector
from integrations.errors import HubError
from integrations.models import (
    Connection,
    ConnectionStatus,
    Drift,
    DriftStatus,
    SyncJob,
    SyncRun,
    SyncRunStatus,
)
from integrations.reconcile_balances import BALANCES
from integrations.reconcile_drifts import (
    HEALED_BY_READING,
    HEALED_ON_DEMAND,
    INVENTORY,
    MISSING_THERE,
    VALUE_MISMATCH,
    VOIDED_THERE,
    count_kinds,
)
from integrations.reconcile_pushed import PUSHED

logger = logging.getLogger(__name__)


def auto_heal() -> bool:
    return bool(settings.INTEGRATIONS_RECONCILE_AUTO_HEAL)


def reconcile(*, connection: Connection, object_type: str, heal: bool | None = None) -> SyncRun:
    run = SyncRun.objects.create(connection=connection, job=SyncJob.RECONCILE, object_type=object_type)
    try:
        connector = registry.connector_for(connection, sync_run_id=run.pk)
        owner: ownership.Owner | None = None
        if object_type == INVENTORY:
            owner = reconcile_stock.stock_owner(connection)
            found = reconcile_stock.stock_drifts(connection, connector, run, owner)
            heal_now = auto_heal() if heal is None else heal
        elif object_type == ORDER:
            found = reconcile_orders.order_drifts(connection, connector, run)
            heal_now = False  # on demand: see the doc
        elif object_type in PUSHED and PUSHED[object_type] in type(connector).capabilities:
            found = reconcile_pushed.pushed_drifts(connection, connector, run, object_type)
            heal_now = bool(heal)
        elif object_type in BALANCES and BALANCES[object_type] in type(connector).capabilities:
            found = reconcile_balances.balance_drifts(connection, connector, run, object_type)
            heal_now = False  # a balance is for a person: its documents are what heals
        else:
            raise ValidationFailed(f"The hub cannot reconcile {object_type!r} with {connection.name}.")
        count_kinds(run, found)
        alerts.drifts_found(run, run.created)  # drifts new in this run: the integration admins are told
        if heal_now:
            with alerts.acting(connection):  # healing is the connection's doing (erp.actor)
                healed = sum(
                    _heal_quietly(drift, connector, run, owner)
                    for drift in found
                    if drift.healable and drift.kind not in HEALED_ON_DEMAND
                )
            if healed:
                how = (
                    f": on hand here set to {connection.name}'s count"
                    if object_type == INVENTORY and owner == ownership.Owner.TOOL
                    else ""
                )
                run.errors.append({"level": "info", "message": f"Healed {healed} drift(s){how}."})
    except Exception as exc:
        run.status = SyncRunStatus.FAILED
        run.errors.append({"level": "error", "message": f"{type(exc).__name__}: {exc}"})
        if not hasattr(exc, "title"):
            logger.exception("Reconciling %s of connection %s failed", object_type, connection.pk)
    return inbound.run_finish(run)


def _heal_quietly(
    drift: Drift, connector: Connector, run: SyncRun, owner: ownership.Owner | None = None
) -> bool:
    try:
        _heal(drift, connector, user=None, run=run, owner=owner)
    except Exception as exc:
        run.errors.append({"level": "error", "message": f"Could not heal {drift.label}: {exc}"})
        return False
    return True


# --- healing and resolving ------------------------------------------------------------------------


def _heal(
    drift: Drift, connector: Connector, *, user: Any, run: SyncRun, owner: ownership.Owner | None = None
) -> Drift:
    if drift.object_type == INVENTORY:
        reconcile_stock.heal_stock(drift, connector, run, owner)
    elif drift.object_type == ORDER and drift.kind in HEALED_BY_READING:
        reconcile_orders.heal_order(drift, connector, run)
    elif drift.object_type in PUSHED and drift.kind in (MISSING_THERE, VALUE_MISMATCH, VOIDED_THERE):
        reconcile_pushed.heal_pushed(drift, connector)
    else:
        raise ValidationFailed(f"A {drift.kind} drift cannot be healed by the hub; resolve it by hand.")
    drift.status = DriftStatus.HEALED
    drift.resolved_at = timezone.now()
    drift.resolved_by = user if getattr(user, "is_authenticated", False) else None
    drift.save()
    return drift


def drift_heal(*, drift: Drift, user: Any = None) -> Drift:
    """Heal one open, healable drift now, in its own SyncRun; HubError if the tool refused."""
    drift = Drift.objects.select_related("connection").get(pk=drift.pk)
    if drift.status != DriftStatus.OPEN:
        raise ValidationFailed(f"This drift is {drift.get_status_display().lower()} already.")
    if not drift.healable:
        raise ValidationFailed(f"A {drift.kind} drift cannot be healed by the hub; resolve it by hand.")
    run = SyncRun.objects.create(
        connection=drift.connection, job=SyncJob.RECONCILE, object_type=drift.object_type
    )
    try:
        _heal(drift, registry.connector_for(drift.connection, sync_run_id=run.pk), user=user, run=run)
    except Exception as exc:
        run.failed += 1
        run.errors.append({"level": "error", "message": f"Could not heal {drift.label}: {exc}"})
        inbound.run_finish(run)
        if isinstance(exc, HubError | ValidationFailed):
            raise
        raise HubError(f"Could not heal {drift.label}: {exc}") from exc
    run.updated += 1
    inbound.run_finish(run)
    return drift


@transaction.atomic
def drift_resolve(*, drift: Drift, user: Any = None) -> Drift:
    """A person looked at it: close the drift as resolved."""
    drift = Drift.objects.select_for_update().get(pk=drift.pk)
    if drift.status != DriftStatus.OPEN:
        raise ValidationFailed(f"This drift is {drift.get_status_display().lower()} already.")
    drift.status = DriftStatus.RESOLVED
    drift.resolved_at = timezone.now()
    drift.resolved_by = user if getattr(user, "is_authenticated", False) else None
    drift.save()
    return drift


def reconcilable() -> list[tuple[int, str]]:
    """(connection id, object type) for every active connection whose connector reconciles."""
    pairs: list[tuple[int, str]] = []
    for pk, key in Connection.objects.filter(status=ConnectionStatus.ACTIVE).values_list("pk", "connector"):
        try:
            cls = registry.get(key)
        except registry.UnknownConnector:
            continue
        pairs.extend((pk, t) for t in cls.reconcile_object_types)
    return pairs
