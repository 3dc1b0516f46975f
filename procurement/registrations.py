"""What procurement plugs into inventory: open purchase orders are incoming stock."""

from __future__ import annotations

from typing import Any

from django.db.models import DecimalField, ExpressionWrapper, F, QuerySet, Sum
from django.db.models.functions import Round

from erp.money import QUANTITY_PLACES
from inventory import availability
from procurement.lifecycle import OPEN_STATUSES
from procurement.models import PurchaseOrderLine

OPEN_STOCK_UNITS = ExpressionWrapper(
    (F("quantity") - F("quantity_received")) * F("factor"),
    output_field=DecimalField(max_digits=30, decimal_places=8),
)


def open_purchase_orders(product_ids: list[int], warehouse_id: int | None) -> QuerySet[Any]:
    """Ordered and not received yet, in stock units (rounded to a quantity), per (product, warehouse).
    Not run here: inventory runs it with the other flows in one statement."""
    lines = PurchaseOrderLine.objects.filter(
        product_id__in=product_ids, order__status__in=OPEN_STATUSES, quantity__gt=F("quantity_received")
    )
    if warehouse_id is not None:
        lines = lines.filter(order__warehouse_id=warehouse_id)
    return lines.values("product_id", "order__warehouse_id").annotate(
        quantity=Round(Sum(OPEN_STOCK_UNITS), QUANTITY_PLACES)
    )


availability.register_incoming("procurement.open_purchase_orders", open_purchase_orders)

from procurement import demo as _demo  # noqa: E402, F401  (registers the demo seeder)
from procurement import document_timeline as _document_timeline  # noqa: E402, F401  (po_emailed)
from procurement import replenishment as _replenishment  # noqa: E402, F401  (draft POs: replenishment)
from procurement import search as _search  # noqa: E402, F401  (search providers: purchase orders, suppliers)
from procurement import stockouts as _stockouts  # noqa: E402, F401  (purchasing told of stock-outs)
from procurement import timeline as _timeline  # noqa: E402, F401  (document timelines: erp.timeline)
from procurement import waiting as _waiting  # noqa: E402, F401  (waiting for you: purchase orders to approve)
from procurement import workspace as _workspace  # noqa: E402, F401  (the role homes' figures: erp.workspace)
