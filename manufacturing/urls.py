from django.urls import path

from manufacturing.views import boms, landing, mrp, orders

app_name = "manufacturing"

urlpatterns = [
    path("", landing.index, name="index"),
    path("boms/", boms.bom_list, name="boms"),
    path("boms/new/", boms.bom_new, name="bom-new"),
    path("boms/lookup/", boms.bom_lookup, name="bom-lookup"),
    path("boms/rows/component/", boms.bom_component_row, name="bom-row-component"),
    path("boms/rows/operation/", boms.bom_operation_row, name="bom-row-operation"),
    path("boms/rows/remove/", boms.bom_row_remove, name="bom-row-remove"),
    path("boms/preview/", boms.bom_preview, name="bom-preview"),
    path("boms/<int:pk>/", boms.bom_edit, name="bom"),
    path("boms/<int:pk>/activate/", boms.bom_activate, name="bom-activate"),
    path("orders/", orders.order_list, name="orders"),
    path("orders/new/", orders.order_create, name="order-new"),
    path("orders/<int:pk>/", orders.order_detail, name="order"),
    path("orders/<int:pk>/produce/", orders.order_produce, name="order-produce"),
    path("orders/<int:pk>/<str:action>/", orders.order_action, name="order-action"),
    path("mrp/", mrp.mrp, name="mrp"),
    path("mrp/convert/", mrp.mrp_convert_view, name="mrp-convert"),
    path("work-centres/", landing.work_centres, name="work-centres"),
]
