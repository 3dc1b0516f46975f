"""Reading bills of materials: active BOMs, cycles, low-level codes, cost roll-up, where-used."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from erp.exceptions import ValidationFailed
from erp.money import ZERO, quantize_money
from inventory.models import Product
from manufacturing.models import BillOfMaterials, BomComponent

Graph = dict[int, list[int]]  # product -> components (of its active BOM)


def active_graph(extra: tuple[int, Iterable[int]] | None = None) -> Graph:
    """Every active BOM as product -> component products; ``extra`` replaces one product's edges."""
    graph: Graph = defaultdict(list)
    for product_id, component_id in BomComponent.objects.filter(bom__is_active=True).values_list(
        "bom__product_id", "product_id"
    ):
        graph[product_id].append(component_id)
    if extra is not None:
        graph[extra[0]] = list(extra[1])
    return graph


def find_cycle(graph: Graph, start: int) -> list[int] | None:
    """A path start -> ... -> start through the graph, if there is one (depth first)."""
    stack: list[tuple[int, list[int]]] = [(start, [start])]
    seen: set[int] = set()
    while stack:
        node, path = stack.pop()
        for child in graph.get(node, []):
            if child == start:
                return [*path, start]
            if child not in seen:
                seen.add(child)
                stack.append((child, [*path, child]))
    return None


def refuse_cycle(product_id: int, component_ids: Iterable[int]) -> None:
    """Refuse a BOM whose components lead back to its product, naming the path."""
    components = list(component_ids)
    if product_id in components:
        sku = Product.objects.get(pk=product_id).sku
        raise ValidationFailed(
            f"A BOM cannot use its own product: {sku} → {sku}.", field_errors={"components": ["Cycle."]}
        )
    cycle = find_cycle(active_graph(extra=(product_id, components)), product_id)
    if cycle:
        skus = dict(Product.objects.filter(pk__in=cycle).values_list("pk", "sku"))
        path = " → ".join(skus[p] for p in cycle)
        raise ValidationFailed(
            f"That makes a cycle: {path}.", field_errors={"components": [f"Cycle: {path}."]}
        )


def low_level_codes(graph: Graph | None = None) -> dict[int, int]:
    """The deepest level at which each product appears (finished goods 0), for level-by-level MRP."""
    graph = graph if graph is not None else active_graph()
    level: dict[int, int] = defaultdict(int)
    changed = True
    rounds = 0
    while changed:
        changed = False
        rounds += 1
        if rounds > 100:
            raise ValidationFailed(
                "The bills of materials are nested more than 100 levels deep, or circular."
            )
        for parent, children in graph.items():
            for child in children:
                if level[child] < level[parent] + 1:
                    level[child] = level[parent] + 1
                    changed = True
    for parent in graph:
        level.setdefault(parent, 0)
    return dict(level)


@dataclass
class CostLine:
    product: Product
    quantity: Decimal  # stock units per one output unit, scrap included
    unit_cost: Decimal
    source: str  # "average cost", "rolled up", "supplier price"

    @property
    def cost(self) -> Decimal:
        return self.quantity * self.unit_cost


@dataclass
class CostRollup:
    bom: BillOfMaterials
    components: list[CostLine] = field(default_factory=list)
    operations_cost: Decimal = ZERO  # per one output unit

    @property
    def material_cost(self) -> Decimal:
        return sum((c.cost for c in self.components), ZERO)

    @property
    def unit_cost(self) -> Decimal:
        return quantize_money(self.material_cost + self.operations_cost)


def _bought_cost(product: Product) -> tuple[Decimal, str]:
    if product.average_cost > 0:
        return product.average_cost, "average cost"
    from procurement.models import SupplierItem

    item = SupplierItem.objects.filter(product=product).order_by("-is_preferred", "unit_price").first()
    if item is not None:
        return quantize_money(item.unit_price / item.factor), "supplier price"
    return ZERO, "no cost known"


def rollup(bom: BillOfMaterials, _seen: frozenset[int] = frozenset()) -> CostRollup:
    """Cost of one output unit: components (their own active BOM rolled up, else bought cost) + operations."""
    result = CostRollup(bom=bom)
    for comp in bom.components.select_related("product", "bom"):
        sub = None
        if comp.product_id not in _seen:
            sub = BillOfMaterials.objects.filter(product_id=comp.product_id, is_active=True).first()
        if sub is not None:
            unit_cost, source = rollup(sub, _seen | {bom.product_id}).unit_cost, "rolled up"
        else:
            unit_cost, source = _bought_cost(comp.product)
        result.components.append(CostLine(comp.product, comp.stock_quantity_per_output(), unit_cost, source))
    for op in bom.operations.all():
        result.operations_cost += op.minutes_per_unit / 60 * op.cost_per_hour
    result.operations_cost = quantize_money(result.operations_cost)
    return result


def where_used(product: Product) -> list[tuple[int, BillOfMaterials]]:
    """Every BOM using the product, directly (level 1) or through sub-assemblies (2, 3, ...)."""
    found: list[tuple[int, BillOfMaterials]] = []
    frontier = {product.pk}
    seen: set[int] = set()
    depth = 0
    while frontier and depth < 50:
        depth += 1
        boms = list(
            BillOfMaterials.objects.filter(components__product_id__in=frontier)
            .select_related("product")
            .distinct()
            .order_by("product__sku", "-version")
        )
        frontier = set()
        for bom in boms:
            if bom.pk in seen:
                continue
            seen.add(bom.pk)
            found.append((depth, bom))
            if bom.is_active:
                frontier.add(bom.product_id)
    return found
