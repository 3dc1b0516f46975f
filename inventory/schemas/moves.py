"""Stock moves and what makes them: receipts, issues, adjustments, scrap, reversals and transfers."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from ninja import Field

from erp.api_helpers import (
    ApiSchema,
    BaseMoney,
    MoneyIn,
    Quantity,
    QuantityIn,
    Shown,
    examples,
    model_of,
    ordering_param,
    updated_since_param,
)
from inventory.models import StockMove

MOVE_ORDERING = {"created_at": "created_at", "sku": "product__sku", "quantity": "quantity", "id": "pk"}
TRANSFER_ORDERING = {
    "number": "number",
    "created_at": "created_at",
    "updated_at": "updated_at",
    "shipped_at": "shipped_at",
    "received_at": "received_at",
    "id": "pk",
}


class MoveFilterIn(ApiSchema):
    """Moves are never changed: ``updated_since`` is the moment they were made (``created_at``)."""

    model_config = examples({"product": 7, "kind": "count", "since": "2030-01-01T00:00:00Z"})

    product: int | None = None
    q: str | None = None
    warehouse: int | None = None
    location: int | None = Field(None, description="moves from or to this location")
    kind: str | None = None
    reference: str | None = Field(None, description="prefix")
    document_type: str | None = None
    document_id: str | None = None
    lot: int | None = None
    since: datetime | None = None
    until: datetime | None = None
    updated_since: datetime | None = updated_since_param()
    ordering: str | None = ordering_param(MOVE_ORDERING, default="-created_at")


MOVE_EXAMPLE: dict[str, Any] = {
    "id": 301,
    "product": 7,
    "sku": "MUG-BLUE",
    "quantity": "2.0000",
    "stock_unit": "pcs",
    "from_location": 12,
    "from_location_path": "WH1/A/A-01",
    "to_location": 2,
    "to_location_path": "Virtual/Adjustment",
    "lot": None,
    "lot_code": None,
    "unit_cost": "4.25",
    "kind": "count",
    "reference": "CYCLE-2030-05",
    "document_type": "inventory.stockcount",
    "document_id": "3f2a9c1d7b4e",
    "reason": "stock count",
    "reversal_of": None,
    "operation": "0b6f5a8e-3d4c-4d7e-9a31-2f1c0e9d8b7a",
    "user": "ada",
    "created_at": "2030-01-31T12:00:00Z",
}


class MoveOut(ApiSchema):
    model_config = examples(MOVE_EXAMPLE)

    id: int
    product: int = Field(alias="product_id")
    sku: str = Field(alias="product.sku")
    quantity: Quantity
    stock_unit: str = Field(alias="product.stock_unit.code")
    from_location: int = Field(alias="from_location_id")
    from_location_path: str = Field(alias="from_location.path")
    to_location: int = Field(alias="to_location_id")
    to_location_path: str = Field(alias="to_location.path")
    lot: int | None = Field(None, alias="lot_id")
    lot_code: str | None = Field(None, alias="lot.code")
    unit_cost: BaseMoney
    kind: str
    reference: str
    document_type: str
    document_id: str
    reason: str
    reversal_of: int | None = Field(None, alias="reversal_of_id")
    operation: str
    user: str | None = Field(None, alias="user.username")
    created_at: datetime

    @staticmethod
    def resolve_operation(obj: StockMove | Shown[StockMove] | dict[str, Any]) -> str:
        # a list reads its moves as rows of columns (KeysetPagination's rows)
        return str(obj["operation"] if isinstance(obj, dict) else model_of(obj).operation)


class MoveDetailOut(MoveOut):
    model_config = examples({**MOVE_EXAMPLE, "reversed_by": None})

    reversed_by: int | None = Field(
        None, alias="reversed_by_id", description="id of the move that reversed this one"
    )


class ReverseIn(ApiSchema):
    model_config = examples({"reason": "booked to the wrong bin"})

    reason: str = Field(max_length=255)


class ReceiptIn(ApiSchema):
    model_config = examples(
        {"product": 7, "location": 12, "quantity": "24", "unit_cost": "4.25", "reference": "OPENING"}
    )

    product: int
    location: int
    quantity: QuantityIn
    unit_cost: MoneyIn | None = Field(None, description="per stock unit; default: the average cost")
    lot: str | None = Field(None, max_length=64, description="lot or serial code (created if new)")
    expiry_date: date | None = None
    reference: str = Field("", max_length=100)
    reason: str = Field("", max_length=255)


class IssueIn(ApiSchema):
    model_config = examples({"product": 7, "location": 12, "quantity": "2", "reference": "SAMPLE"})

    product: int
    location: int
    quantity: QuantityIn
    lot: int | None = None
    reference: str = Field("", max_length=100)
    reason: str = Field("", max_length=255)


class AdjustmentIn(ApiSchema):
    """Set the on-hand quantity (``quantity``) or change it (``delta``): one of the two."""

    model_config = examples({"product": 7, "location": 12, "quantity": "38", "reason": "recount"})

    product: int
    location: int
    lot: int | None = None
    quantity: QuantityIn | None = Field(None, description="the new on-hand quantity")
    delta: QuantityIn | None = Field(None, description="the change, + or -")
    reason: str = Field(max_length=255)


class LevelBalanceOut(ApiSchema):
    model_config = examples({"on_hand": "38.0000", "reserved": "5.0000", "available": "33.0000"})

    on_hand: Quantity
    reserved: Quantity
    available: Quantity


class AdjustmentOut(ApiSchema):
    model_config = examples(
        {"move": MOVE_EXAMPLE, "level": {"on_hand": "38.0000", "reserved": "5.0000", "available": "33.0000"}}
    )

    move: MoveOut | None = Field(description="null when the quantity was already right")
    level: LevelBalanceOut


class ScrapIn(ApiSchema):
    model_config = examples({"product": 7, "location": 12, "quantity": "1", "reason": "broken"})

    product: int
    location: int
    quantity: QuantityIn
    lot: int | None = None
    reason: str = Field(max_length=255)


class TransferLineIn(ApiSchema):
    model_config = examples({"product": 7, "quantity": "6"})

    product: int
    quantity: QuantityIn
    lot: int | None = None


class TransferIn(ApiSchema):
    model_config = examples(
        {"from_location": 12, "to_location": 31, "lines": [{"product": 7, "quantity": "6"}], "two_step": True}
    )

    from_location: int
    to_location: int
    lines: list[TransferLineIn] = Field(min_length=1)
    two_step: bool = Field(False, description="ship into transit now, receive later")
    note: str = Field(
        "", max_length=255, description="the reason of a direct transfer; the note of a two-step one"
    )


class DirectTransferOut(ApiSchema):
    model_config = examples({"moves": [MOVE_EXAMPLE]})

    moves: list[MoveOut]


class TransferFilterIn(ApiSchema):
    model_config = examples({"status": "in_transit"})

    status: str | None = None
    updated_since: datetime | None = updated_since_param()
    ordering: str | None = ordering_param(TRANSFER_ORDERING, default="-created_at")


class TransferLineOut(ApiSchema):
    model_config = examples(
        {"id": 5, "product": 7, "sku": "MUG-BLUE", "lot": None, "lot_code": None, "quantity": "6.0000"}
    )

    id: int
    product: int = Field(alias="product_id")
    sku: str = Field(alias="product.sku")
    lot: int | None = Field(None, alias="lot_id")
    lot_code: str | None = Field(None, alias="lot.code")
    quantity: Quantity


class TransferOut(ApiSchema):
    model_config = examples(
        {
            "id": 3,
            "number": "TR-00003",
            "status": "in_transit",
            "from_location": 12,
            "from_location_path": "WH1/A/A-01",
            "to_location": 31,
            "to_location_path": "WH2/Stock",
            "note": "",
            "shipped_at": "2030-01-31T12:00:00Z",
            "received_at": None,
            "created_at": "2030-01-31T12:00:00Z",
            "lines": [],
        }
    )

    id: int
    number: str
    status: str
    from_location: int = Field(alias="from_location_id")
    from_location_path: str = Field(alias="from_location.path")
    to_location: int = Field(alias="to_location_id")
    to_location_path: str = Field(alias="to_location.path")
    note: str
    shipped_at: datetime | None
    received_at: datetime | None
    created_at: datetime
    lines: list[TransferLineOut]
