from django.urls import path, re_path

from sales import views

app_name = "sales"

urlpatterns = [
    path("", views.index, name="index"),
    path("orders/", views.order_list, name="orders"),
    path("orders/new/", views.order_create, name="order-new"),
    path("orders/preview/", views.order_preview, name="order-preview"),
    path("orders/<int:pk>/", views.order_detail, name="order"),
    path("orders/<int:pk>/edit/", views.order_edit, name="order-edit"),
    path("orders/<int:pk>/ship/", views.order_ship, name="order-ship"),
    path("orders/<int:pk>/lines/", views.order_lines, name="order-lines"),
    path("orders/<int:pk>/returns/new/", views.return_create, name="return-new"),
    re_path(
        r"^orders/(?P<pk>\d+)/(?P<action>confirm|hold|release|close|cancel|invoice)/$",
        views.order_action,
        name="order-action",
    ),
    path("returns/<int:pk>/receive/", views.return_receive, name="return-receive"),
    path("returns/<int:pk>/refund/", views.return_refund, name="return-refund"),
    path("fulfilment/", views.fulfilment_queue, name="fulfilment"),
    path("fulfilment/<int:pk>/ship/", views.fulfilment_ship, name="fulfilment-ship"),
    path("invoices/", views.invoice_list, name="invoices"),
    path("invoices/<int:pk>/issue/", views.invoice_issue, name="invoice-issue"),
    path("invoices/<int:pk>/void/", views.invoice_void, name="invoice-void"),
    path("invoices/<int:pk>/pay/", views.invoice_pay, name="invoice-pay"),
    path("invoices/<int:pk>/print/", views.invoice_print, name="invoice-print"),
    path("shipments/<int:pk>/packing-slip/", views.packing_slip, name="packing-slip"),
    path("shipments/<int:pk>/tracking/", views.shipment_tracking, name="shipment-tracking"),
    path("customers/", views.customer_list, name="customers"),
    path("customers/new/", views.customer_create, name="customer-new"),
    path("customers/options/", views.customer_options, name="customer-options"),
    path("customers/<int:pk>/", views.customer_detail, name="customer"),
    path("customers/<int:pk>/edit/", views.customer_edit, name="customer-edit"),
    path("customers/<int:pk>/contacts/", views.contact_add, name="contact-add"),
    path("products/options/", views.product_options, name="product-options"),
]
