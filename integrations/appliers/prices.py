"""Orders priced after they were recorded: the tool names the prices only once payment is authorised.

An ``OrderRecord`` with ``prices_pending`` (Amazon's Pending order) is created confirmed, reserving
its stock, with its lines at no price and no totals checked; the connection's ExternalRef of the
order remembers it (``extra["prices_pending"]``). The first update that carries prices prices the
order whole (``sales.services.order_prices_set``: each line as charged, shipping with its tax), and
the tool's totals are then checked as a new order's are.
"""

from __future__ import annotations

from erp.money import ZERO
from integrations.appliers.refs import order_line_ids
from integrations.models import Connection, ExternalRef
from integrations.records import OrderRecord
from sales.models import SalesOrder
from sales.services import LinePrice, ShippingPrice, TaxSpec, order_prices_set
from sales.services.prices import PRICEABLE

PENDING = "prices_pending"


def waiting_for_prices(ref: ExternalRef) -> bool:
    return bool(ref.extra.get(PENDING))


def can_price(order: SalesOrder, record: OrderRecord) -> bool:
    return not record.prices_pending and order.status in PRICEABLE


def price_order(connection: Connection, order: SalesOrder, record: OrderRecord) -> SalesOrder:
    """Price every line of ``order`` known by its id in the tool, and its shipping, as ``record`` says."""
    line_ids = order_line_ids(connection, record.external_id)
    prices = {
        line_ids[line.external_id]: LinePrice(
            unit_price=line.unit_price,
            discount_amount=line.discount,
            taxes=[TaxSpec(t.name[:60], t.rate, t.amount) for t in line.taxes],
        )
        for line in record.lines
        if line.external_id in line_ids
    }
    ship_taxes = [t for s in record.shipping for t in s.taxes]
    shipping = ShippingPrice(
        amount=sum((s.amount - s.discount for s in record.shipping), ZERO),
        tax_rate=ship_taxes[0].rate if ship_taxes else ZERO,
        tax_amount=sum((t.amount for t in ship_taxes), ZERO) if ship_taxes else None,
    )
    return order_prices_set(
        order=order, prices=prices, shipping=shipping, reason=f"priced in {connection.name}"
    )
