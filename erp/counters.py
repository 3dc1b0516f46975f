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
