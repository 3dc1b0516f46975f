"""Sales channels: where orders come from."""

from __future__ import annotations

from datetime import datetime

from ninja import Field

from erp.api_helpers import ApiSchema, examples, ordering_param, updated_since_param
from sales.models import ChannelKind, InvoicePolicy

# The sort keys of each list: public name -> field. Old short names stay as aliases.
CHANNEL_ORDERING = {
    "code": "code",
    "name": "name",
    "created_at": "created_at",
    "updated_at": "updated_at",
    "id": "pk",
}


class ChannelFilterIn(ApiSchema):
    model_config = examples({"kind": "web_store", "is_active": True})

    kind: str | None = None
    warehouse: int | None = None
    is_active: bool | None = None
    updated_since: datetime | None = updated_since_param()
    ordering: str | None = ordering_param(CHANNEL_ORDERING, default="name")


class ChannelIn(ApiSchema):
    model_config = examples(
        {
            "code": "web",
            "name": "Web shop",
            "warehouse": 1,
            "kind": "web_store",
            "currency": "USD",
            "prices_include_tax": False,
            "invoice_policy": "shipped",
        }
    )

    code: str = Field(max_length=32)
    name: str = Field("", max_length=100)
    warehouse: int = Field(description="id of the warehouse its orders ship from")
    kind: ChannelKind = ChannelKind.MANUAL
    currency: str = Field("USD", max_length=3)
    prices_include_tax: bool = False
    invoice_policy: InvoicePolicy = InvoicePolicy.SHIPPED


class ChannelPatchIn(ApiSchema):
    model_config = examples({"name": "Web shop (EU)", "currency": "EUR"})

    name: str | None = Field(None, max_length=100)
    warehouse: int | None = None
    kind: ChannelKind | None = None
    currency: str | None = Field(None, max_length=3)
    prices_include_tax: bool | None = None
    invoice_policy: InvoicePolicy | None = None
    is_active: bool | None = Field(None, description="false archives the channel")


class ChannelOut(ApiSchema):
    model_config = examples(
        {
            "id": 1,
            "code": "web",
            "name": "Web shop",
            "kind": "web_store",
            "warehouse": 1,
            "warehouse_code": "WH1",
            "currency": "USD",
            "prices_include_tax": False,
            "invoice_policy": "shipped",
            "is_active": True,
        }
    )

    id: int
    code: str
    name: str
    kind: str
    warehouse: int = Field(alias="warehouse_id")
    warehouse_code: str = Field(alias="warehouse.code")
    currency: str
    prices_include_tax: bool
    invoice_policy: str
    is_active: bool
