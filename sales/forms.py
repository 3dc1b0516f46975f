"""Forms of the sales pages. They parse what people type; the services decide what is allowed."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.db.models import Q
from django.utils import timezone

from erp import formatting
from erp.exceptions import DomainError
from erp.forms import DateField
from erp.money import ZERO
from inventory.models import Product
from inventory.selectors import product_by_code
from sales.models import (
    Address,
    ChannelKind,
    Customer,
    CustomerKind,
    FulfilledBy,
    OrderLine,
    PaymentTerms,
    ReturnDisposition,
    SalesChannel,
    SalesOrder,
)
from sales.services import LineSpec, TaxSpec
from sales.services.fulfilment import default_ship_quantity

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


def add_domain_errors(form: forms.Form, error: DomainError) -> None:
    """A service's refusal, next to the fields it names (or on top of the form)."""
    placed = False
    for name, problems in error.field_errors.items():
        if name in form.fields:
            for problem in problems:
                form.add_error(name, problem)
            placed = True
    if not placed:
        form.add_error(None, error.message)


# --- order lines -------------------------------------------------------------------

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


class OrderForm(forms.Form):
    """Everything of an order but its lines. Channel and customer are fixed once it exists."""

    channel = forms.ModelChoiceField(
        queryset=SalesChannel.objects.filter(is_active=True).select_related("warehouse"), empty_label=None
    )
    customer = forms.IntegerField(required=False, widget=forms.HiddenInput)
    customer_query = forms.CharField(required=False, label="Customer")
    external_reference = forms.CharField(required=False, max_length=100, label="External reference")
    shipping_amount = forms.DecimalField(
        required=False, min_value=0, max_digits=19, decimal_places=4, label="Shipping"
    )
    shipping_tax = forms.DecimalField(
        required=False, min_value=0, max_value=100, max_digits=9, decimal_places=4, label="Shipping tax %"
    )
    order_discount = forms.DecimalField(
        required=False, min_value=0, max_digits=19, decimal_places=4, label="Order discount"
    )
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    tags = forms.CharField(required=False, help_text="Comma-separated: wholesale, rush")

    def __init__(self, *args: Any, order: SalesOrder | None = None, **kwargs: Any) -> None:
        self.order = order
        if order is not None and not kwargs.get("data") and not args:
            kwargs["initial"] = {
                "external_reference": order.external_reference,
                "shipping_amount": money_text(order.shipping_amount),
                "shipping_tax": percent(order.shipping_tax_rate),
                "order_discount": money_text(order.order_discount),
                "notes": order.notes,
                "tags": ", ".join(order.tags or []),
            }
        super().__init__(*args, **kwargs)
        if order is not None:
            del self.fields["channel"], self.fields["customer"], self.fields["customer_query"]
        for name, placeholder in (
            ("shipping_amount", "0.00"),
            ("shipping_tax", "0"),
            ("order_discount", "0.00"),
        ):
            self.fields[name].widget = forms.TextInput(
                attrs={"inputmode": "decimal", "class": "num-input pricing", "placeholder": placeholder}
            )
        if "channel" in self.fields:
            self.fields["channel"].widget.attrs["class"] = "pricing"

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.order is None:
            data["customer"] = self._customer(data)
        return data

    def _customer(self, data: dict[str, Any]) -> Customer | None:
        pk, typed = data.get("customer"), (data.get("customer_query") or "").strip()
        customers = Customer.objects.filter(is_active=True)
        customer = None
        if pk:
            customer = customers.filter(pk=pk).first()
        elif typed:  # typed without picking (or without JavaScript): an exact code or name
            matches = list(customers.filter(Q(code__iexact=typed) | Q(name__iexact=typed))[:2])
            customer = matches[0] if len(matches) == 1 else None
        if customer is None:
            self.add_error("customer_query", "Pick a customer from the list.")
        return customer

    def service_kwargs(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "external_reference": data.get("external_reference") or "",
            "shipping_amount": data.get("shipping_amount") or ZERO,
            "shipping_tax_rate": (data.get("shipping_tax") or ZERO) / HUNDRED,
            "order_discount": data.get("order_discount") or ZERO,
            "notes": data.get("notes") or "",
            "tags": [t.strip() for t in (data.get("tags") or "").split(",") if t.strip()],
        }


# --- documents that follow an order ------------------------------------------------


class ShipForm(forms.Form):
    """Quantities per open line (default: what is reserved), carrier, service, tracking number."""

    carrier = forms.CharField(required=False, max_length=60)
    service = forms.CharField(required=False, max_length=60)
    tracking_number = forms.CharField(required=False, max_length=100, label="Tracking number")

    def __init__(
        self, *args: Any, lines: Iterable[OrderLine], reserved: Mapping[int, Decimal], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.rows: list[dict[str, Any]] = []
        for line in lines:
            open_qty = line.quantity - line.quantity_shipped
            if open_qty <= 0:
                continue
            held = reserved.get(line.pk, ZERO)
            default = default_ship_quantity(line, held)  # what shipment_create ships of it by default
            name = f"qty_{line.pk}"
            self.fields[name] = forms.DecimalField(
                required=False,
                min_value=0,
                max_digits=18,
                decimal_places=4,
                initial=plain(default),
                label=f"Quantity of {line.product.sku}",
                widget=forms.TextInput(attrs={"inputmode": "decimal", "class": "qty-input"}),
            )
            if not self.rows:
                self.fields[name].widget.attrs["autofocus"] = True
            self.rows.append({"line": line, "open": open_qty, "reserved": held, "field": self[name]})

    def quantities(self) -> list[tuple[OrderLine, Decimal]]:
        return [
            (row["line"], self.cleaned_data.get(f"qty_{row['line'].pk}") or ZERO)
            for row in self.rows
            if (self.cleaned_data.get(f"qty_{row['line'].pk}") or ZERO) > 0
        ]


class AddLineForm(forms.Form):
    """A line added to a confirmed order: the product (picked, or a SKU or barcode typed), how many,
    its unit price (blank: the product's) and tax % (by default the last line's)."""

    product = forms.IntegerField(required=False, widget=forms.HiddenInput)
    product_query = forms.CharField(required=False, max_length=200, label="Product")
    quantity = forms.DecimalField(max_digits=18, decimal_places=4, initial="1")
    unit_price = forms.DecimalField(
        required=False, max_digits=19, decimal_places=4, label="Unit price", help_text="blank: the product's"
    )
    tax = forms.DecimalField(required=False, min_value=0, max_value=100, max_digits=9, decimal_places=4)

    # The service's fields (sales.services.order_lines_extend, "add.0.<field>") -> this form's.
    SERVICE_FIELDS: Mapping[str, str] = {
        "add.0.product": "product_query",
        "add.0.quantity": "quantity",
        "add.0.unit_price": "unit_price",
        "add.0.taxes": "tax",
    }

    def __init__(self, *args: Any, lines: Sequence[OrderLine], **kwargs: Any) -> None:
        """``lines``: the order's, with their taxes prefetched (the last one's tax is the default)."""
        taxes = list(lines[-1].taxes.all()) if lines else []
        self.tax_name = taxes[0].name if len(taxes) == 1 else DEFAULT_TAX_NAME
        kwargs.setdefault("initial", {})
        if len(taxes) == 1:
            kwargs["initial"].setdefault("tax", percent(taxes[0].rate))
        super().__init__(*args, **kwargs)
        self.fields["tax"].label = f"{self.tax_name} %"
        for name, css in (("quantity", "qty-input"), ("unit_price", "money-input"), ("tax", "pct-input")):
            self.fields[name].widget = forms.TextInput(attrs={"inputmode": "decimal", "class": css})
        self.fields["unit_price"].widget.attrs["placeholder"] = "the product's"
        self.product_found: Product | None = None

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        pk, typed = data.get("product"), (data.get("product_query") or "").strip()
        product = None
        if pk:
            product = Product.objects.select_related("stock_unit").filter(pk=pk).first()
        elif typed:  # typed without picking (or without JavaScript): a SKU or barcode
            found = product_by_code(typed)
            product = found[0] if found is not None else None
        if product is None:
            self.add_error(
                "product_query", f"No product with SKU or barcode “{typed}”." if typed else "Pick a product."
            )
        self.product_found = product
        return data

    def spec(self) -> LineSpec:
        assert self.product_found is not None
        data = self.cleaned_data
        rate = data.get("tax") or ZERO
        return LineSpec(
            product=self.product_found,
            quantity=data["quantity"],
            unit_price=data.get("unit_price"),
            taxes=[TaxSpec(self.tax_name, rate / HUNDRED)] if rate else [],
        )

    def add_service_errors(self, error: DomainError) -> None:
        placed = False
        for key, problems in error.field_errors.items():
            for problem in problems:
                self.add_error(self.SERVICE_FIELDS.get(key), problem)
            placed = True
        if not placed:
            self.add_error(None, error.message)


class LineQuantitiesForm(forms.Form):
    """Higher quantities for the lines of a confirmed order (left as it is: unchanged)."""

    def __init__(self, *args: Any, lines: Iterable[OrderLine], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.rows: list[dict[str, Any]] = []
        for line in lines:
            name = f"qty_{line.pk}"
            self.fields[name] = forms.DecimalField(
                required=False,
                max_digits=18,
                decimal_places=4,
                initial=plain(line.quantity),
                label=f"New quantity of {line.product.sku}",
                widget=forms.TextInput(attrs={"inputmode": "decimal", "class": "qty-input"}),
            )
            self.rows.append({"line": line, "field": self[name]})

    def quantities(self) -> dict[int, Decimal]:
        """The lines whose quantity was changed: line id -> the quantity typed."""
        chosen = {}
        for row in self.rows:
            typed = self.cleaned_data.get(f"qty_{row['line'].pk}")
            if typed is not None and typed != row["line"].quantity:
                chosen[row["line"].pk] = typed
        return chosen

    def add_service_errors(self, error: DomainError) -> None:
        """'grow.<line id>' errors of the service go next to that line's quantity."""
        placed = False
        for key, problems in error.field_errors.items():
            name = f"qty_{key.removeprefix('grow.')}"
            for problem in problems:
                self.add_error(name if name in self.fields else None, problem)
            placed = True
        if not placed:
            self.add_error(None, error.message)


class PaymentForm(forms.Form):
    amount = forms.DecimalField(min_value=Decimal("0.0001"), max_digits=19, decimal_places=4)
    paid_at = DateField(label="Paid on")
    method = forms.CharField(required=False, max_length=40)
    reference = forms.CharField(required=False, max_length=100)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {})
        kwargs["initial"].setdefault("paid_at", timezone.localdate())
        super().__init__(*args, **kwargs)
        self.fields["amount"].widget.attrs.update({"inputmode": "decimal", "class": "num-input"})
        self.fields["method"].widget.attrs.update(
            {"list": "payment-methods", "placeholder": "card, transfer"}
        )


class RefundForm(forms.Form):
    amount = forms.DecimalField(
        required=False, min_value=Decimal("0.0001"), max_digits=19, decimal_places=4, help_text="blank: all"
    )
    method = forms.CharField(required=False, max_length=40)
    reference = forms.CharField(required=False, max_length=100)


class ReturnForm(forms.Form):
    """Quantities of shipped lines coming back, each to restock or scrap, with a reason."""

    reason = forms.CharField(required=False, max_length=255, label="Reason for the return")

    def __init__(
        self, *args: Any, lines: Iterable[OrderLine], pending: Mapping[int, Decimal], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.rows: list[dict[str, Any]] = []
        for line in lines:
            returnable = line.quantity_shipped - line.quantity_returned - pending.get(line.pk, ZERO)
            if returnable <= 0:
                continue
            self.fields[f"qty_{line.pk}"] = forms.DecimalField(
                required=False,
                min_value=0,
                max_digits=18,
                decimal_places=4,
                label=f"Quantity of {line.product.sku} to return",
                widget=forms.TextInput(
                    attrs={"inputmode": "decimal", "class": "qty-input", "placeholder": "0"}
                ),
            )
            if not self.rows:
                self.fields[f"qty_{line.pk}"].widget.attrs["autofocus"] = True
            self.fields[f"disposition_{line.pk}"] = forms.ChoiceField(
                choices=ReturnDisposition.choices, initial=ReturnDisposition.RESTOCK, label="Disposition"
            )
            self.fields[f"reason_{line.pk}"] = forms.CharField(required=False, max_length=255, label="Reason")
            self.rows.append(
                {
                    "line": line,
                    "returnable": returnable,
                    "qty": self[f"qty_{line.pk}"],
                    "disposition": self[f"disposition_{line.pk}"],
                    "reason": self[f"reason_{line.pk}"],
                }
            )

    def chosen(self) -> list[tuple[OrderLine, Decimal, str, str]]:
        data = self.cleaned_data
        return [
            (
                row["line"],
                data.get(f"qty_{row['line'].pk}") or ZERO,
                data.get(f"disposition_{row['line'].pk}") or ReturnDisposition.RESTOCK,
                data.get(f"reason_{row['line'].pk}") or "",
            )
            for row in self.rows
            if (data.get(f"qty_{row['line'].pk}") or ZERO) > 0
        ]


# --- customers -----------------------------------------------------------------------


class CustomerForm(forms.Form):
    name = forms.CharField(max_length=200)
    kind = forms.ChoiceField(choices=CustomerKind.choices, initial=CustomerKind.COMPANY)
    code = forms.CharField(required=False, max_length=32, help_text="blank: the next number")
    email = forms.EmailField(required=False)
    phone = forms.CharField(required=False, max_length=40)
    tax_id = forms.CharField(required=False, max_length=40, label="Tax id")
    tax_exempt = forms.BooleanField(required=False, label="Tax exempt")
    currency = forms.CharField(max_length=3, initial="USD")
    payment_terms = forms.ChoiceField(choices=PaymentTerms.choices, initial=PaymentTerms.NET_30)
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    is_active = forms.BooleanField(required=False, initial=True, label="Active")

    def __init__(self, *args: Any, customer: Customer | None = None, **kwargs: Any) -> None:
        if customer is not None and not args and not kwargs.get("data"):
            kwargs["initial"] = {name: getattr(customer, name) for name in self.base_fields}
        super().__init__(*args, **kwargs)
        if customer is None:
            del self.fields["is_active"]
        else:
            del self.fields["code"]

    def clean_currency(self) -> str:
        return str(self.cleaned_data["currency"]).strip().upper()


class AddressForm(forms.Form):
    """An address; left blank, nothing is changed."""

    name = forms.CharField(required=False, max_length=200, label="Recipient")
    company = forms.CharField(required=False, max_length=200)
    line1 = forms.CharField(required=False, max_length=200, label="Street")
    line2 = forms.CharField(required=False, max_length=200, label="Street, line 2")
    city = forms.CharField(required=False, max_length=100)
    region = forms.CharField(required=False, max_length=100, label="Region / state")
    postal_code = forms.CharField(required=False, max_length=20, label="Postal code")
    country = forms.CharField(required=False, max_length=2, help_text="two letters: US, DE")
    phone = forms.CharField(required=False, max_length=40)

    def __init__(self, *args: Any, address: Address | None = None, **kwargs: Any) -> None:
        if address is not None and not args and not kwargs.get("data"):
            kwargs["initial"] = address.snapshot()
        super().__init__(*args, **kwargs)
        self.address = address

    def values(self) -> dict[str, str]:
        return {name: (self.cleaned_data.get(name) or "").strip() for name in self.fields}

    def is_blank(self) -> bool:
        return not any(self.values().values())

    def changed(self) -> bool:
        """Filled in and different from the current default address."""
        if self.is_blank():
            return False
        current = self.address.snapshot() if self.address else {}
        values = self.values()
        values["country"] = values["country"].upper()
        return values != {k: current.get(k, "") for k in values}


class ContactForm(forms.Form):
    name = forms.CharField(max_length=200)
    email = forms.EmailField(required=False)
    phone = forms.CharField(required=False, max_length=40)
    role = forms.CharField(required=False, max_length=100)
