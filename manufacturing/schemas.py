"""Schemas of the manufacturing API: what comes in (``*In``) and what goes out (``*Out``).

Quantities and money follow the one rule of erp.api_helpers: quantities as decimal strings with
4 places (``"12.0000"``); money -- costs, all in the base currency, named by ``currency`` on the
documents -- as decimal strings with the currency's minor-unit digits, and sub-cent digits only
where a cost has them (``"30.00"``, ``"0.1250"``). Never floats. They come in as strings or numbers
and the services quantize them. BOM component quantities are in the component's ``unit`` per the
BOM's output quantity; everything on a manufacturing order (required, reserved, consumed) is in
stock units for the whole order. Related records are referenced by id (``product``, ``warehouse``,
``work_centre``, ``bom``); the output repeats a readable label next to each id (``sku``,
``warehouse_code``).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from ninja import Field

from erp.api_helpers import (
    ApiSchema,
    BaseMoney,
    MoneyIn,
    Quantity,
    QuantityIn,
    Rate,
    base_currency,
    examples,
    expand_param,
    ordering_param,
    updated_since_param,
)
from manufacturing.models import BillOfMaterials, ManufacturingOrder, MrpRun

# The sort keys of each list: public name -> field. Old short names stay as aliases.
WORK_CENTRE_ORDERING = {"code": "code", "name": "name", "cost_per_hour": "cost_per_hour", "id": "pk"}
BOM_ORDERING = {
    "sku": "product__sku",
    "version": "version",
    "created_at": "created_at",
    "updated_at": "updated_at",
    "id": "pk",
}
MO_ORDERING = {
    "planned_start": "planned_start",
    "start": "planned_start",
    "planned_finish": "planned_finish",
    "number": "number",
    "quantity": "quantity",
    "created_at": "created_at",
    "updated_at": "updated_at",
    "id": "pk",
}
SUGGESTION_ORDERING = {
    "level": "level",
    "release_date": "release_date",
    "due_date": "due_date",
    "sku": "product__sku",
    "id": "pk",
}

# Examples for the OpenAPI document: a gadget made of 2 parts, one assembly operation.
BOM_EXAMPLE: dict[str, Any] = {
    "id": 4,
    "product": 8,
    "sku": "GADGET-1",
    "product_name": "Gadget",
    "stock_unit": "pcs",
    "version": 2,
    "is_active": True,
    "output_quantity": "1.0000",
    "lead_time_days": 1,
    "created_at": "2030-01-02T09:00:00Z",
    "updated_at": "2030-01-31T12:00:00Z",
}
BOM_COMPONENT_EXAMPLE: dict[str, Any] = {
    "id": 9,
    "position": 1,
    "product": 7,
    "sku": "PART-1",
    "product_name": "Part",
    "quantity": "2.0000",
    "unit": "pcs",
    "factor": "1.0000",
    "scrap_percent": "0.0000",
    "stock_quantity_per_output": "2.0000",
}
BOM_OPERATION_EXAMPLE: dict[str, Any] = {
    "id": 3,
    "sequence": 1,
    "name": "Assemble",
    "work_centre": 1,
    "work_centre_code": "ASM",
    "minutes_per_unit": "6.0000",
    "cost_per_hour": "30.00",
}
COST_EXAMPLE: dict[str, Any] = {
    "currency": "USD",
    "components": [
        {
            "product": 7,
            "sku": "PART-1",
            "quantity": "2.0000",
            "unit_cost": "2.50",
            "cost": "5.00",
            "source": "average cost",
        }
    ],
    "material_cost": "5.00",
    "operations_cost": "3.00",
    "unit_cost": "8.00",
}
MO_EXAMPLE: dict[str, Any] = {
    "id": 6,
    "number": "MO-00006",
    "status": "confirmed",
    "product": 8,
    "sku": "GADGET-1",
    "product_name": "Gadget",
    "stock_unit": "pcs",
    "bom": 4,
    "bom_version": 2,
    "warehouse": 1,
    "warehouse_code": "WH1",
    "quantity": "5.0000",
    "quantity_produced": "0.0000",
    "planned_start": "2030-02-01",
    "planned_finish": "2030-02-02",
    "currency": "USD",
    "produced_cost": "0.00",
    "created_at": "2030-01-31T12:00:00Z",
    "updated_at": "2030-01-31T12:00:00Z",
}
MO_COMPONENT_EXAMPLE: dict[str, Any] = {
    "id": 12,
    "product": 7,
    "sku": "PART-1",
    "product_name": "Part",
    "stock_unit": "pcs",
    "required": "10.0000",
    "reserved": "10.0000",
    "consumed": "0.0000",
}
SUGGESTION_EXAMPLE: dict[str, Any] = {
    "id": 30,
    "run": 2,
    "kind": "buy",
    "product": 7,
    "sku": "PART-1",
    "product_name": "Part",
    "stock_unit": "pcs",
    "warehouse": 1,
    "warehouse_code": "WH1",
    "quantity": "24.0000",
    "due_date": "2030-02-01",
    "release_date": "2030-01-25",
    "level": 1,
    "supplier_item": 5,
    "supplier": 2,
    "supplier_name": "Parts Inc",
    "covers": [{"demand": "MO-00006", "date": "2030-02-01", "quantity": "10.0000"}],
    "converted_to": "",
}


class MoReasonIn(ApiSchema):
    model_config = examples({"reason": "customer cancelled"})

    reason: str = Field("", max_length=255)


# --- work centres ---------------------------------------------------------------------------------


class WorkCentreIn(ApiSchema):
    model_config = examples({"code": "ASM", "name": "Assembly", "cost_per_hour": "30.00"})

    code: str = Field(min_length=1, max_length=32)
    name: str = Field("", max_length=100, description="the code when left empty")
    cost_per_hour: MoneyIn = Field(Decimal(0), description="the default of its operations")


class WorkCentreFilterIn(ApiSchema):
    """Work centres keep no updated_at: no updated_since here."""

    model_config = examples({"q": "AS"})

    q: str | None = Field(None, description="code prefix or part of the name")
    ordering: str | None = ordering_param(WORK_CENTRE_ORDERING, default="code")


class WorkCentreOut(ApiSchema):
    model_config = examples({"id": 1, "code": "ASM", "name": "Assembly", "cost_per_hour": "30.00"})

    id: int
    code: str
    name: str
    cost_per_hour: BaseMoney


# --- bills of materials ---------------------------------------------------------------------------


class BomFilterIn(ApiSchema):
    model_config = examples({"q": "GADGET", "is_active": True})

    q: str | None = Field(None, description="SKU prefix or part of the product's name")
    product: int | None = None
    is_active: bool | None = None
    component: int | None = Field(None, description="BOMs using this product as a component")
    updated_since: datetime | None = updated_since_param()
    ordering: str | None = ordering_param(BOM_ORDERING, default="sku,-version")


class BomComponentIn(ApiSchema):
    """A component names its product by ``product`` (id) or ``sku``, one of the two."""

    model_config = examples({"sku": "PART-1", "quantity": "2", "scrap_percent": "0"})

    product: int | None = None
    sku: str | None = None
    quantity: QuantityIn = Field(description="per the BOM's output quantity, in `unit`")
    unit: str | None = Field(
        None, description="unit code (kg, box...) with a factor on the product; its stock unit when left out"
    )
    scrap_percent: QuantityIn = Field(Decimal(0), description="extra consumed, from 0 to under 100")


class BomOperationIn(ApiSchema):
    model_config = examples({"work_centre": 1, "name": "Assemble", "minutes_per_unit": "6"})

    work_centre: int
    name: str = Field(min_length=1, max_length=100)
    minutes_per_unit: QuantityIn = Field(description="per unit of output")
    cost_per_hour: MoneyIn | None = Field(None, description="the work centre's when left out")


class BomIn(ApiSchema):
    """A new version of a product's BOM with all its components and operations in one request.

    The product is named by ``product`` (id) or ``sku``, one of the two. ``activate`` (default
    true) makes it the product's active version at once; a BOM that would make a cycle through
    the active BOMs is refused (422) naming the path, and nothing is saved.
    """

    model_config = examples(
        {
            "sku": "GADGET-1",
            "components": [{"sku": "PART-1", "quantity": "2"}],
            "operations": [{"work_centre": 1, "name": "Assemble", "minutes_per_unit": "6"}],
            "output_quantity": "1",
            "lead_time_days": 1,
        }
    )

    product: int | None = None
    sku: str | None = None
    components: list[BomComponentIn] = Field(min_length=1)
    operations: list[BomOperationIn] = Field(default_factory=list)
    output_quantity: QuantityIn = Field(Decimal(1), description="what one run of this BOM makes")
    lead_time_days: int = Field(1, ge=0, description="from start to finish of one order")
    notes: str = ""
    activate: bool = True


class BomPatchIn(ApiSchema):
    """Only the fields sent are changed; ``components`` / ``operations`` replace all of them.
    Orders made from it keep the quantities they were created with."""

    model_config = examples({"lead_time_days": 2, "notes": "new supplier for the housing"})

    components: list[BomComponentIn] | None = None
    operations: list[BomOperationIn] | None = None
    output_quantity: QuantityIn | None = None
    lead_time_days: int | None = Field(None, ge=0)
    notes: str | None = None


class BomOut(ApiSchema):
    model_config = examples({**BOM_EXAMPLE, "component_count": 1, "operation_count": 1})

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


class BomComponentOut(ApiSchema):
    model_config = examples(BOM_COMPONENT_EXAMPLE)

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


class BomOperationOut(ApiSchema):
    model_config = examples(BOM_OPERATION_EXAMPLE)

    id: int
    sequence: int
    name: str
    work_centre: int = Field(alias="work_centre_id")
    work_centre_code: str = Field(alias="work_centre.code")
    minutes_per_unit: Rate
    cost_per_hour: BaseMoney


class CostLineOut(ApiSchema):
    model_config = examples(COST_EXAMPLE["components"][0])

    product: int = Field(alias="product.pk")
    sku: str = Field(alias="product.sku")
    quantity: Quantity = Field(description="stock units per one unit of output, scrap included")
    unit_cost: BaseMoney
    cost: BaseMoney = Field(description="quantity x unit cost")
    source: str = Field(description="average cost, rolled up (its own BOM), supplier price, no cost known")


class CostRollupOut(ApiSchema):
    """The cost of ONE unit of output."""

    model_config = examples(COST_EXAMPLE)

    currency: str = Field(description="the base currency, of every cost")

    components: list[CostLineOut]
    material_cost: BaseMoney
    operations_cost: BaseMoney
    unit_cost: BaseMoney

    @staticmethod
    def resolve_currency(obj: Any) -> str:
        return base_currency()


class BomDetailOut(ApiSchema):
    model_config = examples(
        {
            **BOM_EXAMPLE,
            "notes": "",
            "created_by": "ada",
            "components": [BOM_COMPONENT_EXAMPLE],
            "operations": [BOM_OPERATION_EXAMPLE],
            "cost": COST_EXAMPLE,
        }
    )

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


class WhereUsedOut(ApiSchema):
    model_config = examples(
        {
            "depth": 1,
            "bom": 4,
            "product": 8,
            "sku": "GADGET-1",
            "product_name": "Gadget",
            "version": 2,
            "is_active": True,
        }
    )

    depth: int = Field(description="1: uses the product directly; 2: through a sub-assembly; ...")
    bom: int
    product: int
    sku: str
    product_name: str
    version: int
    is_active: bool


# --- manufacturing orders -------------------------------------------------------------------------


class ManufacturingOrderFilterIn(ApiSchema):
    model_config = examples({"status": "open", "ordering": "planned_start", "expand": "components"})

    status: str | None = Field(None, description="a status, or 'open' (draft, confirmed, in progress)")
    product: int | None = None
    warehouse: int | None = None
    q: str | None = Field(None, description="order number or SKU prefix, or part of the product's name")
    starts_after: date | None = None
    starts_before: date | None = None
    updated_since: datetime | None = updated_since_param()
    ordering: str | None = ordering_param(MO_ORDERING, default="-planned_start")
    expand: str | None = expand_param("components")


class ManufacturingOrderIn(ApiSchema):
    """The product is named by ``product`` (id) or ``sku``, one of the two; ``bom`` left out: its
    active BOM. The component lines are computed from the BOM (scrap included)."""

    model_config = examples(
        {"sku": "GADGET-1", "quantity": "5", "warehouse": 1, "planned_start": "2030-02-01"}
    )

    product: int | None = None
    sku: str | None = None
    quantity: QuantityIn = Field(description="in the product's stock unit")
    warehouse: int = Field(description="where components are taken from and the output goes")
    bom: int | None = None
    planned_start: date | None = Field(None, description="today when left out")
    planned_finish: date | None = Field(None, description="start + the BOM's lead time when left out")
    notes: str = ""


class ManufacturingOrderOut(ApiSchema):
    model_config = examples(MO_EXAMPLE)

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
    currency: str = Field(description="the base currency, of the costs")
    produced_cost: BaseMoney = Field(description="total cost put into the output so far")
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_currency(obj: Any) -> str:
        return base_currency()


class ManufacturingOrderComponentOut(ApiSchema):
    model_config = examples(MO_COMPONENT_EXAMPLE)

    id: int
    product: int = Field(alias="product_id")
    sku: str = Field(alias="product.sku")
    product_name: str = Field(alias="product.name")
    stock_unit: str = Field(alias="product.stock_unit.code")
    required: Quantity = Field(alias="quantity_required", description="for the whole order, scrap included")
    reserved: Quantity = Field(description="stock held for it now")
    consumed: Quantity = Field(alias="quantity_consumed")


class ManufacturingOrderListOut(ManufacturingOrderOut):
    """An order in a list; its components only with ``expand=components`` (null otherwise)."""

    model_config = examples({**MO_EXAMPLE, "components": [MO_COMPONENT_EXAMPLE]})

    components: list[ManufacturingOrderComponentOut] | None = Field(
        None, alias="expanded_components", description="with expand=components; null otherwise"
    )


class ManufacturingOrderDetailOut(ManufacturingOrderOut):
    model_config = examples(
        {
            **MO_EXAMPLE,
            "notes": "",
            "created_by": "ada",
            "components": [MO_COMPONENT_EXAMPLE],
            "allowed_actions": ["start", "produce", "cancel"],
        }
    )

    notes: str
    created_by: str | None
    components: list[ManufacturingOrderComponentOut]
    allowed_actions: list[str] = Field(
        description="what can be done now: confirm, start, produce, finish, cancel"
    )

    @staticmethod
    def resolve_created_by(obj: ManufacturingOrder) -> str | None:
        return obj.created_by.get_username() if obj.created_by else None

    @staticmethod
    def resolve_components(obj: ManufacturingOrder) -> list[Any]:
        return list(obj.components.all())


class ShortageOut(ApiSchema):
    model_config = examples({"sku": "PART-1", "quantity": "4.0000"})

    sku: str
    quantity: Quantity = Field(description="stock units that could not be reserved")


class ManufacturingOrderConfirmedOut(ApiSchema):
    model_config = examples(
        {
            "order": {
                **MO_EXAMPLE,
                "notes": "",
                "created_by": "ada",
                "components": [MO_COMPONENT_EXAMPLE],
                "allowed_actions": ["start", "produce", "cancel"],
            },
            "shortages": [],
        }
    )

    order: ManufacturingOrderDetailOut
    shortages: list[ShortageOut] = Field(description="empty when every component is reserved")


class ProduceIn(ApiSchema):
    model_config = examples({"quantity": "2", "lot_code": ""})

    quantity: QuantityIn = Field(description="produced now, in stock units")
    lot_code: str = Field("", max_length=64, description="required for a lot-tracked product")
    serials: list[str] = Field(default_factory=list, description="a serial-tracked product: one per unit")


# --- MRP ------------------------------------------------------------------------------------------


class MrpRunIn(ApiSchema):
    model_config = examples({"horizon": "2030-03-31"})

    horizon: date | None = Field(None, description="plan up to this date; 60 days ahead when left out")


class CoverOut(ApiSchema):
    model_config = examples(SUGGESTION_EXAMPLE["covers"][0])

    demand: str
    date: date
    quantity: Quantity


class MrpSuggestionOut(ApiSchema):
    model_config = examples(SUGGESTION_EXAMPLE)

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


class MrpRunOut(ApiSchema):
    model_config = examples(
        {
            "id": 2,
            "started_at": "2030-01-31T12:00:00Z",
            "horizon": "2030-03-31",
            "user": "ada",
            "suggestions": [SUGGESTION_EXAMPLE],
        }
    )

    id: int
    started_at: datetime
    horizon: date
    user: str | None
    suggestions: list[MrpSuggestionOut] = Field(alias="suggestions_list")

    @staticmethod
    def resolve_user(obj: MrpRun) -> str | None:
        return obj.user.get_username() if obj.user else None


class MrpSuggestionFilterIn(ApiSchema):
    model_config = examples({"kind": "buy", "open": True})

    run: int | None = Field(None, description="the latest run when left out")
    kind: str | None = Field(None, description="make or buy")
    warehouse: int | None = None
    open: bool | None = Field(None, description="true: not converted yet; false: converted")
    ordering: str | None = ordering_param(SUGGESTION_ORDERING, default="level,release_date")


class ConvertIn(ApiSchema):
    model_config = examples({"suggestions": [30, 31]})

    suggestions: list[int] = Field(min_length=1, description="ids of suggestions to turn into orders")


class ConvertedOut(ApiSchema):
    model_config = examples({"documents": ["MO-00007", "PO-00012"]})

    documents: list[str] = Field(description="numbers of the draft orders created: MO-... and PO-...")
