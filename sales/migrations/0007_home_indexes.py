"""Indexes for the role homes' figures at 100,000 orders (issue #22, bench/scenarios/home_figures.py).

- sales_line_open_idx: the open lines (not all shipped), a partial index that does not grow with the
  shipped history and carries what the backorders, ready-to-ship and unreserved-demand sums read.
- sales_order_to_ship_idx: the orders to ship (confirmed, partly shipped) by order date: the counts
  of orders to ship and late, and the join to their lines, from the index alone.
- sales_order_confirmed_cov_idx replaces sales_order_confirmed_idx: the on-time chart's eight weeks
  of confirmed orders (id and status carried) without reading the table.
- sales_order_date_cov_idx replaces sales_order_date_idx (same key, so the same sorts): the sales per
  day, per channel and top customers read a month of orders from the index alone.
- sales_invoice_open_idx: the open invoices with what receivables and their ageing sum.

``include`` is PostgreSQL's; SQLite builds the same indexes without the carried columns.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("sales", "0006_workspace_indexes"),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="salesorder",
            name="sales_order_confirmed_idx",
        ),
        migrations.RemoveIndex(
            model_name="salesorder",
            name="sales_order_date_idx",
        ),
        migrations.AddIndex(
            model_name="invoice",
            index=models.Index(
                condition=models.Q(("kind", "invoice"), ("status__in", ["issued", "partially_paid"])),
                fields=["currency"],
                include=("id", "due_date", "total", "amount_paid"),
                name="sales_invoice_open_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="orderline",
            index=models.Index(
                condition=models.Q(("quantity__gt", models.F("quantity_shipped"))),
                fields=["order"],
                include=("id", "product", "quantity", "quantity_shipped", "fulfilled_by"),
                name="sales_line_open_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="salesorder",
            index=models.Index(
                fields=["order_date"],
                include=("id", "status", "currency", "channel", "customer", "total"),
                name="sales_order_date_cov_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="salesorder",
            index=models.Index(
                fields=["confirmed_at"], include=("id", "status"), name="sales_order_confirmed_cov_idx"
            ),
        ),
        migrations.AddIndex(
            model_name="salesorder",
            index=models.Index(
                condition=models.Q(("status__in", ["confirmed", "partially_shipped"])),
                fields=["order_date"],
                include=("id",),
                name="sales_order_to_ship_idx",
            ),
        ),
    ]
