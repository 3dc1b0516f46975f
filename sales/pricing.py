"""Order arithmetic, in Decimal, rounded half up to the currency's minor unit per line.

For each line:
    gross     = round(quantity x unit price)
    discount  = round(gross x discount %) + its share of the order discount
    amount    = gross - discount                      (in the channel's price mode)
    if prices exclude tax: net = amount,               tax_i = round(net x rate_i)
    if prices include tax: net = round(amount / (1 + sum of rates)), taxes make up amount - net
    total     = net + taxes
The order discount is shared over the lines in proportion to their amounts (the
last line takes the rounding remainder), so tax is computed on what is charged.
Shipping is taxed at its own rate. Order totals are sums of rounded lines.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from erp.money import ZERO, round_money, to_decimal


@dataclass(frozen=True)
class TaxIn:
    name: str
    rate: Decimal  # 0.2 for 20 %


@dataclass(frozen=True)
class LineIn:
    quantity: Decimal
    unit_price: Decimal
    discount_percent: Decimal = ZERO
    taxes: Sequence[TaxIn] = ()


@dataclass
class LineOut:
    gross: Decimal
    discount: Decimal
    net: Decimal
    taxes: list[Decimal] = field(default_factory=list)

    @property
    def tax(self) -> Decimal:
        return sum(self.taxes, ZERO)

    @property
    def total(self) -> Decimal:
        return self.net + self.tax


@dataclass
class OrderOut:
    lines: list[LineOut]
    subtotal: Decimal
    discount_total: Decimal
    tax_total: Decimal
    shipping_net: Decimal
    shipping_tax: Decimal
    total: Decimal

    @property
    def shipping_total(self) -> Decimal:
        return self.shipping_net + self.shipping_tax


def _split_tax(
    amount: Decimal, rates: Sequence[Decimal], currency: str, *, included: bool
) -> tuple[Decimal, list[Decimal]]:
    """(net, [tax per rate]) of an amount, with or without the tax in it."""
    if not rates:
        return amount, []
    if included:
        net = round_money(amount / (1 + sum(rates, ZERO)), currency)
        taxes = [round_money(net * rate, currency) for rate in rates]
        taxes[-1] += amount - net - sum(taxes, ZERO)  # the last tax absorbs the rounding
        return net, taxes
    return amount, [round_money(amount * rate, currency) for rate in rates]


def compute(
    lines: Sequence[LineIn],
    *,
    currency: str,
    prices_include_tax: bool = False,
    order_discount: Decimal | str | int = ZERO,
    shipping: Decimal | str | int = ZERO,
    shipping_tax_rate: Decimal | str | int = ZERO,
    tax_exempt: bool = False,
) -> OrderOut:
    order_discount = round_money(to_decimal(order_discount), currency)
    shipping = round_money(to_decimal(shipping), currency)
    gross = [round_money(to_decimal(line.quantity) * to_decimal(line.unit_price), currency) for line in lines]
    own_discount = [
        round_money(g * to_decimal(line.discount_percent) / 100, currency)
        for g, line in zip(gross, lines, strict=True)
    ]
    amounts = [g - d for g, d in zip(gross, own_discount, strict=True)]
    base = sum(amounts, ZERO)
    if order_discount > base:
        raise ValueError(f"The order discount {order_discount} exceeds the lines' amount {base}.")
    shares = [ZERO] * len(lines)
    if order_discount and base:
        for i, amount in enumerate(amounts[:-1]):
            shares[i] = round_money(order_discount * amount / base, currency)
        shares[-1] = order_discount - sum(shares[:-1], ZERO)
    out_lines = []
    for line, g, own, share, amount in zip(lines, gross, own_discount, shares, amounts, strict=True):
        rates = [] if tax_exempt else [to_decimal(t.rate) for t in line.taxes]
        net, taxes = _split_tax(amount - share, rates, currency, included=prices_include_tax)
        out_lines.append(LineOut(gross=g, discount=own + share, net=net, taxes=taxes))
    ship_rates = [] if tax_exempt or not to_decimal(shipping_tax_rate) else [to_decimal(shipping_tax_rate)]
    ship_net, ship_taxes = _split_tax(shipping, ship_rates, currency, included=prices_include_tax)
    subtotal = sum((ln.net for ln in out_lines), ZERO)
    line_tax = sum((ln.tax for ln in out_lines), ZERO)
    ship_tax = sum(ship_taxes, ZERO)
    return OrderOut(
        lines=out_lines,
        subtotal=subtotal,
        discount_total=sum((ln.discount for ln in out_lines), ZERO),
        tax_total=line_tax + ship_tax,
        shipping_net=ship_net,
        shipping_tax=ship_tax,
        total=subtotal + line_tax + ship_net + ship_tax,
    )
