"""Emptying the test database after a transactional test, on PostgreSQL, by deleting what was written.

A test that commits (``transaction=True``, a live server, the browser, the simulated days) ends with
Django's ``flush``: one ``TRUNCATE`` of every table (114 of them), then the ``post_migrate`` signal,
which writes the content types, permissions, roles and the units and locations the apps need. The
``TRUNCATE`` alone took a third of a second of PostgreSQL's time, mostly for files it replaces,
whatever the tables held; 140 such tests spent most of a minute on it, twice what they spend once a
test has written a handful of rows into a handful of tables.

Here the flush deletes the rows of the tables that hold any, found in one query, with the session
in replica mode: neither the foreign keys' triggers nor the stock ledger's append-only guard fire
for rows that all go, so the order of the deletes does not matter. What follows is unchanged: the
``post_migrate`` signal runs as before, and a flush that resets sequences (which only ``TRUNCATE
... RESTART IDENTITY`` does) is left to Django. Replica mode needs a superuser, which the test
databases here have (trust auth, user postgres); for any other user Django's flush runs instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db.backends.postgresql.operations import DatabaseOperations

_django_sql_flush = DatabaseOperations.sql_flush


def written_tables(connection: Any, tables: Sequence[str]) -> list[str]:
    """The tables among ``tables`` that hold at least one row: one query, a row read per table."""
    if not tables:
        return []
    quote = connection.ops.quote_name
    probes = " UNION ALL ".join(f"(SELECT {i} FROM {quote(table)} LIMIT 1)" for i, table in enumerate(tables))
    with connection.cursor() as cursor:
        cursor.execute(probes)
        return [tables[i] for (i,) in cursor.fetchall()]


def _can_replicate(connection: Any) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        row = cursor.fetchone()
    return bool(row and row[0])


def sql_flush(
    self: DatabaseOperations,
    style: Any,
    tables: Sequence[str],
    *,
    reset_sequences: bool = False,
    allow_cascade: bool = False,
) -> list[str]:
    if reset_sequences or not tables or not _can_replicate(self.connection):
        return _django_sql_flush(
            self, style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade
        )
    written = written_tables(self.connection, tables)
    if not written:
        return []
    # execute_sql_flush runs the list in one transaction: SET LOCAL ends with it.
    return [
        "SET LOCAL session_replication_role = replica",
        *(f"{style.SQL_KEYWORD('DELETE FROM')} {style.SQL_FIELD(self.quote_name(t))}" for t in written),
    ]


def install() -> None:
    """Flush by deleting what was written, for this test process (PostgreSQL only)."""
    DatabaseOperations.sql_flush = sql_flush  # type: ignore[method-assign]
