"""Statements PostgreSQL plans once per connection: a cursor that binds its parameters on the server.

Django's psycopg cursor binds parameters on the client: every statement reaches PostgreSQL as new
text, and is parsed and planned again. For a small statement run thousands of times (availability
of one product: about 1 ms of planning in 2.4 ms), ``prepared_cursor()`` binds on the server
instead, and psycopg prepares a statement once it has run ``prepare_threshold`` times on a
connection (``DATABASE_PREPARE_THRESHOLD``, 5; Django turns preparing off unless the database's
OPTIONS name it, erp/settings.py); after that each run only executes. Elsewhere (SQLite) it is
the usual cursor.

What it needs of a statement: parameters whose types PostgreSQL can infer from their place (a
column compared with them), not bare ``SELECT %s``. Prepared statements live as long as the
connection: behind PgBouncer in transaction mode they need its ``max_prepared_statements``
(1.21 and later; docs/deploy.md). Queries run through it are seen by Django's query log and by
``CaptureQueriesContext`` like any other.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, cast

from django.db import DEFAULT_DB_ALIAS, connections


def open_cursor(using: str = DEFAULT_DB_ALIAS) -> Any:
    """A cursor (Django's wrapper) whose statements PostgreSQL prepares after a few runs; the
    caller closes it (``erp.pipeline.send`` does, once its rows are read). Elsewhere the usual
    cursor."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        return connection.cursor()
    import psycopg

    connection.ensure_connection()
    with connection.wrap_database_errors:
        raw = psycopg.Cursor(connection.connection)  # binds on the server (ClientCursor does not)
    wrap = connection.make_debug_cursor if connection.queries_logged else connection.make_cursor
    return wrap(cast(Any, raw))  # Django's wrapper around any DB-API cursor


@contextmanager
def prepared_cursor(using: str = DEFAULT_DB_ALIAS) -> Iterator[Any]:
    """A cursor (Django's wrapper) whose statements PostgreSQL prepares after a few runs."""
    cursor = open_cursor(using)
    try:
        yield cursor
    finally:
        cursor.close()
