"""MRP: net requirements over a horizon, level by level, offset by lead times.

For every (product, warehouse), in low-level-code order (finished goods first):

    available now    on hand - reserved (inventory)
    supply           open purchase orders, drafts included (on their expected
                     date), open manufacturing orders, drafts included (output,
                     on their planned finish): a draft is an order already planned
    demand           unreserved sales order lines (on their order date),
                     unconsumed, unreserved components of open manufacturing
                     orders (on their planned start), components of the orders
                     this run proposes for the level above (on their release date)
    safety stock     the reorder rule's minimum, kept at all times

Walking the demands in date order, whenever the projected quantity would fall
below the safety stock a planned order is proposed for the shortfall (rounded
up to the rule's multiple, and for bought items to whole purchase units and the
supplier's minimum), due on the date of the demand that caused it, released its
lead time earlier: the BOM's for made items (which then explode into demand for
their components), the preferred supplier's for bought ones. Each suggestion
lists the demands it covers. The same data always gives the same plan.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, Decimal
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from erp import formatting
from erp.exceptions import ValidationFailed
from erp.money import ZERO, quantize_quantity
from inventory import availability
from inventory.models import Product, ReorderRule, Warehouse
from inventory.selectors import reserved_by_demand
from manufacturing.boms import active_graph, low_level_codes
from manufacturing.models import (
    BillOfMaterials,
    ManufacturingOrder,
    MOComponent,
    MrpRun,
    MrpSuggestion,
    SuggestionKind,
)
from manufacturing.services.orders import DEMAND_TYPE as MO_DEMAND
from procurement.lifecycle import OPEN_STATUSES as PO_OPEN
from procurement.models import PurchaseOrderLine, SupplierItem
from sales.models import OrderLine, OrderStatus
from sales.services.orders import DEMAND_TYPE as SALES_DEMAND

Key = tuple[int, int]  # (product, warehouse)
SALES_OPEN = (OrderStatus.CONFIRMED, OrderStatus.PARTIALLY_SHIPPED, OrderStatus.ON_HOLD)
MO_OPEN = ("draft", "confirmed", "in_progress")


@dataclass(order=True)
class Flow:
    date: datetime.date
    order: int  # supplies (0) before demands (1) on the same day
    label: str
    quantity: Decimal = field(compare=False)


@dataclass
class Planned:
    key: Key
    kind: str
    quantity: Decimal
    due: datetime.date
    release: datetime.date
    level: int
    supplier_item: SupplierItem | None
    covers: list[dict[str, str]]


def _ceil_to(quantity: Decimal, step: Decimal) -> Decimal:
    return (quantity / step).to_integral_value(rounding=ROUND_CEILING) * step


class Plan:
    def __init__(self, horizon: datetime.date, today: datetime.date):
        self.horizon = horizon
        self.today = today
        self.demand: dict[Key, list[Flow]] = defaultdict(list)
        self.supply: dict[Key, list[Flow]] = defaultdict(list)
        self.available: dict[Key, Decimal] = {}
        self.rules: dict[Key, ReorderRule] = {}
        self.planned: list[Planned] = []
        self.whole_units: set[int] = set()

    # --- inputs ---------------------------------------------------------------------

    def load(self) -> None:
        self._sales_demand()
        self._mo_component_demand()
        self._purchase_supply()
        self._mo_supply()
        for rule in ReorderRule.objects.select_related("product"):
            self.rules[(rule.product_id, rule.warehouse_id)] = rule
        keys = set(self.demand) | set(self.supply) | set(self.rules)
        graph = active_graph()
        in_boms = set(graph) | {c for children in graph.values() for c in children}
        stock = availability.by_warehouse({p for p, _ in keys} | in_boms)
        for key, avail in stock.items():
            self.available[key] = avail.available

    def _day(self, value: datetime.date | datetime.datetime) -> datetime.date:
        day = timezone.localdate(value) if isinstance(value, datetime.datetime) else value
        return max(day, self.today)

    def _sales_demand(self) -> None:
        lines = list(
            OrderLine.objects.filter(  # only lines of our stock: not services, not marketplace-fulfilled
                OrderLine.USES_OUR_STOCK, order__status__in=SALES_OPEN, quantity__gt=F("quantity_shipped")
            )
            .select_related("order__channel")
            .order_by("order__order_date", "pk")
        )
        held = reserved_by_demand(SALES_DEMAND, [line.pk for line in lines])
        for line in lines:
            open_qty = line.quantity - line.quantity_shipped - held.get(line.pk, ZERO)
            due = self._day(line.order.order_date)
            if open_qty > 0 and due <= self.horizon:
                key = (line.product_id, line.order.channel.warehouse_id)
                self.demand[key].append(Flow(due, 1, f"{line.order.number} line {line.position}", open_qty))

    def _mo_component_demand(self) -> None:
        lines = list(
            MOComponent.objects.filter(
                order__status__in=MO_OPEN, quantity_required__gt=F("quantity_consumed")
            )
            .select_related("order")
            .order_by("order__planned_start", "pk")
        )
        held = reserved_by_demand(MO_DEMAND, [line.pk for line in lines])
        for line in lines:
            open_qty = line.quantity_required - line.quantity_consumed - held.get(line.pk, ZERO)
            due = self._day(line.order.planned_start)
            if open_qty > 0 and due <= self.horizon:
                self.demand[(line.product_id, line.order.warehouse_id)].append(
                    Flow(due, 1, f"{line.order.number} component", open_qty)
                )

    def _purchase_supply(self) -> None:
        for line in PurchaseOrderLine.objects.filter(
            order__status__in=[*PO_OPEN, "draft"], quantity__gt=F("quantity_received")
        ).select_related("order"):
            date = self._day(line.order.expected_date or line.order.order_date)
            self.supply[(line.product_id, line.order.warehouse_id)].append(
                Flow(date, 0, line.order.number, (line.quantity - line.quantity_received) * line.factor)
            )

    def _mo_supply(self) -> None:
        for mo in ManufacturingOrder.objects.filter(status__in=MO_OPEN, quantity__gt=F("quantity_produced")):
            self.supply[(mo.product_id, mo.warehouse_id)].append(
                Flow(self._day(mo.planned_finish), 0, mo.number, mo.quantity - mo.quantity_produced)
            )

    # --- netting ---------------------------------------------------------------------------

    def run(self, progress: Any = None) -> list[Planned]:
        """``progress`` (a background job's, erp.jobs.Progress) is told of each item netted."""
        graph = active_graph()
        levels = low_level_codes(graph)
        boms = {
            b.product_id: b
            for b in BillOfMaterials.objects.filter(is_active=True).prefetch_related(
                "components__product", "components__bom"
            )
        }
        items = {
            i.product_id: i for i in SupplierItem.objects.filter(is_preferred=True).select_related("supplier")
        }
        skus = dict(Product.objects.values_list("pk", "sku"))
        self.whole_units = set(
            Product.objects.filter(stock_unit__allows_fractions=False).values_list("pk", flat=True)
        )
        codes = dict(Warehouse.objects.values_list("pk", "code"))
        done: set[Key] = set()
        while True:
            pending = [k for k in set(self.demand) | set(self.supply) | set(self.rules) if k not in done]
            if not pending:
                break
            level = min(levels.get(k[0], 0) for k in pending)
            batch = sorted(
                (k for k in pending if levels.get(k[0], 0) == level), key=lambda k: (skus[k[0]], codes[k[1]])
            )
            if progress is not None:  # the components of this level's proposals may add items below
                progress.total(len(done) + len(pending))
            for key in batch:
                if progress is not None:
                    progress.step(f"Level {level}: {skus[key[0]]} at {codes[key[1]]}")
                done.add(key)
                for planned in self._net(key, level, boms.get(key[0]), items.get(key[0])):
                    self.planned.append(planned)
                    bom = boms.get(key[0])
                    if planned.kind == SuggestionKind.MAKE and bom is not None:
                        for comp in bom.components.all():
                            self.demand[(comp.product_id, key[1])].append(
                                Flow(
                                    planned.release,
                                    1,
                                    f"proposed MO for {formatting.number(planned.quantity)} {skus[key[0]]}",
                                    quantize_quantity(comp.stock_quantity_per_output() * planned.quantity),
                                )
                            )
                if progress is not None:
                    progress.advance()
        return self.planned

    def _net(
        self, key: Key, level: int, bom: BillOfMaterials | None, item: SupplierItem | None
    ) -> list[Planned]:
        """Walk supply and demand by date; propose an order whenever projected falls below safety stock."""
        rule = self.rules.get(key)
        safety = rule.min_quantity if rule else ZERO
        projected = self.available.get(key, ZERO)
        result: list[Planned] = []
        surplus = ZERO  # what the last proposed order brought beyond the shortfall it was for
        if projected < safety:
            cover = {
                "demand": "reorder minimum",
                "date": self.today.isoformat(),
                "quantity": str(safety - projected),
            }
            result.append(self._order(key, level, bom, item, safety - projected, self.today, cover))
            surplus = result[-1].quantity - (safety - projected)
            projected += result[-1].quantity
        for flow in sorted(self.supply.get(key, []) + self.demand.get(key, [])):
            if flow.order == 0:
                projected += flow.quantity
                continue
            projected -= flow.quantity
            cover = {"demand": flow.label, "date": flow.date.isoformat(), "quantity": str(flow.quantity)}
            if projected < safety:
                need = safety - projected
                result.append(self._order(key, level, bom, item, need, flow.date, cover))
                surplus = result[-1].quantity - need
                projected += result[-1].quantity
            elif result and projected - safety < surplus:
                result[-1].covers.append(cover)  # it draws on what the last proposal brought beyond its need
                surplus = projected - safety
        demand = sum((f.quantity for f in self.demand.get(key, [])), ZERO)
        for planned in result:  # what the page shows per item: its whole demand (issue #21)
            planned.covers[0]["item_demand"] = str(demand)
        return result

    def _order(
        self,
        key: Key,
        level: int,
        bom: BillOfMaterials | None,
        item: SupplierItem | None,
        need: Decimal,
        due: datetime.date,
        cover: dict[str, str],
    ) -> Planned:
        """A planned order for the need: to the rule's multiple; bought in whole purchase units, MOQ."""
        rule = self.rules.get(key)
        quantity = _ceil_to(need, rule.multiple) if rule else need
        if key[0] in self.whole_units:
            quantity = _ceil_to(quantity, Decimal(1))  # no 135.12 spokes
        supplier_item = None
        if bom is not None:
            kind, lead = SuggestionKind.MAKE, bom.lead_time_days
        else:
            kind, supplier_item = SuggestionKind.BUY, item
            lead = item.effective_lead_time if item else 0
            if item is not None:
                units = max(
                    (quantity / item.factor).to_integral_value(rounding=ROUND_CEILING),
                    item.min_order_quantity,
                )
                quantity = units * item.factor
        quantity = quantize_quantity(quantity)
        cover = {**cover, "net": str(quantize_quantity(need))}  # the shortfall, before lot sizing
        return Planned(
            key, kind, quantity, due, due - datetime.timedelta(days=lead), level, supplier_item, [cover]
        )


@transaction.atomic
def mrp_run(*, horizon: datetime.date | None = None, user: Any = None, progress: Any = None) -> MrpRun:
    """Compute and store a plan; earlier unconverted suggestions are replaced. ``progress``: a
    background job's (erp.jobs.Progress), told of each item netted."""
    today = timezone.localdate()
    horizon = horizon or today + datetime.timedelta(days=60)
    if horizon < today:
        raise ValidationFailed("The horizon is in the past.", field_errors={"horizon": ["Too early."]})
    plan = Plan(horizon, today)
    if progress is not None:
        progress.step("Reading demand and supply")
    plan.load()
    planned = plan.run(progress)
    if progress is not None:
        progress.step(f"Saving {len(planned)} suggestions")
    MrpSuggestion.objects.filter(converted_to="").delete()
    run = MrpRun.objects.create(
        started_at=timezone.now(),
        horizon=horizon,
        user=user if getattr(user, "is_authenticated", False) else None,
    )
    MrpSuggestion.objects.bulk_create(
        [
            MrpSuggestion(
                run=run,
                kind=p.kind,
                product_id=p.key[0],
                warehouse_id=p.key[1],
                quantity=p.quantity,
                due_date=p.due,
                release_date=p.release,
                level=p.level,
                supplier_item=p.supplier_item,
                covers=p.covers,
            )
            for p in planned
        ]
    )
    return run


@transaction.atomic
def mrp_convert(*, suggestion_ids: Iterable[int], user: Any = None) -> list[str]:
    """Turn the chosen suggestions into draft manufacturing and purchase orders. Returns their numbers."""
    from manufacturing.services.orders import mo_create
    from procurement.services import POLineSpec, po_create

    chosen = list(
        MrpSuggestion.objects.select_for_update(of=("self",))
        .select_related("product", "warehouse", "supplier_item__supplier")
        .filter(pk__in=set(suggestion_ids), converted_to="")
        .order_by("pk")
    )
    if not chosen:
        raise ValidationFailed("None of the chosen suggestions is still open.")
    missing = [s.product.sku for s in chosen if s.kind == SuggestionKind.BUY and s.supplier_item is None]
    if missing:
        raise ValidationFailed(
            f"No preferred supplier for: {', '.join(missing)}. Add one, or buy these by hand."
        )
    numbers = []
    for s in (s for s in chosen if s.kind == SuggestionKind.MAKE):
        mo = mo_create(
            product=s.product,
            quantity=s.quantity,
            warehouse=s.warehouse,
            planned_start=max(s.release_date, timezone.localdate()),
            planned_finish=max(s.due_date, timezone.localdate()),
            notes="From MRP",
            user=user,
        )
        s.converted_to = mo.number
        numbers.append(mo.number)
    groups: dict[tuple[int, int], list[MrpSuggestion]] = defaultdict(list)
    for s in (s for s in chosen if s.kind == SuggestionKind.BUY):
        assert s.supplier_item is not None
        groups[(s.supplier_item.supplier_id, s.warehouse_id)].append(s)
    for (_, _), group in sorted(groups.items()):
        first = group[0]
        assert first.supplier_item is not None
        po = po_create(
            supplier=first.supplier_item.supplier,
            warehouse=first.warehouse,
            lines=[
                POLineSpec(product=s.product, quantity=s.quantity / s.supplier_item.factor)
                for s in group
                if s.supplier_item
            ],
            expected_date=min(s.due_date for s in group),
            notes="From MRP",
            user=user,
        )
        for s in group:
            s.converted_to = po.number
        numbers.append(po.number)
    MrpSuggestion.objects.bulk_update(chosen, ["converted_to"])
    return numbers
