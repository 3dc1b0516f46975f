"""Every list of the inventory API costs the same number of queries for a few rows as for many."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from ninja.responses import NinjaJSONEncoder

from erp.models import User
from inventory import selectors
from inventory.integrity import run_check
from inventory.models import Attribute, AttributeValue, ProductTemplate, StockLevel
from inventory.schemas.levels import LevelOut
from inventory.schemas.products import ProductOut
from inventory.services import (
    Demand,
    Line,
    count_sheet_create,
    location_create,
    lot_get_or_create,
    product_create,
    product_template_create,
    reorder_rule_set,
    stock_receive,
    stock_reserve,
    transfer_ship,
    variant_add,
    warehouse_create,
    warehouse_root,
)
from tests.erp.factories import UserFactory, api_key_for, bearer
from tests.inventory.factories import CategoryFactory, ProductFactory, bin_of, warehouse
from tests.queries import FEW, MANY, assert_constant_queries

pytestmark = pytest.mark.django_db

BASE = "/api/v1/inventory"
_seq = itertools.count(1)


def _next() -> int:
    return next(_seq)


def _user() -> User:
    """One of three users, in turn (hashing a new user's password per row would be slow)."""
    username = f"clerk{_next() % 3}"
    return User.objects.filter(username=username).first() or UserFactory(username=username)


def _tracked_product_in_stock(location, quantity: int = 5):
    """A lot-tracked product with a category and a barcode, received into ``location`` with a lot."""
    i = _next()
    product = product_create(
        sku=f"P-{i:05d}",
        name=f"Product {i}",
        category=CategoryFactory(),
        tracking="lot",
        barcodes=[f"BC{i:08d}"],
    )
    lot = lot_get_or_create(product=product, code=f"L{i}")
    stock_receive(product=product, location=location, quantity=quantity, unit_cost=1, lot=lot, user=_user())
    return product, lot


# Each seeder adds n rows of what its endpoint lists, each row with every relation it shows,
# and returns the path to list them.


def seed_products(n: int) -> str:
    for i in range(n):
        _tracked_product_in_stock(bin_of(warehouse(f"PW{i % 3}")))
    return "/products"


def seed_variants(n: int) -> str:
    template = ProductTemplate.objects.filter(name="Shirt").first()
    if template is None:
        template = product_template_create(
            name="Shirt", sku_prefix="SH", attributes={"Size": [f"S{_next()}" for _ in range(n)]}
        )
    else:
        size = Attribute.objects.get(name="Size")
        for _ in range(n):
            value = AttributeValue.objects.create(attribute=size, value=f"S{_next()}")
            variant_add(template=template, values=[value], sku_prefix="SH")
    first = template.variants.order_by("pk").first()
    assert first is not None
    return f"/products/{first.pk}/variants"


def seed_warehouses(n: int) -> str:
    for _ in range(n):
        warehouse_create(code=f"W{_next()}", name="A warehouse")
    return "/warehouses"


def seed_locations(n: int) -> str:
    for i in range(n):
        root = warehouse_root(warehouse(f"LW{i % 3}"))
        location_create(parent=root, name=f"Bin {_next()}", barcode=f"LOC{_next()}")
    return "/locations"


def seed_levels(n: int) -> str:
    for i in range(n):
        _tracked_product_in_stock(bin_of(warehouse(f"VW{i % 3}"), f"Bin {i % 4}"))
    return "/levels"


def seed_moves(n: int) -> str:
    stock = bin_of(warehouse("WH1"))
    for _ in range(n):
        _tracked_product_in_stock(stock)  # one receipt each, by its own user
    return "/moves"


def seed_transfers(n: int) -> str:
    source, destination = bin_of(warehouse("WH1")), bin_of(warehouse("WH2"))
    for _ in range(n):
        product, lot = _tracked_product_in_stock(source)
        other, other_lot = _tracked_product_in_stock(source)
        transfer_ship(
            from_location=source,
            to_location=destination,
            lines=[
                Line(product=product, quantity=Decimal(2), lot=lot),
                Line(product=other, quantity=Decimal(1), lot=other_lot),
            ],
        )
    return "/transfers"


def seed_counts(n: int) -> str:
    for i in range(n):
        location = bin_of(warehouse(f"CW{i % 3}"), f"Bin {i % 4}")
        count_sheet_create(location=location, prefill=False, user=_user())
    return "/counts"


def seed_reservations(n: int) -> str:
    wh = warehouse("WH1")
    for i in range(n):
        product, _ = _tracked_product_in_stock(bin_of(wh, f"Bin {i % 4}"))
        stock_reserve(product=product, warehouse=wh, quantity=2, demand=Demand("sales.orderline", i))
    return "/reservations"


def seed_reorder_rules(n: int) -> str:
    for i in range(n):
        reorder_rule_set(
            product=ProductFactory(), warehouse=warehouse(f"RW{i % 3}"), min_quantity=1, max_quantity=5
        )
    return "/reorder-rules"


def seed_replenishment(n: int) -> str:
    for i in range(n):
        wh = warehouse(f"RW{i % 3}")
        product, _ = _tracked_product_in_stock(bin_of(wh), quantity=1)
        reorder_rule_set(product=product, warehouse=wh, min_quantity=10, max_quantity=20, multiple=5)
    return "/replenishment"


def seed_stock_checks(n: int) -> str:
    _tracked_product_in_stock(bin_of(warehouse("WH1")))
    for _ in range(n):
        run_check(user=_user())
    return "/stock-checks"


def seed_valuation(n: int) -> str:
    for _ in range(n):
        _tracked_product_in_stock(bin_of(warehouse(f"X{_next()}")))
    return "/valuation"


SEEDERS: dict[str, Callable[[int], str]] = {
    "products": seed_products,
    "variants": seed_variants,
    "warehouses": seed_warehouses,
    "locations": seed_locations,
    "levels": seed_levels,
    "moves": seed_moves,
    "transfers": seed_transfers,
    "counts": seed_counts,
    "reservations": seed_reservations,
    "reorder-rules": seed_reorder_rules,
    "replenishment": seed_replenishment,
    "stock-checks": seed_stock_checks,
    "valuation": seed_valuation,
}


def _size(body: dict[str, Any]) -> tuple[int, int]:
    """(rows in all, rows on this page): a paginated list, or the valuation's warehouses."""
    if "items" in body:
        return body["count"], len(body["items"])
    return len(body["warehouses"]), len(body["warehouses"])


@pytest.mark.parametrize("endpoint", list(SEEDERS))
def test_every_list_costs_constant_queries(endpoint: str):
    # given: a few rows, a Warehouse user's key
    client = Client()
    headers = bearer(api_key_for(UserFactory(roles=["Warehouse"])))
    seed = SEEDERS[endpoint]
    path = seed(FEW)
    sizes: list[tuple[int, int]] = []

    def list_them() -> None:
        response = client.get(BASE + path, **headers)
        assert response.status_code == 200, response.content
        sizes.append(_size(response.json()))

    # when: listed with a few rows, then with many
    queries = assert_constant_queries(list_them, lambda: seed(MANY - FEW))

    # then: the same number of queries, and all the new rows are there
    (total_before, _), (total_after, shown_after) = sizes[0], sizes[-1]
    assert total_after - total_before == MANY - FEW
    assert shown_after == min(total_after, 50)
    assert queries < 20


def test_pages_and_page_size():
    # given
    client = Client()
    headers = bearer(api_key_for(UserFactory(roles=["Warehouse"])))
    for i in range(7):
        ProductFactory(sku=f"PG-{i}")

    # when
    second = client.get(f"{BASE}/products", {"page": 2, "page_size": 3}, **headers).json()
    last = client.get(f"{BASE}/products", {"page": 3, "page_size": 3}, **headers).json()
    invalid = client.get(f"{BASE}/products", {"page": 0}, **headers)

    # then
    assert (second["count"], [p["sku"] for p in second["items"]]) == (7, ["PG-3", "PG-4", "PG-5"])
    assert [p["sku"] for p in last["items"]] == ["PG-6"]
    assert invalid.status_code == 422


def test_the_moves_list_reads_rows_of_columns_and_answers_each_move_as_its_own_page_does():
    # given: moves with and without a lot and a user, one of them reversed, over two pages by cursor
    client = Client()
    headers = bearer(api_key_for(UserFactory(roles=["Warehouse"])))
    seed_moves(3)
    stock = bin_of(warehouse("WH1"))
    plain = ProductFactory(sku="PLAIN-1")
    stock_receive(product=plain, location=stock, quantity=4, unit_cost=2)  # no lot, no user
    first = client.get(f"{BASE}/moves", {"page_size": 2, "ordering": "sku"}, **headers).json()
    second = client.get(
        f"{BASE}/moves", {"page_size": 2, "ordering": "sku", "cursor": first["next_cursor"]}, **headers
    ).json()

    # then: each item is what the move's own page (read from the model) says of it
    listed = first["items"] + second["items"]
    assert [m["sku"] for m in listed] == sorted(m["sku"] for m in listed)
    assert {m["sku"] for m in listed} >= {"PLAIN-1"}
    assert len({m["id"] for m in listed}) == 4
    for item in listed:
        detail = client.get(f"{BASE}/moves/{item['id']}", **headers).json()
        assert {**item, "reversed_by": None} == detail
    assert any(m["lot_code"] and m["user"] for m in listed)
    assert any(m["lot_code"] is None and m["user"] is None for m in listed)


def test_the_levels_list_reads_rows_of_columns_and_answers_what_each_level_reads():
    # given: levels with and without a lot, some reserved, at warehouses' bins
    client = Client()
    headers = bearer(api_key_for(UserFactory(roles=["Warehouse"])))
    seed_levels(3)
    plain = ProductFactory(sku="PLAIN-1")
    stock_receive(product=plain, location=bin_of(warehouse("WH1")), quantity=4, unit_cost=2)
    stock_reserve(product=plain, warehouse=warehouse("WH1"), quantity=Decimal(3), demand=Demand("test", 1))
    first = client.get(f"{BASE}/levels", {"page_size": 2}, **headers).json()
    second = client.get(f"{BASE}/levels", {"page_size": 2, "cursor": first["next_cursor"]}, **headers).json()

    # then: each item is what the schema reads of the level itself
    listed = first["items"] + second["items"]
    levels = {lv.pk: lv for lv in StockLevel.objects.filter(pk__in=[i["id"] for i in listed])}
    assert len(levels) == len(listed) == 4
    for item in listed:
        expected = LevelOut.model_validate(levels[item["id"]]).model_dump()
        assert item == json.loads(json.dumps(expected, cls=NinjaJSONEncoder))
    assert any(i["sku"] == "PLAIN-1" and i["available"] == "1.0000" and i["lot"] is None for i in listed)


def test_the_products_list_reads_rows_of_columns_with_barcodes_attached_and_answers_what_each_product_reads():
    # given: products with and without barcodes, category, stock and reservations, and a variant
    client = Client()
    headers = bearer(api_key_for(UserFactory(roles=["Warehouse"])))
    seed_products(2)
    seed_variants(1)
    plain = ProductFactory(sku="PLAIN-1", category=None)
    stock_receive(product=plain, location=bin_of(warehouse("WH1")), quantity=4, unit_cost=2)
    stock_reserve(product=plain, warehouse=warehouse("WH1"), quantity=Decimal(3), demand=Demand("test", 1))
    ProductFactory(sku="EMPTY-1")
    first = client.get(f"{BASE}/products", {"page_size": 3}, **headers).json()
    second = client.get(
        f"{BASE}/products", {"page_size": 3, "cursor": first["next_cursor"]}, **headers
    ).json()
    in_one = client.get(f"{BASE}/products", {"warehouse": warehouse("WH1").pk}, **headers).json()

    # then: each item is what the schema reads of the product itself (through the model)
    listed = first["items"] + second["items"]
    products = {p.pk: p for p in selectors.product_list().filter(pk__in=[i["id"] for i in listed])}
    assert len(products) == len(listed) == 5
    for item in listed:
        expected = ProductOut.model_validate(products[item["id"]]).model_dump()
        assert item == json.loads(json.dumps(expected, cls=NinjaJSONEncoder))
    assert any(i["barcodes"] and i["category_name"] for i in listed)
    assert any(i["sku"] == "PLAIN-1" and i["available"] == "1.0000" and i["barcodes"] == [] for i in listed)
    assert any(i["template"] is not None for i in listed)
    by_sku = {i["sku"]: i for i in in_one["items"]}
    assert (by_sku["PLAIN-1"]["on_hand"], by_sku["EMPTY-1"]["on_hand"]) == ("4.0000", "0.0000")
    assert all(i["on_hand"] == "0.0000" for sku, i in by_sku.items() if sku.startswith("P-"))


def test_a_search_that_finds_a_few_rows_runs_once():
    # given: many products, three of them named like the search
    client = Client()
    headers = bearer(api_key_for(UserFactory(roles=["Warehouse"])))
    for i in range(60):
        ProductFactory(sku=f"S-{i:03d}", name="Lamp" if i % 20 == 0 else f"Chair {i}")
    searched: list[str] = []

    def note(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        if "inventory_product" in sql and "LIKE" in sql:
            searched.append(sql)
        return execute(sql, params, many, context)

    # when
    with connection.execute_wrapper(note):
        answer = client.get(f"{BASE}/products", {"q": "lamp"}, **headers).json()

    # then: the page is its own count, and its rows are read by their ids, not searched again
    assert [i["sku"] for i in answer["items"]] == ["S-000", "S-020", "S-040"]
    assert (answer["count"], answer["count_exact"]) == (3, True)
    assert len(searched) == 1, searched
