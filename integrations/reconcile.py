"""Reconciliation: compare the tool's state with the hub's, record each drift, heal what the hub owns.

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
* "customer", "invoice", "payment" (connectors that take CUSTOMERS_OUT, INVOICES_OUT,
  PAYMENTS_OUT): each record the hub pushed there (ExternalRef with a pushed hash) must exist
  in the tool with our values. The tool's values come from ``connector.read_back``; ours from
  the out-record the resolver would push now (``outbound_accounting.customer_out``,
  ``invoice_out``, ``payment_out``), read per set. Compared (``COMPARED``, as strings, amounts
  at the currency's minor unit): a customer's name and email; an invoice's total, customer and
  voided; a payment's amount and document. A record the tool does not have is
  Drift(kind "missing_there", healable: pushed again as new); one that differs is
  Drift(kind "value_mismatch"), healable when the hub owns the data (``integrations.ownership``)
  and the tool's record can be updated (a payment cannot: pushed again, the money would be
  recorded twice). A heal pushes what the topic's resolver answers now (forced), under a key of
  the drift (``erp-drift-<id>``), and records it as a delivery would (``resolving.remembering``).

Every run that found drifts keeps their count per kind in its messages
(``{"level": "info", "message": "3 drifts: 2 total_mismatch, 1 …", "drifts": {kind: n}}``).
``heal`` (default INTEGRATIONS_RECONCILE_AUTO_HEAL for stock, off otherwise) heals what a run of
stock or of pushed records found; orders heal on demand only, each in a run of its own, since a
heal imports through the inbound path and counts there. ``drift_heal`` heals one healable drift
on demand; ``drift_resolve`` closes any drift by hand. HTTP is done outside transactions so the
request log commits.
"""

from __future__ import annotations

import dataclasses
import datetime
import logging
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction
from django.utils import timezone

from erp.exceptions import ValidationFailed
from erp.models import OutboxEvent
from erp.money import round_money
from integrations import inbound, outbound_items, ownership, polling, pushing, registry
from integrations.appliers import ORDER, VARIANT
from integrations.appliers.levels import level_set_from_tool
from integrations.appliers.refunds import REFUND
from integrations.appliers.shipments import FULFILMENT
from integrations.canonical import encode_item
from integrations.contract import Capability, Connector, InboundItem, PushContext
from integrations.errors import HubError
from integrations.models import (
    Connection,
    ConnectionStatus,
    Drift,
    DriftStatus,
    ExternalRef,
    InboundEvent,
    InboundStatus,
    SyncJob,
    SyncRun,
    SyncRunStatus,
)
from integrations.outbound_accounting import (
    CUSTOMER,
    INVOICE,
    PAYMENT,
    customer_out,
    invoice_out,
    payment_out,
)
from integrations.outbound_items import PUSHED_AVAILABLE, inventory_hash, warehouse_of
from integrations.records import InventoryOut, OrderRecord, OutboundItem, Restock
from integrations.resolving import refs_of
from inventory import availability
from inventory.models import Product, Warehouse
from sales import lifecycle
from sales.models import Customer, Invoice, OrderStatus, Payment, SalesOrder, Shipment
from sales.services.fulfilment import ALLOCATABLE

logger = logging.getLogger(__name__)

INVENTORY = "inventory"
QUANTITY_MISMATCH, MISSING_THERE = "quantity_mismatch", "missing_there"
MISSING_HERE, DUPLICATE_HERE = "missing_here", "duplicate_here"
STATUS_MISMATCH, TOTAL_MISMATCH = "status_mismatch", "total_mismatch"
FULFILMENT_MISSING_HERE, TRACKING_MISMATCH = "fulfilment_missing_here", "tracking_mismatch"
REFUND_MISSING_HERE, VALUE_MISMATCH = "refund_missing_here", "value_mismatch"
# Order drifts a re-read of the order through the inbound path can heal.
HEALED_BY_READING = frozenset({MISSING_HERE, STATUS_MISMATCH, FULFILMENT_MISSING_HERE, REFUND_MISSING_HERE})

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


def auto_heal() -> bool:
    return bool(settings.INTEGRATIONS_RECONCILE_AUTO_HEAL)


def order_window() -> datetime.timedelta:
    return datetime.timedelta(seconds=float(settings.INTEGRATIONS_RECONCILE_ORDER_WINDOW_SECONDS))


def reconcile(*, connection: Connection, object_type: str, heal: bool | None = None) -> SyncRun:
    run = SyncRun.objects.create(connection=connection, job=SyncJob.RECONCILE, object_type=object_type)
    try:
        connector = registry.connector_for(connection, sync_run_id=run.pk)
        owner: ownership.Owner | None = None
        if object_type == INVENTORY:
            owner = _inventory_owner(connection)
            found = _inventory(connection, connector, run, owner)
            heal_now = auto_heal() if heal is None else heal
        elif object_type == ORDER:
            found, heal_now = _orders(connection, connector, run), False  # on demand: see the doc
        elif object_type in PUSHED and PUSHED[object_type] in type(connector).capabilities:
            found, heal_now = _pushed(connection, connector, run, object_type), bool(heal)
        else:
            raise ValidationFailed(f"The hub cannot reconcile {object_type!r} with {connection.name}.")
        _count_kinds(run, found)
        if heal_now:
            healed = sum(_heal_quietly(drift, connector, run, owner) for drift in found if drift.healable)
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


# --- recording drifts -----------------------------------------------------------------------------


def _record(run: SyncRun, object_type: str, external_id: str, kind: str, **values: Any) -> Drift:
    drift = Drift.objects.filter(
        connection_id=run.connection_id,
        object_type=object_type,
        external_id=external_id,
        kind=kind,
        status=DriftStatus.OPEN,
    ).first()
    if drift is None:
        run.created += 1
        return Drift.objects.create(
            connection_id=run.connection_id,
            sync_run=run,
            object_type=object_type,
            external_id=external_id,
            kind=kind,
            **values,
        )
    run.updated += 1
    for name, value in values.items():
        setattr(drift, name, value)
    drift.sync_run = run
    drift.save()
    return drift


@dataclass(frozen=True)
class Finding:
    """One difference a comparison found, before it is recorded as a Drift."""

    external_id: str
    kind: str
    label: str
    hub_value: str
    tool_value: str
    healable: bool


def _record_all(run: SyncRun, object_type: str, findings: Iterable[Finding]) -> list[Drift]:
    """Record what was found (in one transaction) and close the open drifts no longer found."""
    with transaction.atomic():
        found = [
            _record(
                run,
                object_type,
                f.external_id,
                f.kind,
                label=f.label[:255],
                hub_value=f.hub_value[:255],
                tool_value=f.tool_value[:255],
                healable=f.healable,
            )
            for f in findings
        ]
        _close_the_rest(run, object_type, found)
    return found


def _count_kinds(run: SyncRun, found: list[Drift]) -> None:
    """The run's report: how many drifts of each kind it found (most first), as a message and as
    numbers (``drifts``) for whoever reads the run."""
    if not found:
        return
    counts = Counter(drift.kind for drift in found)
    kinds = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    text = ", ".join(f"{n} {kind}" for kind, n in kinds)
    noun = "drift" if len(found) == 1 else "drifts"
    run.errors.append({"level": "info", "message": f"{len(found)} {noun}: {text}.", "drifts": dict(kinds)})


def _close_the_rest(run: SyncRun, object_type: str, found: list[Drift]) -> None:
    Drift.objects.filter(
        connection_id=run.connection_id, object_type=object_type, status=DriftStatus.OPEN
    ).exclude(pk__in=[d.pk for d in found]).update(status=DriftStatus.RESOLVED, resolved_at=timezone.now())


# --- inventory ------------------------------------------------------------------------------------


def _hub_available(connection: Connection, product_ids: list[int]) -> dict[int, int]:
    warehouse_id = warehouse_of(connection)
    if warehouse_id is None:
        levels = availability.totals(product_ids)
    else:
        levels = {pid: a for (pid, _), a in availability.by_warehouse(product_ids, warehouse_id).items()}
    return {
        pid: max(0, int(a.available.to_integral_value(rounding=ROUND_FLOOR))) for pid, a in levels.items()
    }


def _variant_refs(connection: Connection) -> list[ExternalRef]:
    return list(
        ExternalRef.objects.filter(
            connection=connection,
            object_type=VARIANT,
            content_type=ContentType.objects.get_for_model(Product),
        ).order_by("pk")
    )


def _out(ref: ExternalRef, sku: str, available: int, previous: int | None = None) -> InventoryOut:
    extra = {k: v for k, v in ref.extra.items() if k != PUSHED_AVAILABLE}
    return InventoryOut(
        sku=sku, external_id=ref.external_id, extra=extra, available=available, previous=previous
    )


def _inventory_owner(connection: Connection) -> ownership.Owner:
    """Who owns the stock reconciliation compares: the connection's warehouse's."""
    return ownership.owner_of(connection, ownership.INVENTORY, warehouse_of(connection))


def _inventory(
    connection: Connection, connector: Connector, run: SyncRun, owner: ownership.Owner
) -> list[Drift]:
    refs = _variant_refs(connection)
    skus = dict(Product.objects.filter(pk__in={r.object_id for r in refs}).values_list("pk", "sku"))
    refs = [r for r in refs if r.object_id in skus]
    hub = _hub_available(connection, list(skus))
    items = [_out(ref, skus[ref.object_id], hub.get(ref.object_id, 0)) for ref in refs]
    tool = connector.inventory_snapshot(items) if items else {}
    found: list[Drift] = []
    with transaction.atomic():
        for item in items:
            theirs = tool.get(item.external_id)
            if theirs == item.available or (theirs is None and item.available == 0):
                run.skipped += 1
                continue
            kind = MISSING_THERE if theirs is None else QUANTITY_MISMATCH
            found.append(
                _record(
                    run,
                    INVENTORY,
                    item.external_id,
                    kind,
                    label=item.sku,
                    hub_value=str(item.available),
                    tool_value="" if theirs is None else str(theirs),
                    healable=owner == ownership.Owner.HUB or theirs is not None,
                )
            )
        _close_the_rest(run, INVENTORY, found)
    return found


def _heal_inventory(drift: Drift, connector: Connector, run: SyncRun, owner: ownership.Owner | None) -> None:
    ref = ExternalRef.objects.get(
        connection_id=drift.connection_id, object_type=VARIANT, external_id=drift.external_id
    )
    product = Product.objects.get(pk=ref.object_id)
    if (owner or _inventory_owner(drift.connection)) == ownership.Owner.TOOL:
        _heal_toward_tool(drift, connector, run, ref, product)
        return
    available = _hub_available(drift.connection, [product.pk]).get(product.pk, 0)
    previous = int(drift.tool_value) if drift.tool_value.lstrip("-").isdigit() else None
    connector.push(_out(ref, product.sku, available, previous), PushContext(f"erp-drift-{drift.pk}"))
    with transaction.atomic():
        locked = ExternalRef.objects.select_for_update().get(pk=ref.pk)
        locked.pushed_hash = inventory_hash(available)
        locked.extra = {**locked.extra, PUSHED_AVAILABLE: available}
        locked.synced_at = timezone.now()
        locked.save(update_fields=["pushed_hash", "extra", "synced_at"])
    drift.hub_value = str(available)


def _heal_toward_tool(
    drift: Drift, connector: Connector, run: SyncRun, ref: ExternalRef, product: Product
) -> None:
    """The tool owns the stock: make what is available here what the tool says, through the ledger.

    The tool's value is the one this run just read; a drift healed later (on demand) reads the
    tool again, since its count may have moved since."""
    connection = drift.connection
    warehouse_id = warehouse_of(connection)
    warehouse = Warehouse.objects.filter(pk=warehouse_id).first() if warehouse_id is not None else None
    if warehouse is None:
        raise ValidationFailed(
            f"{connection.name} has no warehouse: the tool's count cannot be set anywhere; map one first."
        )
    before = _hub_available(connection, [product.pk]).get(product.pk, 0)
    if drift.sync_run_id == run.pk and drift.tool_value.lstrip("-").isdigit():
        theirs: int | None = int(drift.tool_value)
    else:
        theirs = connector.inventory_snapshot([_out(ref, product.sku, before)]).get(ref.external_id)
    if theirs is None:
        raise ValidationFailed(
            f"{connection.name} keeps no level of {product.sku}, and it owns the stock at "
            f"{warehouse.code}: resolve it by hand."
        )
    level_set_from_tool(
        connection=connection,
        product=product,
        warehouse=warehouse,
        available=Decimal(theirs),
        reason=f"Reconciled with {connection.name}: its count",
    )
    after = _hub_available(connection, [product.pk]).get(product.pk, 0)
    drift.tool_value = str(theirs)
    drift.hub_value = f"{before} → {after}"


def _heal_quietly(
    drift: Drift, connector: Connector, run: SyncRun, owner: ownership.Owner | None = None
) -> bool:
    try:
        _heal(drift, connector, user=None, run=run, owner=owner)
    except Exception as exc:
        run.errors.append({"level": "error", "message": f"Could not heal {drift.label}: {exc}"})
        return False
    return True


# --- orders ---------------------------------------------------------------------------------------


def _orders(connection: Connection, connector: Connector, run: SyncRun) -> list[Drift]:
    since = timezone.now() - order_window()
    items: dict[str, InboundItem] = {}
    page: str | None = None
    for _ in range(polling.max_pages()):
        result = connector.pull(ORDER, since=since, page=page)
        items.update({i.external_id: i for i in result.items})
        page = result.next_page
        if not page:
            break
    findings, in_sync = _order_findings(connection, items)
    run.skipped += in_sync
    return _record_all(run, ORDER, findings)


def _order_findings(connection: Connection, items: Mapping[str, InboundItem]) -> tuple[list[Finding], int]:
    """What differs between the tool's orders and ours, and how many are in sync: a fixed number of
    queries, whatever the number of orders."""
    numbers = {eid: (getattr(i.record, "number", "") or eid) for eid, i in items.items()}
    here = dict(
        ExternalRef.objects.filter(connection=connection, object_type=ORDER, external_id__in=list(numbers))
        .exclude(object_id=0)
        .values_list("external_id", "object_id")
    )
    duplicates: dict[str, list[str]] = {}
    if connection.sales_channel_id is not None:
        for reference, number in (
            SalesOrder.objects.filter(
                channel_id=connection.sales_channel_id, external_reference__in=list(numbers.values())
            )
            .order_by("pk")
            .values_list("external_reference", "number")
        ):
            duplicates.setdefault(reference, []).append(number)
    orders = SalesOrder.objects.in_bulk(set(here.values()))
    records = {eid: i.record for eid, i in items.items() if eid in here and isinstance(i.record, OrderRecord)}
    shipments = [s for r in records.values() for s in r.shipments if not s.voided]
    ours = dict(
        ExternalRef.objects.filter(
            connection=connection,
            object_type=FULFILMENT,
            external_id__in=[s.external_id for s in shipments],
            content_type=ContentType.objects.get_for_model(Shipment),
        ).values_list("external_id", "object_id")
    )
    tracking = dict(Shipment.objects.filter(pk__in=set(ours.values())).values_list("pk", "tracking_number"))
    shipped_here = {eid: tracking.get(pk, "") for eid, pk in ours.items()}
    refunded = set(
        ExternalRef.objects.filter(
            connection=connection,
            object_type=REFUND,
            external_id__in=[f.external_id for r in records.values() for f in r.refunds],
        ).values_list("external_id", flat=True)
    )
    findings: list[Finding] = []
    in_sync = 0
    for external_id, number in numbers.items():
        if external_id not in here:
            findings.append(Finding(external_id, MISSING_HERE, number, "missing", "exists", healable=True))
            continue
        if len(duplicates.get(number, ())) > 1:
            hub = ", ".join(duplicates[number])
            findings.append(Finding(external_id, DUPLICATE_HERE, number, hub, "1 order", healable=False))
            continue
        order, record = orders.get(here[external_id]), records.get(external_id)
        if order is None or record is None:  # a thin item: it exists, there is nothing to compare
            in_sync += 1
            continue
        differences = _order_differences(order, record, shipped_here, refunded)
        findings.extend(differences)
        in_sync += not differences
    return findings, in_sync


def _order_differences(
    order: SalesOrder, record: OrderRecord, shipped_here: Mapping[str, str], refunded: set[str]
) -> list[Finding]:
    """One order's drifts: status, total, fulfilment and refunds (see the module doc)."""

    def found(kind: str, hub: str, tool: str, healable: bool) -> None:
        out.append(Finding(record.external_id, kind, record.number, hub, tool, healable))

    out: list[Finding] = []
    cancelled_there = record.cancelled_at is not None
    cancelled_here = order.status == OrderStatus.CANCELLED
    if cancelled_there != cancelled_here:
        healable = cancelled_there and lifecycle.can(order.status, OrderStatus.CANCELLED)
        found(STATUS_MISMATCH, order.status, "cancelled" if cancelled_there else "not cancelled", healable)
    unedited = not record.refunds and all(ln.current_quantity in (None, ln.quantity) for ln in record.lines)
    if record.totals is not None and unedited:
        theirs, mine = (round_money(v, order.currency) for v in (record.totals.total, order.total))
        if theirs != mine:
            found(TOTAL_MISMATCH, str(mine), str(theirs), False)
    shipments = [s for s in record.shipments if not s.voided]
    missing = [s for s in shipments if s.external_id not in shipped_here]
    if missing:
        tool = "; ".join(f"{s.external_id} ({s.tracking_number or 'no tracking'})" for s in missing)
        found(FULFILMENT_MISSING_HERE, "not shipped here", tool, order.status in ALLOCATABLE)
    moved = [
        s
        for s in shipments
        if s.external_id in shipped_here and s.tracking_number.strip() != shipped_here[s.external_id].strip()
    ]
    if moved:
        hub = "; ".join(f"{s.external_id}: {shipped_here[s.external_id] or '—'}" for s in moved)
        tool = "; ".join(f"{s.external_id}: {s.tracking_number or '—'}" for s in moved)
        found(TRACKING_MISMATCH, hub, tool, False)
    unrecorded = [
        r
        for r in record.refunds
        if r.external_id not in refunded
        # goods refunded before they left credit nothing, and an order cancelled here takes no refunds
        and not (cancelled_here and all(ln.restock == Restock.CANCEL for ln in r.lines))
    ]
    if unrecorded:
        tool = "; ".join(f"{r.external_id} ({r.amount} {order.currency})" for r in unrecorded)
        found(REFUND_MISSING_HERE, "no credit note", tool, not cancelled_here)
    return out


def _heal_order(drift: Drift, connector: Connector, run: SyncRun) -> None:
    """Re-read the order and process it as a poll event, as a webhook the hub missed would have
    been; then compare again: a drift still there stays open, saying what the event did."""
    item = connector.fetch(ORDER, drift.external_id)
    if drift.kind == MISSING_HERE:
        event, created = polling.store_item(drift.connection, ORDER, item)
    else:
        # The order is here: the tool's change may carry the updated_at of an event stored already
        # (a change within the same second), whose body is the order before it. The re-read is an
        # event of its own.
        event, created = inbound.store_event(
            connection=drift.connection,
            source=InboundEvent.Source.POLL,
            external_id=f"{polling.poll_event_id(ORDER, item)}:drift-{drift.pk}"[:255],
            topic=f"poll:{ORDER}",
            headers={},
            body=encode_item(item),
            enqueue=False,
        )
    if not created and event.status != InboundStatus.PROCESSED:
        inbound.reset_for_replay(event.pk)
    event = inbound.inbound_process(event.pk, run=run)
    findings, _ = _order_findings(drift.connection, {drift.external_id: item})
    if any(f.kind == drift.kind for f in findings):
        what = "fetched but not imported" if drift.kind == MISSING_HERE else f"re-read, still {drift.kind}"
        raise HubError(f"Order {drift.label} was {what}: event {event.pk} is {event.status}. {_said(event)}")


def _said(event: InboundEvent) -> str:
    """What processing an event said: its error, else the reasons of its items."""
    if event.last_error:
        return event.last_error
    reasons = [str(i.get("reason") or "") for i in (event.result or {}).get("items", ())]
    return "; ".join(r for r in reasons if r)


# --- records pushed to accounting and CRM tools -------------------------------------------------


def _pushed(connection: Connection, connector: Connector, run: SyncRun, object_type: str) -> list[Drift]:
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
    return _record_all(run, object_type, findings)


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
        .prefetch_related("lines__order_line__product")
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


def _heal_pushed(drift: Drift, connector: Connector) -> None:
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


# --- healing and resolving ------------------------------------------------------------------------


def _heal(
    drift: Drift, connector: Connector, *, user: Any, run: SyncRun, owner: ownership.Owner | None = None
) -> Drift:
    if drift.object_type == INVENTORY:
        _heal_inventory(drift, connector, run, owner)
    elif drift.object_type == ORDER and drift.kind in HEALED_BY_READING:
        _heal_order(drift, connector, run)
    elif drift.object_type in PUSHED and drift.kind in (MISSING_THERE, VALUE_MISMATCH):
        _heal_pushed(drift, connector)
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
