"""Reconciling orders: each order the tool changed lately exists here once, with the tool's status,
totals, fulfilments and refunds (``integrations.reconcile`` has the whole story)."""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from decimal import Decimal

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from erp.money import ZERO, round_money
from integrations import inbound, polling
from integrations.appliers import ORDER
from integrations.appliers.refs import ORDER_LINE
from integrations.appliers.refunds import REFUND
from integrations.appliers.shipments import FULFILMENT
from integrations.canonical import encode_item
from integrations.contract import Connector, InboundItem
from integrations.errors import HubError
from integrations.models import (
    Connection,
    Drift,
    ExternalRef,
    InboundEvent,
    InboundStatus,
    SyncRun,
)
from integrations.reconcile_drifts import (
    DUPLICATE_HERE,
    FULFILMENT_MISSING_HERE,
    MISSING_HERE,
    REFUND_MISSING_HERE,
    STATUS_MISMATCH,
    TOTAL_MISMATCH,
    TRACKING_MISMATCH,
    Finding,
    record_all,
)
from integrations.records import OrderRecord, Restock, ShipmentRecord
from sales import lifecycle
from sales.models import OrderLine, OrderStatus, SalesOrder, Shipment
from sales.services.fulfilment import ALLOCATABLE


def order_window() -> datetime.timedelta:
    return datetime.timedelta(seconds=float(settings.INTEGRATIONS_RECONCILE_ORDER_WINDOW_SECONDS))


# --- orders ---------------------------------------------------------------------------------------


def order_drifts(connection: Connection, connector: Connector, run: SyncRun) -> list[Drift]:
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
    return record_all(run, ORDER, findings)


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
    lines_shipped = _lines_shipped(connection, shipments)
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
        differences = _order_differences(order, record, shipped_here, refunded, lines_shipped)
        findings.extend(differences)
        in_sync += not differences
    return findings, in_sync


def _lines_shipped(connection: Connection, shipments: list[ShipmentRecord]) -> dict[str, Decimal]:
    """What is shipped here of each order line a cumulative record counts, by the tool's line id
    (two queries, whatever the number of orders)."""
    ids = {ln.line_external_id for s in shipments if s.cumulative for ln in s.lines if ln.line_external_id}
    if not ids:
        return {}
    refs = dict(
        ExternalRef.objects.filter(
            connection=connection,
            object_type=ORDER_LINE,
            external_id__in=ids,
            content_type=ContentType.objects.get_for_model(OrderLine),
        ).values_list("external_id", "object_id")
    )
    shipped = dict(OrderLine.objects.filter(pk__in=set(refs.values())).values_list("pk", "quantity_shipped"))
    return {eid: shipped[pk] for eid, pk in refs.items() if pk in shipped}


def _order_differences(
    order: SalesOrder,
    record: OrderRecord,
    shipped_here: Mapping[str, str],
    refunded: set[str],
    lines_shipped: Mapping[str, Decimal],
) -> list[Finding]:
    """One order's drifts: status, total, fulfilment and refunds (see the module doc)."""

    def found(kind: str, hub: str, tool: str, healable: bool) -> None:
        out.append(Finding(record.external_id, kind, record.number, hub, tool, healable))

    out: list[Finding] = []
    # An order whose every line the tool took back before anything shipped is over there too: the
    # hub cancelled it (appliers.edits), whether or not the tool calls it cancelled.
    emptied = bool(record.lines) and all(ln.current_quantity == 0 for ln in record.lines)
    cancelled_there = record.cancelled_at is not None or (
        emptied and not any(not s.voided for s in record.shipments)
    )
    cancelled_here = order.status == OrderStatus.CANCELLED
    if cancelled_there != cancelled_here:
        healable = cancelled_there and lifecycle.can(order.status, OrderStatus.CANCELLED)
        found(STATUS_MISMATCH, order.status, "cancelled" if cancelled_there else "not cancelled", healable)
    unedited = not record.refunds and all(ln.current_quantity in (None, ln.quantity) for ln in record.lines)
    if record.totals is not None and unedited:
        theirs, mine = (round_money(v, order.currency) for v in (record.totals.total, order.total))
        if theirs != mine:
            found(TOTAL_MISMATCH, str(mine), str(theirs), False)
    # A cumulative record is a count of what left per line (Amazon's QuantityShipped), not a label:
    # it is in sync when nothing it counts is beyond what is shipped here, and it has no tracking.
    shipments = [s for s in record.shipments if not s.voided and not s.cumulative]
    counted: dict[str, Decimal] = {}
    for count in (s for s in record.shipments if s.cumulative and not s.voided):
        for ln in count.lines:
            if ln.line_external_id:
                counted[ln.line_external_id] = max(counted.get(ln.line_external_id, ZERO), ln.quantity)
    beyond = {
        line: (there, lines_shipped.get(line, ZERO))
        for line, there in counted.items()
        if there > lines_shipped.get(line, ZERO)
    }
    if beyond:
        hub = "; ".join(
            f"line {line}: {here.normalize()} shipped" for line, (_, here) in sorted(beyond.items())
        )
        tool = "; ".join(
            f"line {line}: {there.normalize()} shipped" for line, (there, _) in sorted(beyond.items())
        )
        found(FULFILMENT_MISSING_HERE, hub, tool, order.status in ALLOCATABLE)
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


def heal_order(drift: Drift, connector: Connector, run: SyncRun) -> None:
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
