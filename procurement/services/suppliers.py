"""Writes of suppliers and supplier items (with price breaks)."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django.db import transaction

from erp import events
from erp.contacts import contact_create
from erp.exceptions import ValidationFailed
from erp.money import currency_problem, quantize_money, quantize_quantity
from erp.numbering import next_number
from inventory.models import Product, UnitOfMeasure
from procurement.models import PriceBreak, Supplier, SupplierContact, SupplierItem

SUPPLIER_FIELDS = {
    "name",
    "email",
    "phone",
    "currency",
    "payment_terms_days",
    "lead_time_days",
    "address",
    "tax_id",
    "notes",
    "is_active",
}


def _actor(user: Any) -> Any:
    return user if getattr(user, "is_authenticated", False) else None


def supplier_payload(supplier: Supplier) -> dict[str, Any]:
    return {
        "supplier_id": supplier.pk,
        "code": supplier.code,
        "name": supplier.name,
        "email": supplier.email,
        "currency": supplier.currency,
    }


def _check_supplier(values: dict[str, Any]) -> None:
    errors: dict[str, list[str]] = {}
    if "name" in values and not str(values["name"] or "").strip():
        errors["name"] = ["A name is required."]
    if "currency" in values and (problem := currency_problem(values["currency"])):
        errors["currency"] = [problem]
    for field in ("payment_terms_days", "lead_time_days"):
        if field in values and (values[field] is None or int(values[field]) < 0):
            errors[field] = ["A number of days, zero or more."]
    if errors:
        raise ValidationFailed(
            f"The supplier is invalid: {next(iter(errors.values()))[0]}", field_errors=errors
        )


@transaction.atomic
def supplier_create(*, name: str, code: str = "", user: Any = None, **values: Any) -> Supplier:
    unknown = set(values) - SUPPLIER_FIELDS
    if unknown:
        raise ValidationFailed(f"Unknown fields: {', '.join(sorted(unknown))}.")
    _check_supplier({"name": name, **values})
    code = code.strip() or next_number("procurement.supplier", prefix="S-", width=4)
    if Supplier.objects.filter(code=code).exists():
        raise ValidationFailed(f"Supplier code {code} is taken.", field_errors={"code": ["Already used."]})
    supplier = Supplier.objects.create(
        code=code, name=name.strip(), created_by=_actor(user), updated_by=_actor(user), **values
    )
    events.emit("procurement.supplier_created", aggregate=supplier, payload=supplier_payload(supplier))
    return supplier


@transaction.atomic
def supplier_update(*, supplier: Supplier, user: Any = None, **changes: Any) -> Supplier:
    unknown = set(changes) - SUPPLIER_FIELDS
    if unknown:
        raise ValidationFailed(f"Cannot change: {', '.join(sorted(unknown))}.")
    _check_supplier(changes)
    supplier = Supplier.objects.select_for_update().get(pk=supplier.pk)
    for name, value in changes.items():
        setattr(supplier, name, value)
    supplier.updated_by = _actor(user)
    supplier.save()
    events.emit("procurement.supplier_updated", aggregate=supplier, payload=supplier_payload(supplier))
    return supplier


@transaction.atomic
def supplier_contact_add(
    *, supplier: Supplier, name: str, email: str = "", phone: str = "", role: str = ""
) -> SupplierContact:
    return contact_create(
        SupplierContact,
        owner_field="supplier",
        owner=supplier,
        name=name,
        email=email,
        phone=phone,
        role=role,
    )


@transaction.atomic
def supplier_item_set(
    *,
    supplier: Supplier,
    product: Product,
    unit_price: Decimal | str | int,
    purchase_unit: UnitOfMeasure | None = None,
    factor: Decimal | str | int = 1,
    supplier_sku: str = "",
    min_order_quantity: Decimal | str | int = 0,
    lead_time_days: int | None = None,
    is_preferred: bool = False,
    price_breaks: Sequence[tuple[Decimal | str | int, Decimal | str | int]] | None = None,
    user: Any = None,
) -> SupplierItem:
    """Create or change what a supplier sells us; ``price_breaks`` (from qty, price) replaces the breaks."""
    price, step, moq = (
        quantize_money(unit_price),
        quantize_quantity(factor),
        quantize_quantity(min_order_quantity),
    )
    errors: dict[str, list[str]] = {}
    if price < 0:
        errors["unit_price"] = ["Cannot be negative."]
    if step <= 0:
        errors["factor"] = ["Must be positive."]
    if moq < 0:
        errors["min_order_quantity"] = ["Cannot be negative."]
    if not product.is_stocked:
        errors["product"] = [f"{product.sku} is a service; it is not bought into stock."]
    breaks = [(quantize_quantity(q), quantize_money(p)) for q, p in (price_breaks or [])]
    if any(q <= 0 or p < 0 for q, p in breaks) or len({q for q, _ in breaks}) != len(breaks):
        errors["price_breaks"] = ["Each break has a distinct positive quantity and a price of zero or more."]
    if errors:
        raise ValidationFailed(
            f"The supplier item is invalid: {next(iter(errors.values()))[0]}", field_errors=errors
        )
    if is_preferred:
        SupplierItem.objects.filter(product=product, is_preferred=True).exclude(supplier=supplier).update(
            is_preferred=False
        )
    item, created = SupplierItem.objects.update_or_create(
        supplier=supplier,
        product=product,
        defaults={
            "unit_price": price,
            "purchase_unit": purchase_unit or product.stock_unit,
            "factor": step,
            "supplier_sku": supplier_sku,
            "min_order_quantity": moq,
            "lead_time_days": lead_time_days,
            "is_preferred": is_preferred,
            "updated_by": _actor(user),
        },
    )
    if created:
        item.created_by = _actor(user)
        item.save(update_fields=["created_by"])
    if price_breaks is not None:
        item.price_breaks.all().delete()
        PriceBreak.objects.bulk_create(
            [PriceBreak(item=item, min_quantity=q, unit_price=p) for q, p in breaks]
        )
    return item


def price_for(item: SupplierItem, quantity: Decimal) -> Decimal:
    """The price per purchase unit at this quantity: the best break reached, else the list price."""
    price = item.unit_price
    for brk in sorted(item.price_breaks.all(), key=lambda b: b.min_quantity):
        if quantity >= brk.min_quantity:
            price = brk.unit_price
    return price


@transaction.atomic
def supplier_item_delete(*, item: SupplierItem) -> None:
    """Stop buying a product from a supplier. Its price breaks go with it; order lines keep their prices."""
    SupplierItem.objects.filter(pk=item.pk).delete()
