"""The demo warehouses with their bins, and the stock history written through the services.

The history is dated (``erp.clock.effective``): the opening stock arrives ``OPENING_DAYS`` ago, the
transfers to the east centre, the putaway, the positive adjustments and the applied cycle count
follow within days, before the sales demo's first order (``EARLY_DAYS`` ago at the latest); what
takes stock away (issues, scraps, losses, shipped reservations) is spread over the last 90 days.
Every increase of a bin is older than any order the later demos take from it, so no bin is ever
short in the dated order of events, and the sales demo takes the later purchase receipts into
account (sales.demo.history).
"""

from __future__ import annotations

import datetime
import random
from collections import defaultdict
from decimal import Decimal

from django.utils import timezone

from erp import clock
from inventory.demo.catalog import ProductSpec, scaled_money
from inventory.models import Location, LocationKind, Lot, Product, Reservation, Warehouse
from inventory.services import (
    Demand,
    Document,
    Line,
    count_line_set,
    count_sheet_apply,
    count_sheet_create,
    location_create,
    lot_get_or_create,
    reservation_consume,
    reservations_release_for_demand,
    stock_adjust,
    stock_issue,
    stock_receive,
    stock_reserve,
    stock_scrap,
    stock_transfer,
    transfer_receive,
    transfer_ship,
    warehouse_create,
    warehouse_root,
)

DEMAND = "demo.order"
RECEIPT_DOCUMENT = "demo.receipt"
SHIPMENT_DOCUMENT = "demo.shipment"

WAREHOUSES = {
    "MAIN": ("Main warehouse", "1 Harbour Road, Rotterdam", {"A": 4, "B": 4}),
    "EAST": ("East fulfilment centre", "12 Logistics Park, Poznań", {"R": 3}),
}
ADJUST_REASONS = ["damaged in handling", "found during putaway", "miscounted at receipt", "water damage"]
OPENING_DAYS = 95  # the opening stock arrives that many days ago
EARLY_DAYS = 91  # every increase of a bin but the opening happens before then (days ago)


def moment(days_ago: int, minutes: int = 0, *, now: datetime.datetime | None = None) -> datetime.datetime:
    """8:00 local time ``days_ago`` days before today, plus ``minutes``; never later than ``now``."""
    now = now or timezone.now()
    day = timezone.localdate(now) - datetime.timedelta(days=days_ago)
    start = datetime.datetime.combine(day, datetime.time(8), tzinfo=timezone.get_current_timezone())
    return min(start + datetime.timedelta(minutes=minutes), now)


def spread(index: int, count: int, first: int, last: int) -> int:
    """Days ago of the ``index``-th of ``count`` events spread evenly from ``first`` to ``last`` days ago."""
    return round(first - (first - last) * index / max(count - 1, 1))


def ensure_warehouses() -> dict[str, Location]:
    """MAIN and EAST with their zones and bins; returns internal bins by path."""
    for code, (name, address, zones) in WAREHOUSES.items():
        warehouse = Warehouse.objects.filter(code=code).first() or warehouse_create(
            code=code, name=name, address=address
        )
        root = warehouse_root(warehouse)
        for zone_name, bins in zones.items():
            zone = Location.objects.filter(parent=root, name=zone_name).first() or location_create(
                parent=root, name=zone_name, kind=LocationKind.VIEW
            )
            for i in range(1, bins + 1):
                name_ = f"{zone_name}-{i:02d}"
                if not Location.objects.filter(parent=zone, name=name_).exists():
                    location_create(parent=zone, name=name_, barcode=f"LOC-{code}-{name_}")
    internal = Location.objects.select_related("warehouse").filter(
        warehouse__code__in=list(WAREHOUSES), kind=LocationKind.INTERNAL
    )
    return {b.path: b for b in internal}


class StockHistory:
    """Writes the stock history through the services, keeping its own tally to choose valid quantities."""

    def __init__(self, rng: random.Random, specs: list[ProductSpec], bins: dict[str, Location]) -> None:
        self.rng = rng
        self.specs = {s.sku: s for s in specs}
        self.bins = bins
        self.products = {
            p.sku: p for p in Product.objects.select_related("stock_unit").filter(sku__in=list(self.specs))
        }
        self.on_hand: dict[tuple[str, str, str], Decimal] = defaultdict(Decimal)  # (sku, path, lot)
        self.lots: dict[tuple[str, str], Lot] = {}
        self.receipt_no = 0
        self.receipt_lines = 0
        self.shipment_no = 0
        self.now = timezone.now()

    def at(self, days_ago: int, minutes: int = 0) -> datetime.datetime:
        return moment(days_ago, minutes, now=self.now)

    def _receipt_document(self) -> Document:
        if self.receipt_lines % 6 == 0:
            self.receipt_no += 1
        self.receipt_lines += 1
        return Document(RECEIPT_DOCUMENT, self.receipt_no, f"RC-DEMO-{self.receipt_no:04d}")

    def receive(
        self, sku: str, path: str, quantity: Decimal, lot_code: str = "", expiry: datetime.date | None = None
    ) -> None:
        spec, product = self.specs[sku], self.products[sku]
        lot = None
        if lot_code:
            lot = lot_get_or_create(product=product, code=lot_code, expiry_date=expiry)
            self.lots[(sku, lot_code)] = lot
        cost = scaled_money(spec.cost, self.rng.uniform(0.85, 1.15))
        document = self._receipt_document()
        with clock.effective(self.at(OPENING_DAYS, 12 * self.receipt_no)):  # ~120 deliveries in a day
            stock_receive(
                product=product,
                location=self.bins[path],
                quantity=quantity,
                unit_cost=cost,
                lot=lot,
                document=document,
            )
        self.on_hand[(sku, path, lot_code)] += quantity

    def stocked_at(
        self, prefix: str, *, families: set[str], minimum: Decimal = Decimal(4)
    ) -> list[tuple[str, str]]:
        """(sku, path) of untracked stock under ``prefix`` with at least ``minimum``, in a stable order."""
        return sorted(
            (sku, path)
            for (sku, path, lot), qty in self.on_hand.items()
            if not lot and path.startswith(prefix) and qty >= minimum and self.specs[sku].family in families
        )

    def run(self) -> None:
        self.receipts()
        self.transfers()
        self.issues()
        self.adjustments()
        self.scraps()
        self.counts()
        self.reservations()

    def receipts(self) -> None:
        rng = self.rng
        zone_a = [p for p in self.bins if p.startswith("MAIN/A/")]
        zone_b = [p for p in self.bins if p.startswith("MAIN/B/")]
        east = [p for p in self.bins if p.startswith("EAST/R/")]
        today = timezone.localdate()
        for sku, spec in self.specs.items():
            if spec.kind != "stocked":
                continue
            if spec.family == "apparel":
                home = rng.choice(zone_a)
                for _ in range(2):
                    self.receive(sku, home, Decimal(rng.randint(12, 60)))
                if rng.random() < 0.4:
                    self.receive(sku, rng.choice(east), Decimal(rng.randint(6, 30)))
            elif spec.tracking == "serial":
                home = rng.choice(zone_b)
                for n in range(rng.randint(3, 6)):
                    serial = f"SN{rng.randint(10**8, 10**9 - 1)}{n}"
                    self.receive(sku, home if n % 4 else "MAIN/Stock", Decimal(1), serial)
            elif spec.tracking == "lot":
                home = rng.choice(zone_b)
                for n in range(2):
                    days = rng.randint(8, 40) if n == 0 else rng.randint(90, 420)
                    expiry = today + datetime.timedelta(days=days)
                    code = f"L{expiry:%y%m}-{rng.randint(100, 999)}"
                    self.receive(sku, home, Decimal(rng.randint(24, 144)), code, expiry)
            elif spec.family == "raw":
                step = Decimal("0.5") if spec.unit in {"m", "kg"} else Decimal(1)
                for _ in range(2):
                    self.receive(sku, "MAIN/Stock", Decimal(rng.randint(100, 1000)) * step)
            else:  # home goods, plain electronics
                home = rng.choice(zone_a + zone_b)
                for _ in range(rng.randint(1, 2)):
                    self.receive(sku, home, Decimal(rng.randint(10, 120)))
                if rng.random() < 0.3:
                    self.receive(sku, "EAST/Stock", Decimal(rng.randint(10, 40)))

    def transfers(self) -> None:
        """Two-step transfers MAIN -> EAST (the last one stays in transit), and moves between bins."""
        rng = self.rng
        shipped = []
        for n in range(6):
            sources = sorted({path for _, path in self.stocked_at("MAIN/A/", families={"apparel", "home"})})
            source = sources[n % len(sources)]
            candidates = [sku for sku, path in self.stocked_at(source, families={"apparel", "home"})]
            lines = []
            for sku in rng.sample(candidates, min(4, len(candidates))):
                qty = (self.on_hand[(sku, source, "")] // 4).max(Decimal(1))
                lines.append(Line(product=self.products[sku], quantity=qty))
                self.on_hand[(sku, source, "")] -= qty
                self.on_hand[(sku, "EAST/Stock", "")] += qty
            # the first five go out before the sales start; the last one left yesterday, still on its way
            with clock.effective(self.at(1, 240) if n == 5 else self.at(OPENING_DAYS - 2, 60 * n)):
                shipped.append(
                    transfer_ship(
                        from_location=self.bins[source],
                        to_location=self.bins["EAST/Stock"],
                        lines=lines,
                        note=f"Weekly replenishment of the east centre #{n + 1}",
                    )
                )
        for n, transfer in enumerate(shipped[:-1]):
            with clock.effective(self.at(OPENING_DAYS - 3, 60 * n)):
                transfer_receive(transfer=transfer)
        for n in range(4):  # putaway and consolidation inside MAIN
            stocked = self.stocked_at("MAIN/", families={"home", "electronics"})
            sku, source = stocked[rng.randrange(len(stocked))]
            target = rng.choice([p for p in self.bins if p.startswith("MAIN/") and p != source])
            qty = (self.on_hand[(sku, source, "")] // 2).max(Decimal(1))
            with clock.effective(self.at(OPENING_DAYS - 3, 360 + 30 * n)):
                stock_transfer(
                    from_location=self.bins[source],
                    to_location=self.bins[target],
                    lines=[Line(product=self.products[sku], quantity=qty)],
                    reason=f"consolidation #{n + 1}",
                )
            self.on_hand[(sku, source, "")] -= qty
            self.on_hand[(sku, target, "")] += qty

    def issues(self) -> None:
        rng = self.rng
        for n in range(30):
            candidates = self.stocked_at("MAIN/", families={"apparel", "home", "electronics"})
            sku, path = candidates[rng.randrange(len(candidates))]
            qty = Decimal(rng.randint(1, 3))
            self.shipment_no += 1
            with clock.effective(self.at(spread(n, 30, 88, 1), 17 * n)):
                stock_issue(
                    product=self.products[sku],
                    location=self.bins[path],
                    quantity=qty,
                    document=Document(SHIPMENT_DOCUMENT, self.shipment_no, f"SH-DEMO-{self.shipment_no:04d}"),
                )
            self.on_hand[(sku, path, "")] -= qty
        for n in range(8):  # production consumes raw materials
            sku, path = rng.choice(self.stocked_at("MAIN/Stock", families={"raw"}, minimum=Decimal(50)))
            qty = Decimal(rng.randint(10, 40))
            with clock.effective(self.at(spread(n, 8, 84, 4), 90)):
                stock_issue(
                    product=self.products[sku],
                    location=self.bins[path],
                    quantity=qty,
                    destination=LocationKind.PRODUCTION,
                    reason="demo production run",
                )
            self.on_hand[(sku, path, "")] -= qty

    def adjustments(self) -> None:
        rng = self.rng
        for n in range(12):
            candidates = self.stocked_at("", families={"apparel", "home", "electronics", "raw"})
            sku, path = candidates[rng.randrange(len(candidates))]
            delta = Decimal(rng.choice([-3, -2, -1, 1, 2, 5]))
            # found stock before the sales start (a bin is never short in the dated order); losses later
            when = self.at(EARLY_DAYS + 1, 480 + 10 * n) if delta > 0 else self.at(spread(n, 12, 80, 2), 200)
            with clock.effective(when):
                stock_adjust(
                    product=self.products[sku],
                    location=self.bins[path],
                    delta=delta,
                    reason=ADJUST_REASONS[n % 4],
                )
            self.on_hand[(sku, path, "")] += delta

    def scraps(self) -> None:
        rng = self.rng
        lotted = sorted(
            (sku, path, lot)
            for (sku, path, lot), qty in self.on_hand.items()
            if lot and qty >= 5 and self.specs[sku].tracking == "lot"
        )
        for n, (sku, path, lot) in enumerate(rng.sample(lotted, 5)):
            qty = Decimal(rng.randint(1, 4))
            with clock.effective(self.at(spread(n, 5, 70, 6), 300)):
                stock_scrap(
                    product=self.products[sku],
                    location=self.bins[path],
                    quantity=qty,
                    lot=self.lots[(sku, lot)],
                    reason=rng.choice(["damaged packaging", "past best-before", "quality hold: seal broken"]),
                )
            self.on_hand[(sku, path, lot)] -= qty
        sku, path = self.stocked_at("MAIN/", families={"electronics"})[0]
        with clock.effective(self.at(EARLY_DAYS - 1, 120)):  # found when first picked
            stock_scrap(
                product=self.products[sku],
                location=self.bins[path],
                quantity=1,
                reason="defective on arrival",
            )
        self.on_hand[(sku, path, "")] -= 1

    def counts(self) -> None:
        """A cycle count of MAIN/A/A-01 applied with a few differences before the sales start (what it
        finds is an increase of the bin, see the module's docstring); one of MAIN/B/B-02 still open."""
        rng = self.rng
        with clock.effective(self.at(EARLY_DAYS, 60)):
            applied = count_sheet_create(
                location=self.bins["MAIN/A/A-01"], note="Monthly cycle count, zone A"
            )
        lines = list(applied.lines.select_related("product__stock_unit", "lot").order_by("product__sku"))
        with clock.effective(self.at(EARLY_DAYS, 180)):
            for line in lines:
                counted = line.expected_quantity
                if rng.random() < 0.25:
                    counted = max(counted + rng.choice([-2, -1, 1, 3]), Decimal(0))
                count_line_set(sheet=applied, product=line.product, lot=line.lot, counted=counted)
                self.on_hand[(line.product.sku, "MAIN/A/A-01", line.lot.code if line.lot else "")] = counted
        with clock.effective(self.at(EARLY_DAYS, 420)):
            count_sheet_apply(sheet=applied)
        with clock.effective(self.at(2, 120)):
            open_sheet = count_sheet_create(location=self.bins["MAIN/B/B-02"], note="Spot check, zone B")
        lines = list(open_sheet.lines.select_related("product__stock_unit", "lot").order_by("product__sku"))
        with clock.effective(self.at(1, 90)):
            for line in lines[: len(lines) // 2]:
                count_line_set(
                    sheet=open_sheet, product=line.product, lot=line.lot, counted=line.expected_quantity
                )

    def reservations(self) -> None:
        """Orders of a made-up demand type: some shipped (consumed), some cancelled, the rest held."""
        rng = self.rng
        main = self.bins["MAIN/Stock"].warehouse
        assert main is not None
        totals: dict[str, Decimal] = defaultdict(Decimal)
        for (sku, path, _lot), qty in self.on_hand.items():
            if path.startswith("MAIN/") and self.specs[sku].tracking != "serial":
                totals[sku] += qty
        orders: list[list[Reservation]] = []
        skus = sorted(sku for sku, qty in totals.items() if qty >= 8 and self.specs[sku].family != "raw")
        for n in range(1, 41):  # order n is placed 40 - n days ago
            held: list[Reservation] = []
            for sku in rng.sample(skus, rng.randint(1, 3)):
                qty = Decimal(rng.randint(1, 4))
                if totals[sku] < qty:
                    continue
                with clock.effective(self.at(40 - n, 150)):
                    held += stock_reserve(
                        product=self.products[sku],
                        warehouse=main,
                        quantity=qty,
                        demand=Demand(DEMAND, n, f"SO-DEMO-{n:04d}"),
                    )
                totals[sku] -= qty
            orders.append(held)
        for n, held in enumerate(orders[:12], start=1):  # shipped two days after
            for reservation in held:
                self.shipment_no += 1
                with clock.effective(self.at(38 - n, 300)):
                    reservation_consume(
                        reservation=reservation,
                        document=Document(
                            SHIPMENT_DOCUMENT, self.shipment_no, f"SH-DEMO-{self.shipment_no:04d}"
                        ),
                    )
        for n in range(13, 17):  # cancelled the next day
            with clock.effective(self.at(39 - n, 200)):
                reservations_release_for_demand(demand_type=DEMAND, demand_id=n)
