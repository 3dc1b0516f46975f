"""Property-based: whatever sequence of operations staff and apps throw at the ledger,

* every level's on_hand equals the sum of its moves (and reserved the sum of active reservations),
* reserved never exceeds on_hand,
* on_hand never goes negative where that is refused,
* the total over all locations, virtual ones included, is conserved (zero per product).
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

import pytest
from django.db import transaction
from django.db.models import Sum
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from erp.exceptions import DomainError
from inventory.integrity import find_drift
from inventory.models import LocationKind, Reservation, ReservationStatus, StockLevel, StockMove
from inventory.services import (
    Demand,
    Line,
    reservation_consume,
    reservation_release,
    stock_adjust,
    stock_issue,
    stock_move_reverse,
    stock_receive,
    stock_reserve,
    stock_scrap,
    stock_transfer,
    transfer_receive,
    transfer_ship,
)
from tests.inventory.factories import ProductFactory, bin_of, warehouse

qty = st.integers(min_value=1, max_value=12)
product_i = st.integers(min_value=0, max_value=1)
bin_i = st.integers(min_value=0, max_value=2)
pick = st.integers(min_value=0, max_value=50)

reserve = st.tuples(st.just("reserve"), product_i, qty, st.booleans())
consume = st.tuples(st.just("consume"), pick, qty)
arrive = st.tuples(st.just("arrive"), pick)
# Reservations and transit need earlier operations to act on, so they are drawn more often.
operations = st.one_of(
    reserve,
    consume,
    reserve,
    consume,
    arrive,
    st.tuples(st.just("receive"), product_i, bin_i, qty, st.integers(min_value=0, max_value=20)),
    st.tuples(st.just("issue"), product_i, bin_i, qty),
    st.tuples(st.just("transfer"), product_i, bin_i, bin_i, qty),
    st.tuples(st.just("ship"), product_i, qty),
    st.tuples(st.just("arrive"), pick),
    st.tuples(st.just("adjust"), product_i, bin_i, st.integers(min_value=-8, max_value=8)),
    st.tuples(st.just("scrap"), product_i, bin_i, qty),
    st.tuples(st.just("reserve"), product_i, qty, st.booleans()),
    st.tuples(st.just("release"), pick),
    st.tuples(st.just("consume"), pick, qty),
    st.tuples(st.just("reverse"), pick),
)


def run(op: tuple, products: list, bins: list, east_bin) -> bool:
    """Carry out one operation; False when there was nothing to do it on."""
    name, *args = op
    if name == "receive":
        p, b, q, cost = args
        stock_receive(product=products[p], location=bins[b], quantity=q, unit_cost=cost)
    elif name == "issue":
        p, b, q = args
        stock_issue(product=products[p], location=bins[b], quantity=q)
    elif name == "transfer":
        p, a, b, q = args
        if a == b:
            return False
        stock_transfer(from_location=bins[a], to_location=bins[b], lines=[Line(products[p], Decimal(q))])
    elif name == "ship":
        p, q = args
        transfer_ship(from_location=bins[0], to_location=east_bin, lines=[Line(products[p], Decimal(q))])
    elif name == "arrive":
        from inventory.models import Transfer

        open_transfers = list(Transfer.objects.filter(status="in_transit").order_by("pk"))
        if not open_transfers:
            return False
        transfer_receive(transfer=open_transfers[args[0] % len(open_transfers)])
    elif name == "adjust":
        p, b, delta = args
        if not delta:
            return False
        stock_adjust(product=products[p], location=bins[b], delta=delta, reason="property test")
    elif name == "scrap":
        p, b, q = args
        stock_scrap(product=products[p], location=bins[b], quantity=q, reason="property test")
    elif name == "reserve":
        p, q, partial = args
        stock_reserve(
            product=products[p],
            warehouse=bins[0].warehouse,
            quantity=q,
            demand=Demand("test.demand", q),
            allow_partial=partial,
        )
    elif name in ("release", "consume"):
        active = list(Reservation.objects.filter(status=ReservationStatus.ACTIVE).order_by("pk"))
        if not active:
            return False
        held = active[args[0] % len(active)]
        if name == "release":
            reservation_release(reservation=held)
        else:
            reservation_consume(reservation=held, quantity=min(Decimal(args[1]), held.quantity))
    elif name == "reverse":
        moves = list(
            StockMove.objects.filter(reversal_of__isnull=True, reversed_by__isnull=True).order_by("pk")
        )
        if not moves:
            return False
        stock_move_reverse(move=moves[args[0] % len(moves)], reason="property test")
    return True


def check_invariants() -> None:
    # on_hand = sum of moves, reserved = sum of active reservations, for every level
    _, drifts = find_drift()
    assert drifts == [], drifts[:5]
    for level in StockLevel.objects.select_related("location__warehouse"):
        assert level.reserved >= 0
        if level.location.kind == LocationKind.INTERNAL:
            if level.reserved > 0:
                assert level.reserved <= level.on_hand, level
            if not level.location.warehouse.allow_negative_stock:
                assert level.on_hand >= 0, level
        else:
            assert level.reserved == 0, level
    # conservation: every unit is somewhere, virtual locations included
    totals = defaultdict(Decimal)
    for row in StockLevel.objects.values("product_id").annotate(total=Sum("on_hand")):
        totals[row["product_id"]] = row["total"]
    assert all(total == 0 for total in totals.values()), totals


@pytest.mark.django_db
@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops=st.lists(operations, min_size=1, max_size=25), negative_ok=st.booleans())
def test_ledger_invariants_hold_for_any_sequence_of_operations(ops, negative_ok):
    with transaction.atomic():
        wh = warehouse("PROP", allow_negative=negative_ok)
        east = warehouse("PROPE")
        bins = [bin_of(wh, "A"), bin_of(wh, "B"), bin_of(wh, "C")]
        products = [ProductFactory(), ProductFactory()]
        for product in products:  # something to work with from the first operation on
            stock_receive(product=product, location=bins[0], quantity=10, unit_cost=3)
            stock_receive(product=product, location=bins[1], quantity=4, unit_cost=5)
        refused = 0
        for op in ops:
            try:
                if run(op, products, bins, bin_of(east)):
                    event(f"{op[0]} done")
            except DomainError:
                refused += 1  # a refusal must change nothing: the invariants below still hold
                event(f"{op[0]} refused")
            check_invariants()
        transaction.set_rollback(True)
