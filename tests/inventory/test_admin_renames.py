"""Django admin does not rename what stock levels keep a copy of: an existing product's SKU and an
existing location's name, parent and warehouse are read-only there (their services, behind the
staff pages and the API, rewrite the levels' copies; an admin save would leave them stale). A new
product's SKU is still entered there."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.inventory.factories import ProductFactory, bin_of, warehouse

pytestmark = pytest.mark.django_db


def test_an_existing_products_sku_is_read_only_in_admin_but_a_new_ones_is_entered(admin_client):
    product = ProductFactory(sku="TENT-2P")

    change = admin_client.get(reverse("admin:inventory_product_change", args=[product.pk]))
    add = admin_client.get(reverse("admin:inventory_product_add"))

    assert change.status_code == add.status_code == 200
    assert 'name="sku"' not in change.content.decode()
    assert "TENT-2P" in change.content.decode()
    assert 'name="sku"' in add.content.decode()


def test_an_existing_locations_name_and_place_are_read_only_in_admin(admin_client):
    location = bin_of(warehouse("WH1"))

    change = admin_client.get(reverse("admin:inventory_location_change", args=[location.pk]))

    assert change.status_code == 200
    page = change.content.decode()
    for field in ("name", "parent", "warehouse"):
        assert f'name="{field}"' not in page, field
    assert 'name="barcode"' in page
