"""Django admin does not rename what stock levels keep a copy of: an existing product's SKU and an
existing location's name, parent and warehouse are read-only there (their services, behind the
staff pages and the API, rewrite the levels' copies; an admin save would leave them stale). A new
product's SKU is still entered there."""

from __future__ import annotations

import pytest
from django.urls import reverse

from inventory.models import Location
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


def test_a_location_added_in_admin_gets_its_warehouse_and_path_from_the_zone_it_goes_under(admin_client):
    # given: a warehouse (its root zone and Stock bin)
    wh = warehouse("WH1")
    zone = Location.objects.get(warehouse=wh, parent=None)

    # when: a bin is added under the root zone in admin, without a warehouse or path
    add = admin_client.get(reverse("admin:inventory_location_add"))
    response = admin_client.post(
        reverse("admin:inventory_location_add"),
        {"parent": zone.pk, "name": " A-01 ", "kind": "internal", "barcode": "LOC-A01"},
    )

    # then: it is created as the warehouse page creates it: its warehouse, its full path
    assert add.status_code == 200
    assert 'name="warehouse"' not in add.content.decode()
    assert response.status_code == 302, response.content.decode()
    created = Location.objects.get(barcode="LOC-A01")
    assert (created.warehouse, created.parent, created.name) == (wh, zone, "A-01")
    assert created.path == f"{zone.path}/A-01"


@pytest.mark.parametrize(
    ("under", "name", "kind", "field", "message"),
    [
        ("bin", "X", "internal", "parent", "is a bin; locations go under a zone."),
        ("zone", "A/B", "internal", "name", "A name without &#x27;/&#x27; is required."),
        ("zone", "Stock", "internal", "name", "exists already."),
        ("zone", "Y", "customer", "kind", "A warehouse location is a zone (view) or a bin (internal)."),
        (None, "Z", "internal", "parent", "A location goes under a zone of a warehouse."),
    ],
)
def test_a_location_admin_cannot_add_is_refused_beside_its_field_and_nothing_is_written(
    admin_client, under, name, kind, field, message
):
    wh = warehouse("WH1")
    parent = {"zone": Location.objects.get(warehouse=wh, parent=None), "bin": bin_of(wh), None: None}[under]
    before = Location.objects.count()

    response = admin_client.post(
        reverse("admin:inventory_location_add"),
        {"parent": parent.pk if parent else "", "name": name, "kind": kind, "barcode": ""},
    )

    assert response.status_code == 200  # the form again, with the error
    assert message in response.content.decode()
    assert field in response.context["adminform"].form.errors
    assert Location.objects.count() == before
