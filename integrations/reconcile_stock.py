"""Reconciling stock: the tool's level of each mapped variant against the hub's, healed toward the
owner of the stock (``integrations.reconcile`` has the whole story). A connection that maps several
of our warehouses to its tool's locations (``integrations.locations``) is compared per location:
``inventory_snapshot`` is asked once per location with that location's items
(``InventoryOut.location_id``), and a drift names the variant and the location
("<variant id>@<location>"), healed toward the owner of the stock at that warehouse."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal

from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.utils import timezone

from erp.exceptions import ValidationFailed
from integrations import locations, ownership
from integrations.appliers import VARIANT
from integrations.appliers.levels import level_set_from_tool
from integrations.contract import Connector, PushContext
from integrations.models import (
    Connection,
    Drift,
    ExternalRef,
    SyncRun,
)
from integrations.outbound_items import inventory_hash, remembered, tool_extra, warehouse_of
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

AT = "@"  # a located drift's external id: "<variant id>@<tool location>"


def _hub_available(
    connection: Connection, product_ids: list[int], warehouse_id: int | None = None
) -> dict[int, int]:
    """Whole units available per product at the connection's warehouse (or ``warehouse_id``, one
    of its mapped locations'; every warehouse for a connection without one)."""
    warehouse_id = warehouse_id if warehouse_id is not None else warehouse_of(connection)
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


def _out(
    ref: ExternalRef, sku: str, available: int, previous: int | None = None, location_id: str | None = None
) -> InventoryOut:
    return InventoryOut(
        sku=sku,
        external_id=ref.external_id,
        extra=tool_extra(ref.extra),
        available=available,
        previous=previous,
        location_id=location_id,
    )


def stock_owner(connection: Connection) -> ownership.Owner:
    """Who owns the stock reconciliation compares: the connection's warehouse's."""
    return ownership.owner_of(connection, ownership.INVENTORY, warehouse_of(connection))


@dataclass(frozen=True)
class Place:
    """Where reconciliation compares stock: a warehouse of ours and the tool's location for it
    (None: the connection's one location), and who owns the stock there."""

    warehouse_id: int | None
    location_id: str | None
    owner: ownership.Owner


def places(connection: Connection, owner: ownership.Owner) -> list[Place]:
    """The connection's one place (owned by ``owner``), or one per mapped location."""
    located = locations.locations_of(connection)
    if not located:
        return [Place(None, None, owner)]
    owners = ownership.owners_of(connection, ownership.INVENTORY, located)
    return [Place(wid, loc, owners[wid]) for wid, loc in located.items()]


def stock_drifts(
    connection: Connection, connector: Connector, run: SyncRun, owner: ownership.Owner
) -> list[Drift]:
    """Each mapped variant's level in the tool against ours, per location where the connection
    maps several (the connector is asked once per location, with that location's items)."""
    refs = _variant_refs(connection)
    skus = dict(Product.objects.filter(pk__in={r.object_id for r in refs}).values_list("pk", "sku"))
    refs = [r for r in refs if r.object_id in skus]
    found: list[Drift] = []
    compared = []
    for place in places(connection, owner):
        hub = _hub_available(connection, list(skus), place.warehouse_id)
        items = [
            _out(ref, skus[ref.object_id], hub.get(ref.object_id, 0), None, place.location_id) for ref in refs
        ]
        compared.append((place, items, connector.inventory_snapshot(items) if items else {}))
    with transaction.atomic():
        for place, items, tool in compared:
            for item in items:
                theirs = tool.get(item.external_id)
                if theirs == item.available or (theirs is None and item.available == 0):
                    run.skipped += 1
                    continue
                kind = MISSING_THERE if theirs is None else QUANTITY_MISMATCH
                located = place.location_id is not None
                found.append(
                    record(
                        run,
                        INVENTORY,
                        f"{item.external_id}{AT}{place.location_id}" if located else item.external_id,
                        kind,
                        label=f"{item.sku} at location {place.location_id}" if located else item.sku,
                        hub_value=str(item.available),
                        tool_value="" if theirs is None else str(theirs),
                        healable=place.owner == ownership.Owner.HUB or theirs is not None,
                    )
                )
        close_the_rest(run, INVENTORY, found)
    return found


def _drift_place(drift: Drift) -> tuple[ExternalRef, str | None, int | None]:
    """The variant ref of a stock drift, the tool's location (None: the connection's one) and our
    warehouse mapped to it."""
    refs = ExternalRef.objects.filter(connection_id=drift.connection_id, object_type=VARIANT)
    ref = refs.filter(external_id=drift.external_id).first()
    if ref is not None or AT not in drift.external_id:
        return (ref or refs.get(external_id=drift.external_id)), None, None
    variant, _, location_id = drift.external_id.rpartition(AT)
    ref = refs.get(external_id=variant)
    mapped = {loc: wid for wid, loc in locations.locations_of(drift.connection).items()}
    if location_id not in mapped:
        raise ValidationFailed(
            f"{drift.connection.name} no longer maps a warehouse to location {location_id}: "
            "resolve it by hand."
        )
    return ref, location_id, mapped[location_id]


def heal_stock(drift: Drift, connector: Connector, run: SyncRun, owner: ownership.Owner | None) -> None:
    ref, location_id, warehouse_id = _drift_place(drift)
    product = Product.objects.get(pk=ref.object_id)
    if location_id is not None:
        owner = ownership.owner_of(drift.connection, ownership.INVENTORY, warehouse_id)
    if (owner or stock_owner(drift.connection)) == ownership.Owner.TOOL:
        _heal_toward_tool(drift, connector, run, ref, product, location_id, warehouse_id)
        return
    available = _hub_available(drift.connection, [product.pk], warehouse_id).get(product.pk, 0)
    previous = int(drift.tool_value) if drift.tool_value.lstrip("-").isdigit() else None
    connector.push(
        _out(ref, product.sku, available, previous, location_id), PushContext(f"erp-drift-{drift.pk}")
    )
    with transaction.atomic():
        locked = ExternalRef.objects.select_for_update().get(pk=ref.pk)
        fields = ["extra", "synced_at"]
        if location_id is None:
            locked.pushed_hash = inventory_hash(available)
            fields.append("pushed_hash")
        locked.extra = remembered(locked.extra, available, location_id)
        locked.synced_at = timezone.now()
        locked.save(update_fields=fields)
    drift.hub_value = str(available)


def _heal_toward_tool(
    drift: Drift,
    connector: Connector,
    run: SyncRun,
    ref: ExternalRef,
    product: Product,
    location_id: str | None = None,
    warehouse_id: int | None = None,
) -> None:
    """The tool owns the stock: make what is available here what the tool says, through the ledger.

    The tool's value is the one this run just read; a drift healed later (on demand) reads the
    tool again, since its count may have moved since."""
    connection = drift.connection
    warehouse_id = warehouse_id if warehouse_id is not None else warehouse_of(connection)
    warehouse = Warehouse.objects.filter(pk=warehouse_id).first() if warehouse_id is not None else None
    if warehouse is None:
        raise ValidationFailed(
            f"{connection.name} has no warehouse: the tool's count cannot be set anywhere; map one first."
        )
    before = _hub_available(connection, [product.pk], warehouse_id).get(product.pk, 0)
    if drift.sync_run_id == run.pk and drift.tool_value.lstrip("-").isdigit():
        theirs: int | None = int(drift.tool_value)
    else:
        item = _out(ref, product.sku, before, None, location_id)
        theirs = connector.inventory_snapshot([item]).get(ref.external_id)
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
    after = _hub_available(connection, [product.pk], warehouse_id).get(product.pk, 0)
    drift.tool_value = str(theirs)
    drift.hub_value = f"{before} → {after}"
