"""Stock levels and the reports on them: valuation and stock checks (levels against the ledger)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ninja import Field

from erp.api_helpers import ApiSchema, BaseMoney, Quantity, examples, ordering_param

# The level's copies of the SKU and the path (StockLevel.product_sku, location_path): the default
# "sku,location" is read from their index, and a cursor starts in it.
LEVEL_ORDERING = {
    "sku": "product_sku",
    "location": "location_path",
    "on_hand": "on_hand",
    "reserved": "reserved",
    "id": "pk",
}
STOCK_CHECK_ORDERING = {"started_at": "started_at", "drift_count": "drift_count", "id": "pk"}


class LevelFilterIn(ApiSchema):
    """Stock levels: no updated_since (the ledger does not keep their updated_at; sync moves instead)."""

    model_config = examples({"q": "MUG", "warehouse": 1, "nonzero": True})

    product: int | None = None
    q: str | None = Field(None, description="SKU prefix, exact barcode or part of the name")
    warehouse: int | None = None
    location: int | None = None
    lot: int | None = None
    nonzero: bool | None = None
    below_min: bool | None = None
    include_virtual: bool = Field(
        False, description="also the counterparts at virtual locations (supplier, customer, transit...)"
    )
    ordering: str | None = ordering_param(LEVEL_ORDERING, default="sku,location")


class LevelOut(ApiSchema):
    model_config = examples(
        {
            "id": 55,
            "product": 7,
            "sku": "MUG-BLUE",
            "product_name": "Blue mug",
            "stock_unit": "pcs",
            "location": 12,
            "location_path": "WH1/A/A-01",
            "warehouse": 1,
            "warehouse_code": "WH1",
            "lot": None,
            "lot_code": None,
            "on_hand": "40.0000",
            "reserved": "5.0000",
            "available": "35.0000",
            "updated_at": "2030-01-31T12:00:00Z",
        }
    )

    id: int
    product: int = Field(alias="product_id")
    sku: str = Field(alias="product.sku")
    product_name: str = Field(alias="product.name")
    stock_unit: str = Field(alias="product.stock_unit.code")
    location: int = Field(alias="location_id")
    location_path: str = Field(alias="location.path")
    warehouse: int | None = Field(None, alias="warehouse_id")
    warehouse_code: str | None = Field(None, alias="warehouse.code")
    lot: int | None = Field(None, alias="lot_id")
    lot_code: str | None = Field(None, alias="lot.code")
    on_hand: Quantity
    reserved: Quantity
    available: Quantity
    updated_at: datetime


class WarehouseValueOut(ApiSchema):
    model_config = examples(
        {"warehouse": 1, "warehouse_code": "WH1", "quantity": "40.0000", "value": "170.00"}
    )

    warehouse: int = Field(alias="warehouse.pk")
    warehouse_code: str = Field(alias="warehouse.code")
    quantity: Quantity
    value: BaseMoney


class ValuationOut(ApiSchema):
    model_config = examples(
        {
            "as_of": None,
            "currency": "USD",
            "warehouses": [
                {"warehouse": 1, "warehouse_code": "WH1", "quantity": "40.0000", "value": "170.00"}
            ],
            "total_quantity": "40.0000",
            "total_value": "170.00",
        }
    )

    as_of: datetime | None = Field(description="null: now, at the current average costs")
    currency: str = Field(description="the base currency, of every value here")
    warehouses: list[WarehouseValueOut]
    total_quantity: Quantity
    total_value: BaseMoney


class StockCheckFilterIn(ApiSchema):
    """Check runs have no updated_at: no updated_since."""

    model_config = examples({"ordering": "-drift_count"})

    ordering: str | None = ordering_param(STOCK_CHECK_ORDERING, default="-started_at")


STOCK_CHECK_EXAMPLE: dict[str, Any] = {
    "id": 2,
    "started_at": "2030-01-31T03:00:00Z",
    "finished_at": "2030-01-31T03:00:04Z",
    "levels_checked": 1200,
    "drift_count": 0,
    "repaired": False,
    "triggered_by": None,
}


class StockCheckOut(ApiSchema):
    model_config = examples(STOCK_CHECK_EXAMPLE)

    id: int
    started_at: datetime
    finished_at: datetime
    levels_checked: int
    drift_count: int
    repaired: bool
    triggered_by: str | None = Field(None, alias="triggered_by.username")


class StockCheckDetailOut(StockCheckOut):
    model_config = examples({**STOCK_CHECK_EXAMPLE, "drifts": []})

    drifts: list[dict[str, object]] = Field(description="the first 500 drifts found")
