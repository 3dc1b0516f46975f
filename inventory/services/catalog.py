"""Writes of the catalog: products, variants, units, barcodes, lots."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Q

from erp import events
from erp.exceptions import ValidationFailed
from erp.money import currency_problem, quantize_money, quantize_quantity
from inventory.locks import levels_locked_in_order
from inventory.models import (
    Attribute,
    AttributeValue,
    Barcode,
    Category,
    Lot,
    Product,
    ProductKind,
    ProductTemplate,
    ProductUnit,
    Tracking,
    UnitOfMeasure,
)

PRODUCT_FIELDS = (
    "sku",
    "name",
    "description",
    "category",
    "kind",
    "stock_unit",
    "weight",
    "sale_price",
    "currency",
    "tracking",
)


def _actor(user: Any) -> Any:
    return user if getattr(user, "is_authenticated", False) else None


def unit_get(code: str) -> UnitOfMeasure:
    unit = UnitOfMeasure.objects.filter(code=code).first()
    if unit is None:
        known = ", ".join(UnitOfMeasure.objects.values_list("code", flat=True))
        raise ValidationFailed(
            f"Unknown unit '{code}'. Known units: {known}.",
            field_errors={"stock_unit": [f"Unknown unit '{code}'."]},
        )
    return unit


def product_payload(product: Product) -> dict[str, Any]:
    return {
        "product_id": product.pk,
        "sku": product.sku,
        "name": product.name,
        "kind": product.kind,
        "tracking": product.tracking,
        "stock_unit": product.stock_unit.code,
        "sale_price": str(product.sale_price),
        "currency": product.currency,
        "is_active": product.is_active,
        "barcodes": sorted(b.code for b in product.barcodes.all()),
    }


def _clean_product_values(values: dict[str, Any], *, instance: Product | None = None) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    clean = dict(values)
    if "sku" in clean:
        sku = str(clean["sku"] or "").strip()
        if not sku:
            errors.setdefault("sku", []).append("A SKU is required.")
        elif len(sku) > 64:
            errors.setdefault("sku", []).append("At most 64 characters.")
        else:
            clash = Product.objects.filter(sku__iexact=sku)
            if instance is not None:
                clash = clash.exclude(pk=instance.pk)
            if clash.exists():
                errors.setdefault("sku", []).append(f"SKU '{sku}' is already used (SKUs ignore case).")
        clean["sku"] = sku
    if "name" in clean:
        clean["name"] = str(clean["name"] or "").strip()
        if not clean["name"]:
            errors.setdefault("name", []).append("A name is required.")
        elif len(clean["name"]) > 200:  # the column's size: PostgreSQL refuses more, SQLite would not
            errors.setdefault("name", []).append("At most 200 characters.")
    if "kind" in clean and clean["kind"] not in ProductKind.values:
        errors.setdefault("kind", []).append(f"One of: {', '.join(ProductKind.values)}.")
    elif (
        instance is not None
        and clean.get("kind") == ProductKind.SERVICE
        and instance.kind == ProductKind.STOCKED
        and instance.moves.exists()
    ):
        errors.setdefault("kind", []).append("A product with stock history cannot become a service.")
    if "tracking" in clean:
        if clean["tracking"] not in Tracking.values:
            errors.setdefault("tracking", []).append(f"One of: {', '.join(Tracking.values)}.")
        elif instance is not None and clean["tracking"] != instance.tracking and instance.moves.exists():
            errors.setdefault("tracking", []).append(
                "Tracking cannot change once the product has stock moves."
            )
    if "stock_unit" in clean and isinstance(clean["stock_unit"], str):
        try:
            clean["stock_unit"] = unit_get(clean["stock_unit"])
        except ValidationFailed as exc:
            errors.update(exc.field_errors)
    unit_changes = (
        "stock_unit" in clean and instance is not None and clean["stock_unit"] != instance.stock_unit
    )
    if unit_changes and instance is not None and instance.moves.exists():
        errors.setdefault("stock_unit", []).append(
            "The stock unit cannot change once the product has stock moves."
        )
    if "sale_price" in clean:
        try:
            clean["sale_price"] = quantize_money(
                clean["sale_price"] if clean["sale_price"] is not None else 0
            )
            if clean["sale_price"] < 0:
                errors.setdefault("sale_price", []).append("Cannot be negative.")
        except (TypeError, ValueError) as exc:
            errors.setdefault("sale_price", []).append(str(exc))
    if clean.get("weight") is not None:
        try:
            clean["weight"] = quantize_quantity(clean["weight"])
            if clean["weight"] < 0:
                errors.setdefault("weight", []).append("Cannot be negative.")
        except (TypeError, ValueError) as exc:
            errors.setdefault("weight", []).append(str(exc))
    if "currency" in clean and (problem := currency_problem(clean["currency"])):
        errors.setdefault("currency", []).append(problem)
    if errors:
        first = next(iter(errors.values()))[0]
        raise ValidationFailed(f"The product is invalid: {first}", field_errors=errors)
    return clean


def _set_barcodes(product: Product, codes: Sequence[str]) -> None:
    codes = [c.strip() for c in codes if c and c.strip()]
    if len(set(codes)) != len(codes):
        raise ValidationFailed(
            "A barcode is listed twice.", field_errors={"barcodes": ["Duplicate barcode."]}
        )
    taken = list(Barcode.objects.filter(code__in=codes).exclude(product=product).select_related("product"))
    if taken:
        msg = "; ".join(f"barcode {b.code} belongs to {b.product.sku}" for b in taken)
        raise ValidationFailed(f"Barcodes in use: {msg}.", field_errors={"barcodes": [msg]})
    product.barcodes.exclude(code__in=codes).filter(unit__isnull=True).delete()
    existing = set(product.barcodes.values_list("code", flat=True))
    Barcode.objects.bulk_create([Barcode(product=product, code=c) for c in codes if c not in existing])


@transaction.atomic
def product_create(
    *,
    sku: str,
    name: str,
    stock_unit: UnitOfMeasure | str = "pcs",
    description: str = "",
    category: Category | None = None,
    kind: str = ProductKind.STOCKED,
    weight: Decimal | None = None,
    sale_price: Decimal | str | int = 0,
    currency: str = "USD",
    tracking: str = Tracking.NONE,
    barcodes: Sequence[str] = (),
    template: ProductTemplate | None = None,
    attribute_values: Sequence[AttributeValue] = (),
    user: Any = None,
) -> Product:
    values = _clean_product_values(
        {
            "sku": sku,
            "name": name,
            "stock_unit": stock_unit,
            "description": description,
            "category": category,
            "kind": kind,
            "weight": weight,
            "sale_price": sale_price,
            "currency": currency,
            "tracking": tracking,
        }
    )
    product = Product.objects.create(
        **values, template=template, created_by=_actor(user), updated_by=_actor(user)
    )
    if attribute_values:
        product.attribute_values.set(attribute_values)
    _set_barcodes(product, barcodes)
    events.emit("inventory.product_created", aggregate=product, payload=product_payload(product))
    return product


@transaction.atomic
def product_update(
    *, product: Product, user: Any = None, barcodes: Sequence[str] | None = None, **changes: Any
) -> Product:
    unknown = set(changes) - set(PRODUCT_FIELDS)
    if unknown:
        raise ValidationFailed(f"Cannot change: {', '.join(sorted(unknown))}.")
    product = Product.objects.select_for_update().get(pk=product.pk)
    values = _clean_product_values(changes, instance=product)
    old_sku = product.sku
    for name, value in values.items():
        setattr(product, name, value)
    product.updated_by = _actor(user)
    product.save()
    if product.sku != old_sku:  # the levels' copy, their list's sort (StockLevel.product_sku)
        levels_locked_in_order(Q(product=product)).update(product_sku=product.sku)
    if barcodes is not None:
        _set_barcodes(product, barcodes)
    events.emit("inventory.product_updated", aggregate=product, payload=product_payload(product))
    return product


@transaction.atomic
def product_archive(*, product: Product, user: Any = None, active: bool = False) -> Product:
    """Archive (or, with active=True, restore) a product. Its history stays."""
    product = Product.objects.select_for_update().get(pk=product.pk)
    if product.is_active == active:
        return product
    product.is_active = active
    product.updated_by = _actor(user)
    product.save(update_fields=["is_active", "updated_by", "updated_at"])
    topic = "inventory.product_restored" if active else "inventory.product_archived"
    events.emit(topic, aggregate=product, payload=product_payload(product))
    return product


@transaction.atomic
def product_unit_set(
    *, product: Product, unit: UnitOfMeasure | str, factor: Decimal | str, barcode: str = ""
) -> ProductUnit:
    """Add or change an alternative unit: 1 box = ``factor`` stock units."""
    unit = unit_get(unit) if isinstance(unit, str) else unit
    factor = quantize_quantity(factor)
    if factor <= 0:
        raise ValidationFailed(
            "A conversion factor must be positive.", field_errors={"factor": ["Must be positive."]}
        )
    if unit.pk == product.stock_unit_id:
        raise ValidationFailed(f"{unit} is already the stock unit of {product.sku}.")
    product_unit, _ = ProductUnit.objects.update_or_create(
        product=product, unit=unit, defaults={"factor": factor}
    )
    if barcode:
        clash = Barcode.objects.filter(code=barcode).exclude(product=product).first()
        if clash:
            raise ValidationFailed(f"Barcode {barcode} belongs to {clash.product.sku}.")
        Barcode.objects.update_or_create(code=barcode, defaults={"product": product, "unit": product_unit})
    return product_unit


@transaction.atomic
def product_template_create(
    *,
    name: str,
    sku_prefix: str,
    attributes: dict[str, Sequence[str]],
    stock_unit: UnitOfMeasure | str = "pcs",
    description: str = "",
    category: Category | None = None,
    sale_price: Decimal | str | int = 0,
    currency: str = "USD",
    tracking: str = Tracking.NONE,
    user: Any = None,
) -> ProductTemplate:
    """A template and one variant per combination of attribute values.

    ``attributes={"Size": ["S", "M"], "Colour": ["Red"]}`` makes SKU-S-RED and SKU-M-RED.
    """
    if not attributes or any(not values for values in attributes.values()):
        raise ValidationFailed(
            "Give each attribute at least one value.", field_errors={"attributes": ["Required."]}
        )
    template = ProductTemplate.objects.create(
        name=name.strip(),
        description=description,
        category=category,
        created_by=_actor(user),
        updated_by=_actor(user),
    )
    axes = []
    for attr_name, values in attributes.items():
        attribute, _ = Attribute.objects.get_or_create(name=attr_name.strip())
        template.attributes.add(attribute)
        axis = []
        for position, value in enumerate(values):
            av, _ = AttributeValue.objects.get_or_create(
                attribute=attribute, value=str(value).strip(), defaults={"position": position}
            )
            axis.append(av)
        axes.append(axis)
    for combination in itertools.product(*axes):
        variant_add(
            template=template,
            values=list(combination),
            sku_prefix=sku_prefix,
            stock_unit=stock_unit,
            sale_price=sale_price,
            currency=currency,
            tracking=tracking,
            user=user,
        )
    return template


def _variant_sku(prefix: str, values: Sequence[AttributeValue]) -> str:
    parts = [prefix.strip()] + ["".join(ch for ch in v.value.upper() if ch.isalnum()) for v in values]
    return "-".join(parts)


@transaction.atomic
def variant_add(
    *,
    template: ProductTemplate,
    values: Sequence[AttributeValue],
    sku_prefix: str = "",
    sku: str = "",
    stock_unit: UnitOfMeasure | str = "pcs",
    sale_price: Decimal | str | int = 0,
    currency: str = "USD",
    tracking: str = Tracking.NONE,
    user: Any = None,
) -> Product:
    """One more variant of a template; a combination already used is refused."""
    wanted = {v.pk for v in values}
    if {v.attribute_id for v in values} != set(template.attributes.values_list("pk", flat=True)):
        raise ValidationFailed("A variant needs exactly one value for each attribute of its template.")
    for existing in template.variants.prefetch_related("attribute_values"):
        if {v.pk for v in existing.attribute_values.all()} == wanted:
            raise ValidationFailed(f"{existing.sku} already has these values.")
    label = " / ".join(v.value for v in values)
    return product_create(
        sku=sku or _variant_sku(sku_prefix, values),
        name=f"{template.name} – {label}",
        description=template.description,
        category=template.category,
        stock_unit=stock_unit,
        sale_price=sale_price,
        currency=currency,
        tracking=tracking,
        template=template,
        attribute_values=values,
        user=user,
    )


def lot_get_or_create(*, product: Product, code: str, expiry_date: Any = None) -> Lot:
    code = code.strip()
    if not code:
        raise ValidationFailed("A lot or serial number is required.", field_errors={"lot": ["Required."]})
    if product.tracking == Tracking.NONE:
        raise ValidationFailed(f"{product.sku} is not tracked by lot or serial.")
    lot, created = Lot.objects.get_or_create(
        product=product, code=code, defaults={"expiry_date": expiry_date}
    )
    if not created and expiry_date and lot.expiry_date != expiry_date:
        raise ValidationFailed(f"Lot {code} of {product.sku} already exists with expiry {lot.expiry_date}.")
    return lot
