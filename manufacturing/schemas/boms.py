"""Bills of materials: components, operations, the cost roll-up and where-used."""

from __future__ import annotations

from datetime import datetime
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
    ordering_param,
    updated_since_param,
)
from manufacturing.models import BillOfMaterials

# The sort keys of each list: public name -> field. Old short names stay as aliases.
BOM_ORDERING = {
    "sku": "product__sku",
    "version": "version",
    "created_at": "created_at",
    "updated_at": "updated_at",
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
