"""What the sections of the sales API share: an address as written on a document, and a reason."""

from __future__ import annotations

from typing import Any

from ninja import Field

from erp.api_helpers import ApiSchema, examples

ADDRESS_EXAMPLE: dict[str, Any] = {
    "name": "Ada Lovelace",
    "company": "Engines Ltd",
    "line1": "1 Analytical St",
    "line2": "",
    "city": "London",
    "region": "",
    "postal_code": "N1 9GU",
    "country": "GB",
    "phone": "+44 20 7946 0000",
}


class SalesReasonIn(ApiSchema):
    model_config = examples({"reason": "customer asked"})

    reason: str = Field("", max_length=255)


class AddressFields(ApiSchema):
    """An address as written on a document. Customers' addresses need name, line1, city and country."""

    model_config = examples(ADDRESS_EXAMPLE)

    name: str = Field("", max_length=200, description="recipient")
    company: str = Field("", max_length=200)
    line1: str = Field("", max_length=200)
    line2: str = Field("", max_length=200)
    city: str = Field("", max_length=100)
    region: str = Field("", max_length=100)
    postal_code: str = Field("", max_length=20)
    country: str = Field("", max_length=2, description="ISO 3166-1 alpha-2")
    phone: str = Field("", max_length=40)
