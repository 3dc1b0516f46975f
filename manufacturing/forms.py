"""Forms of the manufacturing pages. They parse what people type; the services decide."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from django import forms

from erp.forms import DateField, DateInput
from inventory.models import Product, Warehouse
from manufacturing.models import BillOfMaterials, ManufacturingOrder


def _model_choice(form: forms.Form, name: str) -> forms.ModelChoiceField[Any]:
    """The form's field ``name``, a choice of model rows (whose queryset a form sets when it is made)."""
    field = form.fields[name]
    if not isinstance(field, forms.ModelChoiceField):
        raise TypeError(f"{type(form).__name__}.{name} is not a ModelChoiceField")
    return field


def default_warehouse_id(user: Any) -> int | None:
    """The warehouse a new manufacturing order starts in (issue #21: it started blank and the first
    save failed): the only one; else the one of the user's last order; else the first active one
    by code. Two queries at most."""
    ids = list(Warehouse.objects.filter(is_active=True).order_by("code").values_list("pk", flat=True)[:2])
    if len(ids) == 1:
        return ids[0]
    if getattr(user, "is_authenticated", False):
        last = (
            ManufacturingOrder.objects.filter(created_by=user)
            .order_by("-created_at", "-id")
            .values_list("warehouse_id", flat=True)
            .first()
        )
        if last is not None:
            return last
    return ids[0] if ids else None


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
    warehouse = forms.ModelChoiceField(queryset=Warehouse.objects.none(), empty_label=None)
    planned_start = DateField(required=False, widget=DateInput(), help_text="empty: today")
    planned_finish = DateField(
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
    horizon = DateField(widget=DateInput(), help_text="plan the demand due up to this day")


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
