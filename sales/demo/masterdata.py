"""What the sales demo needs before its orders: stock (only without inventory's demo), channels and
customers, created where missing."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model

from inventory.models import Product, ProductKind, Warehouse
from inventory.services import product_create, stock_receive, warehouse_create, warehouse_default_location
from sales.demo.plan import CHANNEL_CODES, CHANNELS, CustomerSpec
from sales.models import Customer, SalesChannel
from sales.services import channel_create, contact_add, customer_create


def user_named(username: str) -> Any:
    return get_user_model().objects.filter(username=username).first()


def ensure_stock() -> None:
    """Only without inventory's demo: a warehouse and some stocked products, if there are none."""
    warehouse = Warehouse.objects.filter(is_active=True).order_by("code").first()
    if warehouse is None:
        warehouse = warehouse_create(code="MAIN", name="Main warehouse")
    if Product.objects.filter(is_active=True, kind=ProductKind.STOCKED).exists():
        return
    location = warehouse_default_location(warehouse)
    for i in range(1, 25):
        product = product_create(sku=f"DEMO-{i:03d}", name=f"Demo product {i}", sale_price=Decimal(5 * i) - 1)
        stock_receive(product=product, location=location, quantity=200, unit_cost=Decimal(2 * i))


def ensure_channels(user: Any) -> dict[str, SalesChannel]:
    warehouses = {w.code: w for w in Warehouse.objects.filter(is_active=True).order_by("code")}
    fallback = warehouses.get("MAIN") or next(iter(warehouses.values()))
    channels = {c.code: c for c in SalesChannel.objects.filter(code__in=CHANNEL_CODES)}
    for spec in CHANNELS:
        if spec.code not in channels:
            channels[spec.code] = channel_create(
                code=spec.code,
                name=spec.name,
                warehouse=warehouses.get(spec.warehouse, fallback),
                kind=spec.kind,
                currency=spec.currency,
                prices_include_tax=spec.prices_include_tax,
                invoice_policy=spec.invoice_policy,
                user=user,
            )
    return channels


def ensure_customers(specs: list[CustomerSpec], user: Any) -> dict[str, Customer]:
    customers = {c.code: c for c in Customer.objects.filter(code__in=[s.code for s in specs])}
    for spec in specs:
        if spec.code in customers:
            continue
        customers[spec.code] = customer = customer_create(
            name=spec.name,
            kind=spec.kind,
            code=spec.code,
            email=spec.email,
            phone=spec.phone,
            tax_id=spec.tax_id,
            tax_exempt=spec.tax_exempt,
            currency=spec.currency,
            payment_terms=spec.payment_terms,
            notes="Intra-EU supply: reverse charge." if spec.tax_exempt else "",
            billing_address=spec.billing or None,
            shipping_address=spec.shipping or None,
            user=user,
        )
        for name, role, email in spec.contacts:
            contact_add(customer=customer, name=name, role=role, email=email)
    return customers
