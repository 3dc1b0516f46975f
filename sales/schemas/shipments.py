"""Shipments (an order's ``ship`` action and the shipments it makes) and the fulfilment queue."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from ninja import Field

from erp.api_helpers import ApiSchema, Quantity, QuantityIn, examples, ordering_param, updated_since_param

# The sort keys of each list: public name -> field. Old short names stay as aliases.
SHIPMENT_ORDERING = {
    "shipped_at": "shipped_at",
    "number": "number",
    "created_at": "created_at",
    "updated_at": "updated_at",
    "id": "pk",
}
FULFILMENT_ORDERING = {"order_date": "order__order_date", "order": "order_id", "id": "pk"}

# Examples for the OpenAPI document (one order of two mugs, shipped and invoiced).
SHIPMENT_EXAMPLE: dict[str, Any] = {
    "id": 6,
    "number": "SH-00006",
    "order": 12,
    "carrier": "UPS",
    "service": "ground",
    "tracking_number": "1Z999",
    "shipped_at": "2030-02-01T08:00:00Z",
    "lines": [{"line_id": 31, "sku": "MUG-BLUE", "quantity": "2.0000"}],
}


class ShipLineIn(ApiSchema):
    model_config = examples({"line_id": 31, "quantity": "2"})

    line_id: int
    quantity: QuantityIn


class ShipIn(ApiSchema):
    model_config = examples(
        {"lines": [{"line_id": 31, "quantity": "2"}], "carrier": "UPS", "tracking_number": "1Z999"}
    )

    lines: list[ShipLineIn] | None = Field(None, description="everything reserved when left out")
    carrier: str = Field("", max_length=60)
    service: str = Field("", max_length=60)
    tracking_number: str = Field("", max_length=100)


class ShipmentTrackingIn(ApiSchema):
    """A shipment's new carrier and tracking (a label voided and printed again, a number typed wrong)."""

    model_config = examples({"carrier": "UPS", "tracking_number": "1Z999AA10123456784"})

    carrier: str = Field(max_length=60)
    tracking_number: str = Field(min_length=1, max_length=100)
    service: str | None = Field(None, max_length=60, description="unchanged when left out")


class ShipmentLineOut(ApiSchema):
    model_config = examples({"line_id": 31, "sku": "MUG-BLUE", "quantity": "2.0000"})

    line_id: int = Field(alias="order_line_id")
    sku: str = Field(alias="order_line.product.sku")
    quantity: Quantity


class ShipmentOut(ApiSchema):
    model_config = examples(SHIPMENT_EXAMPLE)

    id: int
    number: str
    order: int = Field(alias="order_id")
    carrier: str
    service: str
    tracking_number: str
    shipped_at: datetime
    lines: list[ShipmentLineOut]


class ShipLineOut(ApiSchema):
    model_config = examples({"line_id": 31, "quantity": "2.0000"})

    line_id: int = Field(alias="order_line_id")
    quantity: Quantity


class ShipmentListOut(ApiSchema):
    """A shipment in a list: its lines by order line id."""

    model_config = examples(
        {
            **SHIPMENT_EXAMPLE,
            "order_number": "SO-00012",
            "customer_name": "Engines Ltd",
            "lines": [{"line_id": 31, "quantity": "2.0000"}],
        }
    )

    id: int
    number: str
    order: int = Field(alias="order_id")
    order_number: str = Field(alias="order.number")
    customer_name: str = Field(alias="order.customer.name")
    carrier: str
    service: str
    tracking_number: str
    shipped_at: datetime
    lines: list[ShipLineOut]


class ShipmentDetailOut(ShipmentListOut):
    model_config = examples({**SHIPMENT_EXAMPLE, "order_number": "SO-00012", "customer_name": "Engines Ltd"})

    lines: list[ShipmentLineOut]  # type: ignore[assignment]


class ShipmentFilterIn(ApiSchema):
    model_config = examples({"order": 12, "carrier": "UPS"})

    order: int | None = None
    carrier: str | None = None
    since: datetime | None = Field(None, description="shipped at or after")
    until: datetime | None = Field(None, description="shipped at or before")
    updated_since: datetime | None = updated_since_param()
    ordering: str | None = ordering_param(SHIPMENT_ORDERING, default="-shipped_at")


class FulfilmentFilterIn(ApiSchema):
    """Order lines have no updated_at of their own: no updated_since here."""

    model_config = examples({"channel": 1})

    channel: int | None = None
    warehouse: int | None = Field(None, description="the channel's warehouse")
    ordering: str | None = ordering_param(FULFILMENT_ORDERING, default="order_date (oldest first)")


class FulfilmentLineOut(ApiSchema):
    """An open line of a confirmed order with stock held for it: what can ship now."""

    model_config = examples(
        {
            "order": 12,
            "order_number": "SO-00012",
            "order_date": "2030-01-31T12:00:00Z",
            "customer_name": "Engines Ltd",
            "channel_code": "web",
            "line_id": 31,
            "sku": "MUG-BLUE",
            "product_name": "Blue mug",
            "stock_unit": "pcs",
            "ordered": "2.0000",
            "shipped": "0.0000",
            "open": "2.0000",
            "reserved": "2.0000",
        }
    )

    order: int = Field(alias="order_id")
    order_number: str = Field(alias="order.number")
    order_date: datetime = Field(alias="order.order_date")
    customer_name: str = Field(alias="order.customer.name")
    channel_code: str = Field(alias="order.channel.code")
    line_id: int = Field(alias="pk")
    sku: str = Field(alias="product.sku")
    product_name: str = Field(alias="product.name")
    stock_unit: str = Field(alias="product.stock_unit.code")
    ordered: Quantity = Field(alias="quantity")
    shipped: Quantity = Field(alias="quantity_shipped")
    open: Quantity = Field(description="still to ship")
    reserved: Quantity = Field(
        description="held in stock for the line now: ship it with POST /orders/{id}/ship"
    )

    @staticmethod
    def resolve_open(obj: Any) -> Decimal:
        return obj.quantity - obj.quantity_shipped
