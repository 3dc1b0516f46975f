from django.urls import path

from procurement.views import bills, order_form, orders, overview, receiving, suppliers

app_name = "procurement"

urlpatterns = [
    path("", overview.index, name="index"),
    path("orders/", orders.order_list, name="orders"),
    path("orders/new/", order_form.order_create, name="order-new"),
    path("orders/lookup/", order_form.order_lookup, name="order-lookup"),
    path("orders/<int:pk>/", orders.order_detail, name="order"),
    path("orders/<int:pk>/edit/", order_form.order_edit, name="order-edit"),
    path("orders/<int:pk>/print/", orders.order_print, name="order-print"),
    path("orders/<int:pk>/pdf/", orders.order_pdf, name="order-pdf"),
    path("orders/<int:pk>/email/", orders.order_email, name="order-email"),
    path("orders/<int:pk>/bill/", bills.bill_record, name="order-bill"),
    path("orders/<int:pk>/<str:action>/", orders.order_action, name="order-action"),
    path("receive/", receiving.receive, name="receive"),
    path("suppliers/", suppliers.supplier_list, name="suppliers"),
    path("suppliers/new/", suppliers.supplier_create, name="supplier-new"),
    path("suppliers/items/new/", suppliers.item_create, name="item-new"),
    path("suppliers/<int:pk>/", suppliers.supplier_detail, name="supplier"),
    path("suppliers/<int:pk>/edit/", suppliers.supplier_edit, name="supplier-edit"),
    path("suppliers/<int:pk>/contacts/", suppliers.contact_add, name="contact-add"),
    path("suppliers/<int:pk>/items/new/", suppliers.item_create, name="supplier-item-new"),
    path("suppliers/<int:pk>/items/<int:item_pk>/", suppliers.item_edit, name="item-edit"),
    path("bills/", bills.bill_list, name="bills"),
    path("bills/<int:pk>/", bills.bill_detail, name="bill"),
    path("bills/<int:pk>/<str:action>/", bills.bill_action, name="bill-action"),
    path("replenishment/", overview.replenishment_list, name="replenishment"),
]
