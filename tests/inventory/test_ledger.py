"""The double-entry engine through the services that other apps call."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction

from erp.models import OutboxEvent
from inventory import availability
from inventory.exceptions import InsufficientStock, InvalidStockOperation
from inventory.models import LocationKind, StockLevel, StockMove
from inventory.models.stock import AppendOnlyError
from inventory.services import (
    Demand,
    Document,
    Line,
    lot_get_or_create,
    reservation_consume,
    reservation_release,
    reservations_release_for_demand,
    stock_adjust,
    stock_issue,
    stock_move_reverse,
    stock_receive,
    stock_reserve,
    stock_scrap,
    stock_transfer,
    transfer_receive,
    transfer_ship,
    virtual_location,
)
from tests.inventory.factories import ProductFactory, bin_of, unit, warehouse

pytestmark = pytest.mark.django_db
D = Decimal


def level(product, location, lot=None) -> StockLevel:
    return StockLevel.objects.get(product=product, location=location, lot=lot)


def test_receipt_moves_stock_from_supplier_and_sets_the_average_cost():
    # given
    product = ProductFactory()
    stock = bin_of(warehouse())

    # when
    move = stock_receive(
        product=product,
        location=stock,
        quantity=10,
        unit_cost="4.00",
        document=Document("procurement.receipt", 1, "RC-1"),
    )

    # then
    assert move.from_location == virtual_location(LocationKind.SUPPLIER)
    assert move.reference == "RC-1"
    assert level(product, stock).on_hand == 10
    assert level(product, virtual_location(LocationKind.SUPPLIER)).on_hand == -10
    product.refresh_from_db()
    assert product.average_cost == D("4.0000")


def test_moving_average_cost_over_receipts_and_issues():
    product = ProductFactory()
    stock = bin_of(warehouse())
    stock_receive(product=product, location=stock, quantity=10, unit_cost="4.00")
    stock_receive(product=product, location=stock, quantity=30, unit_cost="8.00")
    product.refresh_from_db()
    assert product.average_cost == D("7.0000")  # (10*4 + 30*8) / 40

    issue = stock_issue(product=product, location=stock, quantity=20)
    assert issue.unit_cost == D("7.0000")  # issues carry the average out
    stock_receive(product=product, location=stock, quantity=20, unit_cost="10.00")
    product.refresh_from_db()
    assert product.average_cost == D("8.5000")  # (20*7 + 20*10) / 40


def test_reversing_a_receipt_takes_its_cost_back_out():
    product = ProductFactory()
    stock = bin_of(warehouse())
    stock_receive(product=product, location=stock, quantity=10, unit_cost="4.00")
    wrong = stock_receive(product=product, location=stock, quantity=10, unit_cost="100.00")

    reversal = stock_move_reverse(move=wrong, reason="wrong price")

    product.refresh_from_db()
    assert product.average_cost == D("4.0000")
    assert reversal.reversal_of == wrong
    assert level(product, stock).on_hand == 10
    with pytest.raises(InvalidStockOperation, match="already been reversed"):
        stock_move_reverse(move=wrong, reason="again")
    with pytest.raises(InvalidStockOperation, match="itself a reversal"):
        stock_move_reverse(move=reversal, reason="undo the undo")


def test_negative_stock_is_refused_naming_product_location_quantities():
    product = ProductFactory(sku="WIDGET")
    stock = bin_of(warehouse())
    stock_receive(product=product, location=stock, quantity=3, unit_cost=1)

    with pytest.raises(InsufficientStock) as refusal:
        stock_issue(product=product, location=stock, quantity=5)

    message = str(refusal.value)
    assert "WIDGET" in message
    assert "WH1/Stock" in message
    assert "5 requested" in message
    assert "3 available" in message
    assert level(product, stock).on_hand == 3
    assert StockMove.objects.count() == 1


def test_a_warehouse_may_allow_negative_stock():
    product = ProductFactory()
    stock = bin_of(warehouse("NEG", allow_negative=True))

    stock_issue(product=product, location=stock, quantity=4)

    assert level(product, stock).on_hand == -4


def test_issue_never_takes_reserved_stock_even_where_negative_is_allowed():
    product = ProductFactory()
    wh = warehouse("NEG", allow_negative=True)
    stock = bin_of(wh)
    stock_receive(product=product, location=stock, quantity=5, unit_cost=1)
    stock_reserve(product=product, warehouse=wh, quantity=5, demand=Demand("sales.orderline", 1))

    with pytest.raises(InsufficientStock, match="reserved for other demand"):
        stock_issue(product=product, location=stock, quantity=1)


def test_reserve_consume_release_lifecycle():
    product = ProductFactory()
    wh = warehouse()
    stock = bin_of(wh)
    stock_receive(product=product, location=stock, quantity=10, unit_cost=2)

    [held] = stock_reserve(
        product=product, warehouse=wh, quantity=6, demand=Demand("sales.orderline", 7, "SO-7")
    )
    assert (level(product, stock).on_hand, level(product, stock).reserved) == (10, 6)
    assert availability.of(product.pk, wh.pk).available == 4

    move = reservation_consume(reservation=held, quantity=4, document=Document("sales.shipment", 1, "SH-1"))
    held.refresh_from_db()
    assert move.to_location.kind == LocationKind.CUSTOMER
    assert (held.quantity, held.consumed_quantity, held.status) == (2, 4, "active")
    assert (level(product, stock).on_hand, level(product, stock).reserved) == (6, 2)

    reservation_release(reservation=held)
    held.refresh_from_db()
    assert (held.quantity, held.released_quantity, held.status) == (0, 2, "released")
    assert level(product, stock).reserved == 0
    with pytest.raises(InvalidStockOperation, match="released"):
        reservation_release(reservation=held)


def test_reserve_all_or_nothing_and_partial():
    product = ProductFactory()
    wh = warehouse()
    stock_receive(product=product, location=bin_of(wh), quantity=3, unit_cost=1)

    with pytest.raises(InsufficientStock, match="4 requested, 3 available"):
        stock_reserve(product=product, warehouse=wh, quantity=4, demand=Demand("x", 1))
    partial = stock_reserve(
        product=product, warehouse=wh, quantity=4, demand=Demand("x", 1), allow_partial=True
    )
    assert sum(r.quantity for r in partial) == 3
    assert (
        stock_reserve(product=product, warehouse=wh, quantity=1, demand=Demand("x", 2), allow_partial=True)
        == []
    )


def test_reservation_takes_first_expiring_lot_first_across_bins():
    from datetime import date

    product = ProductFactory(tracking="lot")
    wh = warehouse()
    late = lot_get_or_create(product=product, code="LATE", expiry_date=date(2027, 6, 1))
    soon = lot_get_or_create(product=product, code="SOON", expiry_date=date(2027, 1, 1))
    stock_receive(product=product, location=bin_of(wh, "A"), quantity=5, unit_cost=1, lot=late)
    stock_receive(product=product, location=bin_of(wh, "B"), quantity=2, unit_cost=1, lot=soon)

    held = stock_reserve(product=product, warehouse=wh, quantity=4, demand=Demand("x", 1))

    assert [(r.lot.code, r.quantity) for r in held] == [("SOON", 2), ("LATE", 2)]


def test_release_for_demand_releases_everything_held():
    product = ProductFactory()
    wh = warehouse()
    stock_receive(product=product, location=bin_of(wh, "A"), quantity=2, unit_cost=1)
    stock_receive(product=product, location=bin_of(wh, "B"), quantity=2, unit_cost=1)
    stock_reserve(product=product, warehouse=wh, quantity=3, demand=Demand("sales.orderline", 9))

    assert reservations_release_for_demand(demand_type="sales.orderline", demand_id=9) == 2
    assert not StockLevel.objects.filter(reserved__gt=0).exists()
    assert reservations_release_for_demand(demand_type="sales.orderline", demand_id=9) == 0


def test_direct_transfer_is_all_lines_or_none():
    a, b = ProductFactory(), ProductFactory()
    wh = warehouse()
    src, dst = bin_of(wh, "A"), bin_of(wh, "B")
    stock_receive(product=a, location=src, quantity=5, unit_cost=1)

    with pytest.raises(InsufficientStock):
        stock_transfer(from_location=src, to_location=dst, lines=[Line(a, D(2)), Line(b, D(1))])
    assert level(a, src).on_hand == 5
    moves = stock_transfer(from_location=src, to_location=dst, lines=[Line(a, D(2))])
    assert len(moves) == 1
    assert (level(a, src).on_hand, level(a, dst).on_hand) == (3, 2)


def test_two_step_transfer_goes_through_transit_and_counts_as_incoming():
    product = ProductFactory()
    east, west = warehouse("EAST"), warehouse("WEST")
    stock_receive(product=product, location=bin_of(east), quantity=8, unit_cost=1)

    transfer = transfer_ship(
        from_location=bin_of(east), to_location=bin_of(west), lines=[Line(product, D(5))]
    )
    transit = virtual_location(LocationKind.TRANSIT)
    assert level(product, transit).on_hand == 5
    assert availability.of(product.pk, west.pk).incoming == 5
    assert availability.of(product.pk, east.pk).on_hand == 3

    transfer_receive(transfer=transfer)
    assert level(product, transit).on_hand == 0
    assert availability.of(product.pk, west.pk).on_hand == 5
    assert availability.of(product.pk, west.pk).incoming == 0
    from erp.exceptions import InvalidTransition

    with pytest.raises(InvalidTransition, match="'done'"):
        transfer_receive(transfer=transfer)


def test_adjust_to_a_quantity_and_by_a_delta_and_scrap():
    product = ProductFactory()
    stock = bin_of(warehouse())
    stock_adjust(product=product, location=stock, quantity=7, reason="opening stock")
    stock_adjust(product=product, location=stock, delta=-2, reason="found damaged")
    assert stock_adjust(product=product, location=stock, quantity=5, reason="recount") is None
    stock_scrap(product=product, location=stock, quantity=1, reason="broken")

    assert level(product, stock).on_hand == 4
    assert level(product, virtual_location(LocationKind.SCRAP)).on_hand == 1
    with pytest.raises(Exception, match="reason"):
        stock_adjust(product=product, location=stock, delta=1, reason=" ")


def test_tracked_products_need_lots_and_serials_move_one_at_a_time():
    lotted = ProductFactory(tracking="lot")
    serial = ProductFactory(tracking="serial")
    stock = bin_of(warehouse())

    with pytest.raises(InvalidStockOperation, match="lot"):
        stock_receive(product=lotted, location=stock, quantity=1, unit_cost=1)
    sn = lot_get_or_create(product=serial, code="SN-1")
    with pytest.raises(InvalidStockOperation, match="one at a time"):
        stock_receive(product=serial, location=stock, quantity=2, unit_cost=1, lot=sn)
    stock_receive(product=serial, location=stock, quantity=1, unit_cost=1, lot=sn)
    with pytest.raises(InvalidStockOperation, match="already in stock"):
        stock_receive(product=serial, location=bin_of(warehouse(), "B"), quantity=1, unit_cost=1, lot=sn)


def test_whole_units_and_positive_quantities():
    product = ProductFactory()
    kilo = ProductFactory(stock_unit=unit("kg"))
    stock = bin_of(warehouse())
    with pytest.raises(InvalidStockOperation, match="whole number"):
        stock_receive(product=product, location=stock, quantity="1.5", unit_cost=1)
    with pytest.raises(InvalidStockOperation, match="positive"):
        stock_receive(product=product, location=stock, quantity=0, unit_cost=1)
    stock_receive(product=kilo, location=stock, quantity="1.25", unit_cost=1)
    assert level(kilo, stock).on_hand == D("1.25")


def test_moves_are_append_only():
    product = ProductFactory()
    move = stock_receive(product=product, location=bin_of(warehouse()), quantity=1, unit_cost=1)

    with pytest.raises(AppendOnlyError):
        move.save()
    with pytest.raises(AppendOnlyError):
        move.delete()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigger is PostgreSQL's")
def test_database_refuses_updates_and_deletes_of_moves():
    product = ProductFactory()
    stock_receive(product=product, location=bin_of(warehouse()), quantity=1, unit_cost=1)

    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        StockMove.objects.update(quantity=5)
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        StockMove.objects.all().delete()


def test_level_changed_event_per_product_and_warehouse():
    product = ProductFactory(sku="EVT")
    wh = warehouse()
    stock_receive(product=product, location=bin_of(wh, "A"), quantity=4, unit_cost=1)
    stock_reserve(product=product, warehouse=wh, quantity=1, demand=Demand("x", 1))

    events = list(OutboxEvent.objects.filter(topic="inventory.level_changed").order_by("id"))
    assert [e.payload["available"] for e in events] == ["4.0000", "3.0000"]
    assert events[-1].payload == {
        "product_id": product.pk,
        "sku": "EVT",
        "warehouse_id": wh.pk,
        "on_hand": "4.0000",
        "reserved": "1.0000",
        "available": "3.0000",
        "available_change": "-1.0000",
    }
    assert [e.sequence for e in events] == [1, 2]


def test_a_product_with_stock_history_cannot_become_a_service():
    from erp.exceptions import ValidationFailed
    from inventory.services import product_update

    product = ProductFactory()
    stock_receive(product=product, location=bin_of(warehouse()), quantity=1, unit_cost=1)
    with pytest.raises(ValidationFailed, match="cannot become a service"):
        product_update(product=product, kind="service")


def test_missing_levels_are_created_in_one_order_whatever_order_they_are_asked_in():
    """Two operations creating the same missing level rows (a product's level at a virtual location
    is every receipt's) wait on each other's inserts: in opposite orders they would deadlock (seen
    between a worker and another process, whose sets of keys iterate differently). So the rows are
    inserted sorted by product, location and lot, as every lock in inventory is taken."""
    from unittest import mock

    from inventory import locks
    from inventory.locks import lock_levels

    wh = warehouse()
    first, second = bin_of(wh, "A"), bin_of(wh, "B")
    products = [ProductFactory() for _ in range(4)]
    keys = [(p.pk, loc.pk, None) for p in reversed(products) for loc in (second, first)]
    inserted: list[tuple[int, int]] = []
    real = locks.insert_rows

    def recording(model, fields, rows, **kwargs):
        inserted.extend((row[0], row[1]) for row in rows)  # product_id, location_id
        return real(model, fields, rows, **kwargs)

    with mock.patch.object(locks, "insert_rows", side_effect=recording):
        locked = lock_levels(keys)

    assert inserted == sorted(inserted)
    assert len(inserted) == len(locked) == 8
