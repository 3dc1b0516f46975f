"""The bulk endpoints: products upserted by SKU, and counted stock levels set; all or nothing."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

from ninja import Field

from erp.api_helpers import ApiSchema, Quantity, examples
from inventory.models import ProductKind, Tracking

if TYPE_CHECKING:
    from inventory.services.counted import Counted

BULK_MAX = 50_000  # up to inventory.services.bulk.MAX_BATCH in the request; more as a job (202)


class ProductUpsertItemIn(ApiSchema):
    """A product by SKU: created when the SKU is new (``name`` then required), else updated.

    Only the fields sent are set; ``barcodes`` replaces the product's own barcodes;
    ``is_active: false`` archives it, ``true`` restores it.
    """

    model_config = examples(
        {"sku": "MUG-BLUE", "name": "Blue mug", "sale_price": "12.50", "barcodes": ["4006381333931"]}
    )

    sku: str = Field(min_length=1, max_length=64)
    name: str | None = Field(None, max_length=200)
    description: str | None = None
    category: int | None = Field(None, description="category id")
    kind: ProductKind | None = None
    stock_unit: str | None = Field(None, max_length=16, description="unit code")
    weight: Decimal | None = Field(None, ge=0, max_digits=18, decimal_places=4)
    sale_price: Decimal | None = Field(None, ge=0, max_digits=19, decimal_places=4)
    currency: str | None = Field(None, max_length=3)
    tracking: Tracking | None = None
    barcodes: list[str] | None = None
    is_active: bool | None = None


class ProductBulkUpsertIn(ApiSchema):
    model_config = examples(
        {
            "items": [
                {"sku": "MUG-BLUE", "name": "Blue mug", "sale_price": "12.50"},
                {"sku": "MUG-RED", "sale_price": "13.00"},
            ]
        }
    )

    items: list[ProductUpsertItemIn] = Field(
        min_length=1, max_length=BULK_MAX, description=f"at most {BULK_MAX}; validated as a whole"
    )


class ProductUpsertedOut(ApiSchema):
    model_config = examples({"index": 0, "sku": "MUG-BLUE", "id": 7, "action": "created"})

    index: int = Field(description="position of the item in the request")
    sku: str
    id: int = Field(description="product id")
    action: str = Field(description="created, updated or unchanged")


class ProductBulkUpsertOut(ApiSchema):
    model_config = examples(
        {
            "created": ["MUG-BLUE"],
            "updated": ["MUG-RED"],
            "unchanged": [],
            "items": [
                {"index": 0, "sku": "MUG-BLUE", "id": 7, "action": "created"},
                {"index": 1, "sku": "MUG-RED", "id": 8, "action": "updated"},
            ],
        }
    )

    created: list[str] = Field(description="SKUs created")
    updated: list[str] = Field(description="SKUs changed")
    unchanged: list[str] = Field(description="SKUs sent as they already were")
    items: list[ProductUpsertedOut]


class CountedLevelIn(ApiSchema):
    """What was counted of a product in a bin (by id or by path), maybe of one lot or serial."""

    model_config = examples({"sku": "MUG-BLUE", "location_path": "WH1/Stock", "counted": "38"})

    sku: str = Field(min_length=1, max_length=64)
    location: int | None = Field(None, description="bin id")
    location_path: str | None = Field(None, max_length=500, description="bin path, e.g. WH1/A/A-01")
    lot: str | None = Field(None, max_length=64, description="lot or serial code; created if new")
    expiry_date: date | None = Field(None, description="of a new lot")
    counted: Decimal = Field(ge=0, max_digits=18, decimal_places=4, description="the on-hand quantity now")


class CountedLevelsIn(ApiSchema):
    model_config = examples(
        {
            "reference": "CYCLE-2030-05",
            "items": [
                {"sku": "MUG-BLUE", "location_path": "WH1/Stock", "counted": "38"},
                {"sku": "MUG-RED", "location": 12, "counted": "0"},
            ],
        }
    )

    items: list[CountedLevelIn] = Field(
        min_length=1, max_length=BULK_MAX, description=f"at most {BULK_MAX}; validated as a whole"
    )
    reference: str = Field("", max_length=100, description="shown on every move, e.g. the count's name")
    reason: str = Field("stock count", min_length=1, max_length=255)


class CountedOut(ApiSchema):
    model_config = examples(
        {
            "index": 0,
            "sku": "MUG-BLUE",
            "location": 12,
            "location_path": "WH1/Stock",
            "lot": None,
            "previous": "40.0000",
            "counted": "38.0000",
            "difference": "-2.0000",
            "move": 301,
        }
    )

    index: int
    sku: str = Field(alias="product.sku")
    location: int = Field(alias="location.pk")
    location_path: str = Field(alias="location.path")
    lot: str | None = Field(None, alias="lot.code")
    previous: Quantity = Field(description="on hand before")
    counted: Quantity = Field(description="on hand now")
    difference: Quantity
    move: int | None = Field(None, alias="move.pk", description="the count move; null when nothing changed")

    @staticmethod
    def resolve_difference(obj: Counted) -> Decimal:
        return obj.counted - obj.previous


class CountedLevelsOut(ApiSchema):
    model_config = examples({"batch": "3f2a9c1d7b4e", "reference": "CYCLE-2030-05", "items": []})

    batch: str = Field(description="the moves' document_id (document_type inventory.stockcount)")
    reference: str
    items: list[CountedOut]


class BulkJobOut(ApiSchema):
    """A batch too large for one request, accepted as a background job: follow ``url`` (GET) until
    its ``state`` is ``done`` (``result.answer`` is what the request would have answered) or
    ``failed`` (``result.field_errors`` names each refused item; nothing was written)."""

    id: int
    kind: str
    state: str
    url: str = Field(description="GET it for the job's progress and result, e.g. /api/v1/jobs/12")
