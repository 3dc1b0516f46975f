"""Trigram indexes for the global search (PostgreSQL): invoice, order and return numbers, the channel's order number, customer names, shipment and tracking numbers.

Django compiles icontains/istartswith to UPPER(col::text) LIKE UPPER(%s) on PostgreSQL; a trigram
GIN index on exactly that expression serves both substring and prefix searches. SQLite, the
embedded mode, does without.
"""

from django.db import migrations

INDEXES = [
    ("sales_invoice_number_trgm", "sales_invoice", "number"),
    ("sales_customer_name_trgm", "sales_customer", "name"),
    ("sales_order_number_trgm", "sales_salesorder", "number"),
    ("sales_order_extref_trgm", "sales_salesorder", "external_reference"),
    ("sales_shipment_number_trgm", "sales_shipment", "number"),
    ("sales_shipment_tracking_trgm", "sales_shipment", "tracking_number"),
    ("sales_return_number_trgm", "sales_salesreturn", "number"),
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
    dependencies = [("sales", "0004_shipping_method")]

    operations = [migrations.RunPython(create, drop)]
