"""A product name is at most 200 characters (the column's size): the form, the API and the service
say so next to the name and create nothing. PostgreSQL refuses a longer name with a DataError and
SQLite would store it, so the service checks it itself for every caller (connectors, the demo)."""

from __future__ import annotations

import pytest
from django.test import Client

from erp.exceptions import ValidationFailed
from inventory import services
from inventory.models import Product
from tests.erp.factories import UserFactory, api_key_for, bearer

pytestmark = pytest.mark.django_db

LONGEST = "X" * 200
TOO_LONG = "X" * 201


def test_the_service_refuses_a_name_over_200_characters_and_keeps_200():
    with pytest.raises(ValidationFailed) as refused:
        services.product_create(sku="LONG-1", name=TOO_LONG)
    product = services.product_create(sku="LONG-2", name=LONGEST)

    assert refused.value.field_errors == {"name": ["At most 200 characters."]}
    assert list(Product.objects.values_list("sku", flat=True)) == ["LONG-2"]
    assert product.name == LONGEST


def test_the_service_refuses_a_rename_over_200_characters():
    product = services.product_create(sku="MUG-1", name="Mug")

    with pytest.raises(ValidationFailed) as refused:
        services.product_update(product=product, name=TOO_LONG)

    assert refused.value.field_errors == {"name": ["At most 200 characters."]}
    product.refresh_from_db()
    assert product.name == "Mug"


def test_the_form_shows_the_limit_next_to_the_name(client: Client):
    client.force_login(UserFactory(username="wendy", roles=["Warehouse"]))
    data = {
        "sku": "LONG-1",
        "name": TOO_LONG,
        "category": "",
        "kind": "stocked",
        "tracking": "none",
        "stock_unit": "pcs",
        "sale_price": "1",
        "currency": "USD",
        "weight": "",
        "barcodes": "",
        "description": "",
    }

    response = client.post("/inventory/products/new/", data)

    assert response.status_code == 200
    errors = response.context["form"].errors
    assert errors["name"] == ["Ensure this value has at most 200 characters (it has 201)."]
    assert not Product.objects.exists()


def test_the_api_answers_422_on_the_name():
    headers = bearer(api_key_for(UserFactory(roles=["Warehouse"])))
    client = Client()

    created = client.post(
        "/api/v1/inventory/products",
        {"sku": "LONG-1", "name": TOO_LONG},
        content_type="application/json",
        **headers,
    )
    renamed = client.patch(
        f"/api/v1/inventory/products/{services.product_create(sku='MUG-1', name='Mug').pk}",
        {"name": TOO_LONG},
        content_type="application/json",
        **headers,
    )

    assert created.status_code == 422
    assert renamed.status_code == 422
    assert [e["field"] for e in created.json()["errors"]] == ["name"]
    assert [e["field"] for e in renamed.json()["errors"]] == ["name"]
    assert list(Product.objects.values_list("name", flat=True)) == ["Mug"]
