"""Global search: our records found by the ids connected tools give them (ExternalRef), grouped
by the area that may open them; one query per group."""

from __future__ import annotations

import pytest

from erp import search as global_search
from tests.erp.factories import UserFactory
from tests.integrations.factories import ConnectionFactory, ExternalRefFactory
from tests.inventory.factories import ProductFactory
from tests.sales.factories import order_for, stocked_product

pytestmark = pytest.mark.django_db


def search(area: str, query: str) -> list[global_search.SearchResult]:
    return global_search._providers[f"integrations.refs.{area}"].search(query, 8)


def test_an_order_is_found_by_the_tools_id_with_or_without_hash():
    # given
    order = order_for((stocked_product(3), 1), external_reference="#1042")
    shop = ConnectionFactory(name="Main shop")
    ExternalRefFactory(connection=shop, object_type="order", external_id="820982911946154508", internal=order)
    # when
    found = search("sales", "8209829119")
    hashed = search("sales", "#820982911946154508")
    # then
    assert [r.url for r in found] == [f"/sales/orders/{order.pk}/"]
    assert found[0].title == "820982911946154508 · Main shop"
    assert "our order" in found[0].subtitle
    assert [r.url for r in hashed] == [f"/sales/orders/{order.pk}/"]
    assert search("sales", "99999") == []


def test_products_go_to_inventory_readers_not_to_the_sales_group():
    # given
    product = ProductFactory(sku="TEE")
    ExternalRefFactory(object_type="variant", external_id="gid-777", internal=product)
    # when / then
    assert [r.url for r in search("inventory", "gid-777")] == [f"/inventory/products/{product.pk}/"]
    assert search("sales", "gid-777") == []


def test_each_group_costs_one_query(django_assert_num_queries):
    # given
    shop = ConnectionFactory()
    for n in range(4):
        order = order_for((stocked_product(3), 1))
        ExternalRefFactory(connection=shop, object_type="order", external_id=f"555{n}", internal=order)
    # when / then
    with django_assert_num_queries(1):
        assert len(search("sales", "555")) == 4


def test_a_user_without_sales_does_not_see_the_sales_group():
    # given
    order = order_for((stocked_product(3), 1))
    ExternalRefFactory(object_type="order", external_id="4242", internal=order)
    producer = UserFactory(roles=["Production"])
    seller = UserFactory(roles=["Sales"])
    # when / then
    assert "integrations.refs.sales" not in {p.key for p, _ in global_search.search("4242", producer)}
    assert "integrations.refs.sales" in {p.key for p, _ in global_search.search("4242", seller)}
