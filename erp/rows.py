"""Writing many rows' fields in one statement: ``UPDATE ... FROM unnest(arrays)`` on PostgreSQL,
``UPDATE ... FROM (VALUES ...)`` elsewhere.

Django's ``bulk_update`` builds one ``CASE WHEN pk = ... THEN ...`` per row and field: about a
millisecond per row for the ORM to build, and PostgreSQL evaluates it in time that grows with the
square of the rows (10,000 levels took minutes). ``update_rows`` writes each object's attributes
joined by primary key: on PostgreSQL one statement with an array per column, elsewhere ``CHUNK``
rows per statement. Unlike ``bulk_update``, a field with ``auto_now`` among ``fields`` gets the
time of the write, as ``save()`` would give it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

from django.db import connection
from django.db.models import Field, Model

from erp import statements
from erp.prepared import prepared_cursor

CHUNK = 1000
MAX_PARAMS = 30_000  # below SQLite's 32,766 (and PostgreSQL's 65,535) parameters per statement


def _columns(model: type[Model], names: Sequence[str]) -> list[Field[Any, Any]]:
    found: list[Field[Any, Any]] = []
    for name in names:
        field = model._meta.get_field(name)
        assert isinstance(field, Field)  # a concrete column, never a relation's other side
        found.append(field)
    return found


def update_rows(
    model: type[Model], rows: Sequence[Model], fields: Sequence[str], *, chunk: int = CHUNK
) -> None:
    """Write ``fields`` of ``rows`` (saved instances of ``model``) to the database."""
    if not rows:
        return
    meta = model._meta
    columns, binders, auto_now, statement = _update_plan(model, tuple(fields), connection.vendor)
    values = [
        [obj.pk for obj in rows],
        *(
            [
                statements.prepare(
                    f, bind, f.pre_save(obj, add=False) if now else getattr(obj, f.attname), connection
                )
                for obj in rows
            ]
            for f, bind, now in zip(columns, binders, auto_now, strict=True)
        ),
    ]
    if connection.vendor == "postgresql":
        with prepared_cursor() as cursor:
            cursor.execute(statement, values)
        return
    quote = connection.ops.quote_name
    table = quote(meta.db_table)
    with connection.cursor() as cursor:
        row = "(" + ", ".join(["%s"] * (1 + len(columns))) + ")"
        sets = ", ".join(f"{quote(f.column)} = v.column{n}" for n, f in enumerate(columns, start=2))
        chunk = max(1, min(chunk, MAX_PARAMS // (1 + len(columns))))
        for start in range(0, len(rows), chunk):
            end = min(start + chunk, len(rows))
            cursor.execute(
                f"UPDATE {table} SET {sets} FROM (VALUES {', '.join([row] * (end - start))}) AS v "
                f"WHERE {table}.{quote(meta.pk.column)} = v.column1",
                [column[i] for i in range(start, end) for column in values],
            )


@functools.cache
def _update_plan(
    model: type[Model], fields: tuple[str, ...], vendor: str
) -> tuple[list[Field[Any, Any]], list[Callable[[Any], Any] | None], list[bool], str]:
    """What ``update_rows`` works out once per model and fields: the columns, their binders
    (``erp.statements.binder``), which take the time of the write (``auto_now``), and on
    PostgreSQL the statement.

    Each column comes as ONE array: the same short statement for any number of rows, not a
    parameter per row and column for the driver to splice in and the server to parse; bound on
    the server, so that PostgreSQL plans it once per connection, and sent in binary (%b), which
    psycopg dumps several times faster than an array's text."""
    meta = model._meta
    columns = _columns(model, fields)
    binders = [statements.binder(f, connection) for f in columns]
    auto_now = [bool(getattr(f, "auto_now", False)) for f in columns]
    if vendor != "postgresql":
        return columns, binders, auto_now, ""
    quote = connection.ops.quote_name
    table = quote(meta.db_table)
    arrays = ", ".join(f"%b::{f.db_type(connection)}[]" for f in [meta.pk, *columns])
    names = ", ".join(f"c{n}" for n in range(1 + len(columns)))
    sets = ", ".join(f"{quote(f.column)} = v.c{n}" for n, f in enumerate(columns, start=1))
    statement = (
        f"UPDATE {table} SET {sets} FROM unnest({arrays}) AS v ({names}) "
        f"WHERE {table}.{quote(meta.pk.column)} = v.c0"
    )
    return columns, binders, auto_now, statement


def insert_rows(
    model: type[Model],
    fields: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    ignore_conflicts: bool = False,
) -> None:
    """INSERT ``rows``, each the values of ``fields`` (attnames, ready for the database: ids,
    strings, numbers) in that order; every other column takes its field's default (``auto_now``:
    the time of the write). With ``ignore_conflicts`` a row that would break a unique constraint
    is left out, as ``bulk_create(ignore_conflicts=True)`` leaves it.

    On PostgreSQL: one statement with an array per column, and no model instance per row (10,000
    new stock levels cost the ORM 0.3 s of instances and per-field preparation). Elsewhere:
    ``bulk_create``."""
    if not rows:
        return
    meta = model._meta
    given = _columns(model, fields)
    if connection.vendor != "postgresql":
        model._default_manager.bulk_create(
            [model(**dict(zip(fields, row, strict=True))) for row in rows], ignore_conflicts=ignore_conflicts
        )
        return
    names = {f.attname for f in given}
    rest = [f for f in meta.concrete_fields if not f.primary_key and f.attname not in names]
    blank = model()
    defaults = [
        f.get_db_prep_save(
            f.pre_save(blank, add=True) if getattr(f, "auto_now", False) else f.get_default(), connection
        )
        for f in rest
    ]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in [*given, *rest])
    arrays = ", ".join(f"%b::{f.db_type(connection)}[]" for f in given)  # binary: see update_rows
    constants = "".join(f", %s::{f.db_type(connection)}" for f in rest)
    conflict = " ON CONFLICT DO NOTHING" if ignore_conflicts else ""
    names_of_u = [f"c{i}" for i in range(len(given))]
    with prepared_cursor() as cursor:
        cursor.execute(  # in the order of ``rows`` (callers sort them to take locks in one order)
            f"INSERT INTO {quote(meta.db_table)} ({columns}) "
            f"SELECT {', '.join('u.' + n for n in names_of_u)}{constants} "
            f"FROM unnest({arrays}) WITH ORDINALITY AS u ({', '.join(names_of_u)}, _n) "
            f"ORDER BY u._n{conflict}",
            [*defaults, *([row[i] for row in rows] for i in range(len(given)))],  # in the text's order
        )
