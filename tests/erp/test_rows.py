"""Many rows written in one statement (erp.rows): an array per column on PostgreSQL, VALUES or
bulk_create elsewhere. Run on both databases."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from erp.rows import insert_rows, update_rows
from inventory.models import StockLevel
from tests.inventory.factories import ProductFactory, bin_of, warehouse

pytestmark = pytest.mark.django_db


def _levels(n: int) -> list[StockLevel]:
    wh = warehouse()
    place = bin_of(wh)
    return [
        StockLevel.objects.create(
            product=p, location=place, warehouse=wh, product_sku=p.sku, location_path=place.path
        )
        for p in (ProductFactory() for _ in range(n))
    ]


def test_update_rows_writes_each_rows_own_values_and_the_time_of_the_write():
    # given: three levels, two of them changed in memory, written a while ago
    levels = _levels(3)
    StockLevel.objects.update(updated_at=timezone.now() - timedelta(days=1))
    first, second, untouched = levels
    first.on_hand, first.reserved = Decimal("5.5"), Decimal(2)
    second.on_hand = Decimal(7)
    started = timezone.now()

    # when
    update_rows(StockLevel, [first, second], ["on_hand", "reserved", "updated_at"])

    # then
    rows = {lv.pk: lv for lv in StockLevel.objects.all()}
    assert (rows[first.pk].on_hand, rows[first.pk].reserved) == (Decimal("5.5"), Decimal(2))
    assert (rows[second.pk].on_hand, rows[second.pk].reserved) == (Decimal(7), Decimal(0))
    assert rows[first.pk].updated_at >= started
    assert rows[second.pk].updated_at >= started
    assert rows[untouched.pk].updated_at < started


def test_insert_rows_fills_the_other_columns_with_their_defaults_and_leaves_out_conflicts():
    # given: a level that exists, and two products without one
    existing = _levels(1)[0]
    StockLevel.objects.filter(pk=existing.pk).update(on_hand=4)
    new = [ProductFactory(), ProductFactory()]
    place = existing.location
    started = timezone.now()

    # when: the existing key asked again with the two new ones
    insert_rows(
        StockLevel,
        ("product_id", "location_id", "lot_id", "warehouse_id", "product_sku", "location_path"),
        [(p.pk, place.pk, None, existing.warehouse_id, p.sku, place.path) for p in (existing.product, *new)],
        ignore_conflicts=True,
    )

    # then: the new rows with on hand, reserved and the time by default; the existing one as it was
    rows = {lv.product_id: lv for lv in StockLevel.objects.all()}
    assert len(rows) == 3
    assert rows[existing.product_id].on_hand == Decimal(4)
    for product in new:
        row = rows[product.pk]
        assert (row.on_hand, row.reserved, row.lot_id) == (Decimal(0), Decimal(0), None)
        assert (row.product_sku, row.location_path) == (product.sku, place.path)
        assert row.updated_at >= started
