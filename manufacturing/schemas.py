"""Schemas of the manufacturing API: what comes in (``*In``) and what goes out (``*Out``).

Quantities and money go out as strings of Decimals with 4 places (``"12.0000"``), never
floats; they come in as strings or numbers and the services quantize them. BOM component
quantities are in the component's ``unit`` per the BOM's output quantity; everything on a
manufacturing order (required, reserved, consumed) is in stock units for the whole order.
Related records are referenced by id (``product``, ``warehouse``, ``work_centre``, ``bom``);
the output repeats a readable label next to each id (``sku``, ``warehouse_code``).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from ninja import Field, Schema
from pydantic import PlainSerializer

from erp.money import quantize_money, quantize_quantity
from manufacturing.models import BillOfMaterials, ManufacturingOrder, MrpRun


def _quantity_str(value: Decimal) -> str:
    return format(quantize_quantity(value), "f")


def _money_str(value: Decimal) -> str:
    return format(quantize_money(value), "f")


def _decimal_str(value: Decimal) -> str:
    return format(value, "f")


# Output types: quantities and money carry the 4 places they are stored with ("3.0000"), whatever
# the arithmetic (scrap, roll-ups) produced; percentages and minutes keep their own.
Quantity = Annotated[Decimal, PlainSerializer(_quantity_str, return_type=str)]
Money = Annotated[Decimal, PlainSerializer(_money_str, return_type=str)]
Rate = Annotated[Decimal, PlainSerializer(_decimal_str, return_type=str)]


class ReasonIn(Schema):
    reason: str = Field("", max_length=255)


# --- work centres ---------------------------------------------------------------------------------


class WorkCentreIn(Schema):
    code: str = Field(min_length=1, max_length=32)
    name: str = Field("", max_length=100, description="the code when left empty")
    cost_per_hour: Decimal = Field(Decimal(0), description="the default of its operations")


class WorkCentreOut(Schema):
    id: int
    code: str
    name: str
    cost_per_hour: Money


# --- bills of materials ---------------------------------------------------------------------------


class BomFilterIn(Schema):
    q: str | None = Field(None, description="SKU prefix or part of the product's name")
    product: int | None = None
    is_active: bool | None = None
    component: int | None = Field(None, description="BOMs using this product as a component")


class BomComponentIn(Schema):
    """A component names its product by ``product`` (id) or ``sku``, one of the two."""

    product: int | None = None
    sku: str | None = None
    quantity: Decimal = Field(description="per the BOM's output quantity, in `unit`")
    unit: str | None = Field(
        None, description="unit code (kg, box...) with a factor on the product; its stock unit when left out"
    )
    scrap_percent: Decimal = Field(Decimal(0), description="extra consumed, from 0 to under 100")


class BomOperationIn(Schema):
    work_centre: int
    name: str = Field(min_length=1, max_length=100)
    minutes_per_unit: Decimal = Field(description="per unit of output")
    cost_per_hour: Decimal | None = Field(None, description="the work centre's when left out")


class BomIn(Schema):
    """A new version of a product's BOM with all its components and operations in one request.

    The product is named by ``product`` (id) or ``sku``, one of the two. ``activate`` (default
    true) makes it the product's active version at once; a BOM that would make a cycle through
    the active BOMs is refused (422) naming the path, and nothing is saved.
    """

    product: int | None = None
    sku: str | None = None
    components: list[BomComponentIn] = Field(min_length=1)
    operations: list[BomOperationIn] = Field(default_factory=list)
    output_quantity: Decimal = Field(Decimal(1), description="what one run of this BOM makes")
    lead_time_days: int = Field(1, ge=0, description="from start to finish of one order")
    notes: str = ""
    activate: bool = True


class BomPatchIn(Schema):
    """Only the fields sent are changed; ``components`` / ``operations`` replace all of them.
    Orders made from it keep the quantities they were created with."""

    components: list[BomComponentIn] | None = None
    operations: list[BomOperationIn] | None = None
    output_quantity: Decimal | None = None
    lead_time_days: int | None = Field(None, ge=0)
    notes: str | None = None


class BomOut(Schema):
    id: int
    product: int = Field(alias="product_id")
    sku: str = Field(alias="product.sku")
    product_name: str = Field(alias="product.name")
    stock_unit: str = Field(alias="product.stock_unit.code")
    version: int
    is_active: bool
    output_quantity: Quantity
    lead_time_days: int
    component_count: int
    operation_count: int
    created_at: datetime
    updated_at: datetime


class BomComponentOut(Schema):
    id: int
    position: int
    product: int = Field(alias="product_id")
    sku: str = Field(alias="product.sku")
    product_name: str = Field(alias="product.name")
    quantity: Quantity = Field(description="per the BOM's output quantity, in `unit`")
    unit: str = Field(alias="unit.code")
    factor: Quantity = Field(description="stock units per `unit`")
    scrap_percent: Rate
    stock_quantity_per_output: Quantity = Field(
        description="stock units used per one unit of output, scrap included"
    )

    @staticmethod
    def resolve_stock_quantity_per_output(obj: Any) -> Decimal:
        return obj.stock_quantity_per_output()


class BomOperationOut(Schema):
    id: int
    sequence: int
    name: str
    work_centre: int = Field(alias="work_centre_id")
    work_centre_code: str = Field(alias="work_centre.code")
    minutes_per_unit: Rate
    cost_per_hour: Money


class CostLineOut(Schema):
    product: int = Field(alias="product.pk")
    sku: str = Field(alias="product.sku")
    quantity: Quantity = Field(description="stock units per one unit of output, scrap included")
    unit_cost: Money
    cost: Money = Field(description="quantity x unit cost")
    source: str = Field(description="average cost, rolled up (its own BOM), supplier price, no cost known")


class CostRollupOut(Schema):
    """The cost of ONE unit of output."""

    components: list[CostLineOut]
    material_cost: Money
    operations_cost: Money
    unit_cost: Money


class BomDetailOut(Schema):
    id: int
    product: int = Field(alias="product_id")
    sku: str = Field(alias="product.sku")
    product_name: str = Field(alias="product.name")
    stock_unit: str = Field(alias="product.stock_unit.code")
    version: int
    is_active: bool
    output_quantity: Quantity
    lead_time_days: int
    notes: str
    created_by: str | None
    created_at: datetime
    updated_at: datetime
    components: list[BomComponentOut]
    operations: list[BomOperationOut]
    cost: CostRollupOut = Field(description="from manufacturing.boms.rollup")

    @staticmethod
    def resolve_created_by(obj: BillOfMaterials) -> str | None:
        return obj.created_by.get_username() if obj.created_by else None

    @staticmethod
    def resolve_components(obj: BillOfMaterials) -> list[Any]:
        return list(obj.components.all())

    @staticmethod
    def resolve_operations(obj: BillOfMaterials) -> list[Any]:
        return list(obj.operations.all())


class WhereUsedOut(Schema):
    depth: int = Field(description="1: uses the product directly; 2: through a sub-assembly; ...")
    bom: int
    product: int
    sku: str
    product_name: str
    version: int
    is_active: bool


# --- manufacturing orders -------------------------------------------------------------------------


class OrderFilterIn(Schema):
    status: str | None = Field(None, description="a status, or 'open' (draft, confirmed, in progress)")
    product: int | None = None
    warehouse: int | None = None
    q: str | None = Field(None, description="order number or SKU prefix, or part of the product's name")
    starts_after: date | None = None
    starts_before: date | None = None
    updated_since: datetime | None = None
    ordering: str | None = Field(None, description="start, number, quantity; '-' descending")


class OrderIn(Schema):
    """The product is named by ``product`` (id) or ``sku``, one of the two; ``bom`` left out: its
    active BOM. The component lines are computed from the BOM (scrap included)."""

    product: int | None = None
    sku: str | None = None
    quantity: Decimal = Field(description="in the product's stock unit")
    warehouse: int = Field(description="where components are taken from and the output goes")
    bom: int | None = None
    planned_start: date | None = Field(None, description="today when left out")
    planned_finish: date | None = Field(None, description="start + the BOM's lead time when left out")
    notes: str = ""


class OrderOut(Schema):
    id: int
    number: str
    status: str
    product: int = Field(alias="product_id")
    sku: str = Field(alias="product.sku")
    product_name: str = Field(alias="product.name")
    stock_unit: str = Field(alias="product.stock_unit.code")
    bom: int = Field(alias="bom_id")
    bom_version: int = Field(alias="bom.version")
    warehouse: int = Field(alias="warehouse_id")
    warehouse_code: str = Field(alias="warehouse.code")
    quantity: Quantity
    quantity_produced: Quantity
    planned_start: date
    planned_finish: date
    produced_cost: Money = Field(description="total cost put into the output so far")
    created_at: datetime
    updated_at: datetime


class OrderComponentOut(Schema):
    id: int
    product: int = Field(alias="product_id")
    sku: str = Field(alias="product.sku")
    product_name: str = Field(alias="product.name")
    stock_unit: str = Field(alias="product.stock_unit.code")
    required: Quantity = Field(alias="quantity_required", description="for the whole order, scrap included")
    reserved: Quantity = Field(description="stock held for it now")
    consumed: Quantity = Field(alias="quantity_consumed")


class OrderDetailOut(OrderOut):
    notes: str
    created_by: str | None
    components: list[OrderComponentOut]
    allowed_actions: list[str] = Field(
        description="what can be done now: confirm, start, produce, finish, cancel"
    )

    @staticmethod
    def resolve_created_by(obj: ManufacturingOrder) -> str | None:
        return obj.created_by.get_username() if obj.created_by else None

    @staticmethod
    def resolve_components(obj: ManufacturingOrder) -> list[Any]:
        return list(obj.components.all())


class ShortageOut(Schema):
    sku: str
    quantity: Quantity = Field(description="stock units that could not be reserved")


class OrderConfirmedOut(Schema):
    order: OrderDetailOut
    shortages: list[ShortageOut] = Field(description="empty when every component is reserved")


class ProduceIn(Schema):
    quantity: Decimal = Field(description="produced now, in stock units")
    lot_code: str = Field("", max_length=64, description="required for a lot-tracked product")
    serials: list[str] = Field(default_factory=list, description="a serial-tracked product: one per unit")


# --- MRP ------------------------------------------------------------------------------------------


class MrpRunIn(Schema):
    horizon: date | None = Field(None, description="plan up to this date; 60 days ahead when left out")


class CoverOut(Schema):
    demand: str
    date: date
    quantity: Quantity


class SuggestionOut(Schema):
    id: int
    run: int = Field(alias="run_id")
    kind: str = Field(description="make (a manufacturing order) or buy (a purchase order)")
    product: int = Field(alias="product_id")
    sku: str = Field(alias="product.sku")
    product_name: str = Field(alias="product.name")
    stock_unit: str = Field(alias="product.stock_unit.code")
    warehouse: int = Field(alias="warehouse_id")
    warehouse_code: str = Field(alias="warehouse.code")
    quantity: Quantity = Field(description="in stock units")
    due_date: date
    release_date: date = Field(description="when to order or start: the due date less the lead time")
    level: int = Field(description="low-level code: 0 for finished goods")
    supplier_item: int | None = Field(alias="supplier_item_id")
    supplier: int | None
    supplier_name: str | None
    covers: list[CoverOut] = Field(description="the demands it covers")
    converted_to: str = Field(description="MO-... or PO-... once converted")

    @staticmethod
    def resolve_supplier(obj: Any) -> int | None:
        return obj.supplier_item.supplier_id if obj.supplier_item else None

    @staticmethod
    def resolve_supplier_name(obj: Any) -> str | None:
        return obj.supplier_item.supplier.name if obj.supplier_item else None


class MrpRunOut(Schema):
    id: int
    started_at: datetime
    horizon: date
    user: str | None
    suggestions: list[SuggestionOut] = Field(alias="suggestions_list")

    @staticmethod
    def resolve_user(obj: MrpRun) -> str | None:
        return obj.user.get_username() if obj.user else None


class SuggestionFilterIn(Schema):
    run: int | None = Field(None, description="the latest run when left out")
    kind: str | None = Field(None, description="make or buy")
    warehouse: int | None = None
    open: bool | None = Field(None, description="true: not converted yet; false: converted")


class ConvertIn(Schema):
    suggestions: list[int] = Field(min_length=1, description="ids of suggestions to turn into orders")


class ConvertedOut(Schema):
    documents: list[str] = Field(description="numbers of the draft orders created: MO-... and PO-...")
