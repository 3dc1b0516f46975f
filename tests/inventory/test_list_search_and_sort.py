"""Levels and moves searched through their product, and the ledger's default sort (issue #22): the
same rows in the same order as before, at a constant number of queries, and (PostgreSQL) the
search run once before the rows are read by their index on the product."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client

from inventory.filters import search_products
from inventory.models import Barcode, LocationKind, StockLevel, StockMove
from inventory.services import stock_receive
from tests.erp.factories import UserFactory, api_key_for, bearer
from tests.inventory.factories import ProductFactory, bin_of, warehouse
from tests.queries import count_queries

pytestmark = pytest.mark.django_db

BASE = "/api/v1/inventory"


@pytest.fixture
def client() -> Client:
    return Client(**bearer(api_key_for(UserFactory(roles=["Warehouse"]))))


def _stock(names: list[tuple[str, str]]) -> None:
    """Products (sku, name) each received into two bins (named so that the bins' path order is not
    their id order), and one product that matches no search."""
    bins = [bin_of(warehouse("WH2"), "B"), bin_of(warehouse("WH1"), "A"), bin_of(warehouse("WH1"), "C")]
    for index, (sku, name) in enumerate(names):
        product = ProductFactory(sku=sku, name=name)
        for bin_ in (bins[index % 3], bins[(index + 1) % 3]):
            stock_receive(product=product, location=bin_, quantity=1 + index, unit_cost=1)


def _levels_by_hand(skus: set[str]) -> list[int]:
    """The levels in bins of these SKUs in the list's default order, sorted here, not by the database."""
    rows = StockLevel.objects.filter(product__sku__in=skus, location__kind=LocationKind.INTERNAL).values_list(
        "pk", "product__sku", "location__path"
    )
    return [pk for pk, _, _ in sorted(rows, key=lambda row: (row[1], row[2], row[0]))]


def _moves_by_hand(skus: set[str]) -> list[int]:
    rows = StockMove.objects.filter(product__sku__in=skus).values_list("pk", "created_at")
    return [pk for pk, _ in sorted(rows, key=lambda row: (row[1], row[0]), reverse=True)]


def _ids(client: Client, path: str, params: dict[str, Any]) -> list[int]:
    response = client.get(BASE + path, params)
    assert response.status_code == 200, response.content
    return [item["id"] for item in response.json()["items"]]


NAMES = [
    ("MUG-RED", "Red mug"),
    ("CUP-1", "Tea cup"),
    ("MUG-BLUE", "Blue mug"),
    ("PLATE", "Dinner plate"),
    ("BOWL", "Mug-shaped bowl"),
]


@pytest.mark.parametrize(
    ("q", "skus"),
    [
        ("mug", {"MUG-RED", "MUG-BLUE", "BOWL"}),  # SKU prefix and name part, any case
        ("TEA C", {"CUP-1"}),
        ("4006381333931", {"PLATE"}),  # a barcode, exactly
        ("nothing", set()),
    ],
    ids=["sku-and-name", "name-part", "barcode", "none"],
)
def test_levels_and_moves_searched_by_product_in_their_order(client: Client, q: str, skus: set[str]):
    # given: levels in three bins and a move per level
    _stock(NAMES)
    plate = ProductFactory._meta.model.objects.get(sku="PLATE")
    Barcode.objects.create(product=plate, code="4006381333931")

    # when
    levels = _ids(client, "/levels", {"q": q})
    moves = _ids(client, "/moves", {"q": q})

    # then: the rows of the matching products, by SKU then bin path (levels), newest first (moves)
    assert levels == _levels_by_hand(skus)
    assert moves == _moves_by_hand(skus)
    assert len(levels) == 2 * len(skus)


def test_search_through_a_relation_reads_matching_ids_once():
    # given
    _stock(NAMES[:2])

    # when
    sql = str(search_products(StockLevel.objects.order_by(), "mug", prefix="product__").values("pk").query)

    # then: one condition on the level's own product_id (no join to the product, no semi-join)
    assert "inventory_product" in sql  # in the subquery only
    assert 'JOIN "inventory_product"' not in sql
    if connection.vendor == "postgresql":
        assert '"inventory_stocklevel"."product_id" = ANY(ARRAY(SELECT' in sql
    else:
        assert '"inventory_stocklevel"."product_id" IN (SELECT' in sql


@pytest.mark.parametrize("path", ["/levels", "/moves"])
def test_a_search_costs_the_same_queries_however_many_match(
    client: Client, path: str, django_assert_num_queries
):
    # given: two matching products, then many more
    _stock([("MUG-1", "Mug"), ("MUG-2", "Mug")])
    client.get(BASE + path, {"q": "mug"})  # warm what is cached per process
    few = count_queries(lambda: client.get(BASE + path, {"q": "mug"}))
    _stock([(f"MUG-{i}", "Mug") for i in range(3, 12)])

    # then
    with django_assert_num_queries(few):
        assert len(_ids(client, path, {"q": "mug"})) == 22


def _plan(sql: str, params: Any) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_sort = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        return "\n".join(row[0] for row in cursor.fetchall())


@pytest.mark.postgres
def test_levels_search_runs_the_trigram_search_once_then_reads_levels_by_product():
    # given: the levels of the list's default filter (bins only), searched
    _stock(NAMES)
    levels = search_products(
        StockLevel.objects.filter(location__kind=LocationKind.INTERNAL).order_by(), "mug", prefix="product__"
    )
    sql, params = levels.values("pk").query.sql_with_params()

    # when
    plan = _plan(sql, params)

    # then: the product search is an InitPlan (run once, whatever the join order), its ids an index
    # condition on the levels' product
    assert "InitPlan" in plan, plan
    assert plan.count("inv_product_name_trgm") == 1, plan
    assert "product_id = ANY ($" in plan, plan


@pytest.mark.postgres
def test_moves_default_sort_is_read_from_one_index():
    # given
    _stock(NAMES[:2])
    moves = StockMove.objects.order_by("-created_at", "-id").values("pk")
    sql, params = moves[40:91].query.sql_with_params()

    # when
    plan = _plan(sql, params)

    # then: the page's ids from the (created_at, id) index alone, backwards, with no sort
    assert "Index Only Scan Backward using inv_move_time_id_idx" in plan, plan
    assert "Sort" not in plan, plan
