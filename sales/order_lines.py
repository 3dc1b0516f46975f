"""The lines of the sales order form: what people type (parsed numbers, the entry row, the rows
posted back), merging a SKU entered twice into its line, the channel a new order starts in, and a
service's refusal placed next to the line it names. Plain data, no Django form: sales.forms builds on it."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from erp import formatting
from erp.exceptions import DomainError
from erp.money import ZERO
from inventory.models import Product
from inventory.selectors import product_by_code
from sales.models import ChannelKind, FulfilledBy, SalesChannel, SalesOrder
from sales.services import LineSpec, TaxSpec

HUNDRED = Decimal(100)
DEFAULT_TAX_NAME = "Tax"


def parse_decimal(text: Any) -> Decimal | None:
    """'12', '2.5', '2,5' -> Decimal; blank or nonsense -> None."""
    value = str(text if text is not None else "").strip().replace(" ", "")
    if "," in value and "." not in value:
        value = value.replace(",", ".")
    value = value.replace(",", "")
    if not value:
        return None
    try:
        number = Decimal(value)
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def plain(value: Decimal | None) -> str:
    """12.0000 -> '12', 2.5000 -> '2.5': how people type numbers."""
    if value is None:
        return ""
    text = f"{value.normalize():f}"
    return text


def money_text(value: Decimal) -> str:
    """A price as people type it: at least two decimals (20.00, 8.50), more only when there are (0.1234)."""
    normal = value.normalize()
    exponent = normal.as_tuple().exponent
    if isinstance(exponent, int) and exponent >= -2:
        return f"{value.quantize(Decimal('0.01')):f}"
    return f"{normal:f}"


def percent(rate: Decimal) -> str:
    """0.2 -> '20'."""
    return plain(rate * HUNDRED)


LINE_KEY = re.compile(r"^lines-(\d+)-product$")


@dataclass
class LineRow:
    """One line of the order form, as typed (strings), with the product it points at."""

    product: Product | None
    quantity: str = "1"
    unit_price: str = ""
    discount: str = "0"
    tax: str = ""  # percent
    description: str = ""
    taxes_json: str = ""  # more than one tax (an imported order): kept as they are
    fulfilled_by: str = FulfilledBy.MERCHANT  # who ships it: kept as it is (the form does not change it)
    errors: list[str] = field(default_factory=list)
    total: Decimal | None = None  # filled by the preview

    @property
    def has_many_taxes(self) -> bool:
        return bool(self.taxes_json)

    @property
    def fulfilled_by_marketplace(self) -> bool:
        return self.fulfilled_by == FulfilledBy.MARKETPLACE

    def taxes(self) -> list[TaxSpec]:
        if self.taxes_json:
            return [TaxSpec(t["name"], t["rate"]) for t in json.loads(self.taxes_json)]
        rate = parse_decimal(self.tax) or ZERO
        return [TaxSpec(DEFAULT_TAX_NAME, rate / HUNDRED)] if rate else []

    def tax_rate_total(self) -> Decimal:
        return sum((Decimal(str(t.rate)) for t in self.taxes()), ZERO)

    @property
    def tax_text(self) -> str:
        """Several taxes, each with its rate: 'State 6% + County 1.5%'."""
        return " + ".join(
            f"{t.name} {formatting.percent(Decimal(str(t.rate)) * HUNDRED)}" for t in self.taxes()
        )

    def check(self) -> bool:
        """Parse the numbers; say what is wrong next to the line. True if it can be priced."""
        self.errors = []
        if self.product is None:
            self.errors.append("Unknown product.")
        quantity = parse_decimal(self.quantity)
        if quantity is None or quantity <= 0:
            self.errors.append("Quantity: a positive number.")
        if self.unit_price.strip() and (parse_decimal(self.unit_price) is None or self.price < 0):
            self.errors.append("Price: a number, 0 or more.")
        discount = parse_decimal(self.discount or "0")
        if discount is None or not ZERO <= discount <= HUNDRED:
            self.errors.append("Discount: between 0 and 100 %.")
        tax = parse_decimal(self.tax or "0")
        if not self.taxes_json and (tax is None or not ZERO <= tax <= HUNDRED):
            self.errors.append("Tax: between 0 and 100 %.")
        return not self.errors

    @property
    def qty(self) -> Decimal:
        return parse_decimal(self.quantity) or ZERO

    @property
    def price(self) -> Decimal:
        typed = parse_decimal(self.unit_price)
        if typed is not None:
            return typed
        return self.product.sale_price if self.product is not None else ZERO

    @property
    def price_text(self) -> str:
        """The price as typed, or the product's list price."""
        return self.unit_price.strip() or money_text(self.price)

    @property
    def discount_percent(self) -> Decimal:
        return parse_decimal(self.discount or "0") or ZERO

    def spec(self) -> LineSpec:
        assert self.product is not None
        return LineSpec(
            product=self.product,
            quantity=self.qty,
            unit_price=self.price,
            description=self.description,
            discount_percent=self.discount_percent,
            taxes=self.taxes(),
            fulfilled_by=self.fulfilled_by,
        )


def lines_from_post(data: Mapping[str, Any]) -> list[LineRow]:
    """The lines posted as indexed inputs (lines-<n>-product, -quantity, ...), in index order.

    Gaps in the numbering (a removed line) do not matter. Products load in one query.
    """
    indices = sorted({int(m.group(1)) for key in data if (m := LINE_KEY.match(key))})
    ids = {int(data[f"lines-{i}-product"]) for i in indices if str(data[f"lines-{i}-product"]).isdigit()}
    products = Product.objects.select_related("stock_unit").in_bulk(ids)
    rows = []
    for i in indices:
        raw = str(data.get(f"lines-{i}-product", ""))
        rows.append(
            LineRow(
                product=products.get(int(raw)) if raw.isdigit() else None,
                quantity=str(data.get(f"lines-{i}-quantity", "")),
                unit_price=str(data.get(f"lines-{i}-unit_price", "")),
                discount=str(data.get(f"lines-{i}-discount", "")),
                tax=str(data.get(f"lines-{i}-tax", "")),
                description=str(data.get(f"lines-{i}-description", "")),
                taxes_json=str(data.get(f"lines-{i}-taxes", "")),
                fulfilled_by=str(data.get(f"lines-{i}-fulfilled_by", "")) or FulfilledBy.MERCHANT,
            )
        )
    return rows


def lines_from_order(order: SalesOrder) -> list[LineRow]:
    """A draft's lines as the form shows them (lines and taxes prefetched)."""
    rows = []
    for line in order.lines.all():
        taxes = list(line.taxes.all())
        rows.append(
            LineRow(
                product=line.product,
                quantity=plain(line.quantity),
                unit_price=money_text(line.unit_price),
                discount=plain(line.discount_percent),
                tax=percent(taxes[0].rate) if len(taxes) == 1 else "",
                description=line.description,
                taxes_json=json.dumps([{"name": t.name, "rate": str(t.rate)} for t in taxes])
                if len(taxes) > 1
                else "",
                total=line.line_total,
                fulfilled_by=line.fulfilled_by,
            )
        )
    return rows


def entry_from_post(data: Mapping[str, Any]) -> tuple[LineRow | None, str]:
    """The line typed in the entry row: the picked product, or what a scanner or keyboard typed.

    Returns (row, "") or (None, why not).
    """
    raw = str(data.get("entry-product", "")).strip()
    typed = str(data.get("entry-query", "")).strip()
    product = None
    quantity = str(data.get("entry-quantity", "")).strip() or "1"
    if raw.isdigit():
        product = Product.objects.select_related("stock_unit").filter(pk=int(raw)).first()
    elif typed:
        found = product_by_code(typed)
        if found is not None:
            product, barcode = found
            if barcode is not None and barcode.unit is not None and not data.get("entry-quantity"):
                quantity = plain(barcode.unit.factor)
    if product is None:
        return None, (f"No product with SKU or barcode “{typed}”." if typed else "Pick a product first.")
    return (
        LineRow(
            product=product,
            quantity=quantity,
            unit_price=str(data.get("entry-unit_price", "")).strip(),
            discount=str(data.get("entry-discount", "")).strip() or "0",
            tax=str(data.get("entry-tax", "")).strip(),
            description=product.name,
        ),
        "",
    )


def _same_number(a: str, b: str, blank: str = "") -> bool:
    return parse_decimal(a.strip() or blank) == parse_decimal(b.strip() or blank)


def _joins(row: LineRow, entry: LineRow) -> bool:
    """Whether the entry is more of the row: same product, who ships it, discount, and the same
    price and tax unless the entry leaves them blank (then it takes the row's)."""
    return (
        row.product is not None
        and entry.product is not None
        and row.product.pk == entry.product.pk
        and row.fulfilled_by == entry.fulfilled_by
        and not row.has_many_taxes
        and (not entry.unit_price.strip() or _same_number(entry.unit_price, row.unit_price))
        and (not entry.tax.strip() or _same_number(entry.tax, row.tax, "0"))
        and _same_number(entry.discount, row.discount, "0")
    )


def merge_entry(rows: list[LineRow], entry: LineRow) -> str:
    """Add the entry to the line of the same product (quantities added) instead of a second line
    of it. Returns what happened ("SKU-1 added to its line (now 3)"), or "" when the entry is a
    line of its own (then the caller appends it)."""
    added = parse_decimal(entry.quantity)
    for row in rows:
        current = parse_decimal(row.quantity)
        if added is None or current is None or not _joins(row, entry):
            continue
        row.quantity = plain(current + added)
        assert row.product is not None
        return f"{row.product.sku} added to its line (now {row.quantity})"
    return ""


def merge_rows(rows: list[LineRow]) -> tuple[list[LineRow], list[str]]:
    """The lines with each product once where they can be merged (quantities added), and what was
    merged: the same SKU twice makes one line."""
    merged: list[LineRow] = []
    messages = []
    for row in rows:
        message = merge_entry(merged, row)
        if message:
            messages.append(message)
        else:
            merged.append(row)
    return merged, messages


# Orders of these channels come from the tool (a marketplace, a web store) through its connection:
# a new order typed here never starts in one of them by default.
TOOL_CHANNEL_KINDS = (ChannelKind.MARKETPLACE, ChannelKind.WEB_STORE)


def default_channel(channels: Sequence[SalesChannel], user: Any) -> SalesChannel | None:
    """The channel a new order starts in: the one this user took their last order in, else the
    manual ("direct") channel, else the first by name; never a marketplace or web store whose orders
    come from the tool, unless there is nothing else. One query (the user's last order)."""
    typed_in = [c for c in channels if c.kind not in TOOL_CHANNEL_KINDS]
    if not typed_in:
        return min(channels, key=lambda c: c.name.lower(), default=None)
    if getattr(user, "is_authenticated", False):
        last = (
            SalesOrder.objects.filter(created_by=user, channel__in=[c.pk for c in typed_in])
            .order_by("-created_at", "-id")
            .values_list("channel_id", flat=True)
            .first()
        )
        if last is not None:
            return next(c for c in typed_in if c.pk == last)
    manual = [c for c in typed_in if c.kind == ChannelKind.MANUAL]
    return min(manual or typed_in, key=lambda c: (c.name.lower(), c.pk))


def place_line_errors(rows: Sequence[LineRow], error: DomainError) -> bool:
    """Put a service's 'lines.<i>.<field>' errors on the rows. True if any landed on a row."""
    placed = False
    for key, problems in error.field_errors.items():
        m = re.match(r"^lines\.(\d+)", key)
        if m and int(m.group(1)) < len(rows):
            rows[int(m.group(1))].errors.extend(problems)
            placed = True
    return placed


# --- the order header ---------------------------------------------------------------
