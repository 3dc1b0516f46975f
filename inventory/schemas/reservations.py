"""Reservations: stock held for a demand (an order line, ...), released or consumed."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ninja import Field

from erp.api_helpers import ApiSchema, Quantity, QuantityIn, examples, ordering_param
from inventory.schemas.moves import MOVE_EXAMPLE, MoveOut

RESERVATION_ORDERING = {"created_at": "created_at", "sku": "product__sku", "quantity": "quantity", "id": "pk"}


class ReservationFilterIn(ApiSchema):
    """No updated_since: the ledger's bulk releases do not keep reservations' updated_at."""

    model_config = examples({"demand_type": "sales.orderline", "status": "active"})

    product: int | None = None
    warehouse: int | None = None
    demand_type: str | None = None
    demand_id: str | None = None
    status: str | None = None
    ordering: str | None = ordering_param(RESERVATION_ORDERING, default="created_at")


class ReservationIn(ApiSchema):
    model_config = examples(
        {"product": 7, "warehouse": 1, "quantity": "2", "demand_type": "shop.order", "demand_id": "1001"}
    )

    product: int
    warehouse: int
    quantity: QuantityIn
    demand_type: str = Field(max_length=64, description="app.model of the demand: sales.orderline")
    demand_id: str = Field(max_length=64)
    reference: str = Field("", max_length=100)
    location: int | None = Field(None, description="reserve in this bin only")
    lot: int | None = Field(None, description="reserve this lot only")
    allow_partial: bool = Field(False, description="reserve what is available instead of refusing")


RESERVATION_EXAMPLE: dict[str, Any] = {
    "id": 21,
    "product": 7,
    "sku": "MUG-BLUE",
    "location": 12,
    "location_path": "WH1/A/A-01",
    "warehouse": 1,
    "lot": None,
    "lot_code": None,
    "quantity": "2.0000",
    "consumed_quantity": "0.0000",
    "released_quantity": "0.0000",
    "status": "active",
    "demand_type": "shop.order",
    "demand_id": "1001",
    "reference": "",
    "created_at": "2030-01-31T12:00:00Z",
    "updated_at": "2030-01-31T12:00:00Z",
}


class ReservationOut(ApiSchema):
    model_config = examples(RESERVATION_EXAMPLE)

    id: int
    product: int = Field(alias="product_id")
    sku: str = Field(alias="product.sku")
    location: int = Field(alias="location_id")
    location_path: str = Field(alias="location.path")
    warehouse: int | None = Field(None, alias="location.warehouse_id")
    lot: int | None = Field(None, alias="lot_id")
    lot_code: str | None = Field(None, alias="lot.code")
    quantity: Quantity = Field(description="still held")
    consumed_quantity: Quantity
    released_quantity: Quantity
    status: str
    demand_type: str
    demand_id: str
    reference: str
    created_at: datetime
    updated_at: datetime


class ReserveOut(ApiSchema):
    model_config = examples(
        {"requested": "2.0000", "reserved": "2.0000", "reservations": [RESERVATION_EXAMPLE]}
    )

    requested: Quantity
    reserved: Quantity
    reservations: list[ReservationOut]


class ReservationQuantityIn(ApiSchema):
    model_config = examples({"quantity": "1"})

    quantity: QuantityIn | None = Field(None, description="default: everything still held")


class ConsumeIn(ReservationQuantityIn):
    model_config = examples({"quantity": "1", "reference": "SHIP-1001"})

    reference: str = Field("", max_length=100)


class ConsumeOut(ApiSchema):
    model_config = examples({"reservation": RESERVATION_EXAMPLE, "move": MOVE_EXAMPLE})

    reservation: ReservationOut
    move: MoveOut
