"""Manufacturing factories (work centres, BOMs, orders), each made by its service; the bike world."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import factory

from inventory.models import Product, Warehouse
from inventory.services import stock_receive
from manufacturing.models import BillOfMaterials, ManufacturingOrder, WorkCentre
from manufacturing.services import (
    ComponentSpec,
    OperationSpec,
    bom_create,
    mo_confirm,
    mo_create,
    work_centre_create,
)
from tests.inventory.factories import ProductFactory, bin_of, warehouse


def stock(product: Product, quantity: Any, cost: str = "1.00", wh: Warehouse | None = None) -> None:
    """Receive ``quantity`` of ``product`` into the Stock bin of ``wh`` (WH1 when not given) at ``cost``."""
    stock_receive(product=product, location=bin_of(wh or warehouse()), quantity=quantity, unit_cost=cost)


class WorkCentreFactory(factory.django.DjangoModelFactory[WorkCentre]):
    """A work centre made by ``work_centre_create``."""

    class Meta:
        model = WorkCentre

    code = factory.Sequence(lambda n: f"WC{n:03d}")
    name = factory.LazyAttribute(lambda c: f"Centre {c.code}")
    cost_per_hour = Decimal("60.00")

    @classmethod
    def _create(cls, model_class: type[WorkCentre], *args: Any, **kwargs: Any) -> WorkCentre:
        return work_centre_create(**kwargs)


class BomFactory(factory.django.DjangoModelFactory[BillOfMaterials]):
    """A bill of materials made by ``bom_create``: the next version of its product, active unless
    ``activate=False``. ``components`` and ``operations`` are lists of ``ComponentSpec`` and
    ``OperationSpec``; by default one new part, no operations."""

    class Meta:
        model = BillOfMaterials

    product = factory.SubFactory(ProductFactory)
    components = factory.LazyFunction(lambda: [ComponentSpec(ProductFactory.create(), 1)])
    operations: tuple[OperationSpec, ...] = ()
    lead_time_days = 1
    activate = True

    @classmethod
    def _create(cls, model_class: type[BillOfMaterials], *args: Any, **kwargs: Any) -> BillOfMaterials:
        bom = bom_create(**kwargs)
        bom.refresh_from_db()  # as stored: bom_create activates a copy of what it returns
        return bom


class ManufacturingOrderFactory(factory.django.DjangoModelFactory[ManufacturingOrder]):
    """A manufacturing order made by ``mo_create`` (a draft with its component lines) in WH1, and
    confirmed by ``mo_confirm`` (components reserved) when ``confirmed=True``.

    Give the ``product`` (its active BOM is used) or the ``bom``; by default the product of a new BOM."""

    class Meta:
        model = ManufacturingOrder

    bom = None
    product = factory.LazyAttribute(
        lambda o: o.bom.product if o.bom is not None else BomFactory.create().product
    )
    quantity = 1
    warehouse = factory.LazyFunction(lambda: warehouse())
    confirmed = False

    @classmethod
    def _create(
        cls, model_class: type[ManufacturingOrder], *args: Any, confirmed: bool = False, **kwargs: Any
    ) -> ManufacturingOrder:
        mo = mo_create(**kwargs)
        return mo_confirm(mo=mo)[0] if confirmed else mo


def bike_parts() -> dict[str, Product]:
    """Bought, in stock in WH1: 10 FRAME at 50.00, 20 RIM at 8.00, 1000 SPOKE at 0.10; made, none in
    stock: WHEEL and BIKE."""
    wh = warehouse("WH1")
    parts = {
        "frame": ProductFactory.create(sku="FRAME", name="Frame"),
        "rim": ProductFactory.create(sku="RIM", name="Rim 26 inch"),
        "spoke": ProductFactory.create(sku="SPOKE", name="Spoke steel"),
        "wheel": ProductFactory.create(sku="WHEEL", name="Wheel 26 inch"),
        "bike": ProductFactory.create(sku="BIKE", name="City bike"),
    }
    stock(parts["frame"], 10, "50.00", wh)
    stock(parts["rim"], 20, "8.00", wh)
    stock(parts["spoke"], 1000, "0.10", wh)
    return parts


def bike_world() -> dict[str, Any]:
    """The bike parts, the assembly centre ASM at 60.00 an hour, and two active BOMs:
    WHEEL = 1 RIM + 32 SPOKE +10 % scrap, laced in 30 min, lead time 2 days;
    BIKE = 1 FRAME + 2 WHEEL, assembled in 60 min, lead time 3 days."""
    parts = bike_parts()
    centre = WorkCentreFactory.create(code="ASM", name="Assembly", cost_per_hour="60.00")
    wheel_bom = BomFactory.create(
        product=parts["wheel"],
        components=[ComponentSpec(parts["rim"], 1), ComponentSpec(parts["spoke"], 32, scrap_percent=10)],
        operations=[OperationSpec("Lace and true", centre, 30)],
        lead_time_days=2,
    )
    bike_bom = BomFactory.create(
        product=parts["bike"],
        components=[ComponentSpec(parts["frame"], 1), ComponentSpec(parts["wheel"], 2)],
        operations=[OperationSpec("Assemble", centre, 60)],
        lead_time_days=3,
    )
    return {
        "warehouse": warehouse("WH1"),
        "centre": centre,
        **parts,
        "wheel_bom": wheel_bom,
        "bike_bom": bike_bom,
    }
