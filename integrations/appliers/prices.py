"""Orders priced after they were recorded: the tool names the prices only once payment is authorised.

An ``OrderRecord`` with ``prices_pending`` (Amazon's Pending order) is created confirmed, reserving
its stock (no other channel sells those units again), with its lines at no price and no totals
checked, and put on hold: nobody ships an order whose payment is not authorised (Amazon refuses
its shipment confirmation). The connection's ExternalRef of the order remembers it
(``extra["prices_pending"]``). The first update that carries prices prices the order whole
(``sales.services.order_prices_set``: each line as charged, shipping with its tax), the tool's
totals are then checked as a new order's are, and the order is released, ready to ship.
"""

from __future__ import annotations

from erp.money import ZERO
from integrations.appliers.refs import order_line_ids
from integrations.models import Connection, ExternalRef
from integrations.records import OrderRecord
from sales.models import OrderStatus, SalesOrder
from sales.services import LinePrice, ShippingPrice, TaxSpec, order_hold, order_prices_set, order_release
from sales.services.prices import PRICEABLE

PENDING = "prices_pending"
HELD = "held_for_prices"  # ExternalRef.extra: the hub put the order on hold until it is priced
HOLD_REASON = "payment not authorised yet in the channel: priced and released when it is"


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


def hold_until_priced(ref: ExternalRef, order: SalesOrder) -> SalesOrder:
    """A new order the tool has not priced: on hold, its reservations kept (noted on ``ref``)."""
    if order.status != OrderStatus.CONFIRMED:
        return order
    ref.extra = {**ref.extra, HELD: True}
    return order_hold(order=order, reason=HOLD_REASON)


def release_priced(ref: ExternalRef, order: SalesOrder) -> SalesOrder:
    """Off the hold ``hold_until_priced`` put it on (a hold a person added later stays: it is theirs
    to release, and the order says so)."""
    if not ref.extra.get(HELD):
        return order
    ref.extra = {k: v for k, v in ref.extra.items() if k != HELD}
    if order.status != OrderStatus.ON_HOLD:
        return order
    return order_release(order=order)
