"""The lines of the purchase-order form (``procurement.views.order_form``), as typed.

Each line lives in the form as ``line-N-*`` inputs. ``raw_lines`` reads them back,
``build_lines`` fills in the supplier's defaults (unit, factor, and the price of the
break reached at the typed quantity) where the person did not change them, and prices
each line; ``add_line`` turns what was typed or scanned into a new line, or says why not.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal

from django.http import QueryDict

from erp import formatting
from erp.exceptions import DomainError
from erp.money import ZERO, quantize_money, round_money
from erp.ui import int_or_none, parse_decimal, qty
from inventory.models import Product, ProductUnit, UnitOfMeasure
from inventory.selectors import product_by_code, products_with_units, stocked_product_find
from procurement import selectors
from procurement.models import PriceBreak, PurchaseOrder, Supplier, SupplierItem
from procurement.views.common import price_text

LINE_FIELDS = (
    "product",
    "quantity",
    "unit",
    "factor",
    "unit_cost",
    "cost_auto",
    "cost_shown",
    "unit_auto",
    "unit_shown",
    "tax",
    "description",
)
LINE_KEY = re.compile(r"^line-(\d+)-product$")
HUNDRED = Decimal(100)
SUGGESTIONS = 8


@dataclass
class UnitChoice:
    unit: UnitOfMeasure
    factor: Decimal

    @property
    def label(self) -> str:
        return (
            f"{self.unit.code} ({formatting.number(self.factor)})"
            if self.factor != 1
            else str(self.unit.code)
        )


@dataclass
class DraftLine:
    """One line of the form as typed, with its defaults, its totals and what is wrong with it."""

    index: int
    product: Product
    quantity_text: str
    unit: UnitOfMeasure
    units: list[UnitChoice]
    factor_text: str
    cost_text: str
    cost_auto: bool
    unit_auto: bool
    tax_text: str
    description: str
    item: SupplierItem | None
    supplier_price: Decimal | None = None
    breaks: list[PriceBreak] = field(default_factory=list)
    applied_break: PriceBreak | None = None
    below_minimum: bool = False
    errors: dict[str, str] = field(default_factory=dict)
    subtotal: Decimal | None = None
    tax_amount: Decimal | None = None
    total: Decimal | None = None

    @property
    def quantity(self) -> Decimal | None:
        return parse_decimal(self.quantity_text)

    @property
    def factor(self) -> Decimal | None:
        return parse_decimal(self.factor_text)

    @property
    def cost(self) -> Decimal | None:
        return parse_decimal(self.cost_text)

    @property
    def tax_rate(self) -> Decimal | None:
        percent = parse_decimal(self.tax_text or "0")
        return None if percent is None else percent / HUNDRED

    @property
    def stock_quantity(self) -> Decimal | None:
        quantity, factor = self.quantity, self.factor
        return None if quantity is None or factor is None else quantity * factor

    @property
    def converts(self) -> bool:
        return self.unit.pk != self.product.stock_unit_id or self.factor != 1


def raw_lines(data: QueryDict) -> list[dict[str, str]]:
    indices = sorted({int(m.group(1)) for key in data if (m := LINE_KEY.match(key))})
    return [{"_index": str(i), **{f: data.get(f"line-{i}-{f}", "") for f in LINE_FIELDS}} for i in indices]


def raw_from_order(po: PurchaseOrder) -> list[dict[str, str]]:
    return [
        {
            "_index": str(n),
            "product": str(line.product_id),
            "quantity": qty(line.quantity),
            "unit": str(line.purchase_unit_id),
            "factor": qty(line.factor),
            "unit_cost": price_text(line.unit_cost),
            "cost_auto": "0",
            "cost_shown": "",
            "unit_auto": "0",
            "unit_shown": "",
            "tax": qty(line.tax_rate * HUNDRED),
            "description": line.description,
        }
        for n, line in enumerate(po.lines.all())
    ]


def _price(item: SupplierItem, quantity: Decimal, factor: Decimal) -> tuple[Decimal, PriceBreak | None]:
    """The supplier's price per line unit at this quantity: the break reached, converted between units."""
    in_item_units = quantity * factor / item.factor
    price, applied = item.unit_price, None
    for brk in sorted(item.price_breaks.all(), key=lambda b: b.min_quantity):
        if in_item_units >= brk.min_quantity:
            price, applied = brk.unit_price, brk
    return quantize_money(price * factor / item.factor), applied


def build_lines(raws: list[dict[str, str]], *, supplier: Supplier | None, currency: str) -> list[DraftLine]:
    """The lines as typed, with the supplier's defaults filled in and totals computed.

    A unit or price differing from the one shown last time (``*_shown``) was changed by the
    person: from then on it is theirs and no longer follows the supplier's defaults.
    """
    ids = {pk for pk in (int_or_none(r["product"]) for r in raws) if pk}
    products = products_with_units(ids)
    items = selectors.supplier_items_by_product(supplier, ids) if supplier is not None else {}
    lines = []
    for raw in raws:
        product = products.get(int_or_none(raw["product"]) or 0)
        if product is None:
            continue
        index = int(raw["_index"])
        item = items.get(product.pk)
        unit_changed = bool(raw["unit"] and raw["unit_shown"] and raw["unit"] != raw["unit_shown"])
        unit_auto = raw["unit_auto"] != "0" and not unit_changed
        cost_text = raw["unit_cost"].strip()
        cost_auto = raw["cost_auto"] != "0" and cost_text == raw["cost_shown"].strip()
        if not cost_text:
            cost_auto = True  # an empty price gives the supplier's back
        choices = [UnitChoice(product.stock_unit, Decimal(1))]
        choices += [UnitChoice(pu.unit, pu.factor) for pu in product.units.all()]
        if item is not None:
            choices = [c for c in choices if c.unit.pk != item.purchase_unit_id]
            choices.insert(0, UnitChoice(item.purchase_unit, item.factor))
        by_unit = {c.unit.pk: c for c in choices}
        default = choices[0]
        chosen = by_unit.get(int_or_none(raw["unit"]) or 0)
        if unit_auto or chosen is None:
            chosen = default
        factor_text = raw["factor"].strip()
        if unit_auto or unit_changed or not factor_text:
            factor_text = qty(chosen.factor)
        line = DraftLine(
            index=index,
            product=product,
            quantity_text=raw["quantity"].strip(),
            unit=chosen.unit,
            units=choices,
            factor_text=factor_text,
            cost_text=cost_text,
            cost_auto=cost_auto,
            unit_auto=unit_auto,
            tax_text=raw["tax"].strip() or "0",
            description=raw["description"],
            item=item,
        )
        _price_line(line, currency)
        lines.append(line)
    return lines


def _price_line(line: DraftLine, currency: str) -> None:
    quantity, factor = line.quantity, line.factor
    if quantity is None or quantity <= 0:
        line.errors["quantity"] = "A positive number."
    if factor is None or factor <= 0:
        line.errors["factor"] = "A positive number."
    if line.item is not None and factor is not None and factor > 0:
        line.breaks = list(line.item.price_breaks.all())
        line.supplier_price, line.applied_break = _price(line.item, quantity or ZERO, factor)
        if quantity is not None and quantity * factor < line.item.min_order_quantity * line.item.factor:
            line.below_minimum = True
    if line.cost_auto:
        line.cost_text = price_text(line.supplier_price)
    cost, rate = line.cost, line.tax_rate
    if not line.cost_text:
        line.errors["unit_cost"] = "No price from this supplier: type one."
    elif cost is None or cost < 0:
        line.errors["unit_cost"] = "A price of zero or more."
    if rate is None or not 0 <= rate <= 1:
        line.errors["tax"] = "A percentage between 0 and 100."
    if not line.product.is_stocked:
        line.errors["product"] = f"{line.product.sku} is a service: it is not bought into stock."
    if not line.errors and quantity is not None and cost is not None and rate is not None:
        line.subtotal = round_money(quantity * cost, currency)
        line.tax_amount = round_money(line.subtotal * rate, currency)
        line.total = line.subtotal + line.tax_amount


@dataclass
class Totals:
    subtotal: Decimal
    tax: Decimal
    total: Decimal
    complete: bool  # every line could be priced


def totals(lines: list[DraftLine]) -> Totals:
    return Totals(
        subtotal=sum((ln.subtotal or ZERO for ln in lines), ZERO),
        tax=sum((ln.tax_amount or ZERO for ln in lines), ZERO),
        total=sum((ln.total or ZERO for ln in lines), ZERO),
        complete=all(ln.total is not None for ln in lines),
    )


def _new_raw(
    product: Product, index: int, *, unit: ProductUnit | None, item: SupplierItem | None, tax: str
) -> dict[str, str]:
    quantity = Decimal(1)
    in_item_unit = unit is None or (item is not None and unit.unit_id == item.purchase_unit_id)
    if item is not None and in_item_unit and item.min_order_quantity > 0:
        quantity = item.min_order_quantity
    return {
        "_index": str(index),
        "product": str(product.pk),
        "quantity": qty(quantity),
        "unit": str(unit.unit_id) if unit else "",
        "factor": qty(unit.factor) if unit else "",
        "unit_cost": "",
        "cost_auto": "1",
        "cost_shown": "",
        "unit_auto": "0" if unit else "1",
        "unit_shown": "",
        "tax": tax,
        "description": "",
    }


@dataclass
class Added:
    message: str = ""
    level: str = "ok"
    line_index: int | None = None  # the line whose quantity takes the focus after the swap
    choices: list[Product] = field(default_factory=list)
    clear_code: bool = False


def add_line(
    raws: list[dict[str, str]], code: str, supplier: Supplier | None, product_id: int | None = None
) -> Added:
    """The product the person typed (or picked) becomes a line, or says why not."""
    code = code.strip()
    unit: ProductUnit | None = None
    product: Product | None = None
    if product_id is not None:
        product = Product.objects.select_related("stock_unit").filter(pk=product_id).first()
    elif code:
        found = product_by_code(code)
        if found is not None:
            product, barcode = found
            unit = barcode.unit if barcode is not None and barcode.unit is not None else None
        else:
            matches = list(stocked_product_find(code)[: SUGGESTIONS + 1])
            if len(matches) == 1:
                product = matches[0]
            elif matches:
                many = len(matches) if len(matches) <= SUGGESTIONS else "Many"
                return Added(
                    f"{many} products match “{code}”: pick one below, or type more.",
                    "info",
                    choices=matches[:SUGGESTIONS],
                )
            else:
                return Added(f"No product matches “{code}”.", "bad")
    else:
        return Added()
    if product is None:
        return Added("That product is gone.", "bad")
    if not product.is_stocked:
        return Added(f"{product.sku} is a service: it is not bought into stock.", "bad")
    for raw in raws:
        if raw["product"] == str(product.pk):
            return Added(
                f"{product.sku} is on the order already: change its quantity.",
                "info",
                line_index=int(raw["_index"]),
                clear_code=True,
            )
    item = selectors.supplier_items_by_product(supplier, [product.pk]).get(product.pk) if supplier else None
    index = max((int(r["_index"]) for r in raws), default=-1) + 1
    tax = raws[-1]["tax"] if raws else "0"
    raws.append(_new_raw(product, index, unit=unit, item=item, tax=tax))
    box = (
        f" (1 {unit.unit.code} = {formatting.quantity(unit.factor, product.stock_unit.code)})" if unit else ""
    )
    hint = "" if item or supplier is None else f" {supplier.name} has no price for it: type one."
    return Added(
        f"Added {product.sku} · {product.name}{box}. Type the quantity, then Enter.{hint}",
        "ok",
        line_index=index,
        clear_code=True,
    )


def line_errors_from(exc: DomainError, lines: list[DraftLine]) -> list[str]:
    """Put the service's ``lines.N.field`` errors on the lines; return what belongs to the whole order."""
    placed = False
    for key, messages in exc.field_errors.items():
        parts = key.split(".")
        if len(parts) >= 2 and parts[0] == "lines" and parts[1].isdigit() and int(parts[1]) < len(lines):
            name = parts[2] if len(parts) > 2 else "product"
            name = {"purchase_unit": "unit", "tax_rate": "tax"}.get(name, name)
            lines[int(parts[1])].errors[name] = messages[0]
            placed = True
    return [] if placed else [exc.message]
