"""CSV import and export pages (inventory/views_io.py), under /inventory/io/ in the "inventory" namespace."""

from django.urls import path

from inventory import views_io

urlpatterns = [
    path("", views_io.io_index, name="io"),
    path("preview/", views_io.io_preview, name="io_preview"),
    path("apply/", views_io.io_apply, name="io_apply"),
    path("export/products.csv", views_io.io_export_products, name="io_export_products"),
    path("export/stock-levels.csv", views_io.io_export_levels, name="io_export_levels"),
]
