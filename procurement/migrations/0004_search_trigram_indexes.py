"""Trigram indexes for the global search (PostgreSQL): bill numbers and supplier invoice numbers, purchase order numbers, supplier names.

Django compiles icontains/istartswith to UPPER(col::text) LIKE UPPER(%s) on PostgreSQL; a trigram
GIN index on exactly that expression serves both substring and prefix searches. SQLite, the
embedded mode, does without.
"""

from django.db import migrations

INDEXES = [
    ("proc_bill_number_trgm", "procurement_bill", "number"),
    ("proc_bill_supref_trgm", "procurement_bill", "supplier_reference"),
    ("proc_po_number_trgm", "procurement_purchaseorder", "number"),
    ("proc_supplier_name_trgm", "procurement_supplier", "name"),
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
    dependencies = [("procurement", "0003_history_api_key")]

    operations = [migrations.RunPython(create, drop)]
