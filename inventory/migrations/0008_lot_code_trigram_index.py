"""Trigram indexes for the global search (PostgreSQL): lot and serial number codes.

Django compiles icontains/istartswith to UPPER(col::text) LIKE UPPER(%s) on PostgreSQL; a trigram
GIN index on exactly that expression serves both substring and prefix searches. SQLite, the
embedded mode, does without.
"""

from django.db import migrations

INDEXES = [
    ("inv_lot_code_trgm", "inventory_lot", "code"),
]


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, table, column in INDEXES:
        schema_editor.execute(
            f'CREATE INDEX IF NOT EXISTS {name} ON {table} USING gin ((UPPER("{column}"::text)) gin_trgm_ops)'
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, _, _ in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("inventory", "0007_ledger_day")]

    operations = [migrations.RunPython(create, drop)]
