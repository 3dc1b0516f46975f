"""A small but real world for the role homes, made through the services: orders ready, late and
backordered, an invoice overdue, a purchase order late, a manufacturing order short, a stock-out
below its reorder point, a count open, and a connection with a dead letter and a failed event.

``seed_home(tag)`` may be called again with another tag: it adds as much again (for the tests that
grow the data and check the home's query count does not move).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.utils import timezone

from inventory.models import Product
from inventory.services import count_sheet_create, reorder_rule_set
from procurement.models import PurchaseOrder, SupplierItem
from procurement.services import POLineSpec, po_create, po_send
from sales.models import Invoice, SalesChannel, SalesOrder
from sales.services import invoice_create, invoice_issue, order_confirm, shipment_create
from tests.integrations.factories import ConnectionFactory, DeliveryFactory, InboundEventFactory
from tests.inventory.factories import ProductFactory, bin_of, warehouse
from tests.manufacturing.factories import BomFactory, ComponentSpec, ManufacturingOrderFactory
from tests.procurement.factories import SupplierFactory
from tests.sales.factories import ChannelFactory, CustomerFactory, order_for, stocked_product


@dataclass
class HomeWorld:
    channel: SalesChannel
    ready: SalesOrder  # confirmed, stock held: ready to ship
    late: SalesOrder  # confirmed 5 days ago, stock held
    backordered: SalesOrder  # confirmed, nothing in stock for it
    shipped: SalesOrder
    overdue: Invoice
    late_po: PurchaseOrder
    stock_out: Product


def seed_home(tag: str = "A") -> HomeWorld:
    wh = warehouse("WH1")
    channel = ChannelFactory(code=f"web{tag}", name=f"Web store {tag}")
    customer = CustomerFactory(name=f"Acme {tag}")
    shelf = stocked_product(50, sku=f"TEE-{tag}", name=f"T-shirt {tag}")
    empty = ProductFactory(sku=f"MUG-{tag}", name=f"Mug {tag}")
    reorder_rule_set(product=empty, warehouse=wh, min_quantity=5, max_quantity=20)

    ready = order_confirm(order=order_for((shelf, 2), channel=channel, customer=customer))
    five_days_ago = timezone.now() - datetime.timedelta(days=5)
    late = order_confirm(
        order=order_for((shelf, 1), channel=channel, customer=customer, order_date=five_days_ago)
    )
    backordered = order_confirm(order=order_for((empty, 3), channel=channel, customer=customer))
    shipped = order_confirm(order=order_for((shelf, 4), channel=channel, customer=customer))
    shipment_create(order=shipped)
    invoice = invoice_issue(
        invoice=invoice_create(order=shipped), issue_date=timezone.localdate() - datetime.timedelta(days=45)
    )

    supplier = SupplierFactory(name=f"Supplies {tag}")
    SupplierItem.objects.create(
        supplier=supplier,
        product=empty,
        purchase_unit=empty.stock_unit,
        unit_price=Decimal("2.00"),
        is_preferred=True,
    )
    po = po_create(
        supplier=supplier,
        warehouse=wh,
        lines=[POLineSpec(product=empty, quantity=10, unit_cost="2.00")],
        order_date=timezone.localdate() - datetime.timedelta(days=10),
        expected_date=timezone.localdate() - datetime.timedelta(days=2),
    )
    po = po_send(po=po)

    part = ProductFactory(sku=f"PART-{tag}", name=f"Part {tag}")
    bom = BomFactory(
        product=ProductFactory(sku=f"KIT-{tag}", name=f"Kit {tag}"), components=[ComponentSpec(part, 2)]
    )
    ManufacturingOrderFactory(bom=bom, product=bom.product, quantity=3, confirmed=True)  # no part: short

    count_sheet_create(location=bin_of(wh))

    connection = ConnectionFactory(name=f"Shop {tag}")
    InboundEventFactory(connection=connection)
    InboundEventFactory(connection=connection, status="failed")
    DeliveryFactory(connection=connection)
    DeliveryFactory(connection=connection, dead=True)
    return HomeWorld(
        channel=channel,
        ready=ready,
        late=late,
        backordered=backordered,
        shipped=shipped,
        overdue=invoice,
        late_po=po,
        stock_out=empty,
    )


def role_user(username: str, *roles: str, **kwargs: Any) -> Any:
    from tests.erp.factories import UserFactory

    return UserFactory(username=username, roles=list(roles), **kwargs)
