"""Global search: lots and serial numbers by code, opening the stock levels of that lot."""

from __future__ import annotations

import pytest

from erp import search as global_search
from inventory.services import lot_get_or_create, stock_receive
from tests.erp.factories import UserFactory
from tests.inventory.factories import ProductFactory, bin_of, warehouse

pytestmark = pytest.mark.django_db


def search(query: str) -> list[global_search.SearchResult]:
    return global_search._providers["inventory.lots"].search(query, 8)


def test_lots_and_serials_are_found_and_open_their_levels(client):
    # given
    product = ProductFactory(sku="DRILL", tracking="serial")
    serial = lot_get_or_create(product=product, code="SN-000123")
    stock_receive(product=product, location=bin_of(warehouse("WH1")), quantity=1, unit_cost="50", lot=serial)
    client.force_login(UserFactory(roles=["Warehouse"]))
    # when
    results = search("000123")
    page = client.get(results[0].url)
    # then
    assert [r.title for r in results] == ["SN-000123 · DRILL"]
    assert "serial number" in results[0].subtitle
    assert results[0].url == f"/inventory/levels/?product={product.pk}&lot={serial.pk}"
    assert page.status_code == 200
    assert "SN-000123" in page.content.decode()
    assert search("SN-999") == []


def test_lots_cost_one_query(django_assert_num_queries):
    # given
    for n in range(4):
        lot_get_or_create(product=ProductFactory(tracking="lot"), code=f"LOT-{n}")
    # when / then
    with django_assert_num_queries(1):
        assert len(search("LOT-")) == 4


def test_users_without_inventory_do_not_see_lots():
    # given
    lot_get_or_create(product=ProductFactory(tracking="lot"), code="LOT-42")
    nobody = UserFactory(roles=[])
    reader = UserFactory(roles=["Sales"])
    # when / then
    assert "inventory.lots" not in {p.key for p, _ in global_search.search("LOT-42", nobody)}
    assert "inventory.lots" in {p.key for p, _ in global_search.search("LOT-42", reader)}
