"""Customers, their addresses and contacts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ninja import Field

from erp.api_helpers import ApiSchema, Money, examples, ordering_param, updated_since_param
from erp.contacts import ContactFieldsIn, ContactFieldsOut
from sales.models import Address, CustomerKind, PaymentTerms
from sales.schemas.common import ADDRESS_EXAMPLE, AddressFields
from sales.schemas.orders import OrderBriefOut

# The sort keys of each list: public name -> field. Old short names stay as aliases.
CUSTOMER_ORDERING = {
    "name": "name",
    "code": "code",
    "open_balance": "open_balance",
    "created_at": "created_at",
    "updated_at": "updated_at",
    "id": "pk",
}

# Examples for the OpenAPI document.
CUSTOMER_EXAMPLE: dict[str, Any] = {
    "id": 3,
    "code": "C-00003",
    "kind": "company",
    "name": "Engines Ltd",
    "email": "ap@engines.example",
    "phone": "",
    "tax_id": "GB123456789",
    "tax_exempt": False,
    "currency": "USD",
    "payment_terms": "net_30",
    "is_active": True,
    "open_balance": "24.00",
    "created_at": "2030-01-02T09:00:00Z",
    "updated_at": "2030-01-31T12:00:00Z",
}


class AddressIn(AddressFields):
    model_config = examples({**ADDRESS_EXAMPLE, "kind": "shipping", "default": True})

    kind: Address.Kind
    default: bool = Field(True, description="replaces the customer's default address of this kind")


class AddressOut(ApiSchema):
    model_config = examples({"id": 8, "kind": "billing", **ADDRESS_EXAMPLE, "is_default": True})

    id: int
    kind: str
    name: str
    company: str
    line1: str
    line2: str
    city: str
    region: str
    postal_code: str
    country: str
    phone: str
    is_default: bool


class ContactIn(ContactFieldsIn):
    model_config = examples({"name": "Charles", "email": "charles@engines.example", "role": "buyer"})


class ContactOut(ContactFieldsOut):
    model_config = examples(
        {"id": 2, "name": "Charles", "email": "charles@engines.example", "phone": "", "role": "buyer"}
    )


class CustomerFilterIn(ApiSchema):
    model_config = examples({"q": "engines", "is_active": True, "ordering": "-updated_at,id"})

    q: str | None = Field(None, description="part of the name, code prefix or exact email")
    kind: str | None = None
    is_active: bool | None = None
    updated_since: datetime | None = updated_since_param()
    ordering: str | None = ordering_param(CUSTOMER_ORDERING, default="name")


class CustomerIn(ApiSchema):
    model_config = examples(
        {
            "name": "Engines Ltd",
            "email": "ap@engines.example",
            "payment_terms": "net_30",
            "billing_address": ADDRESS_EXAMPLE,
            "contacts": [{"name": "Charles", "role": "buyer"}],
        }
    )

    name: str = Field(max_length=200)
    kind: CustomerKind = CustomerKind.COMPANY
    code: str = Field("", max_length=32, description="given (C-00001...) when empty")
    email: str = Field("", max_length=254)
    phone: str = Field("", max_length=40)
    tax_id: str = Field("", max_length=40)
    tax_exempt: bool = False
    currency: str = Field("USD", max_length=3)
    payment_terms: PaymentTerms = PaymentTerms.NET_30
    notes: str = ""
    billing_address: AddressFields | None = None
    shipping_address: AddressFields | None = Field(None, description="the billing address when left out")
    contacts: list[ContactIn] = Field(default_factory=list)


class CustomerPatchIn(ApiSchema):
    """Only the fields sent are changed."""

    model_config = examples({"payment_terms": "net_15", "is_active": True})

    name: str | None = Field(None, max_length=200)
    kind: CustomerKind | None = None
    email: str | None = Field(None, max_length=254)
    phone: str | None = Field(None, max_length=40)
    tax_id: str | None = Field(None, max_length=40)
    tax_exempt: bool | None = None
    currency: str | None = Field(None, max_length=3)
    payment_terms: PaymentTerms | None = None
    notes: str | None = None
    is_active: bool | None = Field(None, description="false archives the customer")


class CustomerOut(ApiSchema):
    model_config = examples(CUSTOMER_EXAMPLE)

    id: int
    code: str
    kind: str
    name: str
    email: str
    phone: str
    tax_id: str
    tax_exempt: bool
    currency: str
    payment_terms: str
    is_active: bool
    open_balance: Money = Field(description="issued invoices not paid yet")
    created_at: datetime
    updated_at: datetime


class CustomerDetailOut(CustomerOut):
    model_config = examples(
        {**CUSTOMER_EXAMPLE, "notes": "", "addresses": [], "contacts": [], "recent_orders": []}
    )

    notes: str
    addresses: list[AddressOut]
    contacts: list[ContactOut]
    recent_orders: list[OrderBriefOut] = Field(description="the ten latest")
