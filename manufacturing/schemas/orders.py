"""Manufacturing orders and their lifecycle actions (confirm, produce, cancel...)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from ninja import Field

from erp.api_helpers import (
    ApiSchema,
    BaseMoney,
    Quantity,
    QuantityIn,
    base_currency,
    examples,
    expand_param,
    ordering_param,
    updated_since_param,
)
from manufacturing.models import ManufacturingOrder

# The sort keys of each list: public name -> field. Old short names stay as aliases.
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

# Examples for the OpenAPI document: a gadget made of 2 parts, one assembly operation.
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


class MoReasonIn(ApiSchema):
    model_config = examples({"reason": "customer cancelled"})

    reason: str = Field("", max_length=255)


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
