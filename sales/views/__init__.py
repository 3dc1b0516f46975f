"""Sales pages, for the people who spend their day in them.

One view per page. An htmx request whose target is a fragment of the page
(``rows``, ``order``, ...) gets that fragment only (django-template-partials,
``"sales/order_list.html#rows"``); any other request gets the whole page, so
links and forms also work without JavaScript. Reading needs ``sales:read``;
anything that writes needs ``sales:write``. Views parse input, call a selector
or a service, and render; a service's refusal (a DomainError) is shown next to
the field it names or as an error message, and nothing changes.
"""

from sales.views.customers import contact_add, customer_create, customer_detail, customer_edit, customer_list
from sales.views.fulfilment import fulfilment_queue, fulfilment_ship, shipment_tracking
from sales.views.invoices import invoice_issue, invoice_list, invoice_pay, invoice_void
from sales.views.landing import index
from sales.views.order_form import customer_options, order_create, order_edit, order_preview, product_options
from sales.views.orders import (
    order_action,
    order_detail,
    order_lines,
    order_list,
    order_ship,
    return_create,
    return_receive,
    return_refund,
)
from sales.views.printing import invoice_print, packing_slip

__all__ = [
    "contact_add",
    "customer_create",
    "customer_detail",
    "customer_edit",
    "customer_list",
    "customer_options",
    "fulfilment_queue",
    "fulfilment_ship",
    "index",
    "invoice_issue",
    "invoice_list",
    "invoice_pay",
    "invoice_print",
    "invoice_void",
    "order_action",
    "order_create",
    "order_detail",
    "order_edit",
    "order_lines",
    "order_list",
    "order_preview",
    "order_ship",
    "packing_slip",
    "product_options",
    "return_create",
    "return_receive",
    "return_refund",
    "shipment_tracking",
]
