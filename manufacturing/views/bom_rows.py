"""The BOM editor's rows as typed, and the live cost roll-up of the unsaved BOM.

Nothing here writes: the rows are parsed from the form, checked, and costed the
way ``manufacturing.boms.rollup`` costs a saved BOM, so that the preview of a BOM
as it is saved shows the figures the roll-up will show.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from itertools import zip_longest

from django.conf import settings
from django.http import QueryDict

from erp import formatting
from erp.exceptions import ValidationFailed
from erp.money import ZERO, quantize_money, quantize_quantity, round_money
from erp.ui import int_or_none, parse_decimal, qty
from inventory.models import Product, UnitOfMeasure
from inventory.selectors import product_by_code, products_with_units, stocked_product_find
from manufacturing import selectors
from manufacturing.boms import CostLine, CostRollup, _bought_cost, refuse_cycle, rollup
from manufacturing.models import BillOfMaterials, BomComponent, WorkCentre
from manufacturing.views.common import product_url

SUGGESTIONS = 8
HUNDRED = Decimal(100)
MINUTES_STEP = Decimal("0.001")  # BomOperation.minutes_per_unit keeps 3 decimals
SCRAP_STEP = Decimal("0.001")  # BomComponent.scrap_percent keeps 3 decimals
COMPONENT_FIELDS = ("product", "quantity", "unit", "scrap")
OPERATION_FIELDS = ("name", "centre", "minutes", "cost")


@dataclass(frozen=True)
class UnitChoice:
    unit: UnitOfMeasure
    factor: Decimal
    stock_code: str

    @property
    def label(self) -> str:
        if self.factor == 1 and self.unit.code == self.stock_code:
            return str(self.unit.code)
        return f"{self.unit.code} (= {qty(self.factor)} {self.stock_code})"


@dataclass
class ComponentRow:
    """A component as typed, with what is wrong with it."""

    product: Product
    quantity_text: str
    unit_id: int | None
    units: list[UnitChoice]
    scrap_text: str
    sub_bom: BillOfMaterials | None = None
    errors: dict[str, str] = field(default_factory=dict)
    focus: bool = False

    @property
    def choice(self) -> UnitChoice:
        return next((c for c in self.units if c.unit.pk == self.unit_id), self.units[0])

    @property
    def quantity(self) -> Decimal | None:
        return parse_decimal(self.quantity_text)

    @property
    def scrap(self) -> Decimal | None:
        return parse_decimal(self.scrap_text or "0")

    @property
    def url(self) -> str:
        return product_url(self.product.pk)

    def check(self) -> None:
        quantity, scrap = self.quantity, self.scrap
        if quantity is None or quantity <= 0:
            self.errors["quantity"] = "A positive number."
        if scrap is None or not ZERO <= scrap < HUNDRED:
            self.errors["scrap"] = "From 0 to under 100."
        if self.unit_id is not None and all(c.unit.pk != self.unit_id for c in self.units):
            self.errors["unit"] = f"{self.product.sku} has no such unit."
        if not self.product.is_stocked:
            self.errors["product"] = f"{self.product.sku} is a service: it is not a component."


@dataclass
class OperationRow:
    name: str
    centre: WorkCentre | None
    minutes_text: str
    cost_text: str  # empty: the work centre's rate
    errors: dict[str, str] = field(default_factory=dict)
    focus: bool = False

    @property
    def minutes(self) -> Decimal | None:
        return parse_decimal(self.minutes_text)

    @property
    def rate(self) -> Decimal | None:
        if not self.cost_text.strip():
            return self.centre.cost_per_hour if self.centre else None
        return parse_decimal(self.cost_text)

    def check(self) -> None:
        minutes, rate = self.minutes, self.rate
        if not self.name.strip():
            self.errors["name"] = "Name the operation."
        if self.centre is None:
            self.errors["centre"] = "Choose a work centre."
        if minutes is None or minutes < 0:
            self.errors["minutes"] = "Zero or more."
        if self.cost_text.strip() and (rate is None or rate < 0):
            self.errors["cost"] = "Zero or more (empty: the work centre's)."


def shown_cost(value: Decimal | None, *, per_unit: bool = False) -> str:
    """A cost as people read it, in the base currency: a total to the cent ('$1,234.50'), a cost per
    unit with the digits it carries ('$0.1235')."""
    if value is None:
        return ""
    currency = settings.ERP_BASE_CURRENCY
    return formatting.money(value if per_unit else round_money(value, currency), currency)


def money_text(value: Decimal | None) -> str:
    """4.5000 -> '4.50', 0.1250 -> '0.125': an amount to edit in an input, at least two decimals."""
    if value is None:
        return ""
    text = f"{quantize_money(value).normalize():f}"
    whole, _, decimals = text.partition(".")
    return f"{whole}.{decimals.ljust(2, '0')}"


Raw = dict[str, str]


def raw_components(data: QueryDict) -> list[Raw]:
    columns = [data.getlist(f"component_{name}") for name in COMPONENT_FIELDS]
    return [
        dict(zip(COMPONENT_FIELDS, values, strict=True)) for values in zip_longest(*columns, fillvalue="")
    ]


def raw_operations(data: QueryDict) -> list[Raw]:
    columns = [data.getlist(f"operation_{name}") for name in OPERATION_FIELDS]
    return [
        dict(zip(OPERATION_FIELDS, values, strict=True)) for values in zip_longest(*columns, fillvalue="")
    ]


def raws_of(bom: BillOfMaterials) -> tuple[list[Raw], list[Raw]]:
    """A saved BOM as the form sends it (bom_detail has prefetched its rows)."""
    components = [
        {
            "product": str(c.product_id),
            "quantity": qty(c.quantity),
            "unit": str(c.unit_id),
            "scrap": qty(c.scrap_percent),
        }
        for c in bom.components.all()
    ]
    operations = [
        {
            "name": op.name,
            "centre": str(op.work_centre_id),
            "minutes": f"{op.minutes_per_unit.normalize():f}",
            "cost": money_text(op.cost_per_hour),
        }
        for op in bom.operations.all()
    ]
    return components, operations


def unit_choices(product: Product) -> list[UnitChoice]:
    stock = product.stock_unit
    choices = [UnitChoice(stock, Decimal(1), stock.code)]
    choices += [
        UnitChoice(pu.unit, pu.factor, stock.code) for pu in product.units.all() if pu.unit_id != stock.pk
    ]
    return choices


def component_rows(raws: list[Raw], *, focus: int | None = None) -> list[ComponentRow]:
    """The rows as typed, each checked: three queries whatever their number."""
    ids = {pk for pk in (int_or_none(r["product"]) for r in raws) if pk}
    products = products_with_units(ids)
    subs = selectors.active_boms_by_product(ids)
    rows = []
    for raw in raws:
        product = products.get(int_or_none(raw["product"]) or 0)
        if product is None:
            continue
        row = ComponentRow(
            product=product,
            quantity_text=raw["quantity"].strip(),
            unit_id=int_or_none(raw["unit"]),
            units=unit_choices(product),
            scrap_text=raw["scrap"].strip() or "0",
            sub_bom=subs.get(product.pk),
            focus=focus == product.pk,
        )
        row.check()
        rows.append(row)
    return rows


def operation_rows(raws: list[Raw], centres: dict[int, WorkCentre]) -> list[OperationRow]:
    rows = []
    for raw in raws:
        row = OperationRow(
            name=raw["name"].strip(),
            centre=centres.get(int_or_none(raw["centre"]) or 0),
            minutes_text=raw["minutes"].strip(),
            cost_text=raw["cost"].strip(),
        )
        row.check()
        rows.append(row)
    return rows


def work_centres() -> dict[int, WorkCentre]:
    return {c.pk: c for c in selectors.work_centre_list()}


# --- the live roll-up ------------------------------------------------------------------------


@dataclass(frozen=True)
class PreviewLine:
    line: CostLine
    sub_bom: BillOfMaterials | None

    @property
    def quantity_text(self) -> str:
        return formatting.number(self.line.quantity)

    @property
    def unit_cost_text(self) -> str:
        return shown_cost(self.line.unit_cost, per_unit=True)

    @property
    def cost_text(self) -> str:
        return shown_cost(self.line.cost)


@dataclass(frozen=True)
class PreviewOperation:
    op: OperationRow
    cost: Decimal  # per output unit

    @property
    def rate_text(self) -> str:
        return shown_cost(self.op.rate, per_unit=True)

    @property
    def cost_text(self) -> str:
        return shown_cost(self.cost)


@dataclass
class Preview:
    rollup: CostRollup
    output_quantity: Decimal | None
    operations: list[PreviewOperation]
    subs: dict[int, BillOfMaterials]
    left_out: int = 0
    cycle: str = ""

    @property
    def lines(self) -> list[PreviewLine]:
        return [PreviewLine(line, self.subs.get(line.product.pk)) for line in self.rollup.components]

    @property
    def material_text(self) -> str:
        return shown_cost(self.rollup.material_cost)

    @property
    def operations_text(self) -> str:
        return shown_cost(self.rollup.operations_cost)

    @property
    def unit_cost_text(self) -> str:
        return shown_cost(self.rollup.unit_cost)

    @property
    def batch_cost_text(self) -> str:
        if self.output_quantity is None:
            return ""
        return shown_cost(self.rollup.unit_cost * self.output_quantity)

    @property
    def output_text(self) -> str:
        return formatting.number(self.output_quantity) if self.output_quantity is not None else ""


def preview_rollup(
    product: Product, output_text: str, rows: list[ComponentRow], operations: list[OperationRow]
) -> Preview:
    """The cost of one output unit of the BOM as edited, computed as boms.rollup does, unsaved."""
    output = parse_decimal(output_text)
    output = quantize_quantity(output) if output is not None and output > 0 else None
    bom = BillOfMaterials(product=product, output_quantity=output or Decimal(1))
    result = CostRollup(bom=bom)
    subs: dict[int, BillOfMaterials] = {}
    left_out = 0
    for row in rows:
        quantity, scrap = row.quantity, row.scrap
        if row.errors or quantity is None or scrap is None:
            left_out += 1
            continue
        component = BomComponent(
            bom=bom,
            product=row.product,
            quantity=quantize_quantity(quantity),
            unit=row.choice.unit,
            factor=row.choice.factor,
            scrap_percent=scrap.quantize(SCRAP_STEP),
        )
        if row.sub_bom is not None and row.product.pk != product.pk:
            unit_cost, source = rollup(row.sub_bom, frozenset({product.pk})).unit_cost, "rolled up"
            subs[row.product.pk] = row.sub_bom
        else:
            unit_cost, source = _bought_cost(row.product)
        result.components.append(
            CostLine(row.product, component.stock_quantity_per_output(), unit_cost, source)
        )
    costed: list[PreviewOperation] = []
    for op in operations:
        minutes, rate = op.minutes, op.rate
        if op.errors or minutes is None or rate is None:
            left_out += 1
            continue
        cost = minutes.quantize(MINUTES_STEP) / 60 * quantize_money(rate)
        result.operations_cost += cost
        costed.append(PreviewOperation(op, quantize_money(cost)))
    result.operations_cost = quantize_money(result.operations_cost)
    cycle = ""
    if rows:
        try:
            refuse_cycle(product.pk, [r.product.pk for r in rows])
        except ValidationFailed as exc:
            cycle = exc.message
    return Preview(result, output, costed, subs, left_out, cycle)


# --- the editor ------------------------------------------------------------------------------


@dataclass
class Found:
    product: Product | None = None
    unit_id: int | None = None  # a box's barcode: the component is counted in boxes
    choices: list[Product] = field(default_factory=list)
    message: str = ""


def find_component(code: str, product_id: int | None = None) -> Found:
    """What the person typed or picked: a barcode or SKU exactly, else one match by name or SKU prefix."""
    code = code.strip()
    if product_id is not None:
        picked = Product.objects.select_related("stock_unit").filter(pk=product_id).first()
        if picked is None:
            return Found(message="That product is gone.")
        product, unit_id = picked, None
    elif not code:
        return Found(message="Type a SKU, barcode or name.")
    else:
        exact = product_by_code(code)
        if exact is not None:
            product, barcode = exact
            unit_id = barcode.unit.unit_id if barcode is not None and barcode.unit is not None else None
        else:
            matches = list(stocked_product_find(code)[: SUGGESTIONS + 1])
            if not matches:
                return Found(message=f"No product matches “{code}”.")
            if len(matches) > 1:
                many = len(matches) if len(matches) <= SUGGESTIONS else "Many"
                return Found(
                    choices=matches[:SUGGESTIONS],
                    message=f"{many} products match “{code}”: pick one, or type more.",
                )
            product, unit_id = matches[0], None
    if not product.is_stocked:
        return Found(message=f"{product.sku} is a service: it is not a component.")
    return Found(product=product, unit_id=unit_id)


def refuse_row(found: Found, *, bom_product: int | None, existing: list[str]) -> str:
    """Why the found product cannot become a new row of this BOM ("" when it can)."""
    product = found.product
    if product is None:
        return found.message
    if product.pk == bom_product:
        return f"A BOM cannot use its own product ({product.sku})."
    if str(product.pk) in existing:
        return f"{product.sku} is in the BOM already: change its quantity."
    return ""


def new_raw(found: Found) -> Raw:
    assert found.product is not None
    return {
        "product": str(found.product.pk),
        "quantity": "1",
        "unit": str(found.unit_id or found.product.stock_unit_id),
        "scrap": "0",
    }


def new_operation_raw(centre: WorkCentre | None) -> Raw:
    return {
        "name": centre.name if centre else "",
        "centre": str(centre.pk) if centre else "",
        "minutes": "",
        "cost": money_text(centre.cost_per_hour) if centre else "",
    }
