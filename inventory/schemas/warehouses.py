"""Warehouses and their locations (zones and bins)."""

from __future__ import annotations

from datetime import datetime

from ninja import Field

from erp.api_helpers import ApiSchema, examples, ordering_param, updated_since_param
from inventory.models import LocationKind

WAREHOUSE_ORDERING = {
    "code": "code",
    "name": "name",
    "created_at": "created_at",
    "updated_at": "updated_at",
    "id": "pk",
}
LOCATION_ORDERING = {"path": "path", "name": "name", "id": "pk"}


class WarehouseIn(ApiSchema):
    model_config = examples({"code": "WH2", "name": "East warehouse", "address": "1 Dock Rd"})

    code: str = Field(max_length=16)
    name: str = Field(max_length=100)
    address: str = ""
    allow_negative_stock: bool = False


class WarehousePatchIn(ApiSchema):
    model_config = examples({"name": "East warehouse (main)", "is_active": True})

    name: str | None = Field(None, max_length=100)
    address: str | None = None
    allow_negative_stock: bool | None = None
    is_active: bool | None = None


class WarehouseFilterIn(ApiSchema):
    model_config = examples({"q": "east", "is_active": True})

    q: str | None = Field(None, description="code prefix or part of the name")
    is_active: bool | None = None
    updated_since: datetime | None = updated_since_param()
    ordering: str | None = ordering_param(WAREHOUSE_ORDERING, default="code")


class WarehouseOut(ApiSchema):
    model_config = examples(
        {
            "id": 2,
            "code": "WH2",
            "name": "East warehouse",
            "address": "1 Dock Rd",
            "allow_negative_stock": False,
            "is_active": True,
            "created_at": "2030-01-02T09:00:00Z",
            "updated_at": "2030-01-02T09:00:00Z",
        }
    )

    id: int
    code: str
    name: str
    address: str
    allow_negative_stock: bool
    is_active: bool
    created_at: datetime
    updated_at: datetime


class LocationFilterIn(ApiSchema):
    """Locations have no updated_at: there is no updated_since here."""

    model_config = examples({"warehouse": 1, "kind": "internal"})

    warehouse: int | None = None
    kind: str | None = None
    q: str | None = Field(None, description="part of the path")
    is_active: bool | None = None
    ordering: str | None = ordering_param(LOCATION_ORDERING, default="path")


class LocationIn(ApiSchema):
    model_config = examples({"parent": 3, "name": "A-01", "kind": "internal", "barcode": "LOC-A-01"})

    parent: int = Field(description="id of the zone (a view location) it goes under")
    name: str = Field(max_length=100)
    kind: LocationKind = Field(LocationKind.INTERNAL, description="internal (a bin) or view (a zone)")
    barcode: str | None = Field(None, max_length=64)


class LocationPatchIn(ApiSchema):
    model_config = examples({"name": "A-01-top", "barcode": ""})

    name: str | None = Field(None, max_length=100)
    barcode: str | None = Field(None, max_length=64, description="'' removes it")
    is_active: bool | None = Field(None, description="false archives the location")


class LocationOut(ApiSchema):
    model_config = examples(
        {
            "id": 12,
            "warehouse": 1,
            "warehouse_code": "WH1",
            "parent": 3,
            "name": "A-01",
            "kind": "internal",
            "path": "WH1/A/A-01",
            "barcode": "LOC-A-01",
            "is_active": True,
        }
    )

    id: int
    warehouse: int | None = Field(None, alias="warehouse_id")
    warehouse_code: str | None = Field(None, alias="warehouse.code")
    parent: int | None = Field(None, alias="parent_id")
    name: str
    kind: str
    path: str
    barcode: str | None
    is_active: bool
