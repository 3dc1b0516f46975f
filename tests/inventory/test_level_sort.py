"""The levels list's sort (issue #22): each level's copies of its SKU and path (product_sku,
location_path) give exactly the order the join to products and locations gave, on this database
and its collation; they are written by every path that creates a level and kept current when a
SKU or a path is renamed; pages by number and by cursor read the same rows in that order."""

from __future__ import annotations

import importlib
from decimal import Decimal
from typing import Any

import pytest
from django.apps import apps
from django.db import IntegrityError, connection, transaction
from django.test import Client

from inventory import integrity, selectors
from inventory.locks import lock_levels
from inventory.models import Location, LocationKind, Product, StockLevel
from inventory.services import (
    CountedLevel,
    location_create,
    location_update,
    product_update,
    stock_adjust,
    stock_levels_set_counted,
    stock_receive,
    warehouse_root,
)
from tests.erp.factories import UserFactory, api_key_for, bearer
from tests.inventory.factories import LotFactory, ProductFactory, bin_of, warehouse

pytestmark = pytest.mark.django_db

URL = "/api/v1/inventory/levels"

# Prefixes, punctuation that sorts below and above letters and digits, case and accents: where a
# key made by joining the SKU and the path (or a collation that skips punctuation) would reorder.
SKUS = ["A", "A-B", "A B", "AB", "A/B", "A0", "A_B", "a-c", "Ä", "Z"]
ZONES = ["A", "A-Z"]
BINS = ["1", "1-2", "10", "a", "Ä"]


@pytest.fixture
def client() -> Client:
    return Client(**bearer(api_key_for(UserFactory(roles=["Warehouse"]))))


def _tricky_stock() -> list[Location]:
    """The SKUs received into bins of two zones whose paths are prefixes of one another."""
    root = warehouse_root(warehouse("WH1"))
    bins = [bin_of(warehouse("WH1"), "A 1"), bin_of(warehouse("WH1"), "A.1")]
    for zone_name in ZONES:
        zone = location_create(parent=root, name=zone_name, kind=LocationKind.VIEW)
        bins += [location_create(parent=zone, name=name) for name in BINS]
    for index, sku in enumerate(SKUS):
        product = ProductFactory(sku=sku)
        for bin_ in bins[index % 4 :: 3]:
            stock_receive(product=product, location=bin_, quantity=1 + index, unit_cost=1)
    return bins


def _joined_order(levels: Any = None, *, sku: str = "product__sku") -> list[int]:
    """The ids in the order the list gave before the copies: sorted by the database through the
    join, under its own collation (the reference the copies must reproduce)."""
    levels = StockLevel.objects.all() if levels is None else levels
    return list(levels.order_by(sku, "location__path", "pk").values_list("pk", flat=True))


def _in_bins() -> Any:
    return StockLevel.objects.filter(location__kind=LocationKind.INTERNAL)


def _copies_agree() -> None:
    rows = StockLevel.objects.values_list("product_sku", "product__sku", "location_path", "location__path")
    assert rows.count() > 0
    assert [(sku, path) for sku, _, path, _ in rows] == [(sku, path) for _, sku, _, path in rows]


def _ids(client: Client, params: dict[str, Any]) -> list[int]:
    response = client.get(URL, params)
    assert response.status_code == 200, response.content
    return [item["id"] for item in response.json()["items"]]


def _walk(client: Client, params: dict[str, Any]) -> tuple[list[int], list[int]]:
    """The ids of the whole list read by page numbers and by cursor, 3 at a time."""
    by_number: list[int] = []
    page = 1
    while page_ids := _ids(client, {**params, "page": page, "page_size": 3}):
        by_number += page_ids
        page += 1
    by_cursor: list[int] = []
    cursor = None
    while True:
        answer = client.get(URL, {**params, "page_size": 3, **({"cursor": cursor} if cursor else {})}).json()
        by_cursor += [item["id"] for item in answer["items"]]
        if (cursor := answer["next_cursor"]) is None:
            return by_number, by_cursor


@pytest.mark.parametrize("include_virtual", [False, True], ids=["bins", "with-virtual"])
def test_the_list_is_in_the_order_the_join_gave_on_this_database(include_virtual: bool):
    # given
    _tricky_stock()

    # when
    listed = list(selectors.level_list(include_virtual=include_virtual).values_list("pk", flat=True))

    # then: the same ids in the same order as sorting through products and locations
    expected = StockLevel.objects.all()
    if not include_virtual:
        expected = expected.filter(location__kind=LocationKind.INTERNAL)
    assert listed == _joined_order(expected)
    assert len(listed) == expected.count() > len(SKUS)


def test_pages_by_number_and_by_cursor_read_the_joined_order(client: Client):
    # given: the tricky SKUs, and two lots of one product in one bin (same SKU and path: by id)
    bins = _tricky_stock()
    lot_product = ProductFactory(sku="A-B-LOT", tracking="lot")
    for code in ("L2", "L1"):
        lot = LotFactory(product=lot_product, code=code)
        stock_receive(product=lot_product, location=bins[0], quantity=1, unit_cost=1, lot=lot)

    # when
    by_number, by_cursor = _walk(client, {})
    mixed_number, mixed_cursor = _walk(client, {"ordering": "-sku,location"})

    # then
    assert by_number == by_cursor == _joined_order(_in_bins())
    assert mixed_number == mixed_cursor == _joined_order(_in_bins(), sku="-product__sku")


def test_a_cursor_continues_after_its_last_row_when_a_level_is_created_before_it(client: Client):
    # given: a first page of 3, read by cursor
    _tricky_stock()
    first = client.get(URL, {"page_size": 3}).json()
    seen = [item["id"] for item in first["items"]]

    # when: a level that sorts first is created, then the next page is read by its cursor
    stock_receive(product=ProductFactory(sku="0-FIRST"), location=bin_of(warehouse("WH1")), quantity=1)
    following = _ids(client, {"page_size": 3, "cursor": first["next_cursor"]})

    # then: the rows right after the last one seen, none again, none skipped
    expected = _joined_order(_in_bins())
    position = expected.index(seen[-1])
    assert following == expected[position + 1 : position + 4]


def test_every_way_of_creating_a_level_writes_its_copies():
    # given: levels created by a receipt (its bin and the supplier), an adjustment to a quantity,
    # a count, and the stock check's repair of a level the ledger explains but that is missing
    wh = warehouse("WH1")
    bin_of(wh, "C-BIN")
    products = [ProductFactory(sku=f"COPY-{n}") for n in range(4)]
    stock_receive(product=products[0], location=bin_of(wh), quantity=5, unit_cost=1)
    stock_adjust(product=products[1], location=bin_of(wh, "B"), quantity=3, reason="found")
    stock_levels_set_counted(items=[CountedLevel(sku="COPY-2", counted=4, location_path="WH1/C-BIN")])
    stock_receive(product=products[3], location=bin_of(wh, "D"), quantity=2, unit_cost=1)
    StockLevel.objects.filter(product=products[3], location__kind=LocationKind.INTERNAL).delete()

    # when
    integrity.repair(integrity.find_drift()[1])

    # then: every level carries its product's SKU and its location's path
    assert StockLevel.objects.filter(product=products[3], location=bin_of(wh, "D")).exists()
    assert StockLevel.objects.filter(product__in=products).count() == 8
    _copies_agree()


def test_a_renamed_sku_moves_its_levels_in_the_list(client: Client):
    # given: three products in two bins; the last by SKU is renamed to come first
    _tricky_stock()
    renamed = Product.objects.get(sku="Z")

    # when
    product_update(product=renamed, sku="0-NOW-FIRST")

    # then
    listed = _ids(client, {"page_size": 500})
    assert listed == _joined_order(_in_bins())
    assert StockLevel.objects.get(pk=listed[0]).product_id == renamed.pk
    _copies_agree()


def test_a_renamed_zone_rewrites_the_paths_of_every_level_under_it_and_no_other(client: Client):
    # given: zones "A" and "A-Z" (whose path starts like A's), each with bins holding stock
    _tricky_stock()
    zone = Location.objects.get(path="WH1/A")
    under = StockLevel.objects.filter(location__path__startswith="WH1/A/").count()
    untouched = dict(
        StockLevel.objects.exclude(location_path__startswith="WH1/A/").values_list("pk", "location_path")
    )

    # when
    location_update(location=zone, name="Q")

    # then: the levels under WH1/A are now under WH1/Q, in the list's order; the others unchanged
    assert StockLevel.objects.filter(location_path__startswith="WH1/Q/").count() == under > 0
    assert not StockLevel.objects.filter(location_path__startswith="WH1/A/").exists()
    assert untouched == dict(StockLevel.objects.filter(pk__in=untouched).values_list("pk", "location_path"))
    _copies_agree()
    listed = _ids(client, {"page_size": 500})
    assert listed == _joined_order(_in_bins())


def test_a_renamed_bin_rewrites_its_levels_paths():
    # given
    wh = warehouse("WH1")
    product = ProductFactory(sku="RN-1")
    stock_receive(product=product, location=bin_of(wh, "OLD"), quantity=1, unit_cost=1)

    # when
    location_update(location=bin_of(wh, "OLD"), name="NEW")

    # then
    assert (
        StockLevel.objects.get(product=product, location__kind=LocationKind.INTERNAL).location_path
        == "WH1/NEW"
    )


def test_a_level_whose_copies_went_stale_is_set_right_when_it_is_locked():
    # given: a level whose SKU copy is stale (as a level created while its SKU was being renamed)
    wh = warehouse("WH1")
    product = ProductFactory(sku="FRESH")
    stock_receive(product=product, location=bin_of(wh), quantity=1, unit_cost=1)
    StockLevel.objects.filter(product=product).update(product_sku="STALE", location_path="OLD/PATH")

    # when: the ledger locks it again
    stock_receive(product=product, location=bin_of(wh), quantity=1, unit_cost=1)

    # then
    _copies_agree()


def test_creating_levels_costs_no_query_when_the_caller_gives_the_skus(django_assert_num_queries):
    # given: two products without levels yet, and their SKUs as the ledger holds them
    wh = warehouse("WH1")
    products = [ProductFactory(), ProductFactory()]
    keys = [(p.pk, bin_of(wh).pk, None) for p in products]

    # when: their locations, the insert, the lock: as before the copies
    with django_assert_num_queries(3):
        locked = lock_levels(keys, skus={p.pk: p.sku for p in products})

    # then
    assert {level.product_sku for level in locked.values()} == {p.sku for p in products}
    assert {level.location_path for level in locked.values()} == {"WH1/Stock"}


def test_a_level_written_without_its_copies_is_refused():
    # given
    wh = warehouse("WH1")
    product = ProductFactory()

    # when / then: a raw insert without them (a fixture, a forgotten path) fails loudly
    with pytest.raises(IntegrityError), transaction.atomic():
        StockLevel.objects.create(product=product, location=bin_of(wh), warehouse=wh, on_hand=Decimal(1))


def test_the_migration_fills_the_copies_of_existing_levels():
    # given: levels whose copies are wrong (as before the migration: not there)
    _tricky_stock()
    StockLevel.objects.update(product_sku="?", location_path="?")
    migration = importlib.import_module("inventory.migrations.0011_level_sort_copies")

    class Editor:
        connection = connection

    # when
    migration.fill_sort_copies(apps, Editor())

    # then
    _copies_agree()
