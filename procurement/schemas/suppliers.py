"""Suppliers and their contacts; a supplier's detail lists its items and open purchase orders."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ninja import Field

from erp.api_helpers import ApiSchema, Money, examples, ordering_param, updated_since_param
from erp.contacts import ContactFieldsIn, ContactFieldsOut
from procurement.schemas.orders import PurchaseOrderBriefOut
from procurement.schemas.supplier_items import SUPPLIER_ITEM_EXAMPLE, SupplierItemOut

# The sort keys of each list: public name -> field. Old short names stay as aliases.
SUPPLIER_ORDERING = {
    "name": "name",
    "code": "code",
    "open_balance": "open_balance",
    "created_at": "created_at",
    "updated_at": "updated_at",
    "id": "pk",
}

# Examples for the OpenAPI document: one purchase order of 2 boxes of 12 parts, received and billed.
SUPPLIER_EXAMPLE: dict[str, Any] = {
    "id": 2,
    "code": "S-0002",
    "name": "Parts Inc",
    "email": "orders@parts.example",
    "phone": "",
    "currency": "USD",
    "payment_terms_days": 30,
    "lead_time_days": 7,
    "is_active": True,
    "open_orders": 1,
    "open_balance": "60.00",
    "created_at": "2030-01-02T09:00:00Z",
    "updated_at": "2030-01-31T12:00:00Z",
}


class SupplierFilterIn(ApiSchema):
    model_config = examples({"q": "parts", "is_active": True, "ordering": "-updated_at,id"})

    q: str | None = Field(None, description="part of the name, or a code or email prefix")
    is_active: bool | None = None
    updated_since: datetime | None = updated_since_param()
    ordering: str | None = ordering_param(SUPPLIER_ORDERING, default="name")


class SupplierContactIn(ContactFieldsIn):
    model_config = examples({"name": "Grace", "email": "grace@parts.example", "role": "sales"})


class SupplierContactOut(ContactFieldsOut):
    model_config = examples(
        {"id": 3, "name": "Grace", "email": "grace@parts.example", "phone": "", "role": "sales"}
    )


class SupplierIn(ApiSchema):
    model_config = examples(
        {
            "name": "Parts Inc",
            "email": "orders@parts.example",
            "currency": "USD",
            "payment_terms_days": 30,
            "lead_time_days": 7,
            "contacts": [{"name": "Grace", "role": "sales"}],
        }
    )

    name: str = Field(max_length=200)
    code: str = Field("", max_length=32, description="given (S-0001...) when empty")
    email: str = Field("", max_length=254)
    phone: str = Field("", max_length=40)
    currency: str = Field("USD", max_length=3)
    payment_terms_days: int = Field(30, ge=0)
    lead_time_days: int = Field(7, ge=0, description="default for its items")
    address: str = ""
    tax_id: str = Field("", max_length=40)
    notes: str = ""
    contacts: list[SupplierContactIn] = Field(default_factory=list)


class SupplierPatchIn(ApiSchema):
    """Only the fields sent are changed."""

    model_config = examples({"lead_time_days": 10, "is_active": True})

    name: str | None = Field(None, max_length=200)
    email: str | None = Field(None, max_length=254)
    phone: str | None = Field(None, max_length=40)
    currency: str | None = Field(None, max_length=3)
    payment_terms_days: int | None = Field(None, ge=0)
    lead_time_days: int | None = Field(None, ge=0)
    address: str | None = None
    tax_id: str | None = Field(None, max_length=40)
    notes: str | None = None
    is_active: bool | None = Field(None, description="false archives the supplier (no new orders)")


class SupplierOut(ApiSchema):
    model_config = examples(SUPPLIER_EXAMPLE)

    id: int
    code: str
    name: str
    email: str
    phone: str
    currency: str
    payment_terms_days: int
    lead_time_days: int
    is_active: bool
    open_orders: int = Field(description="purchase orders sent or partially received")
    open_balance: Money = Field(description="bills not paid yet (open, partially paid or in review)")
    created_at: datetime
    updated_at: datetime


class SupplierDetailOut(SupplierOut):
    model_config = examples(
        {
            **SUPPLIER_EXAMPLE,
            "address": "5 Mill Lane",
            "tax_id": "",
            "notes": "",
            "contacts": [],
            "items": [SUPPLIER_ITEM_EXAMPLE],
            "open_purchase_orders": [],
        }
    )

    address: str
    tax_id: str
    notes: str
    contacts: list[SupplierContactOut]
    items: list[SupplierItemOut]
    open_purchase_orders: list[PurchaseOrderBriefOut] = Field(description="sent or partially received")

    @staticmethod
    def resolve_contacts(obj: Any) -> list[Any]:
        return list(obj.contacts.all())

    @staticmethod
    def resolve_items(obj: Any) -> list[Any]:
        return list(obj.items.all())
