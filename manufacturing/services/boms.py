"""Writes of bills of materials: versions, components, operations, activation."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Max

from erp.exceptions import ValidationFailed
from erp.money import quantize_money, quantize_quantity, to_decimal
from inventory.models import Product, ProductUnit, UnitOfMeasure
from manufacturing.boms import refuse_cycle
from manufacturing.models import BillOfMaterials, BomComponent, BomOperation, WorkCentre


@dataclass(frozen=True)
class ComponentSpec:
    product: Product
    quantity: Decimal | str | int
    unit: UnitOfMeasure | None = None  # None: the component's stock unit
    scrap_percent: Decimal | str | int = 0


@dataclass(frozen=True)
class OperationSpec:
    name: str
    work_centre: WorkCentre
    minutes_per_unit: Decimal | str | int
    cost_per_hour: Decimal | str | int | None = None  # None: the work centre's


def _actor(user: Any) -> Any:
    return user if getattr(user, "is_authenticated", False) else None


def _components(bom: BillOfMaterials, specs: Sequence[ComponentSpec]) -> list[BomComponent]:
    if not specs:
        raise ValidationFailed(
            "A BOM needs at least one component.", field_errors={"components": ["Required."]}
        )
    seen = set()
    rows = []
    errors: dict[str, list[str]] = {}
    units = {
        (pu.product_id, pu.unit_id): pu.factor
        for pu in ProductUnit.objects.filter(product__in=[s.product for s in specs])
    }
    for n, spec in enumerate(specs):
        quantity = quantize_quantity(spec.quantity)
        scrap = to_decimal(spec.scrap_percent)
        unit = spec.unit or spec.product.stock_unit
        if unit.pk == spec.product.stock_unit_id:
            factor = Decimal(1)
        elif (spec.product.pk, unit.pk) in units:
            factor = units[(spec.product.pk, unit.pk)]
        else:
            errors[f"components.{n}.unit"] = [
                f"{spec.product.sku} has no unit {unit}; add it with its factor first."
            ]
            continue
        if quantity <= 0:
            errors[f"components.{n}.quantity"] = ["Must be positive."]
        if not 0 <= scrap < 100:
            errors[f"components.{n}.scrap_percent"] = ["From 0 to under 100."]
        if spec.product.pk in seen:
            errors[f"components.{n}.product"] = [f"{spec.product.sku} is listed twice."]
        if not spec.product.is_stocked:
            errors[f"components.{n}.product"] = [f"{spec.product.sku} is a service."]
        seen.add(spec.product.pk)
        rows.append(
            BomComponent(
                bom=bom,
                position=n + 1,
                product=spec.product,
                quantity=quantity,
                unit=unit,
                factor=factor,
                scrap_percent=scrap,
            )
        )
    if errors:
        raise ValidationFailed(f"The BOM is invalid: {next(iter(errors.values()))[0]}", field_errors=errors)
    return rows


def _operations(bom: BillOfMaterials, specs: Sequence[OperationSpec]) -> list[BomOperation]:
    rows = []
    for n, spec in enumerate(specs):
        minutes = to_decimal(spec.minutes_per_unit)
        cost = quantize_money(
            spec.cost_per_hour if spec.cost_per_hour is not None else spec.work_centre.cost_per_hour
        )
        if minutes < 0 or cost < 0 or not spec.name.strip():
            raise ValidationFailed(f"Operation {n + 1} needs a name, and minutes and cost of zero or more.")
        rows.append(
            BomOperation(
                bom=bom,
                sequence=(n + 1) * 10,
                name=spec.name.strip(),
                work_centre=spec.work_centre,
                minutes_per_unit=minutes,
                cost_per_hour=cost,
            )
        )
    return rows


@transaction.atomic
def bom_create(
    *,
    product: Product,
    components: Sequence[ComponentSpec],
    operations: Sequence[OperationSpec] = (),
    output_quantity: Decimal | str | int = 1,
    lead_time_days: int = 1,
    activate: bool = True,
    notes: str = "",
    user: Any = None,
) -> BillOfMaterials:
    """A new version of the product's BOM; active at once unless ``activate`` is False."""
    output = quantize_quantity(output_quantity)
    if output <= 0:
        raise ValidationFailed(
            "The output quantity must be positive.", field_errors={"output_quantity": ["Must be positive."]}
        )
    if not product.is_stocked:
        raise ValidationFailed(f"{product.sku} is a service; it is not manufactured.")
    version = (BillOfMaterials.objects.filter(product=product).aggregate(v=Max("version"))["v"] or 0) + 1
    bom = BillOfMaterials.objects.create(
        product=product,
        version=version,
        output_quantity=output,
        lead_time_days=lead_time_days,
        notes=notes,
        created_by=_actor(user),
        updated_by=_actor(user),
    )
    BomComponent.objects.bulk_create(_components(bom, components))
    BomOperation.objects.bulk_create(_operations(bom, operations))
    if activate:
        bom_activate(bom=bom, user=user)
    return bom


@transaction.atomic
def bom_update(
    *,
    bom: BillOfMaterials,
    components: Sequence[ComponentSpec] | None = None,
    operations: Sequence[OperationSpec] | None = None,
    output_quantity: Decimal | str | int | None = None,
    lead_time_days: int | None = None,
    notes: str | None = None,
    user: Any = None,
) -> BillOfMaterials:
    """Change a BOM in place (orders keep the component quantities they were made with)."""
    bom = BillOfMaterials.objects.select_for_update().get(pk=bom.pk)
    if components is not None:
        rows = _components(bom, components)
        if bom.is_active:
            refuse_cycle(bom.product_id, [r.product_id for r in rows])
        bom.components.all().delete()
        BomComponent.objects.bulk_create(rows)
    if operations is not None:
        bom.operations.all().delete()
        BomOperation.objects.bulk_create(_operations(bom, operations))
    if output_quantity is not None:
        bom.output_quantity = quantize_quantity(output_quantity)
        if bom.output_quantity <= 0:
            raise ValidationFailed("The output quantity must be positive.")
    if lead_time_days is not None:
        bom.lead_time_days = lead_time_days
    if notes is not None:
        bom.notes = notes
    bom.updated_by = _actor(user)
    bom.save()
    return bom


@transaction.atomic
def bom_activate(*, bom: BillOfMaterials, user: Any = None) -> BillOfMaterials:
    """Make this version the product's active one (refusing cycles through active BOMs)."""
    bom = BillOfMaterials.objects.select_for_update().get(pk=bom.pk)
    refuse_cycle(bom.product_id, bom.components.values_list("product_id", flat=True))
    BillOfMaterials.objects.filter(product_id=bom.product_id, is_active=True).exclude(pk=bom.pk).update(
        is_active=False
    )
    bom.is_active = True
    bom.updated_by = _actor(user)
    bom.save()
    return bom


@transaction.atomic
def work_centre_create(*, code: str, name: str, cost_per_hour: Decimal | str | int = 0) -> WorkCentre:
    if WorkCentre.objects.filter(code=code.strip()).exists():
        raise ValidationFailed(
            f"Work centre {code} exists already.", field_errors={"code": ["Already used."]}
        )
    return WorkCentre.objects.create(
        code=code.strip(), name=name.strip() or code, cost_per_hour=quantize_money(cost_per_hour)
    )
