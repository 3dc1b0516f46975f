"""Demo data of procurement: suppliers, supplier items with price breaks, orders in every state, bills.

Registered with ``erp.demo`` (order 15: after inventory's catalog, before sales).
Deterministic (random.Random(15)) and idempotent: if supplier S-0001 exists, it
does nothing. Everything goes through procurement's services.

Dated (``erp.clock.effective``): the orders of the last 90 days are written on their dates, sent
the day they are made; received by their expected date, give or take (a few late), billed within
days of the receipt and paid by the supplier's terms (not yet when that day is still to come).
Drafts are recent; sent orders are due soon or late now; partly received ones wait for the rest.
Receipts only add stock, so they are safe at any date; the sales demo, seeded next, does not sell
what arrives after an order's date.
"""

from __future__ import annotations

import contextlib
import datetime
import random
from collections.abc import Iterator
from decimal import Decimal

from django.db import transaction
from django.test import override_settings
from django.utils import timezone

from erp import clock, demo
from erp.models import User
from erp.money import quantize_money
from inventory.models import Product, ProductKind, ReorderRule, Tracking, UnitOfMeasure, Warehouse
from procurement.models import PurchaseOrder, Supplier
from procurement.services import (
    BillLineSpec,
    POLineSpec,
    ReceiveLine,
    bill_approve,
    bill_record,
    needs_approval,
    po_approve,
    po_cancel,
    po_close,
    po_create,
    po_send,
    receipt_create,
    supplier_contact_add,
    supplier_create,
    supplier_item_set,
    supplier_payment_record,
)

SUPPLIERS = [
    ("S-0001", "Northwind Textiles", "EUR", 30, 21),
    ("S-0002", "Shenzhen Bright Electronics", "USD", 45, 35),
    ("S-0003", "Alpine Foods GmbH", "EUR", 14, 5),
    ("S-0004", "Pacific Packaging Co.", "USD", 30, 10),
    ("S-0005", "Midwest Metals", "USD", 30, 12),
    ("S-0006", "Lusitania Ceramics", "EUR", 60, 28),
    ("S-0007", "Nordic Outdoor Supply", "SEK", 30, 18),
    ("S-0008", "Kanto Components", "JPY", 30, 30),
]

# The demo company's approval thresholds in its suppliers' other currencies (USD: 5,000), as it
# would set PURCHASE_APPROVAL_THRESHOLDS; `make run` sets the same (Makefile).
DEMO_THRESHOLDS = {"EUR": Decimal("4500"), "SEK": Decimal("50000"), "JPY": Decimal("750000")}


class _History:
    """The dates of one purchase order in ``state``, as days after its order date (``age``: today)."""

    def __init__(self, state: str, lead_time_days: int, rng: random.Random) -> None:
        if state in ("draft", "approval"):
            age = rng.randint(0, 6)
        elif state == "sent":  # due within days, or late by a few
            age = max(1, lead_time_days + rng.randint(-12, 10))
        elif state == "cancelled":
            age = rng.randint(10, 80)
        else:  # received (in part) within the last 90 days
            age = rng.randint(lead_time_days + 10, 88)
        self.age = age
        self.now = timezone.now()
        self.order_date = timezone.localdate(self.now) - datetime.timedelta(days=age)
        lateness = rng.choice([-2, -1, 0, 0, 0, 1, 2, 3, 6, 9])  # days after the expected date
        self.received = min(max(lead_time_days + lateness, 1), age)

    def day(self, offset: int) -> datetime.date:
        return self.order_date + datetime.timedelta(days=min(offset, self.age))

    @contextlib.contextmanager
    def on(self, offset: int, hour: int) -> Iterator[None]:
        """The services below write ``offset`` days after the order date at ``hour`` (not after now)."""
        zone = timezone.get_current_timezone()
        moment = datetime.datetime.combine(self.day(offset), datetime.time(hour), tzinfo=zone)
        with clock.effective(min(moment, self.now)):
            yield


def _manager() -> User | None:
    return (
        User.objects.filter(groups__name="Purchasing manager").first()
        or User.objects.filter(is_superuser=True).first()
    )


@transaction.atomic
def seed_procurement() -> list[str]:
    if Supplier.objects.filter(code="S-0001").exists():
        return [
            f"procurement: {Supplier.objects.count()} suppliers, "
            f"{PurchaseOrder.objects.count()} purchase orders (kept)"
        ]
    products = list(
        Product.objects.filter(kind=ProductKind.STOCKED, is_active=True)
        .exclude(tracking=Tracking.SERIAL)
        .order_by("sku")
    )
    warehouses = list(Warehouse.objects.filter(is_active=True).order_by("code"))
    if not products or not warehouses:
        return ["procurement: no stocked products or warehouses yet; skipped"]
    rng = random.Random(15)
    box = UnitOfMeasure.objects.get(code="box")
    # suppliers and their items exist before the first order: three months and a bit ago
    with clock.effective(timezone.now() - datetime.timedelta(days=96)):
        suppliers = [
            supplier_create(
                code=code,
                name=name,
                currency=currency,
                payment_terms_days=terms,
                lead_time_days=lead,
                email=f"orders@{name.split()[0].lower()}.example",
                address=f"{rng.randint(1, 400)} Industrial Way",
            )
            for code, name, currency, terms, lead in SUPPLIERS
        ]
        for supplier in suppliers:
            supplier_contact_add(
                supplier=supplier,
                name=f"{supplier.name.split()[0]} Sales Desk",
                email=supplier.email,
                role="Sales",
            )

        # Products with reorder rules all get a preferred supplier; a sample of the others a second source.
        ruled = set(ReorderRule.objects.values_list("product_id", flat=True))
        items = {}
        for product in products:
            if product.pk not in ruled and rng.random() > 0.35:
                continue
            supplier = rng.choice(suppliers)
            price = quantize_money(
                max(product.average_cost, product.sale_price * Decimal("0.45"), Decimal("0.50"))
            )
            boxed = product.stock_unit.code == "pcs" and rng.random() < 0.3
            items[product.pk] = supplier_item_set(
                supplier=supplier,
                product=product,
                unit_price=price * (12 if boxed else 1),
                purchase_unit=box if boxed else product.stock_unit,
                factor=12 if boxed else 1,
                supplier_sku=f"{supplier.code[-2:]}-{product.sku}",
                min_order_quantity=rng.choice([0, 0, 2, 5]),
                is_preferred=True,
                price_breaks=[
                    (10, price * (12 if boxed else 1) * Decimal("0.95")),
                    (50, price * (12 if boxed else 1) * Decimal("0.9")),
                ],
            )

    manager = _manager()
    plan = (
        ["draft"] * 5
        + ["approval"] * 2
        + ["sent"] * 8
        + ["partial"] * 6
        + ["received"] * 8
        + ["closed"] * 5
        + ["cancelled"] * 3
    )
    orders = 0
    by_supplier: dict[int, list[Product]] = {}
    for product in products:
        if product.pk in items:
            by_supplier.setdefault(items[product.pk].supplier_id, []).append(product)
    supplier_ids = sorted(by_supplier)
    drawn = []
    for n, state in enumerate(plan):
        supplier = Supplier.objects.get(pk=supplier_ids[n % len(supplier_ids)])
        chosen = rng.sample(by_supplier[supplier.pk], k=min(len(by_supplier[supplier.pk]), rng.randint(1, 4)))
        quantity = 400 if state == "approval" else None
        lines = [POLineSpec(product=p, quantity=quantity or rng.choice([2, 5, 10, 20, 60])) for p in chosen]
        drawn.append((n, state, supplier, lines, _History(state, supplier.lead_time_days, rng)))
    # written in the order they were placed, so their numbers follow their dates
    for n, state, supplier, lines, history in sorted(drawn, key=lambda d: (d[4].order_date, d[0])):
        with override_settings(
            PURCHASE_APPROVAL_THRESHOLD=Decimal("5000"), PURCHASE_APPROVAL_THRESHOLDS=DEMO_THRESHOLDS
        ):
            with history.on(0, 9):
                po = po_create(
                    supplier=supplier,
                    warehouse=warehouses[n % len(warehouses)],
                    lines=lines,
                    order_date=history.order_date,
                )
            orders += 1
            if state in ("draft", "approval"):
                continue
            if needs_approval(po) and manager is not None:
                with history.on(0, 11):
                    po_approve(po=po, user=manager)
            if needs_approval(po) and manager is None:
                continue
            with history.on(0, 15):
                po = po_send(po=po)
        if state == "cancelled":
            with history.on(3, 10):
                po_cancel(po=po, reason="supplier could not deliver in time")
            continue
        if state == "sent":
            continue
        open_lines = list(po.lines.select_related("product"))
        portion = Decimal("0.5") if state == "partial" else Decimal(1)
        receive = [
            ReceiveLine(
                line,
                max((line.quantity * portion).to_integral_value(), Decimal(1)),
                lot_code=f"LOT-{po.number}" if line.product.tracking == Tracking.LOT else "",
            )
            for line in open_lines
        ]
        with history.on(history.received, 10):
            receipt_create(po=po, lines=receive)
        po.refresh_from_db()
        if state in ("received", "closed", "partial") and rng.random() < 0.8:
            mismatch = rng.random() < 0.25
            billed = min(history.received + rng.randint(0, 4), history.age)
            with history.on(billed, 14):
                bill = bill_record(
                    po=po,
                    supplier_reference=f"{supplier.code}-{po.number}",
                    bill_date=history.day(billed),
                    lines=[
                        BillLineSpec(
                            line,
                            line.quantity_received,
                            line.unit_cost * (Decimal("1.08") if mismatch else 1),
                        )
                        for line in po.lines.all()
                        if line.quantity_received > 0
                    ],
                )
            if bill.match_ok or rng.random() < 0.5:
                if not bill.match_ok:
                    with history.on(min(billed + 1, history.age), 11):
                        bill_approve(bill=bill, note="price increase accepted")
                roll = rng.random()
                # paid by its terms, give or take; not yet when that day is still to come
                paid = billed + supplier.payment_terms_days + rng.randint(-10, 5)
                if roll < 0.6 and paid > history.age:
                    roll = 1.0
                if roll < 0.4:
                    with history.on(paid, 16):
                        supplier_payment_record(
                            bill=bill, amount=bill.total, method="bank transfer", paid_at=history.day(paid)
                        )
                elif roll < 0.6:
                    with history.on(paid, 16):
                        supplier_payment_record(
                            bill=bill,
                            amount=quantize_money(bill.total / 2),
                            method="bank transfer",
                            paid_at=history.day(paid),
                        )
        if state == "closed":
            with history.on(history.age, 17):  # closed when the last of it is done, or today
                po_close(po=po)
    return [f"procurement: {len(suppliers)} suppliers, {len(items)} supplier items, {orders} purchase orders"]


demo.register(15, "procurement", seed_procurement)
