"""Rules the inventory selectors hold that no page or endpoint test pins down on its own."""

from __future__ import annotations

import pytest

from inventory import selectors, services
from inventory.models import LocationKind, Warehouse
from tests.inventory.factories import warehouse

pytestmark = pytest.mark.django_db


def test_the_sole_warehouse_is_preselected_only_when_it_is_the_only_one():
    # no warehouse: nothing to preselect
    assert selectors.sole_warehouse_id() is None

    # one warehouse: that one
    first = warehouse("WH1")
    assert selectors.sole_warehouse_id() == first.pk

    # an archived second one counts only when every warehouse is offered
    second = warehouse("WH2")
    Warehouse.objects.filter(pk=second.pk).update(is_active=False)
    assert selectors.sole_warehouse_id(active_only=True) == first.pk
    assert selectors.sole_warehouse_id(active_only=False) is None


def test_a_location_is_found_by_its_barcode_or_its_path_in_any_case_never_a_virtual_one():
    wh = warehouse("WH1")
    shelf = services.location_create(parent=services.warehouse_root(wh), name="A-01", barcode="LOC-A01")
    virtual = services.virtual_location(LocationKind.ADJUSTMENT)

    assert selectors.location_by_code("LOC-A01") == shelf
    assert selectors.location_by_code("wh1/a-01") == shelf
    assert selectors.location_by_code("loc-a01") is None  # a barcode is exact
    assert selectors.location_by_code(virtual.path) is None  # it belongs to no warehouse
