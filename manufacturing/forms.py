"""Forms of the manufacturing pages. They parse what people type; the services decide."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from django import forms

from inventory.models import Product, Warehouse
from manufacturing.models import BillOfMaterials


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None):
        super().__init__(attrs, format="%Y-%m-%d")


def _model_choice(form: forms.Form, name: str) -> forms.ModelChoiceField[Any]:
    """The form's field ``name``, a choice of model rows (whose queryset a form sets when it is made)."""
    field = form.fields[name]
    if not isinstance(field, forms.ModelChoiceField):
        raise TypeError(f"{type(form).__name__}.{name} is not a ModelChoiceField")
    return field


class ProductChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.sku} · {obj.name}"


class BomHeadForm(forms.Form):
    """The head of the BOM editor; its component and operation rows are parsed by the view."""

    output_quantity = forms.DecimalField(
        label="Output quantity",
        min_value=Decimal("0.0001"),
        max_digits=18,
        decimal_places=4,
        help_text="the components below make this many",
        widget=forms.TextInput(attrs={"inputmode": "decimal", "size": 8}),
    )
    lead_time_days = forms.IntegerField(
        label="Lead time (days)",
        min_value=0,
        max_value=3650,
        help_text="from start to finish of one order",
        widget=forms.TextInput(attrs={"inputmode": "numeric", "size": 5}),
    )
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 1}))
    activate = forms.BooleanField(
        label="Make it the active version", required=False, help_text="new orders and MRP use it"
    )


class ManufacturingOrderForm(forms.Form):
    product = ProductChoiceField(
        queryset=Product.objects.none(),
        empty_label="— choose a product —",
        help_text="products with an active bill of materials",
        widget=forms.Select(attrs={"autofocus": True}),
    )
    quantity = forms.DecimalField(
        min_value=Decimal("0.0001"),
        max_digits=18,
        decimal_places=4,
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
    )
    warehouse = forms.ModelChoiceField(queryset=Warehouse.objects.none())
    planned_start = forms.DateField(required=False, widget=DateInput(), help_text="empty: today")
    planned_finish = forms.DateField(
        required=False, widget=DateInput(), help_text="empty: the start plus the BOM's lead time"
    )
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        made = BillOfMaterials.objects.filter(is_active=True).values("product_id")
        _model_choice(self, "product").queryset = Product.objects.filter(pk__in=made).order_by("sku")
        _model_choice(self, "warehouse").queryset = Warehouse.objects.order_by("code")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, finish = data.get("planned_start"), data.get("planned_finish")
        if start and finish and finish < start:
            self.add_error("planned_finish", "Before the start.")
        return data


SERIAL_SPLIT = re.compile(r"[\s,;]+")


class ProduceForm(forms.Form):
    quantity = forms.DecimalField(
        max_digits=18, decimal_places=4, widget=forms.TextInput(attrs={"inputmode": "decimal", "size": 6})
    )
    lot_code = forms.CharField(label="Lot", required=False, max_length=64)
    serials = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="one per line (or separated by commas)",
    )

    def clean_serials(self) -> list[str]:
        text = self.cleaned_data.get("serials") or ""
        return [s for s in SERIAL_SPLIT.split(text) if s]


class MrpRunForm(forms.Form):
    horizon = forms.DateField(widget=DateInput(), help_text="plan the demand due up to this day")


class WorkCentreForm(forms.Form):
    code = forms.CharField(max_length=32)
    name = forms.CharField(max_length=100)
    cost_per_hour = forms.DecimalField(
        label="Cost per hour",
        min_value=0,
        max_digits=19,
        decimal_places=4,
        initial=0,
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
    )
