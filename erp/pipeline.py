"""Statements sent together: PostgreSQL's pipeline mode around the writes of one operation.

Each statement Django runs waits for PostgreSQL's answer before the next one is sent: a round trip
that costs both sides system calls and wake-ups, and the request the time between them. An order
placed through the API made 15 of them; with its writes sent together it makes 9, and costs (in
process, 20 alternating blocks of 50 orders, 2026-12-07) 0.3 ms less CPU here, 0.2 ms less in
PostgreSQL and 2 ms less wall time (11.7 against 13.8 ms), although psycopg's pipeline mode runs
4.6 % more instructions in Python (bench/results/2026-12-07-issue-22-pipeline.md): what it saves
is system calls, wake-ups and waiting, and each round trip is a network hop wherever PostgreSQL
runs on another host.

``pipelined()`` puts the connection in psycopg's pipeline mode for the block: a statement is
sent without waiting for its answer, and the answers are read when something needs one (a
``fetch`` of a SELECT, which first collects the answers of everything sent before it) or when the
block ends. What runs inside keeps to this:

* it writes what it does not read back: ``erp.statements.insert`` of instances whose keys are set
  (``erp.statements.assign_keys``), ``erp.rows.update_rows``. An INSERT that reads its keys back
  (``insert`` of instances without keys, the outbox's events) is sent too: the instances get their
  keys when the block ends (``send``), so nothing inside reads them;
* it never reads a row count (``QuerySet.update()``, ``Model.save()`` on an existing row, which
  decides between UPDATE and INSERT by it): inside the block the count is not known yet;
* SELECTs work as usual, and see everything sent before them;
* no savepoint inside is meant to catch a database error: PostgreSQL skips every statement after
  a failed one until the pipeline's end, a ``ROLLBACK TO SAVEPOINT`` included.

An error of a statement sent inside (a constraint, a deadlock) is raised as Django's error at the
next read or when the block ends; the statements after it are not run (PostgreSQL skips them
until the end of the pipeline), and the transaction, which is failing, is rolled back by its
``atomic``. So use it inside ``transaction.atomic()``; outside a transaction, and on any database
but PostgreSQL, it does nothing (the statements run one by one as usual). Nested blocks join the
outermost one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections

from erp.prepared import open_cursor


@dataclass
class _Pipeline:
    readers: list[Callable[[], None]] = field(default_factory=list)
    cursors: list[Any] = field(default_factory=list)


def active(using: str = DEFAULT_DB_ALIAS) -> bool:
    """Whether statements run on this connection now are sent without waiting (see the module)."""
    return getattr(connections[using], "_erp_pipeline", None) is not None


def send(
    sql: str,
    params: Any,
    read: Callable[[list[tuple[Any, ...]]], None] | None = None,
    using: str = DEFAULT_DB_ALIAS,
) -> None:
    """Run ``sql`` on a cursor that binds on the server (``erp.prepared.open_cursor``) and give
    ``read`` its rows: when the pipeline ends and its answers are all in, or at once outside one.
    Without ``read`` nothing is read back."""
    cursor = open_cursor(using)
    try:
        cursor.execute(sql, params)
    except BaseException:
        cursor.close()
        raise
    state: _Pipeline | None = getattr(connections[using], "_erp_pipeline", None)
    if read is None or state is None:
        try:
            if read is not None:
                read(cursor.fetchall())
        finally:
            cursor.close()
        return
    state.cursors.append(cursor)
    state.readers.append(lambda: read(cursor.fetchall()))


@contextmanager
def pipelined(using: str = DEFAULT_DB_ALIAS) -> Iterator[None]:
    """Send the statements of the block without waiting for each answer (see the module)."""
    connection: Any = connections[using]
    if getattr(connection, "_erp_pipeline", None) is not None or not _can_pipeline(connection):
        yield
        return
    connection.ensure_connection()
    state = _Pipeline()
    connection._erp_pipeline = state
    try:
        with connection.wrap_database_errors, connection.connection.pipeline():
            yield
        # Every answer is in now: reading them costs no round trip.
        with connection.wrap_database_errors:
            for read in state.readers:
                read()
    finally:
        connection._erp_pipeline = None
        for cursor in state.cursors:
            cursor.close()


def _can_pipeline(connection: Any) -> bool:
    if connection.vendor != "postgresql" or not connection.in_atomic_block:
        return False
    import psycopg

    return bool(psycopg.Pipeline.is_supported())
