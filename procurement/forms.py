"""Forms of the procurement pages: they parse what people type; the services decide what is valid.

A service's ``ValidationFailed.field_errors`` go back next to the fields they name
(``add_domain_errors``), so a rule lives in one place and reads the same in the UI
and the API.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.http import QueryDict

from erp.exceptions import DomainError
from erp.forms import DateField, DateInput
from inventory.models import Product, UnitOfMeasure, Warehouse
from inventory.selectors import product_by_code
from procurement.models import Supplier, SupplierItem

DATE = DateInput()  # yyyy-mm-dd whatever the browser locale (erp.forms)


def quantity_field(**kwargs: Any) -> forms.DecimalField:
    return forms.DecimalField(max_digits=18, decimal_places=4, **kwargs)


def money_field(**kwargs: Any) -> forms.DecimalField:
    return forms.DecimalField(max_digits=19, decimal_places=4, **kwargs)


def add_domain_errors(form: forms.Form, exc: DomainError, aliases: dict[str, str] | None = None) -> None:
    """Show a service's error next to the fields it names; anything else above the form."""
    aliases = aliases or {}
    placed = False
    for field, messages in exc.field_errors.items():
        name = aliases.get(field, field)
        if name in form.fields:
            for message in messages:
                form.add_error(name, message)
            placed = True
    if not placed:
        form.add_error(None, exc.message)


class SupplierChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.name} ({obj.code})"


class WarehouseChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.code} · {obj.name}"


class PurchaseOrderForm(forms.Form):
    """The head of a purchase order; its lines are parsed by the view (they change as people type)."""

    supplier = SupplierChoiceField(Supplier.objects.filter(is_active=True).order_by("name"))
    warehouse = WarehouseChoiceField(Warehouse.objects.filter(is_active=True).order_by("code"))
    expected_date = DateField(
        required=False, widget=DATE, help_text="Empty: today plus the supplier's lead time."
    )
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args: Any, fixed_supplier: Supplier | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if fixed_supplier is not None:  # a saved order keeps its supplier (and currency)
            field = self.fields["supplier"]
            field.disabled = True
            field.required = False
            field.initial = fixed_supplier.pk
            field.help_text = "A saved order keeps its supplier."


class SupplierForm(forms.Form):
    code = forms.CharField(max_length=32, required=False, help_text="Empty: the next S-number.")
    name = forms.CharField(max_length=200)
    email = forms.EmailField(required=False)
    phone = forms.CharField(max_length=40, required=False)
    currency = forms.CharField(max_length=3, initial="USD", help_text="ISO 4217: USD, EUR, JPY")
    payment_terms_days = forms.IntegerField(min_value=0, initial=30, label="Payment terms (days)")
    lead_time_days = forms.IntegerField(min_value=0, initial=7, label="Lead time (days)")
    tax_id = forms.CharField(max_length=40, required=False, label="Tax id")
    address = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    is_active = forms.BooleanField(required=False, initial=True, label="Active")

    def __init__(self, *args: Any, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if editing:
            self.fields["code"].disabled = True
            self.fields["code"].help_text = ""

    def clean_currency(self) -> str:
        return str(self.cleaned_data["currency"]).strip().upper()

    def values(self) -> dict[str, Any]:
        """What supplier_create / supplier_update take (the code only when creating)."""
        data = dict(self.cleaned_data)
        data.pop("code", None)
        return data


class ContactForm(forms.Form):
    name = forms.CharField(max_length=200)
    role = forms.CharField(max_length=100, required=False)
    email = forms.EmailField(required=False)
    phone = forms.CharField(max_length=40, required=False)


class SupplierItemForm(forms.Form):
    """What one supplier sells us: product, their SKU, unit and factor, price, minimum, lead time, breaks."""

    supplier = SupplierChoiceField(Supplier.objects.filter(is_active=True).order_by("name"))
    product = forms.CharField(label="Product SKU or barcode", max_length=64)
    supplier_sku = forms.CharField(max_length=64, required=False, label="Supplier's SKU")
    purchase_unit = forms.ModelChoiceField(
        UnitOfMeasure.objects.order_by("code"),
        to_field_name="code",
        required=False,
        empty_label="the product's stock unit",
        label="Purchase unit",
    )
    factor = quantity_field(initial=1, label="Factor", help_text="Stock units in one purchase unit.")
    unit_price = money_field(label="Price per purchase unit")
    min_order_quantity = quantity_field(initial=0, label="Minimum order (purchase units)")
    lead_time_days = forms.IntegerField(
        min_value=0, required=False, label="Lead time (days)", help_text="Empty: the supplier's."
    )
    is_preferred = forms.BooleanField(required=False, label="Preferred supplier of this product")

    BREAK_ROWS = 3  # empty rows offered for new price breaks

    def __init__(
        self, *args: Any, supplier: Supplier | None = None, item: SupplierItem | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.item = item
        self.product_obj: Product | None = item.product if item else None
        self.breaks: list[tuple[Decimal, Decimal]] = []
        self.break_rows: list[dict[str, Any]] = []
        if supplier is not None:
            self.fields["supplier"].disabled = True
            self.fields["supplier"].initial = supplier.pk
            self.fields["supplier"].required = False
            self.supplier_obj: Supplier | None = supplier
        else:
            self.supplier_obj = None
        if item is not None:
            self.fields["product"].disabled = True
            self.fields["product"].initial = item.product.sku

    def clean_product(self) -> Product:
        if self.product_obj is not None:
            return self.product_obj
        code = str(self.cleaned_data.get("product") or "").strip()
        found = product_by_code(code)
        if found is None:
            raise forms.ValidationError(f"No product has the SKU or barcode “{code}”.")
        self.product_obj = found[0]
        return found[0]

    def parse_breaks(self, data: QueryDict) -> None:
        """Rows break-qty-N / break-price-N; a row with both empty is ignored."""
        rows = []
        errors = []
        indices = sorted(
            {
                int(key.rsplit("-", 1)[1])
                for key in data
                if key.startswith("break-qty-") and key[10:].isdigit()
            }
        )
        for n in indices:
            q_text = data.get(f"break-qty-{n}", "").strip()
            p_text = data.get(f"break-price-{n}", "").strip()
            rows.append({"qty": q_text, "price": p_text})
            if not q_text and not p_text:
                continue
            try:
                q, p = Decimal(q_text.replace(",", ".")), Decimal(p_text.replace(",", "."))
            except ArithmeticError:
                errors.append(f"“{q_text} / {p_text}” is not a quantity and a price.")
                continue
            if not q.is_finite() or not p.is_finite():
                errors.append(f"“{q_text} / {p_text}” is not a quantity and a price.")
                continue
            self.breaks.append((q, p))
        self.break_rows = rows
        for error in errors:
            self.add_error(None, error)

    def initial_break_rows(self) -> None:
        existing = (
            [
                {"qty": f"{b.min_quantity.normalize():f}", "price": f"{b.unit_price.normalize():f}"}
                for b in self.item.price_breaks.all()
            ]
            if self.item
            else []
        )
        self.break_rows = existing

    def padded_break_rows(self) -> list[dict[str, Any]]:
        filled = [row for row in self.break_rows if row["qty"] or row["price"]]
        return [*filled, *({"qty": "", "price": ""} for _ in range(self.BREAK_ROWS))]


class BillRecordForm(forms.Form):
    supplier_reference = forms.CharField(max_length=64, label="Supplier's invoice number")
    bill_date = DateField(widget=DATE, label="Bill date")


class BillApproveForm(forms.Form):
    note = forms.CharField(
        max_length=255, required=False, label="Why it is accepted", help_text="Kept with the match issues."
    )


class PaymentForm(forms.Form):
    amount = money_field(label="Amount")
    paid_at = DateField(widget=DATE, label="Paid on")
    method = forms.CharField(max_length=40, required=False, initial="bank transfer")
    reference = forms.CharField(max_length=100, required=False)
