"""Trigram indexes for the global search (PostgreSQL): the ids tools give our records (ExternalRef.external_id).

Django compiles icontains/istartswith to UPPER(col::text) LIKE UPPER(%s) on PostgreSQL; a trigram
GIN index on exactly that expression serves both substring and prefix searches. SQLite, the
embedded mode, does without.
"""

from django.db import migrations

INDEXES = [
    ("integrations_ref_extid_trgm", "integrations_externalref", "external_id"),
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
    dependencies = [("integrations", "0008_fulfilment_rules")]

    operations = [migrations.RunPython(create, drop)]
