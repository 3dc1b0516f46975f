"""Row locks of inventory, always in one global order, so concurrent operations never deadlock.

The order: reservations (by pk), then products (by pk), then stock levels (by pk).
An operation takes each kind at most once, all rows of the kind in one statement.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping

from django.db.models import F, Q, QuerySet

from erp.rows import insert_rows, update_rows
from erp.statements import Lookup
from inventory.models import Product, Reservation, StockLevel


def lock_reservations(pks: Iterable[int]) -> dict[int, Reservation]:
    rows = Reservation.objects.select_for_update().filter(pk__in=set(pks)).order_by("pk")
    return {r.pk: r for r in rows}


def lock_products(pks: Iterable[int]) -> dict[int, Product]:
    rows = Product.objects.select_for_update().filter(pk__in=set(pks)).order_by("pk")
    return {p.pk: p for p in rows}


LevelKey = tuple[int, int, int | None]  # (product_id, location_id, lot_id)


def _keys_filter(keys: Iterable[LevelKey]) -> Q:
    """The levels of these keys: one term per (location, lot) with its products ``IN (...)``, not
    one per key (a receipt of 10,000 lines in one bin built 10,000 ORs: 43 s to plan)."""
    products: dict[tuple[int, int | None], list[int]] = defaultdict(list)
    for product_id, location_id, lot_id in keys:
        products[(location_id, lot_id)].append(product_id)
    condition = Q(pk__in=[])
    for (location_id, lot_id), ids in sorted(products.items(), key=lambda kv: (kv[0][0], kv[0][1] or 0)):
        condition |= Q(location_id=location_id, lot_id=lot_id, product_id__in=sorted(ids))
    return condition


def lock_levels(
    keys: Iterable[LevelKey], *, skus: Mapping[int, str] | None = None
) -> dict[LevelKey, StockLevel]:
    """Lock the levels of these keys, creating missing rows first (without races).

    A new row carries its product's SKU and its location's path (the list's sort copies):
    ``skus`` gives the SKU of each product as the caller holds it, so that creating a level costs
    no query of its own; a product left out is read (one query). A SKU or path renamed by another
    transaction between the caller's read and this insert (the insert waits for the rename's
    commit on the foreign key's lock, then writes the old value) is set right here: the locking
    query reads the current ones, and a row that differs is written again (never otherwise).
    """
    from inventory.models import Location

    keys = set(keys)
    if not keys:
        return {}
    places = {
        pk: (warehouse_id, path)
        for pk, warehouse_id, path in Location.objects.filter(pk__in={k[1] for k in keys}).values_list(
            "pk", "warehouse_id", "path"
        )
    }
    sku_of = dict(skus or {})
    unknown = {k[0] for k in keys} - sku_of.keys()
    if unknown:
        sku_of.update(Product.objects.filter(pk__in=unknown).values_list("pk", "sku"))
    # Inserted in one order too: two operations creating the same missing rows (a product's
    # level at a virtual location is every receipt's) wait on each other's insert of a key, and
    # in opposite orders they would deadlock.
    insert_rows(
        StockLevel,
        ("product_id", "location_id", "lot_id", "warehouse_id", "product_sku", "location_path"),
        [
            (p, loc, lot, places[loc][0], sku_of[p], places[loc][1])
            for p, loc, lot in sorted(keys, key=lambda k: (k[0], k[1], -1 if k[2] is None else k[2]))
        ],
        ignore_conflicts=True,
    )
    rows = list(
        StockLevel.objects.select_for_update(of=("self",))  # not the product, nor the location
        .filter(_keys_filter(keys))
        .annotate(current_sku=F("product__sku"), current_path=F("location__path"))
        .order_by("pk")
    )
    stale = [
        row for row in rows if (row.product_sku, row.location_path) != (row.current_sku, row.current_path)
    ]
    for row in stale:
        row.product_sku, row.location_path = row.current_sku, row.current_path
    update_rows(StockLevel, stale, ["product_sku", "location_path"])
    return {(row.product_id, row.location_id, row.lot_id): row for row in rows}


def levels_locked_in_order(condition: Q) -> QuerySet[StockLevel]:
    """The levels matching ``condition``, as the target of an ``update()`` that locks them in pk
    order first (a subquery ``FOR UPDATE`` sorted by pk, in the same statement): a rewrite of many
    levels (a SKU or a path renamed) takes their locks in the one global order, as the ledger does,
    instead of the table's order, so it never deadlocks with a posting."""
    ordered = StockLevel.objects.select_for_update().filter(condition).order_by("pk").values("pk")
    return StockLevel.objects.filter(pk__in=ordered)


def lock_levels_of_product_in_warehouse(product_id: int, warehouse_id: int) -> list[StockLevel]:
    """Every internal level of a product in a warehouse, locked (for reservations)."""
    return lock_levels_of_products_in_warehouse([product_id], warehouse_id)


def lock_levels_of_products_in_warehouse(product_ids: Iterable[int], warehouse_id: int) -> list[StockLevel]:
    """Every internal level of these products in a warehouse, locked in ONE statement (in pk order,
    as every lock of levels), with its location and lot read in the same statement (for picking
    order and messages). A reservation of a whole order costs this one query, whatever its lines;
    its SQL is built once per number of products (erp.statements)."""
    ids = sorted(set(product_ids))
    if not ids:
        return []
    return _LEVELS_OF_PRODUCTS_IN_WAREHOUSE.rows(product_ids=ids, warehouse_id=warehouse_id)


_LEVELS_OF_PRODUCTS_IN_WAREHOUSE = Lookup(
    lambda product_ids, warehouse_id: (
        StockLevel.objects.select_for_update(of=("self",))  # not location, lot
        .select_related("location", "lot")
        .filter(product_id__in=product_ids, warehouse_id=warehouse_id, location__kind="internal")
        .order_by("pk")
    )
)
