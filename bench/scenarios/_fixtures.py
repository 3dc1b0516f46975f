"""Fixtures written with SQL, in seconds instead of minutes: products, and stock received into them.

Writing the ledger tables directly is allowed in a bench fixture, nowhere else. The levels are
always computed FROM the moves just written (on hand = moves in - moves out per product and
location, the virtual supplier and customer locations included, as the ledger keeps them), so
``check_stock`` finds no drift.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.db import connection, transaction

from inventory.models import LocationKind, UnitOfMeasure
from inventory.services import virtual_location

PRODUCTS_SQL = """
INSERT INTO inventory_product (
    created_at, updated_at, sku, name, description, kind, weight, sale_price, currency,
    average_cost, tracking, is_active, stock_unit_id
)
SELECT now(), now(), %(prefix)s || lpad(g::text, %(digits)s, '0'), %(name)s || ' ' || g, '', 'stocked', NULL,
       %(price)s, 'USD', %(cost)s, 'none', true, %(unit)s
FROM generate_series(%(first)s, %(first)s + %(count)s - 1) AS g
"""

RECEIPTS_SQL = """
INSERT INTO inventory_stockmove (
    product_id, quantity, from_location_id, to_location_id, lot_id, unit_cost, kind, reference,
    document_type, document_id, reason, reversal_of_id, operation, user_id, created_at
)
SELECT p.id, %(quantity)s, %(supplier)s, %(location)s, NULL, %(cost)s, 'receipt', 'BENCH', '', '', '', NULL,
       gen_random_uuid(), NULL, now() - interval '1 day'
FROM inventory_product AS p
WHERE p.id BETWEEN %(low)s AND %(high)s
"""

LEVELS_SQL = """
INSERT INTO inventory_stocklevel (
    product_id, location_id, lot_id, warehouse_id, on_hand, reserved, updated_at{copy_columns}
)
SELECT s.product_id, s.location_id, NULL, l.warehouse_id, SUM(s.q), 0, now(){copy_values}
FROM (
    SELECT product_id, to_location_id AS location_id, quantity AS q
    FROM inventory_stockmove WHERE product_id BETWEEN %(low)s AND %(high)s
    UNION ALL
    SELECT product_id, from_location_id, -quantity
    FROM inventory_stockmove WHERE product_id BETWEEN %(low)s AND %(high)s
) AS s
JOIN inventory_location AS l ON l.id = s.location_id
JOIN inventory_product AS p ON p.id = s.product_id
GROUP BY s.product_id, s.location_id, l.warehouse_id, l.path, p.sku
"""


def level_copies() -> bool:
    """Whether a stock level keeps copies of its product's SKU and its location's path (since
    8cad061): the fixtures also run against an older checkout (README: "Before and after")."""
    from inventory.models import StockLevel

    return any(f.name == "product_sku" for f in StockLevel._meta.concrete_fields)


def levels_sql() -> str:
    """LEVELS_SQL for this checkout's stock levels (with or without the copies)."""
    copies = level_copies()
    return LEVELS_SQL.format(
        copy_columns=", product_sku, location_path" if copies else "",
        copy_values=", p.sku, l.path" if copies else "",
    )


def insert_products(
    prefix: str,
    count: int,
    *,
    name: str = "Bench product",
    first: int = 0,
    digits: int = 5,
    price: str = "19.90",
    cost: str = "7.00",
) -> tuple[int, int]:
    """``count`` products ``<prefix><first..>`` in one INSERT; the first and last id (consecutive)."""
    unit = UnitOfMeasure.objects.get(code="pcs").pk
    params: dict[str, Any] = {
        "prefix": prefix,
        "digits": digits,
        "name": name,
        "price": price,
        "cost": cost,
        "unit": unit,
        "first": first,
        "count": count,
    }
    with connection.cursor() as cursor:
        cursor.execute(PRODUCTS_SQL, params)
        cursor.execute(
            "SELECT min(id), max(id), count(*) FROM inventory_product WHERE sku LIKE %s",
            [prefix.replace("_", r"\_") + "%"],
        )
        low, high, found = cursor.fetchone()
    if found != count or high - low + 1 != count:
        raise RuntimeError(f"{prefix}: expected {count} consecutive products, found {found} ({low}..{high})")
    return low, high


def levels_from_moves(low: int, high: int) -> None:
    """The StockLevel rows of products ``low..high``, computed from their moves (none may exist yet)."""
    with connection.cursor() as cursor:
        cursor.execute(levels_sql(), {"low": low, "high": high})


def stocked_products(
    prefix: str, count: int, *, location_id: int, quantity: int, cost: str = "7.00"
) -> tuple[int, int]:
    """``count`` products, each with one receipt of ``quantity`` into ``location_id`` and its levels."""
    low, high = insert_products(prefix, count, cost=cost)
    with connection.cursor() as cursor:
        cursor.execute(
            RECEIPTS_SQL,
            {
                "quantity": quantity,
                "supplier": virtual_location(LocationKind.SUPPLIER).pk,
                "location": location_id,
                "cost": cost,
                "low": low,
                "high": high,
            },
        )
    levels_from_moves(low, high)
    return low, high


FOREIGN_KEYS_SQL = """
SELECT c.conrelid::regclass::text, a.attname, c.confrelid::regclass::text, fa.attname
FROM pg_constraint AS c
JOIN pg_attribute AS a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
JOIN pg_attribute AS fa ON fa.attrelid = c.confrelid AND fa.attnum = c.confkey[1]
WHERE c.contype = 'f' AND c.conrelid = ANY(%s::regclass[]) AND cardinality(c.conkey) = 1
"""


def _check_foreign_keys(cursor: Any, tables: tuple[str, ...]) -> None:
    """Every foreign key of the tables, checked with one anti-join each instead of one lookup per row."""
    cursor.execute(FOREIGN_KEYS_SQL, [list(tables)])
    for table, column, parent, key in cursor.fetchall():
        cursor.execute(
            f"SELECT c.{column} FROM {table} AS c WHERE c.{column} IS NOT NULL AND NOT EXISTS "
            f"(SELECT 1 FROM {parent} AS p WHERE p.{key} = c.{column}) LIMIT 1"
        )
        orphan = cursor.fetchone()
        if orphan is not None:
            raise RuntimeError(f"{table}.{column} = {orphan[0]} is not in {parent}.{key}")


@contextmanager
def without_indexes(*tables: str) -> Iterator[None]:
    """One transaction in which the tables' plain indexes are dropped, then built again from their own
    definitions (pg_indexes) at the end: a million rows go in several times faster than through 14
    indexes. Unique indexes and those of constraints stay; on an error everything is rolled back.

    As a superuser, the foreign keys' per-row triggers are off meanwhile (session_replication_role)
    and each key is checked once at the end with an anti-join; otherwise they are checked before the
    indexes are built (SET CONSTRAINTS ALL IMMEDIATE: PostgreSQL refuses CREATE INDEX on a table with
    pending trigger events)."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        superuser = bool(cursor.fetchone()[0])
        cursor.execute(
            """
            SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
            FROM pg_index AS i
            WHERE i.indrelid = ANY(%s::regclass[]) AND NOT i.indisunique AND NOT i.indisprimary
              AND NOT EXISTS (SELECT 1 FROM pg_constraint AS c WHERE c.conindid = i.indexrelid)
            """,
            [list(tables)],
        )
        indexes = cursor.fetchall()
        for name, _ in indexes:
            cursor.execute(f"DROP INDEX {name}")
        if superuser:
            cursor.execute("SET LOCAL session_replication_role = replica")
        yield
        if superuser:
            cursor.execute("SET LOCAL session_replication_role = origin")
            _check_foreign_keys(cursor, tables)
        else:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
        for _, definition in indexes:
            cursor.execute(definition)
