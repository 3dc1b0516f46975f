"""Reorder rules and the replenishment suggestions made from them."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from ninja import Field

from erp.api_helpers import ApiSchema, Quantity, QuantityIn, examples, ordering_param, updated_since_param
from inventory.schemas.products import AVAILABILITY_EXAMPLE, AvailabilityOut

REORDER_RULE_ORDERING = {
    "sku": "product__sku",
    "warehouse": "warehouse__code",
    "created_at": "created_at",
    "updated_at": "updated_at",
    "id": "pk",
}


class ReorderRuleFilterIn(ApiSchema):
    model_config = examples({"warehouse": 1})

    product: int | None = None
    warehouse: int | None = None
    updated_since: datetime | None = updated_since_param()
    ordering: str | None = ordering_param(REORDER_RULE_ORDERING, default="sku,warehouse")


class ReorderRuleIn(ApiSchema):
    model_config = examples(
        {"product": 7, "warehouse": 1, "min_quantity": "10", "max_quantity": "100", "multiple": "6"}
    )

    product: int
    warehouse: int
    min_quantity: QuantityIn
    max_quantity: QuantityIn
    multiple: QuantityIn = Decimal(1)


REORDER_RULE_EXAMPLE: dict[str, Any] = {
    "id": 4,
    "product": 7,
    "sku": "MUG-BLUE",
    "warehouse": 1,
    "warehouse_code": "WH1",
    "min_quantity": "10.0000",
    "max_quantity": "100.0000",
    "multiple": "6.0000",
    "updated_at": "2030-01-31T12:00:00Z",
}


class ReorderRuleOut(ApiSchema):
    model_config = examples(REORDER_RULE_EXAMPLE)

    id: int
    product: int = Field(alias="product_id")
    sku: str = Field(alias="product.sku")
    warehouse: int = Field(alias="warehouse_id")
    warehouse_code: str = Field(alias="warehouse.code")
    min_quantity: Quantity
    max_quantity: Quantity
    multiple: Quantity
    updated_at: datetime


class ReplenishmentSuggestionOut(ApiSchema):
    model_config = examples(
        {"rule": REORDER_RULE_EXAMPLE, "availability": AVAILABILITY_EXAMPLE, "quantity": "48.0000"}
    )

    rule: ReorderRuleOut
    availability: AvailabilityOut
    quantity: Quantity = Field(description="to order: up to max, in multiples")
