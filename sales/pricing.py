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

Orders imported from a sales channel carry the channel's own arithmetic, which
the order must reproduce to the cent: a line may give an absolute
``discount_amount`` (added to its percentage discount) and each tax an
``amount`` as the channel charged it; when every tax of a line gives its amount
those are used instead of being computed (and a tax-exempt flag does not remove
them: they are what was charged). ``shipping_tax_amount`` does the same for
shipping. Without these the arithmetic above is unchanged.
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
    amount: Decimal | None = None  # as charged by a channel: used instead of computing


@dataclass(frozen=True)
class LineIn:
    quantity: Decimal
    unit_price: Decimal
    discount_percent: Decimal = ZERO
    taxes: Sequence[TaxIn] = ()
    discount_amount: Decimal = ZERO  # absolute, on top of the percentage (a channel's allocation)


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


def _given_taxes(
    amount: Decimal, taxes: Sequence[TaxIn], currency: str, *, included: bool
) -> tuple[Decimal, list[Decimal]] | None:
    """(net, taxes) from the amounts a channel charged, or None when it gave none."""
    given = [t.amount for t in taxes]
    if not taxes or all(a is None for a in given):
        return None
    if any(a is None for a in given):
        raise ValueError("Give the amount of every tax of a line, or of none.")
    charged = [round_money(to_decimal(a), currency) for a in given if a is not None]
    if any(a < 0 for a in charged):
        raise ValueError("A tax amount cannot be negative.")
    return (amount - sum(charged, ZERO) if included else amount), charged


def compute(
    lines: Sequence[LineIn],
    *,
    currency: str,
    prices_include_tax: bool = False,
    order_discount: Decimal | str | int = ZERO,
    shipping: Decimal | str | int = ZERO,
    shipping_tax_rate: Decimal | str | int = ZERO,
    tax_exempt: bool = False,
    shipping_tax_amount: Decimal | str | int | None = None,
) -> OrderOut:
    order_discount = round_money(to_decimal(order_discount), currency)
    shipping = round_money(to_decimal(shipping), currency)
    gross = [round_money(to_decimal(line.quantity) * to_decimal(line.unit_price), currency) for line in lines]
    own_discount = [
        round_money(g * to_decimal(line.discount_percent) / 100, currency)
        + round_money(to_decimal(line.discount_amount), currency)
        for g, line in zip(gross, lines, strict=True)
    ]
    for g, d, line in zip(gross, own_discount, lines, strict=True):
        if to_decimal(line.discount_amount) < 0 or d > g:
            raise ValueError(f"A line discount of {d} does not fit its amount {g}.")
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
        given = _given_taxes(amount - share, line.taxes, currency, included=prices_include_tax)
        if given is not None:
            net, taxes = given
        else:
            rates = [] if tax_exempt else [to_decimal(t.rate) for t in line.taxes]
            net, taxes = _split_tax(amount - share, rates, currency, included=prices_include_tax)
        out_lines.append(LineOut(gross=g, discount=own + share, net=net, taxes=taxes))
    if shipping_tax_amount is not None:
        ship_net, ship_taxes = _given_taxes(
            shipping,
            [TaxIn("shipping", to_decimal(shipping_tax_rate), to_decimal(shipping_tax_amount))],
            currency,
            included=prices_include_tax,
        ) or (shipping, [])
    else:
        rates = [] if tax_exempt or not to_decimal(shipping_tax_rate) else [to_decimal(shipping_tax_rate)]
        ship_net, ship_taxes = _split_tax(shipping, rates, currency, included=prices_include_tax)
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
