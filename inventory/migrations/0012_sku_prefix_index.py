"""A SKU prefix search served by a B-tree, not by trigrams (issue #22).

Django compiles ``sku__istartswith`` to ``UPPER(sku::text) LIKE UPPER(%s)`` (and ``sku__iexact`` to
``UPPER(sku::text) = UPPER(%s)``). The trigram GIN index of migration 0003 served it by reading the
posting lists of every trigram in the search term: about 7 ms at 100k products when the term shares
trigrams with most SKUs, in each of a list's search queries. A B-tree on the same expression with
``text_pattern_ops`` serves a prefix (and equality) as a range: 0.03 ms. Nothing searches the SKU
anywhere else in a name (no ``icontains``), so the trigram index on it goes: one GIN index less to
write per product. The name keeps its trigram index (a search for part of a name).

PostgreSQL only, like 0003: SQLite, the embedded mode, does without.
"""

from django.db import migrations


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        "CREATE INDEX IF NOT EXISTS inv_product_sku_prefix ON inventory_product "
        '((UPPER("sku"::text)) text_pattern_ops)'
    )
    schema_editor.execute("DROP INDEX IF EXISTS inv_product_sku_trgm")


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        "CREATE INDEX IF NOT EXISTS inv_product_sku_trgm ON inventory_product "
        'USING gin ((UPPER("sku"::text)) gin_trgm_ops)'
    )
    schema_editor.execute("DROP INDEX IF EXISTS inv_product_sku_prefix")


class Migration(migrations.Migration):
    dependencies = [("inventory", "0011_level_sort_copies")]

    operations = [migrations.RunPython(create, drop)]
