from django.urls import include, path

from inventory import views

app_name = "inventory"

# Pages live in inventory/views/, one module per family of pages (import/export: urls_io.py).
urlpatterns = [
    path("", views.index, name="index"),
    path("check/", views.stock_check, name="stock-check"),
    path("products/", views.product_list, name="products"),
    path("products/new/", views.product_create, name="product-new"),
    path("products/new-variants/", views.product_variants_create, name="product-variants"),
    path("products/new-variants/preview/", views.product_variants_preview, name="product-variants-preview"),
    path("products/<int:pk>/", views.product_detail, name="product"),
    path("products/<int:pk>/edit/", views.product_edit, name="product-edit"),
    path("products/<int:pk>/archive/", views.product_archive, name="product-archive"),
    path("warehouses/", views.warehouse_list, name="warehouses"),
    path("warehouses/<int:pk>/", views.warehouse_detail, name="warehouse"),
    path("moves/", views.move_list, name="moves"),
    path("moves/<int:pk>/reverse/", views.move_reverse, name="move-reverse"),
    path("levels/", views.level_list, name="levels"),
    path("transfer/", views.transfer, name="transfer"),
    path("transfer/scan/", views.transfer_scan, name="transfer-scan"),
    path("transfers/<int:pk>/", views.transfer_detail, name="transfer-detail"),
    path("transfers/<int:pk>/receive/", views.transfer_receive, name="transfer-receive"),
    path("adjust/", views.adjust, name="adjust"),
    path("adjust/scan/", views.adjust_scan, name="adjust-scan"),
    path("counts/", views.count_list, name="counts"),
    path("counts/new/", views.count_create, name="count-new"),
    path("counts/<int:pk>/", views.count_detail, name="count"),
    path("counts/<int:pk>/scan/", views.count_scan, name="count-scan"),
    path("counts/<int:pk>/lines/", views.count_line, name="count-lines"),
    path("counts/<int:pk>/apply/", views.count_apply, name="count-apply"),
    path("counts/<int:pk>/cancel/", views.count_cancel, name="count-cancel"),
    path("replenishment/", views.replenishment_list, name="replenishment"),
    path("valuation/", views.valuation_report, name="valuation"),
    path("io/", include("inventory.urls_io")),
]
