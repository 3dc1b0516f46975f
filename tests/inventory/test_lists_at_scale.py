"""The big lists of the inventory API (products, stock levels, moves): paged by cursor beside page
numbers, at a constant number of queries, and searched the way the trigram indexes serve."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test import Client

from inventory.filters import search_products
from inventory.models import Barcode, Product
from inventory.schemas.levels import LEVEL_ORDERING
from inventory.schemas.moves import MOVE_ORDERING
from inventory.schemas.products import PRODUCT_ORDERING
from inventory.services import stock_receive
from tests.erp.factories import UserFactory, api_key_for, bearer
from tests.inventory.factories import ProductFactory, bin_of, warehouse
from tests.queries import count_queries

pytestmark = pytest.mark.django_db

BASE = "/api/v1/inventory"


@pytest.fixture
def client() -> Client:
    return Client(**bearer(api_key_for(UserFactory(roles=["Warehouse"]))))


def _stock(n: int, *, start: int = 0) -> None:
    """n products, each received into one of two bins in two warehouses, with varied quantities and
    prices (so that every sort has ties and distinct values)."""
    bins = [bin_of(warehouse("WH1"), "A"), bin_of(warehouse("WH2"), "B")]
    for i in range(start, start + n):
        product = ProductFactory(sku=f"SKU-{i:03d}", name=f"Item {i % 3}", sale_price=Decimal(i % 4))
        stock_receive(product=product, location=bins[i % 2], quantity=1 + i % 3, unit_cost=1)


def _walk(client: Client, path: str, params: dict[str, Any]) -> tuple[list[int], list[int]]:
    """The ids of the whole list read by page numbers and by cursor, 2 at a time."""
    by_number: list[int] = []
    page = 1
    while True:
        answer = client.get(BASE + path, {**params, "page": page, "page_size": 2}).json()
        by_number += [item["id"] for item in answer["items"]]
        if len(answer["items"]) < 2:
            break
        page += 1
    by_cursor: list[int] = []
    cursor = None
    while True:
        response = client.get(
            BASE + path, {**params, "page_size": 2, **({"cursor": cursor} if cursor else {})}
        )
        assert response.status_code == 200, response.content
        answer = response.json()
        by_cursor += [item["id"] for item in answer["items"]]
        cursor = answer["next_cursor"]
        if cursor is None:
            return by_number, by_cursor


SORTS = [
    (path, ordering)
    for path, keys in (
        ("/products", PRODUCT_ORDERING),
        ("/levels", LEVEL_ORDERING),
        ("/moves", MOVE_ORDERING),
    )
    for ordering in ["", *keys, *(f"-{key}" for key in keys)]
]


@pytest.mark.parametrize(("path", "ordering"), SORTS, ids=[f"{p[1:]}-{o or 'default'}" for p, o in SORTS])
def test_every_sort_pages_by_cursor_as_by_number(client: Client, path: str, ordering: str):
    # given: 7 products in stock, one move each
    _stock(7)

    # when
    by_number, by_cursor = _walk(client, path, {"ordering": ordering} if ordering else {})

    # then: the same rows in the same order, each once
    assert by_cursor == by_number
    assert len(by_number) == len(set(by_number)) == 7


def test_cursor_of_another_ordering_is_refused(client: Client):
    # given
    _stock(3)
    cursor = client.get(f"{BASE}/moves", {"page_size": 1}).json()["next_cursor"]

    # when
    response = client.get(f"{BASE}/moves", {"page_size": 1, "cursor": cursor, "ordering": "sku"})
    altered = client.get(f"{BASE}/moves", {"page_size": 1, "cursor": cursor + "x"})

    # then
    assert response.status_code == altered.status_code == 422
    assert response.json()["errors"][0]["field"] == "cursor"
    assert "another ordering" in response.json()["detail"]


def test_filters_and_search_page_by_cursor(client: Client):
    # given
    _stock(9)

    # when: the moves of the products named "Item 1", in one warehouse's bins or not
    by_number, by_cursor = _walk(client, "/moves", {"q": "item 1"})
    levels_number, levels_cursor = _walk(client, "/levels", {"q": "item 1", "warehouse": warehouse("WH1").pk})

    # then
    assert by_cursor == by_number
    assert len(by_number) == 3
    assert levels_cursor == levels_number
    assert len(levels_number) == 1  # of SKU-001, SKU-004 and SKU-007, only SKU-004 is in WH1


@pytest.mark.parametrize("path", ["/products", "/levels", "/moves"])
def test_queries_per_page_do_not_grow(client: Client, path: str, django_assert_num_queries):
    # given: a few rows, and what page 1, a numbered page and a cursor page cost with them (pages
    # of 2, none of them the last)
    _stock(5)
    client.get(BASE + path)  # warm what is cached per process (content types, the key's last use)
    cursor = client.get(BASE + path, {"page_size": 2}).json()["next_cursor"]
    first = count_queries(lambda: client.get(BASE + path, {"page_size": 2}))
    numbered = count_queries(lambda: client.get(BASE + path, {"page": 2, "page_size": 2}))
    by_cursor = count_queries(lambda: client.get(BASE + path, {"page_size": 2, "cursor": cursor}))

    # when: many more rows
    _stock(16, start=5)
    cursor = client.get(BASE + path, {"page_size": 2}).json()["next_cursor"]

    # then: every kind of page costs what it did, and they all cost the same: a numbered page reads
    # its ids with the count (erp.pagination.page_and_count), a cursor page carries the count
    with django_assert_num_queries(first):
        client.get(BASE + path, {"page_size": 2})
    with django_assert_num_queries(numbered):
        client.get(BASE + path, {"page": 5, "page_size": 2})
    with django_assert_num_queries(by_cursor):
        client.get(BASE + path, {"page_size": 2, "cursor": cursor})
    with django_assert_num_queries(first):
        last = client.get(BASE + path, {"page": 11, "page_size": 2}).json()
    assert numbered == by_cursor == first
    assert (len(last["items"]), last["count"], last["count_exact"]) == (1, 21, True)


@pytest.mark.parametrize(
    ("q", "expected"),
    [("sku-00", ["SKU-001", "SKU-002"]), ("TEM 2", ["SKU-002"]), ("4006381333931", ["OTHER-3"]), ("KU-", [])],
    ids=["sku-prefix-any-case", "name-part", "barcode", "not-a-sku-prefix"],
)
def test_search_matches_sku_prefix_name_part_or_barcode(q: str, expected: list[str]):
    # given
    ProductFactory(sku="SKU-001", name="Item 1")
    ProductFactory(sku="SKU-002", name="Item 2")
    other = ProductFactory(sku="OTHER-3", name="Item 3")
    Barcode.objects.create(product=other, code="4006381333931")

    # when
    found = search_products(Product.objects.all(), q)

    # then
    assert sorted(p.sku for p in found) == expected


@pytest.mark.postgres
def test_search_is_served_by_the_sku_prefix_trigram_and_barcode_indexes():
    # given: the planner told not to scan whole tables where an index can serve (the tables are tiny)
    ProductFactory(sku="MUG-1", name="Blue mug")
    query = search_products(Product.objects.order_by(), "mug").values("pk").query
    sql, params = query.sql_with_params()

    # when
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())

    # then: each of the three conditions by its index (the SKU prefix as a B-tree range), OR-ed as one bitmap
    assert "inv_product_sku_prefix" in plan, plan
    assert "inv_product_name_trgm" in plan, plan
    assert "BitmapOr" in plan, plan
    assert "Seq Scan" not in plan, plan
