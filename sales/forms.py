"""Forms of the sales pages. They parse what people type; the services decide what is allowed."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from django import forms
from django.db.models import Q
from django.utils import timezone

from erp.exceptions import DomainError
from erp.forms import DateField
from erp.money import ZERO
from inventory.models import Product
from inventory.selectors import product_by_code
from sales.models import (
    Address,
    Customer,
    CustomerKind,
    OrderLine,
    PaymentTerms,
    ReturnDisposition,
    SalesChannel,
    SalesOrder,
)
from sales.order_lines import DEFAULT_TAX_NAME, HUNDRED, money_text, percent, plain
from sales.services import LineSpec, TaxSpec
from sales.services.fulfilment import default_ship_quantity


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
