from django.urls import path, re_path

from sales import views
from sales.views import invoices as invoice_views
from sales.views import printing

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
    path("invoices/<int:pk>/", invoice_views.invoice_detail, name="invoice"),
    path("invoices/<int:pk>/print/", views.invoice_print, name="invoice-print"),
    path("invoices/<int:pk>/pdf/", printing.invoice_print, {"as_pdf": True}, name="invoice-pdf"),
    path("invoices/<int:pk>/email/", invoice_views.invoice_email, name="invoice-email"),
    path("orders/<int:pk>/pick-list/", printing.order_pick_list, name="order-pick-list"),
    path(
        "orders/<int:pk>/pick-list/pdf/",
        printing.order_pick_list,
        {"as_pdf": True},
        name="order-pick-list-pdf",
    ),
    path("shipments/<int:pk>/packing-slip/", views.packing_slip, name="packing-slip"),
    path(
        "shipments/<int:pk>/packing-slip/pdf/",
        printing.packing_slip,
        {"as_pdf": True},
        name="packing-slip-pdf",
    ),
    path("shipments/<int:pk>/pick-list/", printing.shipment_pick_list, name="shipment-pick-list"),
    path(
        "shipments/<int:pk>/pick-list/pdf/",
        printing.shipment_pick_list,
        {"as_pdf": True},
        name="shipment-pick-list-pdf",
    ),
    path("shipments/<int:pk>/delivery-note/", printing.delivery_note, name="delivery-note"),
    path(
        "shipments/<int:pk>/delivery-note/pdf/",
        printing.delivery_note,
        {"as_pdf": True},
        name="delivery-note-pdf",
    ),
    path("shipments/<int:pk>/delivery-note/email/", printing.delivery_note_email, name="delivery-note-email"),
    path("shipments/<int:pk>/tracking/", views.shipment_tracking, name="shipment-tracking"),
    path("customers/", views.customer_list, name="customers"),
    path("customers/new/", views.customer_create, name="customer-new"),
    path("customers/options/", views.customer_options, name="customer-options"),
    path("customers/<int:pk>/", views.customer_detail, name="customer"),
    path("customers/<int:pk>/edit/", views.customer_edit, name="customer-edit"),
    path("customers/<int:pk>/contacts/", views.contact_add, name="contact-add"),
    path("products/options/", views.product_options, name="product-options"),
]
