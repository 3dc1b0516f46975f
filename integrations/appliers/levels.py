"""Inventory levels in: a tool's count of a SKU at one of its locations (``InventoryLevelRecord``).

Where the connection's ownership rule says the tool owns the stock (a 3PL's on-hand in its
warehouse, ``integrations.ownership``), the count becomes the on-hand here, through the ledger:
``level_set_from_tool`` moves the difference to or from the adjustment location as a count whose
reason names the tool ("Counted by ShipBob (3PL)"), so every unit stays explained. Where the hub
owns it, nothing is applied: reconciliation compares it, and pushes the hub's level.

* The product: ExternalRef("variant") of the variant id, else ExternalRef("sku"), else the active
  product with that SKU (case-insensitive); none is ``MissingDependency(kind="sku")``, and the event
  waits in the quarantine until the SKU is mapped (as an order's line does).
* The warehouse: ExternalRef("location") of the tool's location; a location not mapped is the
  connection's warehouse while the connection maps no location at all (a tool with one location),
  and ``NotConfigured`` once it maps some (the count is of a place the hub does not know). No
  warehouse at all is ``NotConfigured`` too.
* Stale counts are skipped: ExternalRef("inventory_level", "<location>|<sku>") keeps the time of
  the count applied last (``external_updated_at``); an older one changes nothing.
* Echo: the count's own ``inventory.level_changed`` is never pushed back to the tool that owns the
  stock (``outbound_items.resolve_inventory`` says so and skips the delivery); other connections
  selling that warehouse's stock get the new level as usual.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Sum
from django.db.models.functions import Lower
from django.utils import timezone

from erp.money import ZERO, quantize_quantity
from integrations import locations as located
from integrations import ownership
from integrations.appliers.refs import SKU, VARIANT, Applied, NotConfigured, claim, ct, is_stale, refs
from integrations.contract import Action, InboundItem
from integrations.errors import MissingDependency, NeedsAPerson
from integrations.models import Connection, ExternalRef, SyncRun
from integrations.records import InventoryLevelRecord
from inventory.ledger import Document
from inventory.locks import lock_levels_of_product_in_warehouse
from inventory.models import (
    Location,
    Lot,
    MoveKind,
    Product,
    Reservation,
    ReservationStatus,
    Tracking,
    Warehouse,
)
from inventory.services import stock_adjust, warehouse_default_location
from sales.models import OrderLine, SalesOrder
from sales.selectors import DEMAND_TYPE

LEVEL, LOCATION, ORDER = "inventory_level", "location", "order"
DOCUMENT_TYPE = "integrations.connection"


class CountBelowReserved(NeedsAPerson):
    """The tool counts less than is reserved here: taking reserved stock is a person's decision
    (release or reallocate the reservations), not the hub's."""

    title = "The tool's count is below what is reserved here"
    kind = "reserved stock"


class CountNeedsALot(NeedsAPerson):
    title = "The tool's count is of a product tracked by lot"
    kind = "lot-tracked stock"


def apply_level(connection: Connection, item: InboundItem, run: SyncRun) -> Applied:
    """Apply one inventory level where the tool owns the stock; see the module's doc."""
    record = item.record
    if item.action == Action.DELETE or record is None:
        return Applied(LEVEL, item.external_id, "skipped", "no count to apply")
    if not isinstance(record, InventoryLevelRecord):
        raise ValueError(f"An inventory level item carries a {type(record).__name__}.")
    key = level_key(record)
    warehouse = _warehouse(connection, record)
    if ownership.owner_of(connection, ownership.INVENTORY, warehouse.pk) != ownership.Owner.TOOL:
        return Applied(
            LEVEL,
            key,
            "skipped",
            f"the stock at {warehouse.code} is the hub's: the tool's count is compared by "
            "reconciliation, never applied",
            label=record.sku,
        )
    product = _product(connection, record)
    counted_at = record.counted_at or item.updated_at
    ref, claimed = claim(connection, LEVEL, key, Product)
    if not claimed and is_stale(ref, counted_at):
        return Applied(
            LEVEL, key, "skipped", "stale: counted before the count applied last", product.pk, product.sku
        )
    before, after = level_set_from_tool(
        connection=connection,
        product=product,
        warehouse=warehouse,
        on_hand=record.on_hand,
        committed=record.committed,
        reason=f"Counted by {connection.name}",
    )
    ref.content_type, ref.object_id = ct(Product), product.pk
    if counted_at and (ref.external_updated_at is None or counted_at > ref.external_updated_at):
        ref.external_updated_at = counted_at
    ref.extra = {"warehouse": warehouse.pk, "on_hand": str(quantize_quantity(record.on_hand))}
    ref.synced_at = timezone.now()
    ref.save()
    if before == after:
        return Applied(
            LEVEL,
            key,
            "skipped",
            f"unchanged: {_n(after)} on hand at {warehouse.code}",
            product.pk,
            product.sku,
        )
    return Applied(
        LEVEL,
        key,
        "updated",
        f"on hand at {warehouse.code}: {_n(before)} → {_n(after)}, counted by {connection.name}",
        product.pk,
        product.sku,
    )


def level_key(record: InventoryLevelRecord) -> str:
    """The tool's identity of a level: its location and its SKU (or variant id, without a SKU)."""
    return f"{record.location_external_id}|{record.sku or record.variant_external_id}"[:255]


def _n(value: Decimal) -> str:
    return f"{value.normalize():f}"


def _product(connection: Connection, record: InventoryLevelRecord) -> Product:
    product_ct = ct(Product)
    mapped: int | None = None
    if record.variant_external_id:
        mapped = (
            refs(connection, VARIANT)
            .filter(external_id=record.variant_external_id, content_type=product_ct)
            .values_list("object_id", flat=True)
            .first()
        )
    if mapped is None and record.sku:
        mapped = (
            refs(connection, SKU)
            .filter(external_id=record.sku, content_type=product_ct)
            .values_list("object_id", flat=True)
            .first()
        )
    products = Product.objects.select_related("stock_unit")
    product = products.filter(pk=mapped).first() if mapped is not None else None
    if product is None and record.sku:
        product = (
            products.annotate(sku_lower=Lower("sku"))
            .filter(is_active=True, sku_lower=record.sku.lower())
            .order_by("pk")
            .first()
        )
    if product is None:
        what = f"SKU {record.sku!r}" if record.sku else f"variant {record.variant_external_id!r} (no SKU)"
        raise MissingDependency(
            f"Unknown {what} in {connection.name}'s count at "
            f"{record.location_external_id or 'its location'}: map it to a product and the count is applied.",
            kind="sku" if record.sku else "variant",
            value=record.sku or record.variant_external_id,
        )
    return product


def _warehouse(connection: Connection, record: InventoryLevelRecord) -> Warehouse:
    # the tool's locations as the connection maps them to our warehouses (its Mappings tab), then
    # any location linked by an external id of type location
    mapped = {location: wid for wid, location in located.locations_of(connection).items()}
    locations = mapped | dict(
        refs(connection, LOCATION).filter(content_type=ct(Warehouse)).values_list("external_id", "object_id")
    )
    if record.location_external_id and record.location_external_id in locations:
        warehouse_id: int | None = locations[record.location_external_id]
    elif record.location_external_id and locations:
        raise NotConfigured(
            f"{connection.name} counted stock at its location {record.location_external_id!r}, which is "
            "not mapped to a warehouse here: map it (an external id of type location), then replay.",
            value=f"location {record.location_external_id}"[:100],
        )
    else:
        warehouse_id = ownership.home_warehouse(connection)
    warehouse = Warehouse.objects.filter(pk=warehouse_id).first() if warehouse_id is not None else None
    if warehouse is None:
        raise NotConfigured(
            f"{connection.name} has no warehouse: choose the one its counts are of on the connection's "
            "page (Mappings), then replay the waiting events.",
            value="warehouse",
        )
    return warehouse


@transaction.atomic
def level_set_from_tool(
    *,
    connection: Connection,
    product: Product,
    warehouse: Warehouse,
    reason: str,
    on_hand: Decimal | None = None,
    available: Decimal | None = None,
    committed: Decimal | None = None,
    user: Any = None,
) -> tuple[Decimal, Decimal]:
    """Make the product's on-hand in ``warehouse`` what the tool counted, through the ledger:
    ``on_hand`` as given, or ``available`` plus what is reserved here (a tool that reports only
    what is available). Returns (on hand before, on hand after); no move when they are equal.

    With ``committed`` (what the tool holds for orders it has not shipped yet), the on-hand is the
    tool's less its committed units plus what is reserved here for the orders the tool has
    (``reserved_for_tool``). A unit the tool shipped is out of its on-hand and of its committed
    units at once, and stays reserved here until the hub records the shipment: so it is counted
    here until then, and taken once, by the shipment, whether the count or the shipment arrives
    first. Units the tool commits to orders the hub does not know (another channel of the tool)
    are not counted here: they are not ours to sell.

    The difference is a count move (``stock_adjust``) with ``reason``, under the connection's
    document: more comes in at the warehouse's default bin; less goes out of the bins' free stock,
    the default bin first. Counting less than is reserved here is refused (``CountBelowReserved``);
    so is adding stock of a lot-tracked product (which lot is a person's call).
    """
    if (on_hand is None) == (available is None):
        raise ValueError("Give the tool's on-hand or its available quantity, one.")
    levels = lock_levels_of_product_in_warehouse(product.pk, warehouse.pk)
    before = sum((lv.on_hand for lv in levels), ZERO)
    reserved = sum((lv.reserved for lv in levels), ZERO)
    if on_hand is not None and committed is not None:
        on_hand = on_hand - committed + reserved_for_tool(connection, product.pk, warehouse.pk)
    target = quantize_quantity(on_hand if on_hand is not None else max(available or ZERO, ZERO) + reserved)
    if target < 0:
        target = ZERO
    change = target - before
    document = Document(DOCUMENT_TYPE, connection.pk, connection.name[:100])
    if change > 0:
        if product.tracking != Tracking.NONE:
            raise CountNeedsALot(
                f"{connection.name} counts {_n(target)} of {product.sku} at {warehouse.code}, "
                f"{_n(change)} more than here, but {product.sku} is tracked by lot: count it here by lot.",
                value=product.sku,
            )
        stock_adjust(
            product=product,
            location=warehouse_default_location(warehouse),
            delta=change,
            reason=reason,
            kind=MoveKind.COUNT,
            document=document,
            user=user,
        )
    elif change < 0:
        _take(product, warehouse, levels, -change, target, reserved, reason, document, user, connection)
    return quantize_quantity(before), target


def reserved_for_tool(connection: Connection, product_id: int, warehouse_id: int) -> Decimal:
    """What is reserved here, in ``warehouse``, of the product for the orders the tool has (sent to
    it and not cancelled there, ``outbound_orders``); one query. Call it under the levels' lock."""
    orders = ExternalRef.objects.filter(
        connection=connection, object_type=ORDER, content_type=ct(SalesOrder), extra__sent=True
    ).exclude(extra__cancelled=True)
    lines = OrderLine.objects.filter(order_id__in=orders.values("object_id")).values("pk")
    held = Reservation.objects.filter(
        product_id=product_id,
        location__warehouse_id=warehouse_id,
        status=ReservationStatus.ACTIVE,
        demand_type=DEMAND_TYPE,
        demand_pk__in=lines,
    ).aggregate(total=Sum("quantity"))["total"]
    return held or ZERO


def _take(
    product: Product,
    warehouse: Warehouse,
    levels: list[Any],
    quantity: Decimal,
    target: Decimal,
    reserved: Decimal,
    reason: str,
    document: Document,
    user: Any,
    connection: Connection,
) -> None:
    """Take ``quantity`` out of the free stock of the levels, the default bin's first."""
    free = [lv for lv in levels if lv.on_hand - lv.reserved > 0]
    if sum((lv.on_hand - lv.reserved for lv in free), ZERO) < quantity:
        raise CountBelowReserved(
            f"{connection.name} counts {_n(target)} of {product.sku} at {warehouse.code}, but "
            f"{_n(reserved)} is reserved here: release or reallocate reservations, then replay.",
            value=product.sku,
        )
    default = warehouse_default_location(warehouse)
    free.sort(key=lambda lv: (lv.location_id != default.pk, -(lv.on_hand - lv.reserved), lv.pk))
    locations = Location.objects.select_related("warehouse").in_bulk([lv.location_id for lv in free])
    lots = Lot.objects.in_bulk([lv.lot_id for lv in free if lv.lot_id is not None])
    left = quantity
    for level in free:
        take = min(left, level.on_hand - level.reserved)
        stock_adjust(
            product=product,
            location=locations[level.location_id],
            delta=-take,
            lot=lots.get(level.lot_id) if level.lot_id is not None else None,
            reason=reason,
            kind=MoveKind.COUNT,
            document=document,
            user=user,
        )
        left -= take
        if left <= 0:
            break
