"""Import and export pages (inventory/views/import_export.py), under /inventory/io/, namespace "inventory"."""

from django.urls import path

from inventory import views

urlpatterns = [
    path("", views.io_index, name="io"),
    path("preview/", views.io_preview, name="io_preview"),
    path("apply/", views.io_apply, name="io_apply"),
    path("export/products.csv", views.io_export_products, name="io_export_products"),
    path("export/stock-levels.csv", views.io_export_levels, name="io_export_levels"),
]
