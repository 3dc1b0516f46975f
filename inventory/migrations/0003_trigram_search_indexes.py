"""Indexes for the text filters (PostgreSQL): SKU prefix, name contains, path, reference.

Django compiles istartswith/icontains to UPPER(col::text) LIKE UPPER(%s) on
PostgreSQL; trigram GIN indexes on exactly that expression serve both prefix
and substring searches. SQLite, the embedded mode, does without.
"""

from django.db import migrations

INDEXES = [
    ("inv_product_sku_trgm", "inventory_product", "sku"),
    ("inv_product_name_trgm", "inventory_product", "name"),
    ("inv_location_path_trgm", "inventory_location", "path"),
    ("inv_move_reference_trgm", "inventory_stockmove", "reference"),
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
    dependencies = [("inventory", "0002_virtual_locations_units_append_only")]

    operations = [migrations.RunPython(create, drop)]
