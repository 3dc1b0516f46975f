"""Writing many rows' fields in one statement: ``UPDATE ... FROM (VALUES ...)``.

Django's ``bulk_update`` builds one ``CASE WHEN pk = ... THEN ...`` per row and field: about a
millisecond per row for the ORM to build, and PostgreSQL evaluates it in time that grows with the
square of the rows (10,000 levels took minutes). ``update_rows`` writes each object's attributes
joined by primary key, ``CHUNK`` rows per statement. Unlike ``bulk_update``, a field with
``auto_now`` among ``fields`` gets the time of the write, as ``save()`` would give it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import connection
from django.db.models import Field, Model

CHUNK = 1000
MAX_PARAMS = 30_000  # below SQLite's 32,766 (and PostgreSQL's 65,535) parameters per statement


def update_rows(
    model: type[Model], rows: Sequence[Model], fields: Sequence[str], *, chunk: int = CHUNK
) -> None:
    """Write ``fields`` of ``rows`` (saved instances of ``model``) to the database."""
    if not rows:
        return
    meta = model._meta
    columns: list[Field[Any, Any]] = []
    for name in fields:
        found = meta.get_field(name)
        assert isinstance(found, Field)  # a concrete column, never a relation's other side
        columns.append(found)
    quote = connection.ops.quote_name
    typed = connection.vendor == "postgresql"  # VALUES' literals need their column's type there

    def cell(db_type: str | None) -> str:
        return f"CAST(%s AS {db_type})" if typed and db_type else "%s"

    row = (
        "("
        + ", ".join([cell(meta.pk.db_type(connection))] + [cell(f.db_type(connection)) for f in columns])
        + ")"
    )
    table = quote(meta.db_table)
    sets = ", ".join(f"{quote(f.column)} = v.column{n}" for n, f in enumerate(columns, start=2))
    chunk = max(1, min(chunk, MAX_PARAMS // (1 + len(columns))))
    with connection.cursor() as cursor:
        for start in range(0, len(rows), chunk):
            part = rows[start : start + chunk]
            params: list[Any] = []
            for obj in part:
                params.append(obj.pk)
                params.extend(
                    f.get_db_prep_save(
                        f.pre_save(obj, add=False)
                        if getattr(f, "auto_now", False)
                        else getattr(obj, f.attname),
                        connection,
                    )
                    for f in columns
                )
            cursor.execute(
                f"UPDATE {table} SET {sets} FROM (VALUES {', '.join([row] * len(part))}) AS v "
                f"WHERE {table}.{quote(meta.pk.column)} = v.column1",
                params,
            )
