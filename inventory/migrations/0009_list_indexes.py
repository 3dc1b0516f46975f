"""Indexes for the lists of the API at 100k products and 1M moves (issue #22).

* products by SKU (the default sort, and the keyset of cursor paging), by price, and filtered by
  kind or tracking, each in SKU order; the plain lower(sku) index goes: the SKU's unique
  constraint is an index of exactly that expression;
* moves filtered by document_id alone (the (document_type, document_id) index needs the type).

Levels have no index on on_hand or reserved (sorts they offer): those columns change with every
move, and an index on them would make each of those updates write the index too.
"""

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("inventory", "0008_lot_code_trigram_index"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="product",
            name="inv_product_sku_lower_idx",
        ),
        migrations.AddIndex(
            model_name="product",
            index=models.Index(fields=["sku", "id"], name="inv_product_sku_idx"),
        ),
        migrations.AddIndex(
            model_name="product",
            index=models.Index(fields=["sale_price", "id"], name="inv_product_price_idx"),
        ),
        migrations.AddIndex(
            model_name="product",
            index=models.Index(fields=["kind", "sku"], name="inv_product_kind_sku_idx"),
        ),
        migrations.AddIndex(
            model_name="product",
            index=models.Index(fields=["tracking", "sku"], name="inv_product_tracking_sku_idx"),
        ),
        migrations.AddIndex(
            model_name="stockmove",
            index=models.Index(fields=["document_id"], name="inv_move_document_id_idx"),
        ),
    ]
