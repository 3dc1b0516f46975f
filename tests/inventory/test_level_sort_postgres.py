"""The levels list's sort on PostgreSQL (issue #22): a page far down the list and a cursor page are
read from ``inv_level_sort_idx`` with no sort, and a level created while its product's SKU is
renamed by another transaction ends with the new SKU."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from django.db import connection, transaction

from erp.pagination import after, ordering_of
from inventory import selectors
from inventory.models import Product, StockLevel
from inventory.services import product_update, stock_receive
from tests.inventory.factories import ProductFactory, bin_of, warehouse

pytestmark = [pytest.mark.postgres]


def _plan(queryset: Any) -> str:
    """EXPLAIN of the query, the planner told to neither scan the (tiny) table nor sort where an
    index can serve: whatever still sorts has no index to read the order from."""
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_sort = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        return "\n".join(row[0] for row in cursor.fetchall())


def _stock(products: int) -> None:
    wh = warehouse("WH1")
    for n in range(products):
        stock_receive(product=ProductFactory(sku=f"P-{n:03d}"), location=bin_of(wh, f"B{n % 3}"), quantity=1)


@pytest.mark.django_db
def test_a_far_page_and_a_cursor_page_read_the_sort_index_without_sorting():
    # given: the list's default (levels in bins) as the pagination pages it, by number and by cursor
    _stock(12)
    levels = selectors.level_list(include_virtual=False)
    terms = ordering_of(levels)
    assert terms is not None
    far_page = levels.values_list("pk", flat=True)[9:12]
    last = levels[8]
    by_cursor = levels.filter(after(terms, [last.product_sku, last.location_path, last.pk])).values_list(
        "pk", flat=True
    )[:3]

    # when
    plans = [_plan(far_page), _plan(by_cursor)]

    # then: the ids come from the index alone, in its order
    for plan in plans:
        assert "inv_level_sort_idx" in plan, plan
        assert "Sort" not in plan, plan
    assert "Index Cond: (product_sku >= 'P-008'" in plans[1], plans[1]  # starts at the cursor


@pytest.mark.django_db(transaction=True)
def test_a_level_created_while_its_sku_is_renamed_gets_the_new_sku():
    # given: a product as a posting read it, and a rename holding the product's lock uncommitted
    product = ProductFactory(sku="OLD-SKU")
    stale = Product.objects.get(pk=product.pk)
    wh = warehouse("WH1")
    bin_ = bin_of(wh)
    renamed, release = threading.Event(), threading.Event()

    def rename() -> None:
        try:
            with transaction.atomic():
                product_update(product=product, sku="NEW-SKU")
                renamed.set()
                release.wait(10)
        finally:
            connection.close()

    renaming = threading.Thread(target=rename)
    renaming.start()
    assert renamed.wait(10)

    def post() -> None:
        try:
            stock_receive(product=stale, location=bin_, quantity=1, unit_cost=1)
        finally:
            connection.close()

    # when: the posting creates the product's levels (waiting on the rename's lock), then the
    # rename commits
    posting = threading.Thread(target=post)
    posting.start()
    time.sleep(0.5)
    release.set()
    renaming.join(10)
    posting.join(10)

    # then: its new levels carry the SKU committed, not the one the posting read
    skus = set(StockLevel.objects.filter(product=product).values_list("product_sku", flat=True))
    assert skus == {"NEW-SKU"}
    assert StockLevel.objects.filter(product=product).count() == 2
