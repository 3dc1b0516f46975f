"""The demo data, seeded once for this module: every state a user meets in each app, deterministic,
idempotent, and consistent with the stock ledger.

Seeding the whole demo is most of a minute, so it happens once (module-scoped, inside a transaction
that is rolled back at the end); each test reads it, and anything a test writes is rolled back to the
savepoint pytest-django opens around it. Tests that need an empty database (a seeder on its own)
live in the apps' own test_demo.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.db import transaction
from django.db.models import Count, F
from django.utils import timezone

import inventory.demo  # noqa: F401  (each app registers its seeder on import)
import manufacturing.demo  # noqa: F401
import procurement.demo  # noqa: F401
import sales.demo  # noqa: F401
from erp.models import OutboxEvent
from inventory.integrity import find_drift
from inventory.models import (
    Barcode,
    CountSheet,
    Lot,
    Product,
    ProductUnit,
    ReorderRule,
    Reservation,
    StockLevel,
    StockMove,
    Transfer,
    Warehouse,
)
from manufacturing import selectors as manufacturing_selectors
from manufacturing.boms import low_level_codes
from manufacturing.models import (
    BillOfMaterials,
    BomComponent,
    BomOperation,
    ManufacturingOrder,
    MOComponent,
    MOStatus,
    MrpRun,
    MrpSuggestion,
    WorkCentre,
)
from procurement.models import Bill, BillStatus, PurchaseOrder, PurchaseOrderStatus, Supplier, SupplierItem
from sales.models import (
    Customer,
    Invoice,
    InvoiceKind,
    InvoiceStatus,
    OrderLine,
    OrderStatus,
    Payment,
    Refund,
    ReturnStatus,
    SalesChannel,
    SalesOrder,
    SalesReturn,
    Shipment,
)
from sales.selectors import reserved_by_line

pytestmark = pytest.mark.django_db

APPS = ("inventory", "procurement", "sales", "manufacturing")
SALES_CHANNELS = {"shopify", "amazon", "wholesale", "pos", "manual"}


def snapshot() -> dict[str, Any]:
    """Everything the demo makes, by natural keys and counts: seeding again must not change it."""
    return {
        "products": Product.objects.count(),
        "lots": Lot.objects.count(),
        "barcodes": Barcode.objects.count(),
        "units": ProductUnit.objects.count(),
        "rules": ReorderRule.objects.count(),
        "transfers": sorted(Transfer.objects.values_list("status", flat=True)),
        "count sheets": sorted(CountSheet.objects.values_list("status", flat=True)),
        "suppliers": Supplier.objects.count(),
        "purchase orders": sorted(PurchaseOrder.objects.values_list("number", "status", "total")),
        "channels": sorted(SalesChannel.objects.values_list("code", flat=True)),
        "customers": Customer.objects.count(),
        "orders": sorted(SalesOrder.objects.values_list("number", "status", "total")),
        "lines": OrderLine.objects.count(),
        "shipments": Shipment.objects.count(),
        "invoices": sorted(Invoice.objects.values_list("kind", "status", "total", "amount_paid")),
        "payments": Payment.objects.count(),
        "returns": sorted(SalesReturn.objects.values_list("number", "status")),
        "refunds": Refund.objects.count(),
        "work centres": WorkCentre.objects.count(),
        "boms": sorted(BillOfMaterials.objects.values_list("product__sku", "version", "is_active")),
        "components": BomComponent.objects.count(),
        "operations": BomOperation.objects.count(),
        "manufacturing orders": sorted(
            ManufacturingOrder.objects.values_list("product__sku", "status", "quantity_produced")
        ),
        "mo lines": MOComponent.objects.count(),
        "runs": MrpRun.objects.count(),
        "suggestions": MrpSuggestion.objects.count(),
        "supplier items": SupplierItem.objects.count(),
        "moves": StockMove.objects.count(),
        "reservations": sorted(Reservation.objects.values_list("status", flat=True)),
        "levels": sorted(
            StockLevel.objects.values_list(
                "product__sku", "location__path", "lot__code", "on_hand", "reserved"
            )
        ),
        "events": OutboxEvent.objects.count(),
    }


@pytest.fixture(scope="module")
def seeded(django_db_setup: None, django_db_blocker: Any) -> Iterator[dict[str, Any]]:
    """The demo of the four apps, seeded once through the command; rolled back after the module."""
    with django_db_blocker.unblock(), transaction.atomic():
        out = StringIO()
        call_command("seed_demo", *[arg for app in APPS for arg in ("--only", app)], stdout=out)
        yield {"output": out.getvalue(), "snapshot": snapshot()}
        transaction.set_rollback(True)


def test_seeding_again_changes_nothing_and_the_levels_match_the_ledger(seeded):
    # when
    again = StringIO()
    call_command("seed_demo", *[arg for app in APPS for arg in ("--only", app)], stdout=again)

    # then
    assert snapshot() == seeded["snapshot"]
    assert find_drift()[1] == []
    assert "manufacturing (created): 2 work centres" in seeded["output"]
    assert "manufacturing (kept)" in again.getvalue()


def test_the_command_prints_each_step_and_what_it_made(seeded):
    output = seeded["output"]

    assert "[1/5] users: seeding ..." in output
    assert "admin / admin" in output
    assert "inventory: warehouses MAIN, EAST" in output
    assert "sales: channels shopify, amazon, wholesale, pos, manual" in output


def test_inventory_looks_like_a_real_business_with_valid_barcodes(seeded):
    assert set(Warehouse.objects.values_list("code", flat=True)) == {"MAIN", "EAST"}
    assert 280 <= Product.objects.count() <= 320
    assert Product.objects.filter(template__isnull=False).count() > 90
    assert Product.objects.filter(tracking="serial").exists()
    assert Lot.objects.filter(expiry_date__isnull=False).exists()
    assert Product.objects.filter(stock_unit__code__in=["kg", "m"]).count() >= 20
    assert Product.objects.filter(kind="service").count() == 8
    assert ProductUnit.objects.filter(unit__code="box", factor=12).count() >= 20
    assert 55 <= ReorderRule.objects.count() <= 65
    assert sorted(Transfer.objects.values_list("status", flat=True)) == ["done"] * 5 + ["in_transit"]
    assert sorted(CountSheet.objects.values_list("status", flat=True)) == ["applied", "open"]
    held = Reservation.objects.filter(demand_type="demo.order", status="active")
    assert held.count() >= 20
    assert Reservation.objects.filter(demand_type="demo.order", status="consumed").exists()
    assert Reservation.objects.filter(demand_type="demo.order", status="released").exists()
    kinds = set(StockMove.objects.values_list("kind", flat=True))
    assert {"receipt", "issue", "transfer", "adjustment", "scrap", "count", "consumption"} <= kinds
    # several receipts of one product at different costs
    costs = StockMove.objects.filter(product__sku="TSH-CLASSIC-M-NAVY", kind="receipt")
    assert len(set(costs.values_list("unit_cost", flat=True))) >= 2

    # every barcode is a valid EAN-13
    codes = list(Barcode.objects.values_list("code", flat=True))
    assert len(codes) > 250
    for code in codes:
        digits = [int(d) for d in code]
        assert len(digits) == 13
        assert sum(d * (3 if i % 2 else 1) for i, d in enumerate(digits)) % 10 == 0, code


def test_purchasing_has_orders_in_every_state(seeded):
    assert Supplier.objects.exists()
    assert set(PurchaseOrder.objects.values_list("status", flat=True)) == set(PurchaseOrderStatus.values)
    assert {BillStatus.OPEN, BillStatus.PAID} <= set(Bill.objects.values_list("status", flat=True))
    assert PurchaseOrder.objects.filter(status="draft", total__gt=5000, approved_at__isnull=True).exists()


def test_sales_channels_and_customers_as_described(seeded):
    channels = {c.code: c for c in SalesChannel.objects.all()}
    assert set(channels) == SALES_CHANNELS
    assert channels["shopify"].currency == "USD"
    assert channels["wholesale"].invoice_policy == "ordered"
    assert channels["pos"].prices_include_tax
    # customers: companies and persons, with addresses and contacts, some tax exempt
    assert 75 <= Customer.objects.count() <= 90
    assert {"company", "person"} == set(Customer.objects.values_list("kind", flat=True))
    assert Customer.objects.filter(tax_exempt=True).exists()
    assert Customer.objects.filter(kind="company", payment_terms="net_30").count() >= 5
    assert Customer.objects.filter(contacts__isnull=False).distinct().count() >= 15
    assert Customer.objects.filter(addresses__kind="shipping").distinct().count() >= 70


def test_sales_orders_over_90_days_in_every_state_on_every_channel(seeded):
    orders = SalesOrder.objects.all()
    assert 280 <= orders.count() <= 320
    assert set(orders.values_list("status", flat=True)) == set(OrderStatus.values)
    assert set(orders.values_list("channel__code", flat=True)) == SALES_CHANNELS
    oldest = timezone.now() - orders.order_by("order_date").first().order_date
    assert 80 <= oldest.days <= 90
    assert orders.filter(status=OrderStatus.CLOSED).count() > orders.filter(status=OrderStatus.DRAFT).count()
    # some confirmed orders wait for stock: part of a line is neither held nor shipped
    confirmed = OrderLine.objects.filter(order__status=OrderStatus.CONFIRMED, product__kind="stocked")
    held = reserved_by_line(confirmed.values_list("pk", flat=True))
    assert any(held.get(line.pk, 0) < line.quantity for line in confirmed)
    # partially shipped orders have open quantities, shipped ones none
    assert OrderLine.objects.filter(
        order__status=OrderStatus.PARTIALLY_SHIPPED, quantity__gt=F("quantity_shipped")
    ).exists()
    assert not OrderLine.objects.filter(
        order__status__in=[OrderStatus.SHIPPED, OrderStatus.CLOSED], quantity__gt=F("quantity_shipped")
    ).exists()
    # shipments with carriers and tracking numbers
    assert Shipment.objects.exclude(tracking_number="").count() > 100
    assert Shipment.objects.values("carrier").distinct().count() >= 5


def test_sales_invoices_payments_and_returns_in_every_state(seeded):
    # invoices in every state, overdue ones, payments; closed orders are paid in full
    invoices = Invoice.objects.filter(kind=InvoiceKind.INVOICE)
    assert set(invoices.values_list("status", flat=True)) == set(InvoiceStatus.values)
    assert invoices.filter(
        status__in=[InvoiceStatus.ISSUED, InvoiceStatus.PARTIALLY_PAID], due_date__lt=timezone.localdate()
    ).exists()
    assert Payment.objects.count() > 100
    unpaid_closed = invoices.filter(order__status=OrderStatus.CLOSED).exclude(
        status__in=[InvoiceStatus.PAID, InvoiceStatus.VOID]
    )
    assert not unpaid_closed.exists()
    assert (
        not invoices.filter(order__status=OrderStatus.CANCELLED).exclude(status=InvoiceStatus.VOID).exists()
    )

    # returns: received with a credit note (most refunded) and open ones
    statuses = dict(SalesReturn.objects.values_list("status").annotate(n=Count("id")))
    assert statuses.get(ReturnStatus.RECEIVED, 0) >= 3
    assert statuses.get(ReturnStatus.OPEN, 0) >= 1
    assert Invoice.objects.filter(kind=InvoiceKind.CREDIT_NOTE, status=InvoiceStatus.PAID).count() >= 3
    assert Refund.objects.count() >= 3


def test_manufacturing_orders_in_every_state(seeded):
    assert set(ManufacturingOrder.objects.values_list("status", flat=True)) == set(MOStatus.values)
    in_progress = ManufacturingOrder.objects.get(status=MOStatus.IN_PROGRESS)
    assert 0 < in_progress.quantity_produced < in_progress.quantity
    # confirmed: one with every component reserved, one short
    fully = []
    for mo in ManufacturingOrder.objects.filter(status=MOStatus.CONFIRMED):
        lines = list(mo.components.all())
        held = manufacturing_selectors.reserved_by_component([line.pk for line in lines])
        fully.append(all(held.get(line.pk, 0) == line.quantity_required for line in lines))
    assert sorted(fully) == [False, True]


def test_manufacturing_boms_on_three_levels_and_an_mrp_run(seeded):
    # BOMs: three levels under the bike, with scrap and operations; two versions of the bike, one active
    levels = low_level_codes()
    bike = BillOfMaterials.objects.filter(product__sku="BK-CITY")
    assert sorted(bike.values_list("version", "is_active")) == [(1, False), (2, True)]
    wire = BomComponent.objects.get(bom__product__sku="BK-SPOKE").product
    assert levels[wire.pk] == 3
    assert BomComponent.objects.filter(scrap_percent__gt=0).count() >= 3
    assert not BillOfMaterials.objects.filter(operations__isnull=True).exists()
    assert ManufacturingOrder.objects.filter(bom__version=1, product__sku="BK-CITY", status="done").exists()

    # MRP: one run, buying parts of the demo from their preferred suppliers, making sub-assemblies
    run = MrpRun.objects.get()
    bought = run.suggestions.filter(kind="buy", supplier_item__isnull=False)
    assert bought.filter(product__sku__startswith="CMP-").exists()
    assert run.suggestions.filter(kind="make", product__sku__startswith="BK-").exists()
