"""Every write of sales."""

from sales.services.billing import (
    credit_note_create,
    invoice_create,
    invoice_issue,
    invoice_void,
    payment_record,
)
from sales.services.edits import LineGrowth, order_lines_extend, order_lines_reduce
from sales.services.fulfilment import ShipLine, backorders_allocate, shipment_create, shipment_tracking_set
from sales.services.masterdata import (
    address_set,
    channel_create,
    channel_update,
    contact_add,
    customer_create,
    customer_update,
)
from sales.services.orders import (
    DEMAND_TYPE,
    LineSpec,
    PlacedOrder,
    TaxSpec,
    order_cancel,
    order_close,
    order_confirm,
    order_create,
    order_hold,
    order_place,
    order_release,
    order_update,
)
from sales.services.prices import LinePrice, ShippingPrice, order_prices_set
from sales.services.returns import ReturnLineSpec, refund_record, return_create, return_receive

__all__ = [
    "DEMAND_TYPE",
    "LineGrowth",
    "LinePrice",
    "LineSpec",
    "PlacedOrder",
    "ReturnLineSpec",
    "ShipLine",
    "ShippingPrice",
    "TaxSpec",
    "address_set",
    "backorders_allocate",
    "channel_create",
    "channel_update",
    "contact_add",
    "credit_note_create",
    "customer_create",
    "customer_update",
    "invoice_create",
    "invoice_issue",
    "invoice_void",
    "order_cancel",
    "order_close",
    "order_confirm",
    "order_create",
    "order_hold",
    "order_lines_extend",
    "order_lines_reduce",
    "order_place",
    "order_prices_set",
    "order_release",
    "order_update",
    "payment_record",
    "refund_record",
    "return_create",
    "return_receive",
    "shipment_create",
    "shipment_tracking_set",
]
