"""Counters that hand out 1, 2, 3, ... under concurrency: one upsert, one row lock."""

from __future__ import annotations

from django.db import connection


def upsert_increment(table: str, key_columns: dict[str, str], counter: str) -> int:
    """INSERT the key with counter 1, or add 1 to it; return the new value.

    Works on PostgreSQL and SQLite (both support ON CONFLICT ... RETURNING). The
    row lock the UPDATE takes is held until commit, which orders concurrent callers.
    """
    columns = list(key_columns)
    placeholders = ", ".join(["%s"] * len(columns))
    sql = (
        f"INSERT INTO {table} ({', '.join(columns)}, {counter}) "
        f"VALUES ({placeholders}, 1) "
        f"ON CONFLICT ({', '.join(columns)}) DO UPDATE SET {counter} = {table}.{counter} + 1 "
        f"RETURNING {counter}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, list(key_columns.values()))
        row = cursor.fetchone()
    assert row is not None
    return int(row[0])


def upsert_add_many(
    table: str, key_columns: tuple[str, ...], counter: str, increments: dict[tuple[str, ...], int]
) -> dict[tuple[str, ...], int]:
    """Add each increment to its key's counter (INSERT the key with it if new), all in ONE statement;
    return every key's new value.

    The keys are written in sorted order, so that concurrent callers lock the rows they share in
    one order and never deadlock. Each row lock is held until commit, as in ``upsert_increment``.
    """
    if not increments:
        return {}
    keys = sorted(increments)
    width = len(key_columns)
    row = "(" + ", ".join(["%s"] * (width + 1)) + ")"
    params: list[str | int] = []
    for key in keys:
        params.extend(key)
        params.append(increments[key])
    names = ", ".join(key_columns)
    sql = (
        f"INSERT INTO {table} ({names}, {counter}) VALUES {', '.join([row] * len(keys))} "
        f"ON CONFLICT ({names}) DO UPDATE SET {counter} = {table}.{counter} + EXCLUDED.{counter} "
        f"RETURNING {names}, {counter}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return {tuple(str(v) for v in r[:width]): int(r[width]) for r in rows}
