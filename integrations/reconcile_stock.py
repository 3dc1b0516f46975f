"""Reconciling stock: the tool's level of each mapped variant against the hub's, healed toward the
owner of the stock (``integrations.reconcile`` has the whole story)."""

from __future__ import annotations

from decimal import ROUND_FLOOR, Decimal

from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.utils import timezone

from erp.exceptions import ValidationFailed
from integrations import ownership
from integrations.appliers import VARIANT
from integrations.appliers.levels import level_set_from_tool
from integrations.contract import Connector, PushContext
from integrations.models import (
    Connection,
    Drift,
    ExternalRef,
    SyncRun,
)
from integrations.outbound_items import PUSHED_AVAILABLE, inventory_hash, warehouse_of
from integrations.reconcile_drifts import (
    INVENTORY,
    MISSING_THERE,
    QUANTITY_MISMATCH,
    close_the_rest,
    record,
)
from integrations.records import InventoryOut
from inventory import availability
from inventory.models import Product, Warehouse


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


def stock_owner(connection: Connection) -> ownership.Owner:
    """Who owns the stock reconciliation compares: the connection's warehouse's."""
    return ownership.owner_of(connection, ownership.INVENTORY, warehouse_of(connection))


def stock_drifts(
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
                record(
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
        close_the_rest(run, INVENTORY, found)
    return found


def heal_stock(drift: Drift, connector: Connector, run: SyncRun, owner: ownership.Owner | None) -> None:
    ref = ExternalRef.objects.get(
        connection_id=drift.connection_id, object_type=VARIANT, external_id=drift.external_id
    )
    product = Product.objects.get(pk=ref.object_id)
    if (owner or stock_owner(drift.connection)) == ownership.Owner.TOOL:
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
