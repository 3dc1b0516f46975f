"""Forms of the inventory pages: they parse what people type; the services decide what is valid.

A service's ``ValidationFailed.field_errors`` are put back next to the fields by
``add_domain_errors``, so a rule lives in one place (the service) and shows up in
the UI and the API alike.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from django import forms

from erp.exceptions import DomainError
from inventory.models import (
    Category,
    Location,
    LocationKind,
    Product,
    ProductKind,
    Tracking,
    UnitOfMeasure,
    Warehouse,
)
from inventory.selectors import product_by_code


def quantity_field(**kwargs: Any) -> forms.DecimalField:
    return forms.DecimalField(max_digits=18, decimal_places=4, **kwargs)


def money_field(**kwargs: Any) -> forms.DecimalField:
    return forms.DecimalField(max_digits=19, decimal_places=4, **kwargs)


class LocationChoiceField(forms.ModelChoiceField):
    """Locations shown by their path: WH1/Aisle A/A-01."""

    def label_from_instance(self, obj: Any) -> str:
        return str(obj.path)


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


def split_codes(text: str) -> list[str]:
    """Barcodes typed one per line or separated by commas."""
    return [code.strip() for code in re.split(r"[,\n\r]+", text or "") if code.strip()]


class ProductForm(forms.Form):
    sku = forms.CharField(label="SKU", max_length=64)
    name = forms.CharField(max_length=200)
    category = forms.ModelChoiceField(Category.objects.order_by("name"), required=False)
    kind = forms.ChoiceField(choices=ProductKind.choices, initial=ProductKind.STOCKED)
    tracking = forms.ChoiceField(choices=Tracking.choices, initial=Tracking.NONE)
    stock_unit = forms.ModelChoiceField(
        UnitOfMeasure.objects.order_by("code"), to_field_name="code", label="Stock unit", empty_label=None
    )
    sale_price = money_field(label="Sale price", initial=0)
    currency = forms.CharField(max_length=3, initial="USD")
    weight = quantity_field(label="Weight (kg)", required=False)
    barcodes = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="One per line or comma-separated. Box barcodes are kept as they are.",
    )
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["sku"].widget.attrs.update({"autofocus": True, "autocomplete": "off", "class": "mono"})
        self.fields["stock_unit"].initial = "pcs"

    @classmethod
    def initial_for(cls, product: Product) -> dict[str, Any]:
        return {
            "sku": product.sku,
            "name": product.name,
            "category": product.category_id,
            "kind": product.kind,
            "tracking": product.tracking,
            "stock_unit": product.stock_unit.code,
            "sale_price": product.sale_price,
            "currency": product.currency,
            "weight": product.weight,
            "barcodes": "\n".join(b.code for b in product.barcodes.all() if b.unit_id is None),
            "description": product.description,
        }

    def values(self) -> dict[str, Any]:
        """Keyword arguments of product_create / product_update."""
        data = dict(self.cleaned_data)
        data["currency"] = data["currency"].strip().upper()
        data["barcodes"] = split_codes(data.get("barcodes", ""))
        return data


ATTRIBUTE_LINE = re.compile(r"^\s*([^:]+?)\s*:\s*(.+?)\s*$")


def parse_attributes(text: str) -> dict[str, list[str]]:
    """'Size: S, M, L' lines -> {"Size": ["S", "M", "L"]}; raises ValidationError on a bad line."""
    attributes: dict[str, list[str]] = {}
    for number, line in enumerate((text or "").splitlines(), start=1):
        if not line.strip():
            continue
        match = ATTRIBUTE_LINE.match(line)
        if not match:
            raise forms.ValidationError(
                f"Line {number}: write it as “Name: value, value”, e.g. “Size: S, M”."
            )
        name, raw_values = match.groups()
        values = [v.strip() for v in raw_values.split(",") if v.strip()]
        if not values:
            raise forms.ValidationError(f"Line {number}: give {name} at least one value.")
        if name in attributes:
            raise forms.ValidationError(f"Line {number}: {name} is listed twice.")
        if len(set(values)) != len(values):
            raise forms.ValidationError(f"Line {number}: a value of {name} is listed twice.")
        attributes[name] = values
    if not attributes:
        raise forms.ValidationError("Give at least one attribute, e.g. “Size: S, M, L”.")
    return attributes


class VariantsForm(forms.Form):
    name = forms.CharField(label="Template name", max_length=200)
    sku_prefix = forms.CharField(label="SKU prefix", max_length=40)
    attributes = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4, "placeholder": "Size: S, M, L\nColour: Red, Blue"}),
        help_text="One attribute per line: “Name: value, value”. One variant per combination.",
    )
    category = forms.ModelChoiceField(Category.objects.order_by("name"), required=False)
    stock_unit = forms.ModelChoiceField(
        UnitOfMeasure.objects.order_by("code"), to_field_name="code", label="Stock unit", empty_label=None
    )
    sale_price = money_field(label="Sale price", initial=0)
    currency = forms.CharField(max_length=3, initial="USD")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["name"].widget.attrs["autofocus"] = True
        self.fields["sku_prefix"].widget.attrs.update({"class": "mono", "autocomplete": "off"})
        self.fields["stock_unit"].initial = "pcs"

    def clean_attributes(self) -> dict[str, list[str]]:
        return parse_attributes(self.cleaned_data["attributes"])

    def clean_currency(self) -> str:
        return str(self.cleaned_data["currency"]).strip().upper()


class WarehouseForm(forms.Form):
    code = forms.CharField(max_length=16, help_text="Letters and digits, like WH2.")
    name = forms.CharField(max_length=100)
    address = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    allow_negative_stock = forms.BooleanField(
        required=False, label="Allow negative stock", help_text="Issues may take stock below zero."
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["code"].widget.attrs.update({"class": "mono", "autocomplete": "off"})


class LocationForm(forms.Form):
    parent = LocationChoiceField(Location.objects.none(), label="Under zone", empty_label=None)
    name = forms.CharField(max_length=100)
    kind = forms.ChoiceField(
        choices=[(LocationKind.INTERNAL, "Bin (holds stock)"), (LocationKind.VIEW, "Zone (groups bins)")],
        initial=LocationKind.INTERNAL,
    )
    barcode = forms.CharField(max_length=64, required=False)

    def __init__(self, *args: Any, zones: Iterable[Location] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        zone_ids = [zone.pk for zone in zones]
        field = self.fields["parent"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = Location.objects.filter(pk__in=zone_ids).order_by("path")
        self.fields["barcode"].widget.attrs.update({"class": "mono", "autocomplete": "off"})


class ReverseForm(forms.Form):
    reason = forms.CharField(max_length=255, help_text="Why the move is undone; kept on the reversing move.")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["reason"].widget.attrs.update({"autofocus": True, "autocomplete": "off"})


class ReorderRuleForm(forms.Form):
    product = forms.CharField(label="Product", max_length=64, help_text="SKU or barcode")
    warehouse = forms.ModelChoiceField(Warehouse.objects.order_by("code"), empty_label=None)
    min_quantity = quantity_field(label="Min")
    max_quantity = quantity_field(label="Max")
    multiple = quantity_field(initial=1)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["product"].widget.attrs.update({"class": "mono", "autocomplete": "off"})

    def clean_product(self) -> Product:
        code = self.cleaned_data["product"]
        found = product_by_code(code)
        if found is None:
            raise forms.ValidationError(f"No product has the SKU or barcode “{code}”.")
        return found[0]


class CountSheetForm(forms.Form):
    location = LocationChoiceField(Location.objects.none(), label="Bin", required=False)
    bin_code = forms.CharField(label="or scan the bin", max_length=64, required=False)
    note = forms.CharField(max_length=255, required=False)
    prefill = forms.BooleanField(
        required=False,
        initial=True,
        label="List what the system expects",
        help_text="Untick for a blind count: only what is scanned is listed.",
    )

    def __init__(self, *args: Any, bins: Iterable[Location] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["location"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = Location.objects.filter(pk__in=[b.pk for b in bins]).order_by("path")
        self.fields["bin_code"].widget.attrs.update({"autofocus": True, "autocomplete": "off"})

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        code = (data.get("bin_code") or "").strip()
        if code:
            location = (
                Location.objects.select_related("warehouse")
                .filter(barcode=code, kind=LocationKind.INTERNAL)
                .first()
            )
            if location is None:
                self.add_error("bin_code", f"No bin has the barcode “{code}”.")
            else:
                data["location"] = location
        elif data.get("location") is None:
            self.add_error("location", "Choose the bin to count, or scan its barcode.")
        return data
