from __future__ import annotations

from decimal import Decimal

import factory

from inventory.models import Category, Location, LocationKind, Lot, Product, UnitOfMeasure, Warehouse
from inventory.services import warehouse_create


def unit(code: str = "pcs") -> UnitOfMeasure:
    fractions = code in {"kg", "g", "m", "l"}
    obj, _ = UnitOfMeasure.objects.get_or_create(
        code=code, defaults={"name": code, "allows_fractions": fractions}
    )
    return obj


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Category {n}")


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    sku = factory.Sequence(lambda n: f"SKU-{n:05d}")
    name = factory.LazyAttribute(lambda p: f"Product {p.sku}")
    stock_unit = factory.LazyFunction(unit)
    sale_price = Decimal("19.90")
    currency = "USD"


class LotFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Lot

    product = factory.SubFactory(ProductFactory, tracking="lot")
    code = factory.Sequence(lambda n: f"LOT-{n:04d}")


def warehouse(code: str = "WH1", *, allow_negative: bool = False) -> Warehouse:
    existing = Warehouse.objects.filter(code=code).first()
    return existing or warehouse_create(
        code=code, name=f"Warehouse {code}", allow_negative_stock=allow_negative
    )


def bin_of(wh: Warehouse, name: str = "Stock") -> Location:
    """A bin of the warehouse (created under the root zone if missing), with its warehouse loaded."""
    existing = (
        Location.objects.select_related("warehouse")
        .filter(warehouse=wh, name=name, kind=LocationKind.INTERNAL)
        .first()
    )
    if existing:
        return existing
    from inventory.services import location_create, warehouse_root

    created = location_create(parent=warehouse_root(wh), name=name)
    return Location.objects.select_related("warehouse").get(pk=created.pk)
