"""A small world for the contract tests and the guide's examples: one of most things, linked.

Built through the services (never raw rows), so every object is valid and the outbox has events.
Covers each kind of resource a path parameter can name, so the fuzzer sometimes hits real ones.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.apps import apps

from erp.models import User
from inventory.models import Product, Warehouse
from inventory.services import count_sheet_create, reorder_rule_set, stock_receive
from manufacturing.services import ComponentSpec, bom_create, mo_create, work_centre_create
from procurement.services import POLineSpec, po_create, po_send, supplier_item_set
from sales.models import SalesOrder
from sales.services import ShipLine, invoice_create, order_confirm, shipment_create
from tests.erp.factories import UserFactory, api_key_for
from tests.inventory.factories import ProductFactory, bin_of, warehouse
from tests.procurement.factories import SupplierFactory
from tests.sales.factories import ChannelFactory, CustomerFactory, order_for

APPS = ("erp", "inventory", "sales", "procurement", "manufacturing", "integrations")


@dataclass
class World:
    user: User
    api_key: str
    warehouse: Warehouse
    widget: Product
    gadget: Product
    part: Product
    draft_order: SalesOrder
    shipped_order: SalesOrder
    objects: dict[str, Any] = field(default_factory=dict)

    @property
    def auth_header(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"}


def seed_world(*, username: str = "integrator", rate_limited: bool = False) -> World:
    """The world, and a superuser's key with every scope (without a rate limit unless ``rate_limited``)."""
    user = UserFactory(username=username, is_staff=True, is_superuser=True)
    raw_key = api_key_for(user, name="contract tests")  # every scope a superuser may have
    if not rate_limited:
        user.api_keys.update(rate_limit_per_minute=0)  # unlimited: the fuzzer sends hundreds a minute
    wh = warehouse("WH1")
    stock = bin_of(wh)
    widget = ProductFactory(sku="WIDGET-1", name="Widget")
    gadget = ProductFactory(sku="GADGET-1", name="Gadget")
    part = ProductFactory(sku="PART-1", name="Part")
    for product, quantity in ((widget, 50), (gadget, 20), (part, 100)):
        stock_receive(product=product, location=stock, quantity=quantity, unit_cost="4.00")

    channel = ChannelFactory(warehouse=wh)
    customer = CustomerFactory(name="Acme Retail")
    draft = order_for((widget, 2), channel=channel, customer=customer)
    shipped = order_for((widget, 3), (gadget, 1), channel=channel, customer=customer)
    order_confirm(order=shipped)
    shipment = shipment_create(
        order=shipped, lines=[ShipLine(line, line.quantity) for line in shipped.lines.all()]
    )
    invoice = invoice_create(order=shipped)

    supplier = SupplierFactory(name="Parts Inc")
    supplier_item_set(supplier=supplier, product=part, unit_price="2.50")
    po_draft = po_create(supplier=supplier, warehouse=wh, lines=[POLineSpec(part, 10)])
    po_sent = po_send(po=po_create(supplier=supplier, warehouse=wh, lines=[POLineSpec(part, 20)]))

    work_centre = work_centre_create(code="ASM", name="Assembly", cost_per_hour="30.00")
    bom = bom_create(product=gadget, components=[ComponentSpec(part, 2)])
    mo = mo_create(product=gadget, quantity=5, warehouse=wh, bom=bom)

    rule = reorder_rule_set(product=part, warehouse=wh, min_quantity=10, max_quantity=200)
    sheet = count_sheet_create(location=stock)

    return World(
        user=user,
        api_key=raw_key,
        warehouse=wh,
        widget=widget,
        gadget=gadget,
        part=part,
        draft_order=draft,
        shipped_order=shipped,
        objects={
            "customer": customer,
            "channel": channel,
            "shipment": shipment,
            "invoice": invoice,
            "supplier": supplier,
            "po_draft": po_draft,
            "po_sent": po_sent,
            "work_centre": work_centre,
            "bom": bom,
            "mo": mo,
            "rule": rule,
            "count_sheet": sheet,
        },
    )


def existing_ids(limit_per_model: int = 25) -> list[int]:
    """Integer primary keys of existing rows, across the apps: values a path id may take to hit something."""
    ids: set[int] = set()
    for label in APPS:
        for model in apps.get_app_config(label).get_models():
            if (
                not model._meta.managed
                or model._meta.pk is None
                or model._meta.pk.get_internal_type()
                not in (
                    "AutoField",
                    "BigAutoField",
                    "SmallAutoField",
                )
            ):
                continue
            ids.update(model._default_manager.order_by("-pk").values_list("pk", flat=True)[:limit_per_model])
    return sorted(ids)
