from __future__ import annotations

from decimal import Decimal

import factory

from inventory.models import Product, Warehouse
from inventory.services import stock_receive
from sales.models import Customer, SalesChannel
from sales.services import LineSpec, TaxSpec, order_create
from tests.inventory.factories import ProductFactory, bin_of, warehouse


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    code = factory.Sequence(lambda n: f"C-T{n:04d}")
    name = factory.Sequence(lambda n: f"Customer {n}")
    email = factory.LazyAttribute(lambda c: f"{c.code.lower()}@example.com")
    currency = "USD"
    payment_terms = "net_30"


class ChannelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SalesChannel
        django_get_or_create = ("code",)

    code = "web"
    name = "Web store"
    kind = "web_store"
    warehouse = factory.LazyFunction(lambda: warehouse("WH1"))
    currency = "USD"
    invoice_policy = "shipped"


def stocked_product(
    quantity: int = 10, *, wh: Warehouse | None = None, price: str = "10.00", **kwargs
) -> Product:
    product = ProductFactory(sale_price=Decimal(price), **kwargs)
    if quantity:
        stock_receive(
            product=product, location=bin_of(wh or warehouse("WH1")), quantity=quantity, unit_cost="4.00"
        )
    return product


def order_for(
    *lines: tuple[Product, int], channel: SalesChannel | None = None, customer: Customer | None = None, **kw
):
    return order_create(
        channel=channel or ChannelFactory(),
        customer=customer or CustomerFactory(),
        lines=[LineSpec(product=p, quantity=q) for p, q in lines],
        **kw,
    )


VAT = (TaxSpec("VAT", "0.2"),)
