"""Bulk work set-based: a constant number of statements whatever the batch's size, the same
answers and per-item errors as one by one, and batches over the request's limit as a job."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from erp.exceptions import ValidationFailed
from erp.models import Job, OutboxEvent
from erp.money import quantize_money
from inventory import jobs
from inventory.models import Barcode, Product, StockLevel, StockMove, Tracking
from inventory.services import Demand, lot_get_or_create, stock_receive, stock_reserve
from inventory.services.bulk import JOB_MAX, MAX_BATCH, BatchInvalid, ProductUpsert, products_upsert
from inventory.services.counted import CountedLevel, stock_levels_set_counted
from tests.erp.factories import UserFactory
from tests.inventory.factories import ProductFactory, bin_of, unit, warehouse

pytestmark = pytest.mark.django_db


def _upsert_batch(tag: str, n: int) -> list[ProductUpsert]:
    """n new SKUs (every other with a barcode) and n existing products whose price changes."""
    existing = [ProductFactory(sku=f"{tag}-OLD-{i}", sale_price=D("1.00")) for i in range(n)]
    new = [
        ProductUpsert(
            sku=f"{tag}-NEW-{i}",
            values={"name": f"New {i}", "sale_price": "2.50"},
            barcodes=[f"{tag}-BC-{i}"] if i % 2 else None,
        )
        for i in range(n)
    ]
    changed = [ProductUpsert(sku=p.sku.lower(), values={"sale_price": "3.75"}) for p in existing]
    return new + changed


def test_product_upsert_costs_the_same_statements_for_4_items_or_40():
    # given
    small, large = _upsert_batch("S", 2), _upsert_batch("L", 20)

    # when
    with CaptureQueriesContext(connection) as few:
        products_upsert(items=small)
    with CaptureQueriesContext(connection) as many:
        done = products_upsert(items=large)

    # then: set-based, and what one by one writes is all there
    assert len(many) == len(few)
    assert [u.action for u in done] == ["created"] * 20 + ["updated"] * 20
    assert Product.objects.get(sku="L-NEW-3").sale_price == D("2.50")
    assert Product.objects.get(sku="L-OLD-7").sale_price == D("3.75")
    assert Barcode.objects.get(code="L-BC-3").product.sku == "L-NEW-3"
    created = OutboxEvent.objects.get(topic="inventory.product_created", payload__sku="L-NEW-3")
    assert created.payload["barcodes"] == ["L-BC-3"]
    assert created.payload["stock_unit"] == "pcs"
    updated = OutboxEvent.objects.get(topic="inventory.product_updated", payload__sku="L-OLD-7")
    assert updated.payload["sale_price"] == str(quantize_money("3.75"))  # as product_update says it
    assert Product.history.filter(sku="L-NEW-3").count() == 1
    assert list(Product.history.filter(sku="L-OLD-7").values_list("sale_price", flat=True)) == [
        D("3.75"),
        D("1.00"),
    ]


def test_product_upsert_names_each_refused_item_as_one_by_one_did():
    # given: a barcode already on another product
    ProductFactory(sku="HAS-BC").barcodes.create(code="TAKEN")
    ProductFactory(sku="OLD-1", sale_price=D("1.00"))

    # when
    with pytest.raises(BatchInvalid) as refused:
        products_upsert(
            items=[
                ProductUpsert(sku="NEW-1", values={"name": "One", "stock_unit": "parsec"}),
                ProductUpsert(sku="NEW-2", values={"name": "Two"}, barcodes=["TAKEN"]),
                ProductUpsert(sku="NEW-3", values={"name": "Three", "kind": "gadget"}),
                ProductUpsert(sku="OLD-1", values={"sale_price": "-2"}),
                ProductUpsert(sku="NEW-4", values={"name": "Four"}),
            ]
        )

    # then
    assert refused.value.field_errors == {
        "items.0.stock_unit": ["Unknown unit 'parsec'."],
        "items.1.barcodes": ["barcode TAKEN belongs to HAS-BC"],
        "items.2.kind": ["One of: stocked, service."],
        "items.3.sale_price": ["Cannot be negative."],
    }
    assert "4 of 5 products were refused" in refused.value.message
    assert not Product.objects.filter(sku="NEW-4").exists()
    assert Product.objects.get(sku="OLD-1").sale_price == D("1.00")


def _counted_batch(n: int, tag: str) -> list[CountedLevel]:
    stock = bin_of(warehouse("WH1"))
    items = []
    for i in range(n):
        product = ProductFactory(sku=f"{tag}-{i}")
        stock_receive(product=product, location=stock, quantity=10, unit_cost=1)
        items.append(CountedLevel(sku=product.sku, counted=D(7 + i % 5), location=stock.pk))
    return items


def test_counted_levels_cost_the_same_statements_for_3_lines_or_30():
    # given
    small, large = _counted_batch(3, "S"), _counted_batch(30, "L")

    # when
    with CaptureQueriesContext(connection) as few:
        stock_levels_set_counted(items=small, reference="small")
    with CaptureQueriesContext(connection) as many:
        result = stock_levels_set_counted(items=large, reference="large")

    # then: one post, each line its own move (none where the count was right)
    assert len(many) == len(few)
    assert [c.counted for c in result.items] == [D(7 + i % 5) for i in range(30)]
    assert sum(1 for c in result.items if c.move is None) == 6  # counted 10: nothing to move
    stock = bin_of(warehouse("WH1"))
    assert StockLevel.objects.get(product__sku="L-1", location=stock).on_hand == 8
    move = StockMove.objects.get(product__sku="L-1", kind="count")
    assert (move.kind, move.quantity, move.document_id) == ("count", 2, result.batch)
    assert move == result.items[1].move


def test_a_count_under_what_is_reserved_is_refused_on_its_item_as_stock_adjust_refuses_it():
    # given: 10 on hand, 6 of them reserved
    wh = warehouse("WH1")
    product = ProductFactory(sku="HELD")
    other = ProductFactory(sku="FREE")
    for p in (product, other):
        stock_receive(product=p, location=bin_of(wh), quantity=10, unit_cost=1)
    stock_reserve(product=product, warehouse=wh, quantity=6, demand=Demand("x", 1))

    # when
    with pytest.raises(BatchInvalid) as refused:
        stock_levels_set_counted(
            items=[
                CountedLevel(sku="FREE", counted=3, location=bin_of(wh).pk),
                CountedLevel(sku="HELD", counted=4, location=bin_of(wh).pk),
            ]
        )

    # then
    assert list(refused.value.field_errors) == ["items.1"]
    assert "6 is reserved for other demand" in refused.value.field_errors["items.1"][0]
    assert StockLevel.objects.get(product=other, location=bin_of(wh)).on_hand == 10


def test_what_only_the_ledger_refuses_is_still_named_on_its_item():
    # given: serial SN-1 is in stock at WH1; counting it at WH2 too would have it twice
    product = ProductFactory(sku="SER", tracking=Tracking.SERIAL, stock_unit=unit())
    serial = lot_get_or_create(product=product, code="SN-1")
    stock_receive(product=product, location=bin_of(warehouse("WH1")), quantity=1, unit_cost=1, lot=serial)
    plain = ProductFactory(sku="PLAIN")
    wh2 = bin_of(warehouse("WH2"))

    # when
    with pytest.raises(BatchInvalid) as refused:
        stock_levels_set_counted(
            items=[
                CountedLevel(sku="PLAIN", counted=5, location=wh2.pk),
                CountedLevel(sku="SER", counted=1, location=wh2.pk, lot="SN-1"),
            ]
        )

    # then: the batch fell back to one by one, which names the item; nothing was written
    assert refused.value.field_errors == {"items.1": ["Serial SN-1 of SER is already in stock."]}
    assert not StockMove.objects.filter(product=plain).exists()


def test_a_batch_over_the_request_limit_runs_as_a_job_with_the_same_answer():
    # given
    clerk = UserFactory(roles=["Warehouse"])
    items = [
        ProductUpsert(sku=f"JOB-{i}", values={"name": f"Job {i}", "sale_price": D("4.20")}) for i in range(3)
    ]

    # when (JOBS_INLINE in the tests: the job has run when it is returned)
    job = jobs.bulk_job_start(jobs.UPSERT_KIND, user=clerk, params=jobs.upsert_params(items))

    # then
    job.refresh_from_db()
    assert job.state == Job.State.DONE, job.error
    assert job.result["answer"]["created"] == ["JOB-0", "JOB-1", "JOB-2"]
    assert job.result["counts"] == {"Created": 3, "Updated": 0, "Unchanged": 0}
    assert job.params == {"items": 3}  # the items are not kept once done
    assert Product.objects.get(sku="JOB-1").sale_price == D("4.20")


def test_a_refused_job_keeps_the_errors_per_item_and_writes_nothing():
    # given
    clerk = UserFactory(roles=["Warehouse"])
    stock = bin_of(warehouse("WH1"))
    ProductFactory(sku="CNT")
    params = jobs.counted_params(
        [
            CountedLevel(sku="CNT", counted=D(3), location=stock.pk),
            CountedLevel(sku="NOPE", counted=D(1), location=stock.pk),
        ],
        reference="cycle 7",
    )

    # when
    job = jobs.bulk_job_start(jobs.COUNTED_KIND, user=clerk, params=params)

    # then
    job.refresh_from_db()
    assert job.state == Job.State.FAILED
    assert job.result["field_errors"] == {"items.1.sku": ["No product with SKU 'NOPE'."]}
    assert not StockMove.objects.filter(product__sku="CNT").exists()


def test_the_limits_a_request_and_a_job_hold_to():
    assert (MAX_BATCH, JOB_MAX) == (5_000, 50_000)
    with pytest.raises(ValidationFailed) as too_many:  # before anything is queued
        jobs.bulk_job_start(
            jobs.UPSERT_KIND, user=UserFactory(roles=["Warehouse"]), params={"items": [{}] * (JOB_MAX + 1)}
        )
    assert "At most 50000 items" in too_many.value.message
    assert not Job.objects.exists()


def test_a_receipt_of_many_lines_is_one_post_and_books_what_one_by_one_would():
    # given: two warehouses' worth of the same lines, one received line by line, one at once
    from inventory.services.stock import Receipt, stock_receive_many

    one_by_one, at_once = bin_of(warehouse("WH1")), bin_of(warehouse("WH2"))
    first, second = ProductFactory(sku="R-1"), ProductFactory(sku="R-2")
    lines = [Receipt(first, 4, "2.00"), Receipt(second, 1, "9.00"), Receipt(first, 6, "3.00")]
    for line in lines:
        stock_receive(
            product=line.product, location=one_by_one, quantity=line.quantity, unit_cost=line.unit_cost
        )
    cost_one_by_one = Product.objects.get(pk=first.pk).average_cost

    # when
    moves = stock_receive_many(lines=lines, location=at_once)
    few, many = ([Receipt(ProductFactory(), 1, "1.00") for _ in range(n)] for n in (3, 12))
    with CaptureQueriesContext(connection) as three:
        stock_receive_many(lines=few, location=at_once)
    with CaptureQueriesContext(connection) as twelve:
        stock_receive_many(lines=many, location=at_once)

    # then: the same levels and moving-average cost, moves in the lines' order, constant statements
    assert [(m.product_id, m.quantity, m.unit_cost) for m in moves] == [
        (first.pk, 4, D("2.00")),
        (second.pk, 1, D("9.00")),
        (first.pk, 6, D("3.00")),
    ]
    assert StockLevel.objects.get(product=first, location=at_once).on_hand == 10
    assert StockLevel.objects.get(product=second, location=at_once).on_hand == 1
    first.refresh_from_db()
    assert cost_one_by_one == D("2.6000")
    assert first.average_cost == D("2.6000")  # (10 x 2.60 + 10 x 2.60) / 20: unchanged by the second receipt
    assert len(twelve) == len(three)
