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
  without an ExternalRef is Drift(kind "missing_here", healable: healing re-reads it
  with ``connector.fetch`` and stores and processes it as a poll event); two or
  more orders of the connection's channel with the same external reference are
  Drift(kind "duplicate_here", not healable: a person decides which to cancel).

``drift_heal`` heals one healable drift on demand; ``drift_resolve`` closes any drift
by hand. HTTP is done outside transactions so the request log commits.
"""

from __future__ import annotations

import datetime
import logging
from decimal import ROUND_FLOOR, Decimal
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from erp.exceptions import ValidationFailed
from integrations import inbound, ownership, polling, registry
from integrations.appliers import ORDER, VARIANT
from integrations.appliers.levels import level_set_from_tool
from integrations.contract import Connector, PushContext
from integrations.errors import HubError
from integrations.models import (
    Connection,
    ConnectionStatus,
    Drift,
    DriftStatus,
    ExternalRef,
    InboundStatus,
    SyncJob,
    SyncRun,
    SyncRunStatus,
)
from integrations.outbound_items import PUSHED_AVAILABLE, inventory_hash, warehouse_of
from integrations.records import InventoryOut
from inventory import availability
from inventory.models import Product, Warehouse
from sales.models import SalesOrder

logger = logging.getLogger(__name__)

INVENTORY = "inventory"
QUANTITY_MISMATCH, MISSING_THERE = "quantity_mismatch", "missing_there"
MISSING_HERE, DUPLICATE_HERE = "missing_here", "duplicate_here"


def auto_heal() -> bool:
    return bool(settings.INTEGRATIONS_RECONCILE_AUTO_HEAL)


def order_window() -> datetime.timedelta:
    return datetime.timedelta(seconds=float(settings.INTEGRATIONS_RECONCILE_ORDER_WINDOW_SECONDS))


def reconcile(*, connection: Connection, object_type: str, heal: bool | None = None) -> SyncRun:
    run = SyncRun.objects.create(connection=connection, job=SyncJob.RECONCILE, object_type=object_type)
    try:
        connector = registry.connector_for(connection, sync_run_id=run.pk)
        if object_type == INVENTORY:
            owner = _inventory_owner(connection)
            found = _inventory(connection, connector, run, owner)
            if auto_heal() if heal is None else heal:
                healed = sum(_heal_quietly(drift, connector, run, owner) for drift in found if drift.healable)
                if healed:
                    how = (
                        f": on hand here set to {connection.name}'s count"
                        if owner == ownership.Owner.TOOL
                        else ""
                    )
                    run.errors.append({"level": "info", "message": f"Healed {healed} drift(s){how}."})
        elif object_type == ORDER:
            _orders(connection, connector, run)
        else:
            raise ValidationFailed(f"The hub cannot reconcile {object_type!r}.")
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


def _orders(connection: Connection, connector: Connector, run: SyncRun) -> None:
    since = timezone.now() - order_window()
    numbers: dict[str, str] = {}
    page: str | None = None
    for _ in range(polling.max_pages()):
        result = connector.pull(ORDER, since=since, page=page)
        numbers.update(
            {i.external_id: (getattr(i.record, "number", "") or i.external_id) for i in result.items}
        )
        page = result.next_page
        if not page:
            break
    here = set(
        ExternalRef.objects.filter(connection=connection, object_type=ORDER, external_id__in=list(numbers))
        .exclude(object_id=0)
        .values_list("external_id", flat=True)
    )
    duplicates = {}
    if connection.sales_channel_id is not None:
        duplicates = {
            row["external_reference"]: row["n"]
            for row in SalesOrder.objects.filter(
                channel_id=connection.sales_channel_id, external_reference__in=list(numbers.values())
            )
            .values("external_reference")
            .annotate(n=Count("id"))
            .filter(n__gt=1)
        }
    found: list[Drift] = []
    with transaction.atomic():
        for external_id, number in numbers.items():
            if external_id not in here:
                found.append(
                    _record(
                        run,
                        ORDER,
                        external_id,
                        MISSING_HERE,
                        label=number,
                        tool_value="exists",
                        hub_value="missing",
                        healable=True,
                    )
                )
            elif number in duplicates:
                orders = SalesOrder.objects.filter(
                    channel_id=connection.sales_channel_id, external_reference=number
                ).values_list("number", flat=True)
                found.append(
                    _record(
                        run,
                        ORDER,
                        external_id,
                        DUPLICATE_HERE,
                        label=number,
                        tool_value="1 order",
                        hub_value=", ".join(orders)[:255],
                        healable=False,
                    )
                )
            else:
                run.skipped += 1
        _close_the_rest(run, ORDER, found)


def _heal_order(drift: Drift, connector: Connector, run: SyncRun) -> None:
    item = connector.fetch(ORDER, drift.external_id)
    event, created = polling.store_item(drift.connection, ORDER, item)
    if not created and event.status != InboundStatus.PROCESSED:
        inbound.reset_for_replay(event.pk)
    event = inbound.inbound_process(event.pk, run=run)
    exists = ExternalRef.objects.filter(
        connection_id=drift.connection_id, object_type=ORDER, external_id=drift.external_id
    ).exists()
    if not exists:
        raise HubError(
            f"Order {drift.label} was fetched but not imported: event {event.pk} is {event.status}. "
            f"{event.last_error}".strip()
        )


# --- healing and resolving ------------------------------------------------------------------------


def _heal(
    drift: Drift, connector: Connector, *, user: Any, run: SyncRun, owner: ownership.Owner | None = None
) -> Drift:
    if drift.object_type == INVENTORY:
        _heal_inventory(drift, connector, run, owner)
    elif drift.object_type == ORDER and drift.kind == MISSING_HERE:
        _heal_order(drift, connector, run)
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
